/**
 * The macvlan driver on the wire: a LAN outside the host (test/helpers/lan.ts: the parent is one end
 * of a veth pair, the LAN's router and hosts are behind the other), sandboxes joining it through the
 * parent, traffic proved with real echo requests both ways, each mode's behaviour, refusals that
 * change nothing, and crash safety of the join.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratch, type Scratch } from '../helpers/scratch.js';
import { ip, ipJson } from '../helpers/ip.js';
import { assertEngineEmpty, dataRootOf, engineState, openEngine } from '../helpers/engine.js';
import { outsideLan, type Lan } from '../helpers/lan.js';
import { CnmError } from '../../src/cnm/errors.js';
import { UndoStack } from '../../src/cnm/undo.js';
import { icmpEcho } from '../../src/netns/index.js';
import { addrAdd, linkAdd, linkDel, linkSetMtu } from '../../src/netlink/index.js';
import type { Engine } from '../../src/cnm/engine.js';
import type { EndpointRecord } from '../../src/cnm/model.js';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'engine-op.js');

interface LinkDetail {
  ifname: string;
  address: string;
  mtu: number;
  operstate: string;
  promiscuity: number;
  link_netnsid?: number;
  ifalias?: string;
  linkinfo?: { info_kind: string; info_data?: { mode?: string } };
}

/** `ip -d -j link show NAME` in a namespace (or the host). */
function linkDetail(name: string, netns?: string): LinkDetail {
  return ipJson<LinkDetail[]>(['-d', 'link', 'show', name], netns)[0]!;
}

function linkNames(netns?: string): string[] {
  return ipJson<Array<{ ifname: string }>>(['link', 'show'], netns).map((l) => l.ifname).sort();
}

function addresses(ifname: string, netns?: string, family = 'inet'): string[] {
  return ipJson<Array<{ addr_info: Array<{ local: string; prefixlen: number; family: string; scope: string }> }>>(['addr', 'show', 'dev', ifname], netns)[0]!
    .addr_info.filter((a) => a.family === family && a.scope === 'global')
    .map((a) => `${a.local}/${a.prefixlen}`);
}

function defaultGateways(netns: string, family = '-4'): string[] {
  return ipJson<Array<{ dst: string; gateway?: string }>>([family, 'route', 'show'], netns)
    .filter((r) => r.dst === 'default')
    .map((r) => r.gateway ?? '');
}

/**
 * What the host shows of this test's links (tests of a file run at once): name, MAC, MTU,
 * promiscuity and addresses, with loopback's (where nothing may appear either).
 */
function hostState(s: Scratch, options: { promiscuity?: boolean } = {}) {
  const ours = (name: string) => name === 'lo' || name.startsWith(s.prefix);
  const links = ipJson<LinkDetail[]>(['-d', 'link', 'show'])
    .filter((l) => ours(l.ifname))
    .map((l) => `${l.ifname} ${l.address} mtu ${l.mtu}${options.promiscuity === false ? '' : ` promisc ${l.promiscuity}`}`)
    .sort();
  const addrs = ipJson<Array<{ ifname: string; addr_info: Array<{ local: string; prefixlen: number }> }>>(['addr', 'show'])
    .filter((l) => ours(l.ifname))
    .flatMap((l) => l.addr_info.map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`))
    .sort();
  return { links, addrs };
}

/**
 * Everything of the engine and of this test on the host, to show a refused operation changed nothing
 * (but IPAM's pool counter, which a network create refused after IPAM moves on, by design).
 */
async function snapshot(engine: Engine, s: Scratch) {
  const store = (await engine.store.list('')).filter((e) => e.key !== 'ipam/pools-version').map((e) => `${e.key}@${e.version}`);
  return { store, ...(await engineState(engine)), host: hostState(s) };
}

const reaches = async (from: string, address: string) => (await icmpEcho(from, address, { timeoutMs: 2000 })) !== null;
/** No reply in half a second: enough on one machine, where a reply takes microseconds. */
const isolated = async (from: string | null, address: string) => (await icmpEcho(from, address, { timeoutMs: 500 })) === null;

async function setup(t: ExecutionContext) {
  const s = await scratch(t);
  const lan = await outsideLan(t, s);
  const engine = await openEngine(t, s);
  return { s, lan, engine, c: engine.controller };
}

async function finish(t: ExecutionContext, s: Scratch, lan: Lan, engine: Engine) {
  const c = engine.controller;
  for (const sandbox of c.listSandboxes()) await c.deleteSandbox(sandbox.id);
  for (const network of c.listNetworks()) await c.deleteNetwork(network.id);
  await assertEngineEmpty(t, engine);
  await engine.close();
  await lan.remove();
  await s.assertClean(t);
}

test('bridge mode: two sandboxes reach each other and a LAN host, which reaches them; the host gains nothing', async (t) => {
  const { s, lan, engine, c } = await setup(t);
  // A real host is on its LAN: an address on the parent, so the host routes the LAN's subnet. The
  // macvlan network takes that very subnet (IPAM checks a given subnet against other networks only).
  await addrAdd(s.host, lan.parent, '192.168.77.250/24');
  await linkSetMtu(s.host, lan.parent, 1400);
  await lan.addAddress('192.168.77.1/24'); // the LAN's router
  await lan.addAddress('192.168.77.9/24'); // another host of the LAN
  const before = hostState(s);
  const beforeButPromiscuity = hostState(s, { promiscuity: false });

  const network = await c.createNetwork({ name: s.name('n'), driver: 'macvlan', options: { parent: lan.parent }, ipam: { config: [{ subnet: '192.168.77.0/24', gateway: '192.168.77.1' }] } });
  t.deepEqual(hostState(s), before, 'creating the network changed nothing on the host');
  t.deepEqual(network.options, { parent: lan.parent }, 'options as given');
  t.is(network.driverState.parent, lan.parent);
  const a = await c.createSandbox({ name: s.name('a') });
  const b = await c.createSandbox({ name: s.name('b') });
  const ea = await c.connect(s.name('n'), s.name('a'));
  const eb = await c.connect(s.name('n'), s.name('b'), { ipv4Address: '192.168.77.77' });

  const eth = linkDetail('eth0', s.name('a'));
  t.is(eth.linkinfo?.info_kind, 'macvlan');
  t.is(eth.linkinfo?.info_data?.mode, 'bridge', 'bridge is the default mode');
  t.not(eth.link_netnsid, undefined, 'its parent is in another namespace');
  t.is(eth.address, '02:42:c0:a8:4d:02', 'the MAC follows the IPv4 address');
  t.is(eth.address, ea.macAddress);
  t.is(eth.mtu, 1400, "the parent's MTU");
  t.is(eth.operstate, 'UP');
  t.deepEqual(addresses('eth0', s.name('a')), ['192.168.77.2/24']);
  t.deepEqual(addresses('eth0', s.name('b')), ['192.168.77.77/24']);
  t.deepEqual(defaultGateways(s.name('a')), ['192.168.77.1'], "default route via the LAN's router");
  t.deepEqual(linkNames(s.name('a')), ['eth0', 'lo']);

  t.true(await reaches(a.path, '192.168.77.77'), 'a reaches b');
  t.true(await reaches(b.path, '192.168.77.2'), 'b reaches a');
  t.true(await reaches(a.path, '192.168.77.1'), 'a reaches the router');
  t.true(await reaches(b.path, '192.168.77.9'), 'b reaches another LAN host');
  t.true(await reaches(lan.path, '192.168.77.2'), 'the LAN reaches a');
  t.true(await reaches(lan.path, '192.168.77.77'), 'the LAN reaches b');
  t.true(await isolated(null, '192.168.77.2'), 'the host does not reach a through the parent (a macvlan never hands its parent\'s own frames to its children)');
  const neighbours = ipJson<Array<{ dst: string; lladdr?: string }>>(['neigh', 'show', 'dev', 'eth0'], lan.name);
  t.is(neighbours.find((n) => n.dst === '192.168.77.77')?.lladdr, eb.macAddress, "the LAN sees b's own MAC");

  // A parent without unicast filtering (a veth, unlike most NICs) is made promiscuous by the kernel
  // while macvlans with MACs of their own hang from it: nothing else may differ.
  t.deepEqual(hostState(s, { promiscuity: false }), beforeButPromiscuity, 'no link, address, MTU or MAC changed on the host (the parent included)');
  t.deepEqual((await engineState(engine)).firewall, [], 'no firewall state');
  const info = await engine.drivers.get('macvlan')!.endpointOperInfo(c.context(new UndoStack()), network, ea);
  t.like(info, { parent: lan.parent, macvlanMode: 'bridge', macAddress: ea.macAddress });

  await c.disconnect(s.name('n'), s.name('a'));
  t.deepEqual(linkNames(s.name('a')), ['lo'], 'disconnect removes the interface');
  t.true(await isolated(lan.path, '192.168.77.2'), 'and a is gone from the LAN');
  t.true(await reaches(lan.path, '192.168.77.77'), 'b is still there');
  await c.disconnect(s.name('n'), s.name('b'));
  await c.deleteNetwork(s.name('n'));
  t.deepEqual(hostState(s), before, 'the host is as it was, promiscuity included');
  await finish(t, s, lan, engine);
});

test('private mode: sandboxes do not reach each other, but reach the LAN and the LAN reaches them', async (t) => {
  const { s, lan, engine, c } = await setup(t);
  await lan.addAddress('192.168.78.1/24');
  await c.createNetwork({ name: s.name('n'), driver: 'macvlan', options: { parent: lan.parent, macvlan_mode: 'private' }, ipam: { config: [{ subnet: '192.168.78.0/24' }] } });
  const a = await c.createSandbox({ name: s.name('a') });
  const b = await c.createSandbox({ name: s.name('b') });
  await c.connect(s.name('n'), s.name('a'), { ipv4Address: '192.168.78.2' });
  await c.connect(s.name('n'), s.name('b'), { ipv4Address: '192.168.78.3' });
  t.is(linkDetail('eth0', s.name('a')).linkinfo?.info_data?.mode, 'private');
  t.true(await isolated(a.path, '192.168.78.3'), 'a does not reach b');
  t.true(await isolated(b.path, '192.168.78.2'), 'b does not reach a');
  t.true(await reaches(a.path, '192.168.78.1'), 'a reaches the router');
  t.true(await reaches(b.path, '192.168.78.1'), 'b reaches the router');
  t.true(await reaches(lan.path, '192.168.78.2'), 'the LAN reaches a');
  t.true(await reaches(lan.path, '192.168.78.3'), 'the LAN reaches b');
  await finish(t, s, lan, engine);
});

test("vepa mode: sandbox-to-sandbox frames go out to the LAN's switch, so they meet only when it hairpins them", async (t) => {
  const { s, lan, engine, c } = await setup(t);
  // The LAN side is a switch (a bridge in the LAN namespace) with its router address on it.
  await linkAdd(lan.handle, { kind: 'bridge', name: 'lanbr', up: true });
  t.is(ip(['link', 'set', 'eth0', 'master', 'lanbr'], lan.name).status, 0);
  await addrAdd(lan.handle, 'lanbr', '192.168.79.1/24');
  await c.createNetwork({ name: s.name('n'), driver: 'macvlan', options: { parent: lan.parent, macvlan_mode: 'vepa' }, ipam: { config: [{ subnet: '192.168.79.0/24' }] } });
  const a = await c.createSandbox({ name: s.name('a') });
  await c.createSandbox({ name: s.name('b') });
  await c.connect(s.name('n'), s.name('a'), { ipv4Address: '192.168.79.2' });
  await c.connect(s.name('n'), s.name('b'), { ipv4Address: '192.168.79.3' });
  t.is(linkDetail('eth0', s.name('a')).linkinfo?.info_data?.mode, 'vepa');
  t.true(await reaches(a.path, '192.168.79.1'), 'a reaches the router');
  t.true(await reaches(lan.path, '192.168.79.3'), 'the LAN reaches b');
  t.true(await isolated(a.path, '192.168.79.3'), 'without hairpin on the switch port, a does not reach b');
  t.is(ip(['link', 'set', 'eth0', 'type', 'bridge_slave', 'hairpin', 'on'], lan.name).status, 0);
  t.true(await reaches(a.path, '192.168.79.3'), 'with hairpin, a reaches b through the switch');
  await finish(t, s, lan, engine);
});

test("passthru mode: the one endpoint carries the parent's MAC; a second is refused and changes nothing; the parent is as before afterwards", async (t) => {
  const { s, lan, engine, c } = await setup(t);
  await lan.addAddress('192.168.80.1/24');
  const parentBefore = linkDetail(lan.parent);
  await c.createNetwork({ name: s.name('n'), driver: 'macvlan', options: { parent: lan.parent, macvlan_mode: 'passthru' }, ipam: { config: [{ subnet: '192.168.80.0/24' }] } });
  const a = await c.createSandbox({ name: s.name('a') });
  await c.createSandbox({ name: s.name('b') });
  const ea = await c.connect(s.name('n'), s.name('a'));
  const eth = linkDetail('eth0', s.name('a'));
  t.is(eth.linkinfo?.info_data?.mode, 'passthru');
  t.is(eth.address, parentBefore.address, "the interface has the parent's MAC");
  t.is(ea.macAddress, parentBefore.address, 'and the endpoint says so');
  t.is(linkDetail(lan.parent).address, parentBefore.address, "the parent's MAC is unchanged");
  t.true(await reaches(a.path, '192.168.80.1'), 'a reaches the router');
  t.true(await reaches(lan.path, ea.ipv4!.cidr.split('/')[0]!), 'the LAN reaches a');

  const before = await snapshot(engine, s);
  const second = await t.throwsAsync(c.connect(s.name('n'), s.name('b')));
  t.true(second instanceof CnmError && second.category === 'conflict', `a conflict (${second?.message})`);
  t.regex(second!.message, new RegExp(`^join network ${s.name('n')}: in passthru mode parent ${lan.parent} takes one macvlan interface, and it already has one`));
  t.deepEqual(await snapshot(engine, s), before, 'store and kernel unchanged');
  t.deepEqual(linkNames(s.name('b')), ['lo']);
  const ownMac = await t.throwsAsync(c.connect(s.name('n'), s.name('b'), { macAddress: '02:00:00:00:00:01' }));
  t.is((ownMac as CnmError).category, 'bad-request');
  t.is((ownMac as CnmError).field, 'macAddress');
  t.regex(ownMac!.message, /passthru mode, where the interface carries its parent's MAC .*does not change the parent's MAC/);
  t.deepEqual(await snapshot(engine, s), before, 'store and kernel unchanged');

  await c.disconnect(s.name('n'), s.name('a'));
  const parentAfter = linkDetail(lan.parent);
  t.is(parentAfter.address, parentBefore.address);
  t.is(parentAfter.promiscuity, parentBefore.promiscuity, 'promiscuous mode released');
  await finish(t, s, lan, engine);
});

test('an IPv6 macvlan network: the sandbox has its address and a default route via the router, and they reach each other', async (t) => {
  const { s, lan, engine, c } = await setup(t);
  await lan.addAddress('192.168.81.1/24');
  await lan.addAddress('fd00:81::1/64');
  await c.createNetwork({ name: s.name('n'), driver: 'macvlan', enableIpv6: true, options: { parent: lan.parent }, ipam: { config: [{ subnet: '192.168.81.0/24' }, { subnet: 'fd00:81::/64', gateway: 'fd00:81::1' }] } });
  const a = await c.createSandbox({ name: s.name('a') });
  const ea = await c.connect(s.name('n'), s.name('a'));
  t.deepEqual(addresses('eth0', s.name('a'), 'inet6'), [ea.ipv6!.cidr]);
  t.deepEqual(defaultGateways(s.name('a'), '-6'), ['fd00:81::1']);
  t.true(await reaches(a.path, 'fd00:81::1'), 'a reaches the router over IPv6');
  t.true(await reaches(lan.path, ea.ipv6!.cidr.split('/')[0]!), 'the LAN reaches a over IPv6');
  await finish(t, s, lan, engine);
});

test('bad parents and options are refused with a message naming them, and change nothing in the store or the kernel', async (t) => {
  const { s, lan, engine, c } = await setup(t);
  // A parent that is a bridge port, and a network that already has the LAN's parent.
  await linkAdd(s.host, { kind: 'bridge', name: s.name('br'), up: false });
  await linkAdd(s.host, { kind: 'veth', name: s.name('v0'), master: s.name('br'), peer: { name: s.name('v1') } });
  await c.createNetwork({ name: s.name('n'), driver: 'macvlan', options: { parent: lan.parent }, ipam: { config: [{ subnet: '192.168.82.0/24' }] } });
  const before = await snapshot(engine, s);
  const missing = s.name('zz');
  const vlan = `${lan.parent}.10`;
  const vlanOnNothing = `${s.name('q')}.7`;
  const create = (options: Record<string, string>, extra: { internal?: boolean } = {}) => () =>
    c.createNetwork({ name: s.name('x'), driver: 'macvlan', options, ...extra, ipam: { config: [{ subnet: '192.168.83.0/24' }] } });

  const cases: Array<[string, () => Promise<unknown>, CnmError['category'], string, RegExp]> = [
    ['no parent', create({}), 'bad-request', 'options.parent', /^options\.parent: the macvlan driver needs -o parent=IF, an existing host interface .*does not make a dummy parent as docker does/],
    ['a parent that does not exist', create({ parent: missing }), 'bad-request', 'options.parent', new RegExp(`^create network ${s.name('x')}: parent interface ${missing} does not exist$`)],
    [
      'an 802.1q sub-interface that does not exist',
      create({ parent: vlan }),
      'bad-request',
      'options.parent',
      new RegExp(`^create network ${s.name('x')}: parent interface ${vlan.replace('.', '\\.')} does not exist; its name is that of an 802\\.1q VLAN sub-interface \\(${lan.parent}, VLAN 10\\), and switchyard does not create VLAN sub-interfaces \\(docker would\\): make it first with \`ip link add link ${lan.parent} name ${vlan.replace('.', '\\.')} type vlan id 10\`$`),
    ],
    ['an 802.1q sub-interface of an interface that does not exist either', create({ parent: vlanOnNothing }), 'bad-request', 'options.parent', new RegExp(`802\\.1q.*; ${s.name('q')} does not exist either$`)],
    ['the loopback interface', create({ parent: 'lo' }), 'bad-request', 'options.parent', /^options\.parent: the loopback interface cannot be a macvlan parent$/],
    ['a bridge port', create({ parent: s.name('v0') }), 'bad-request', 'options.parent', new RegExp(`parent ${s.name('v0')} is a port of bridge ${s.name('br')}, whose frames go to its master.*give ${s.name('br')} itself as the parent`)],
    ['a parent another macvlan network uses', create({ parent: lan.parent }), 'conflict', 'options.parent', new RegExp(`parent ${lan.parent} is already used by macvlan network ${s.name('n')} \\(one macvlan network per parent, as in docker\\)$`)],
    ['an unknown option', create({ parent: lan.parent, mode: 'bridge' }), 'bad-request', 'options.mode', /^options\.mode: unknown option for driver macvlan \(known: parent, macvlan_mode, com\.docker\.network\.container_iface_prefix\)$/],
    ['a bridge option', create({ parent: lan.parent, 'com.docker.network.bridge.name': 'x' }), 'bad-request', 'options.com.docker.network.bridge.name', /unknown option for driver macvlan/],
    ['an unknown mode', create({ parent: lan.parent, macvlan_mode: 'source' }), 'bad-request', 'options.macvlan_mode', /^options\.macvlan_mode: "source" is not a macvlan mode \(bridge, private, vepa, passthru\)$/],
    ['a parent name over 15 bytes', create({ parent: 'a-very-long-parent' }), 'bad-request', 'options.parent', /15/],
    ['an internal network', create({ parent: lan.parent }, { internal: true }), 'bad-request', 'internal', /^internal: the macvlan driver does not make internal networks/],
  ];
  for (const [label, attempt, category, field, message] of cases) {
    const error = await t.throwsAsync(attempt(), undefined, label);
    t.true(error instanceof CnmError, `${label}: a categorised error (${error?.message})`);
    t.is((error as CnmError).category, category, `${label}: ${error?.message}`);
    t.is((error as CnmError).field, field, label);
    t.regex(error!.message, message, label);
    t.deepEqual(await snapshot(engine, s), before, `${label}: store and kernel unchanged`);
  }
  t.deepEqual(c.listNetworks().map((n) => n.name), [s.name('n')]);
  await linkDel(s.host, s.name('v0'));
  await linkDel(s.host, s.name('br'));
  await finish(t, s, lan, engine);
});

test('a parent that goes away takes the interfaces with it: disconnect is harmless, a new connect is refused clearly, delete works', async (t) => {
  const { s, lan, engine, c } = await setup(t);
  await lan.addAddress('192.168.84.1/24');
  const network = await c.createNetwork({ name: s.name('n'), driver: 'macvlan', options: { parent: lan.parent }, ipam: { config: [{ subnet: '192.168.84.0/24' }] } });
  await c.createSandbox({ name: s.name('a') });
  await c.createSandbox({ name: s.name('b') });
  const ea = await c.connect(s.name('n'), s.name('a'));
  await lan.remove();
  t.deepEqual(linkNames(s.name('a')), ['lo'], 'the kernel removed the interface with its parent');
  const refused = await t.throwsAsync(c.connect(s.name('n'), s.name('b')));
  t.is((refused as CnmError).category, 'conflict');
  t.is(refused!.message, `join network ${s.name('n')}: its parent interface ${lan.parent} does not exist any more (bring it back, or delete the network)`);
  t.deepEqual(c.listEndpoints().map((e) => e.id), [ea.id], 'the refused connect left no endpoint');
  await c.disconnect(s.name('n'), s.name('a'));
  const driver = engine.drivers.get('macvlan')!;
  await t.notThrowsAsync(driver.leave(c.context(new UndoStack()), network, ea), 'leave again is harmless');
  await finish(t, s, lan, engine);
});

test('leave deletes only the interface that is the endpoint\'s: a user\'s interface under the same name is left alone', async (t) => {
  const { s, lan, engine, c } = await setup(t);
  const network = await c.createNetwork({ name: s.name('n'), driver: 'macvlan', options: { parent: lan.parent }, ipam: { config: [{ subnet: '192.168.85.0/24' }] } });
  await c.createSandbox({ name: s.name('a') });
  const ea = await c.connect(s.name('n'), s.name('a'));
  await c.disconnect(s.name('n'), s.name('a'));
  // Someone else's eth0 in the sandbox afterwards: a stale leave of the old endpoint must not touch it.
  t.is(ip(['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth9'], s.name('a')).status, 0);
  await engine.drivers.get('macvlan')!.leave(c.context(new UndoStack()), network, ea as EndpointRecord);
  t.deepEqual(linkNames(s.name('a')), ['eth0', 'eth9', 'lo']);
  await finish(t, s, lan, engine);
});

// kill -9 at each step of a macvlan connect and disconnect: the restarted engine removes the
// half-made interface (even one not yet marked as the endpoint's), and the operation works again.
const crashes: Array<{ operation: 'connect' | 'disconnect'; fault: string }> = [
  ...['connect.after-endpoint', 'macvlan.create-link', 'macvlan.after-link', 'macvlan.after-configure', 'connect.after-join'].map((fault) => ({ operation: 'connect' as const, fault })),
  { operation: 'disconnect', fault: 'disconnect.after-intent' },
];
for (const { operation, fault } of crashes) {
  test(`kill -9 at ${fault} during a macvlan ${operation}: the engine starts, nothing is left in the sandbox, and it can be done again`, async (t) => {
    const s = await scratch(t);
    const lan = await outsideLan(t, s);
    await lan.addAddress('192.168.86.1/24');
    const first = await openEngine(t, s);
    await first.controller.createNetwork({ name: s.name('n'), driver: 'macvlan', options: { parent: lan.parent }, ipam: { config: [{ subnet: '192.168.86.0/24' }] } });
    await first.controller.createSandbox({ name: s.name('a') });
    if (operation === 'disconnect') await first.controller.connect(s.name('n'), s.name('a'));
    await first.close();

    const result = spawnSync(process.execPath, [child, dataRootOf(s), s.execRoot, s.publishDir, operation, s.name('n'), s.name('a'), `switchyard_${s.prefix}`], {
      encoding: 'utf8',
      env: { ...process.env, SWITCHYARD_FAULT: fault },
      timeout: 60_000,
    });
    t.is(result.signal, 'SIGKILL', `the child died at ${fault} (stderr ${result.stderr.trim().slice(0, 500)})`);

    const engine = await openEngine(t, s);
    const c = engine.controller;
    t.deepEqual(engine.reconciled.errors, [], 'reconcile met no errors');
    t.deepEqual(c.listEndpoints(), [], 'the unfinished endpoint is gone');
    t.deepEqual(linkNames(s.name('a')), ['lo'], 'and so is its interface');
    t.deepEqual((await engineState(engine)).leases.map((l) => l.split(' ')[1]), ['gateway'], 'its address went back');
    const again = await c.connect(s.name('n'), s.name('a'));
    t.is(again.interfaceName, 'eth0');
    const sandbox = c.sandbox(s.name('a'));
    t.true(await reaches(sandbox.path, '192.168.86.1'), 'the sandbox reaches the LAN again');
    await finish(t, s, lan, engine);
  });
}
