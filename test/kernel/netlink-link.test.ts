/**
 * Every link operation of src/netlink/link.ts against the real kernel. Each result is read back with
 * iproute2 (`ip -d -j link`), independently of the code under test, and proven with traffic where the
 * link carries any. Traffic stays between sandboxes: no test puts an address in the test namespace.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { scratch, type Scratch } from '../helpers/scratch.js';
import { ip, ipJson, ping } from '../helpers/ip.js';
import {
  KernelError,
  ValidationError,
  addrAdd,
  isNotFound,
  isNotSupported,
  linkAdd,
  linkByIndex,
  linkByName,
  linkDel,
  linkDelGroup,
  linkDelMany,
  linkFind,
  linkList,
  linkModify,
  linkSetAlias,
  linkSetDown,
  linkSetGroup,
  linkSetHardwareAddr,
  linkSetIp4Conf,
  linkSetIp6AddrGenMode,
  linkSetIp6Disabled,
  linkWaitOperUp,
  linkSetMaster,
  linkSetMtu,
  linkSetName,
  linkSetNoMaster,
  linkSetNsFd,
  linkSetUp,
  type Handle,
  type LinkRef,
  type LinkSpec,
} from '../../src/netlink/index.js';
import { icmpEcho, type Sandbox } from '../../src/netns/index.js';

/** A link as `ip -d -j link show` prints it (the fields these tests read). */
interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate: string;
  group: string;
  address?: string;
  master?: string;
  ifalias?: string;
  /** The parent (macvlan) or peer (veth) by name, when it is in the same namespace. */
  link?: string;
  link_index?: number;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string; info_slave_kind?: string; info_data?: Record<string, unknown> };
  num_tx_queues?: number;
  num_rx_queues?: number;
}

/**
 * `ip -j ARGS` for a dump, repeated while iproute2 reports that the dump was interrupted (other tests
 * change links in the same namespace at the same time, and an interrupted dump may miss some).
 * Entries iproute2 filtered out print as `{}` and are dropped.
 */
function ipDump<T extends object>(args: string[], netns?: string): T[] {
  for (let attempt = 1; ; attempt++) {
    const result = ip(['-j', ...args], netns);
    if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim()}`);
    if (!result.stderr.includes('Dump was interrupted') || attempt === 20) {
      return (JSON.parse(result.stdout || '[]') as T[]).filter((entry) => Object.keys(entry).length > 0);
    }
  }
}

/** Every link of a namespace as iproute2 sees it. */
function ipLinks(netns?: string): IpLink[] {
  return ipDump<IpLink>(['-d', 'link', 'show'], netns);
}

/** One link as iproute2 sees it (`ip -d -j link show dev NAME`, not a dump), or undefined when there is none. */
function ipLink(name: string, netns?: string): IpLink | undefined {
  const result = ip(['-d', '-j', 'link', 'show', 'dev', name], netns);
  if (result.status !== 0) {
    if (/does not exist/.test(result.stderr)) return undefined;
    throw new Error(`ip link show dev ${name}: ${result.stderr.trim()}`);
  }
  return (JSON.parse(result.stdout) as IpLink[])[0];
}

/** Names of this test's links in the test namespace, sorted. */
function ourLinks(s: Scratch, links: IpLink[] = ipLinks()): string[] {
  return links.map((link) => link.ifname).filter((name) => name.startsWith(s.prefix)).sort();
}

/** A device group no other test uses (derived from the test's random prefix). */
function groupOf(s: Scratch, n: number): number {
  return 0x5900_0000 + parseInt(s.prefix.slice(2), 16) * 16 + n;
}

/** An ifindex no other test asks for (derived from the test's random prefix; the kernel counts up from 1). */
function indexOf(s: Scratch, n: number): number {
  return 0x100000 + parseInt(s.prefix.slice(2), 16) * 16 + n;
}

/** Sandboxes named `s.name(suffix)`, each with an rtnetlink handle inside. */
function makeSandboxes(s: Scratch, ...suffixes: string[]): Promise<Sandbox[]> {
  return s.sandboxes.createMany(suffixes.map((suffix) => ({ name: s.name(suffix), handle: true })));
}

function handleOf(sandbox: Sandbox): Handle {
  if (!sandbox.handle) throw new Error(`sandbox ${sandbox.name} has no handle`);
  return sandbox.handle;
}

/** Run `use` with an open fd of the sandbox's namespace file (what netnsFd takes). */
async function withNetnsFd<T>(sandbox: Sandbox, use: (fd: number) => Promise<T>): Promise<T> {
  const fd = openSync(sandbox.path, 'r');
  try {
    return await use(fd);
  } finally {
    closeSync(fd);
  }
}

/** Inside the sandbox: loopback and `link` up, `cidr` on `link`. */
async function configure(sandbox: Sandbox, link: LinkRef, cidr: string): Promise<void> {
  const handle = handleOf(sandbox);
  await Promise.all([linkSetUp(handle, 'lo'), linkSetUp(handle, link), addrAdd(handle, link, cidr)]);
}

/**
 * Connect a sandbox by a veth pair: host end `hostEnd` (up, and a port of `bridge` when given), sandbox
 * end eth0 with `cidr`.
 */
async function plugIn(s: Scratch, sandbox: Sandbox, hostEnd: string, cidr: string, bridge?: LinkRef, mtu?: number): Promise<void> {
  await withNetnsFd(sandbox, (fd) =>
    linkAdd(s.host, { kind: 'veth', name: hostEnd, master: bridge, up: true, mtu, peer: { name: 'eth0', netnsFd: fd, mtu } }),
  );
  await configure(sandbox, 'eth0', cidr);
}

/** True when an ICMP echo from inside `from` gets a reply (the native probe: short timeouts for negatives). */
async function reaches(from: Sandbox, address: string, timeoutMs = 2000): Promise<boolean> {
  return (await icmpEcho(from.path, address, { timeoutMs })) !== null;
}

/** One IPv4 ping from a published namespace with DF set and `payload` bytes of ICMP data (packet: payload + 28). */
function pingUnfragmented(netns: string, address: string, payload: number): boolean {
  const args = ['netns', 'exec', netns, 'ping', '-4', '-c', '1', '-W', '1', '-M', 'do', '-s', String(payload), address];
  return spawnSync('ip', args, { stdio: 'ignore' }).status === 0;
}

/** `bridge -j fdb show dev DEV` in a published namespace. */
function bridgeFdb(dev: string, netns: string): Array<{ mac: string; dst?: string }> {
  return JSON.parse(execFileSync('bridge', ['-j', '-n', netns, 'fdb', 'show', 'dev', dev], { encoding: 'utf8' }) || '[]') as Array<{ mac: string; dst?: string }>;
}

/** Assert `attempt` fails with a ValidationError naming `field`, and no request reached the kernel. */
async function refusedUpfront(t: ExecutionContext, handle: Handle, field: string, attempt: () => Promise<unknown>, label: string): Promise<void> {
  const before = handle.socket.stats.requests;
  const error = await t.throwsAsync(attempt, { instanceOf: ValidationError }, label);
  t.is(error?.field, field, label);
  t.is(handle.socket.stats.requests, before, `${label}: no request was sent`);
}

// ---------------------------------------------------------------------------------------------
// linkAdd

test('linkAdd creates a bridge with STP off, its ageing time, snooping off, MTU, MAC, up and alias, and echoes its index', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  const index = await linkAdd(s.host, {
    kind: 'bridge',
    name: bridge,
    stp: false,
    ageingTime: 1234,
    mcastSnooping: false,
    mtu: 1400,
    hardwareAddr: '02:5e:00:00:00:01',
    up: true,
    alias: 'switchyard test bridge',
  });
  const seen = ipLink(bridge)!;
  t.is(index, seen.ifindex, 'linkAdd echoes the new index');
  t.is(seen.linkinfo?.info_kind, 'bridge');
  t.like(seen.linkinfo?.info_data ?? {}, { stp_state: 0, ageing_time: 1234, mcast_snooping: 0 });
  t.is(seen.mtu, 1400);
  t.is(seen.address, '02:5e:00:00:00:01');
  t.true(seen.flags.includes('UP'));
  t.is(seen.ifalias, 'switchyard test bridge');

  // It forwards between two sandboxes at once (no STP listening and learning delay). The ports get the
  // bridge's MTU: an MTU given at creation does not count as set by the user, so the bridge would
  // follow a smaller or larger port MTU (br_mtu_auto_adjust).
  const [a, b] = await makeSandboxes(s, 'a', 'b');
  await plugIn(s, a!, s.name('ha'), '10.1.0.1/24', bridge, 1400);
  await plugIn(s, b!, s.name('hb'), '10.1.0.2/24', bridge, 1400);
  t.true(ping(a!.name, '10.1.0.2'), 'a reaches b across the bridge');
  t.is(ipLink(bridge)!.mtu, 1400);

  await s.sandboxes.deleteMany([a!, b!]);
  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

test('linkAdd creates a bridge with spanning tree, a forward delay and snooping when asked, and a plain one down with snooping off by default', async (t) => {
  const s = await scratch(t);
  const stpIndex = await linkAdd(s.host, { kind: 'bridge', name: s.name('stp'), stp: true, forwardDelay: 400, mcastSnooping: true });
  const stp = ipLink(s.name('stp'))!;
  t.is(stpIndex, stp.ifindex);
  t.like(stp.linkinfo?.info_data ?? {}, { stp_state: 1, forward_delay: 400, mcast_snooping: 1 });

  const plainIndex = await linkAdd(s.host, { kind: 'bridge', name: s.name('plain') });
  const plain = ipLink(s.name('plain'))!;
  t.is(plainIndex, plain.ifindex);
  t.false(plain.flags.includes('UP'));
  t.is(plain.ifalias, undefined);
  t.like(plain.linkinfo?.info_data ?? {}, { mcast_snooping: 0 });

  await Promise.all([linkDel(s.host, s.name('stp')), linkDel(s.host, s.name('plain'))]);
  await s.assertClean(t);
});

test('a VLAN-filtering bridge is made when the kernel has the feature, and refused as not supported with nothing made when it lacks it', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  // This machine's kernel is built without bridge VLAN filtering; a kernel with it must honour the option.
  try {
    await linkAdd(s.host, { kind: 'bridge', name: bridge, vlanFiltering: true });
    t.is(ipLink(bridge)!.linkinfo?.info_data?.vlan_filtering, 1);
    await linkDel(s.host, bridge);
  } catch (error) {
    t.true(isNotSupported(error), String(error));
    t.regex((error as Error).message, new RegExp(`add bridge link ${bridge} in the host namespace: operation not supported`));
    t.is(ipLink(bridge), undefined, 'nothing was made');
  }
  await s.assertClean(t);
});

test('linkAdd creates a veth pair whose host end joins a bridge up in one call and whose peer is made inside a sandbox with its MAC and index', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  await linkAdd(s.host, { kind: 'bridge', name: bridge, up: true });
  const [a, b] = await makeSandboxes(s, 'a', 'b');
  for (const [i, sandbox] of [a!, b!].entries()) {
    const hostEnd = s.name(`v${i}`);
    // The kernel honours a peer's index only when the link's own index is asked for too (veth_newlink).
    const hostIndex = indexOf(s, i);
    await withNetnsFd(sandbox, (fd) =>
      linkAdd(s.host, { kind: 'veth', name: hostEnd, index: hostIndex, master: bridge, up: true, peer: { name: 'eth0', netnsFd: fd, hardwareAddr: `02:5e:00:00:01:0${i}`, index: 7 } }),
    );
    const host = ipLink(hostEnd)!;
    t.is(host.ifindex, hostIndex);
    t.is(host.linkinfo?.info_kind, 'veth');
    t.is(host.master, bridge);
    t.is(host.linkinfo?.info_slave_kind, 'bridge');
    t.true(host.flags.includes('UP'));
    t.not(host.link_netnsid, undefined, 'the peer is in another namespace');

    const peer = ipLink('eth0', sandbox.name)!;
    t.is(peer.ifindex, 7);
    t.is(peer.address, `02:5e:00:00:01:0${i}`);
    t.is(peer.linkinfo?.info_kind, 'veth');
    // The kernel cannot open a peer before it is paired: it is set up from inside its namespace.
    t.false(peer.flags.includes('UP'));
    t.is(peer.link_index, host.ifindex);
  }
  await configure(a!, 7, '10.2.0.1/24');
  await configure(b!, 'eth0', '10.2.0.2/24');
  t.true(await reaches(a!, '10.2.0.2'), 'a reaches b');
  t.true(ping(b!.name, '10.2.0.1'), 'b reaches a');

  await s.sandboxes.deleteMany([a!, b!]);
  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

test('a veth pair has one TX and one RX queue per end unless more are asked for', async (t) => {
  // Left to the kernel, each end gets a queue per possible CPU and is then cut down to one in use,
  // which waits for an RCU grace period per end (docs/benchmarks.md).
  const s = await scratch(t);
  const [sandbox] = await makeSandboxes(s, 'a');
  const single = s.name('v0');
  const multi = s.name('v1');
  await withNetnsFd(sandbox!, (fd) => linkAdd(s.host, { kind: 'veth', name: single, peer: { name: 'eth0', netnsFd: fd } }));
  await withNetnsFd(sandbox!, (fd) => linkAdd(s.host, { kind: 'veth', name: multi, queues: 2, peer: { name: 'eth1', netnsFd: fd, queues: 3 } }));
  const queues = (link: IpLink | undefined) => [link?.num_tx_queues, link?.num_rx_queues];
  t.deepEqual(queues(ipLink(single)), [1, 1]);
  t.deepEqual(queues(ipLink('eth0', sandbox!.name)), [1, 1]);
  t.deepEqual(queues(ipLink(multi)), [2, 2]);
  t.deepEqual(queues(ipLink('eth1', sandbox!.name)), [3, 3]);
  await refusedUpfront(t, s.host, 'peer.queues', () => linkAdd(s.host, { kind: 'veth', name: s.name('v2'), peer: { name: 'eth2', queues: 0 } }), 'zero queues');
  await s.sandboxes.deleteMany([sandbox!]);
  await s.assertClean(t);
});

test('linkAdd creates macvlans on one end of a veth pair in bridge, private and vepa mode, and a passthru one alone on its parent', async (t) => {
  const s = await scratch(t);
  await linkAdd(s.host, { kind: 'veth', name: s.name('p'), peer: { name: s.name('q') } });
  const parent = ipLink(s.name('p'))!;
  for (const mode of ['bridge', 'private', 'vepa'] as const) {
    const name = s.name(`m${mode}`.slice(0, 9));
    const index = await linkAdd(s.host, { kind: 'macvlan', name, parent: s.name('p'), mode });
    const seen = ipLink(name)!;
    t.is(index, seen.ifindex, mode);
    t.is(seen.linkinfo?.info_kind, 'macvlan', mode);
    t.is(seen.linkinfo?.info_data?.mode, mode, mode);
    t.is(seen.link, s.name('p'), mode);
    t.is((await linkByIndex(s.host, index!)).parentIndex, parent.ifindex, mode);
  }
  // Without a mode, a macvlan bridges (as `ip link add ... type macvlan` does); the parent may be an index.
  await linkAdd(s.host, { kind: 'macvlan', name: s.name('mdefault'), parent: parent.ifindex });
  t.is(ipLink(s.name('mdefault'))!.linkinfo?.info_data?.mode, 'bridge');

  // passthru: the macvlan takes the parent's MAC and must be the parent's only macvlan.
  await linkAdd(s.host, { kind: 'macvlan', name: s.name('mpass'), parent: s.name('q'), mode: 'passthru' });
  const passthru = ipLink(s.name('mpass'))!;
  t.is(passthru.linkinfo?.info_data?.mode, 'passthru');
  t.is(passthru.address, ipLink(s.name('q'))!.address);
  const second = await t.throwsAsync(linkAdd(s.host, { kind: 'macvlan', name: s.name('mother'), parent: s.name('q'), mode: 'bridge' }), { instanceOf: KernelError });
  t.is(second?.code, 'EINVAL');
  t.is(ipLink(s.name('mother')), undefined, 'the refused macvlan was not made');

  // Macvlans go with their parent, and both ends of the pair go together.
  await linkDel(s.host, s.name('p'));
  await s.assertClean(t);
});

test('bridge-mode macvlans on one parent reach each other directly, vepa ones do not', async (t) => {
  const s = await scratch(t);
  // The parent needs a carrier, so both ends of its pair are up.
  await linkAdd(s.host, { kind: 'veth', name: s.name('p'), up: true, peer: { name: s.name('q') } });
  await linkSetUp(s.host, s.name('q'));
  const sandboxes = await makeSandboxes(s, 'a', 'b', 'c', 'd');
  const modes = ['bridge', 'bridge', 'vepa', 'vepa'] as const;
  for (const [i, sandbox] of sandboxes.entries()) {
    await withNetnsFd(sandbox, (fd) => linkAdd(s.host, { kind: 'macvlan', name: 'mv0', parent: s.name('p'), mode: modes[i], netnsFd: fd }));
    t.is(ipLink('mv0', sandbox.name)?.linkinfo?.info_data?.mode, modes[i]);
    await configure(sandbox, 'mv0', `10.3.0.${i + 1}/24`);
  }
  const [a, , c] = sandboxes;
  t.true(await reaches(a!, '10.3.0.2'), 'bridge-mode siblings reach each other');
  t.false(await reaches(c!, '10.3.0.4', 500), 'vepa siblings do not: their frames leave through the parent');

  await s.sandboxes.deleteMany(sandboxes);
  await linkDel(s.host, s.name('p'));
  await s.assertClean(t);
});

test('vepa macvlans reach each other through a hairpinning bridge beyond their parent, private ones still do not', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  await linkAdd(s.host, { kind: 'bridge', name: bridge, stp: false, up: true });
  // The parent's far end is a port of the bridge: the "adjacent switch" of VEPA.
  await linkAdd(s.host, { kind: 'veth', name: s.name('q'), master: bridge, up: true, peer: { name: s.name('p') } });
  await linkSetUp(s.host, s.name('p'));
  const sandboxes = await makeSandboxes(s, 'a', 'b', 'c', 'd');
  const modes = ['vepa', 'vepa', 'private', 'private'] as const;
  for (const [i, sandbox] of sandboxes.entries()) {
    await withNetnsFd(sandbox, (fd) => linkAdd(s.host, { kind: 'macvlan', name: 'mv0', parent: s.name('p'), mode: modes[i], netnsFd: fd }));
    t.is(ipLink('mv0', sandbox.name)?.linkinfo?.info_data?.mode, modes[i]);
    await configure(sandbox, 'mv0', `10.4.0.${i + 1}/24`);
  }
  const [a, , c] = sandboxes;
  t.false(await reaches(a!, '10.4.0.2', 500), 'without hairpin the bridge never sends a frame back where it came from');
  // No Switchyard call sets bridge port flags yet; iproute2 does it here.
  t.is(ip(['link', 'set', s.name('q'), 'type', 'bridge_slave', 'hairpin', 'on']).status, 0);
  t.true(await reaches(a!, '10.4.0.2'), 'vepa siblings reach each other through the hairpin');
  t.false(await reaches(c!, '10.4.0.4', 500), 'private siblings never do, hairpin or not');

  await s.sandboxes.deleteMany(sandboxes);
  await Promise.all([linkDel(s.host, s.name('p')), linkDel(s.host, bridge)]);
  await s.assertClean(t);
});

test('a passthru macvlan made inside a sandbox takes its parent\'s MAC and carries traffic through it', async (t) => {
  const s = await scratch(t);
  const [a, b] = await makeSandboxes(s, 'a', 'b');
  await withNetnsFd(b!, (fd) => linkAdd(s.host, { kind: 'veth', name: s.name('p'), up: true, peer: { name: 'eth0', netnsFd: fd } }));
  await withNetnsFd(a!, (fd) => linkAdd(s.host, { kind: 'macvlan', name: 'mv0', parent: s.name('p'), mode: 'passthru', netnsFd: fd }));
  const macvlan = ipLink('mv0', a!.name)!;
  t.is(macvlan.linkinfo?.info_data?.mode, 'passthru');
  t.is(macvlan.address, ipLink(s.name('p'))!.address);
  await configure(a!, 'mv0', '10.5.0.1/24');
  await configure(b!, 'eth0', '10.5.0.2/24');
  t.true(ping(a!.name, '10.5.0.2'), 'a reaches b through the parent');

  await s.sandboxes.deleteMany([a!, b!]);
  await s.assertClean(t);
});

test('linkAdd creates a vxlan with its VNI, port, local and remote VTEPs and learning off, and it carries traffic between two sandboxes', async (t) => {
  const s = await scratch(t);
  const [a, b] = await makeSandboxes(s, 'a', 'b');
  // The underlay: a veth pair between the two sandboxes, made from a's handle.
  await withNetnsFd(b!, (fd) => linkAdd(handleOf(a!), { kind: 'veth', name: 'u0', peer: { name: 'u0', netnsFd: fd } }));
  await configure(a!, 'u0', '192.168.50.1/24');
  await configure(b!, 'u0', '192.168.50.2/24');
  const ends = [
    { sandbox: a!, local: '192.168.50.1', remote: '192.168.50.2', overlay: '10.6.0.1/24' },
    { sandbox: b!, local: '192.168.50.2', remote: '192.168.50.1', overlay: '10.6.0.2/24' },
  ];
  for (const { sandbox, local, remote, overlay } of ends) {
    const handle = handleOf(sandbox);
    const index = await linkAdd(handle, { kind: 'vxlan', name: 'vx0', vni: 4242, port: 4790, local, remote, vtepDev: 'u0', learning: false, up: true });
    const seen = ipLink('vx0', sandbox.name)!;
    t.is(index, seen.ifindex);
    t.is(seen.linkinfo?.info_kind, 'vxlan');
    t.like(seen.linkinfo?.info_data ?? {}, { id: 4242, port: 4790, local, remote, link: 'u0', learning: false });
    await addrAdd(handle, 'vx0', overlay);
  }
  t.true(ping(a!.name, '10.6.0.2'), 'a reaches b over the vxlan');
  // Learning off: the only forwarding entry is the default one towards the remote VTEP, none learned from b.
  const bMac = ipLink('vx0', b!.name)!.address;
  const entries = bridgeFdb('vx0', a!.name);
  t.true(entries.some((entry) => entry.mac === '00:00:00:00:00:00' && entry.dst === '192.168.50.2'), 'the default entry points at the remote');
  t.false(entries.some((entry) => entry.mac === bMac), 'nothing was learned from traffic');

  await s.sandboxes.deleteMany([a!, b!]);
  await s.assertClean(t);
});

// ---------------------------------------------------------------------------------------------
// Changing links

test('linkSetDown takes a link down and stops its traffic, linkSetUp brings both back', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  await linkAdd(s.host, { kind: 'bridge', name: bridge, up: true });
  const [a, b] = await makeSandboxes(s, 'a', 'b');
  await plugIn(s, a!, s.name('ha'), '10.7.0.1/24', bridge);
  await plugIn(s, b!, s.name('hb'), '10.7.0.2/24', bridge);
  t.true(await reaches(a!, '10.7.0.2'));

  await linkSetDown(s.host, s.name('hb'));
  t.false(ipLink(s.name('hb'))!.flags.includes('UP'));
  t.is(ipLink(s.name('hb'))!.operstate, 'DOWN');
  t.true(ipLink('eth0', b!.name)!.flags.includes('NO-CARRIER'), 'the peer lost its carrier');
  t.false((await linkByName(s.host, s.name('hb'))).up);
  t.false(await reaches(a!, '10.7.0.2', 500), 'no traffic while down');

  const index = ipLink(s.name('hb'))!.ifindex;
  await linkSetUp(s.host, index);
  t.true(ipLink(s.name('hb'))!.flags.includes('UP'));
  t.true((await linkByIndex(s.host, index)).up);
  t.true(await reaches(a!, '10.7.0.2'), 'traffic again once up');

  await s.sandboxes.deleteMany([a!, b!]);
  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

test('linkSetMaster joins links to a bridge by name or index, and linkSetNoMaster releases one, as traffic shows', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  const bridgeIndex = (await linkAdd(s.host, { kind: 'bridge', name: bridge, up: true }))!;
  const [a, b] = await makeSandboxes(s, 'a', 'b');
  await plugIn(s, a!, s.name('ha'), '10.8.0.1/24');
  await plugIn(s, b!, s.name('hb'), '10.8.0.2/24');
  t.is(ipLink(s.name('ha'))!.master, undefined);
  t.false(await reaches(a!, '10.8.0.2', 500), 'not connected before they join the bridge');

  await linkSetMaster(s.host, s.name('ha'), bridge);
  await linkSetMaster(s.host, ipLink(s.name('hb'))!.ifindex, bridgeIndex);
  t.is(ipLink(s.name('ha'))!.master, bridge);
  t.is(ipLink(s.name('hb'))!.master, bridge);
  t.is((await linkByName(s.host, s.name('hb'))).masterIndex, bridgeIndex);
  t.true(await reaches(a!, '10.8.0.2'), 'connected through the bridge');

  await linkSetNoMaster(s.host, s.name('hb'));
  t.is(ipLink(s.name('hb'))!.master, undefined);
  t.is((await linkByName(s.host, s.name('hb'))).masterIndex, undefined);
  t.false(await reaches(a!, '10.8.0.2', 500), 'cut off once released');

  await s.sandboxes.deleteMany([a!, b!]);
  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

test('linkSetName renames a link by name or index, keeps its index and ports, and refuses a name that is taken', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  const index = (await linkAdd(s.host, { kind: 'bridge', name: bridge, up: true }))!;
  const [a, b] = await makeSandboxes(s, 'a', 'b');
  await plugIn(s, a!, s.name('ha'), '10.9.0.1/24', bridge);
  await plugIn(s, b!, s.name('hb'), '10.9.0.2/24', bridge);

  await linkSetDown(s.host, bridge);
  await linkSetName(s.host, bridge, s.name('lan'));
  t.is(ipLink(bridge), undefined, 'the old name is gone');
  t.is(ipLink(s.name('lan'))!.ifindex, index, 'same link, same index');
  t.is(ipLink(s.name('ha'))!.master, s.name('lan'), 'its ports stay');
  await linkSetName(s.host, index, s.name('lan2'));
  t.is(ipLink(s.name('lan2'))!.ifindex, index);
  await linkSetUp(s.host, s.name('lan2'));
  t.true(await reaches(a!, '10.9.0.2'), 'traffic crosses the renamed bridge');

  const taken = await t.throwsAsync(linkSetName(s.host, s.name('lan2'), s.name('ha')), { instanceOf: KernelError });
  t.is(taken?.code, 'EEXIST');
  t.regex(taken!.message, new RegExp(s.name('ha')));
  t.is(ipLink(s.name('lan2'))!.ifindex, index, 'nothing was renamed');

  await s.sandboxes.deleteMany([a!, b!]);
  await linkDel(s.host, s.name('lan2'));
  await s.assertClean(t);
});

test('linkSetMtu sets the largest packet a link sends, and refuses an MTU out of range before any kernel call', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  await linkAdd(s.host, { kind: 'bridge', name: bridge, up: true });
  const [a, b] = await makeSandboxes(s, 'a', 'b');
  await plugIn(s, a!, s.name('ha'), '10.10.0.1/24', bridge);
  await plugIn(s, b!, s.name('hb'), '10.10.0.2/24', bridge);
  const handle = handleOf(a!);

  await linkSetMtu(handle, 'eth0', 1280);
  t.is(ipLink('eth0', a!.name)!.mtu, 1280);
  t.true(pingUnfragmented(a!.name, '10.10.0.2', 1280 - 28), 'a packet of exactly the MTU passes');
  t.false(pingUnfragmented(a!.name, '10.10.0.2', 1281 - 28), 'one byte more does not leave unfragmented');
  await linkSetMtu(handle, 2, 1500);
  t.is(ipLink('eth0', a!.name)!.mtu, 1500);
  t.true(pingUnfragmented(a!.name, '10.10.0.2', 1500 - 28));

  for (const mtu of [67, 65536, 1500.5, Number.NaN, -1]) {
    await refusedUpfront(t, handle, 'mtu', () => linkSetMtu(handle, 'eth0', mtu), `mtu ${mtu}`);
  }
  t.is(ipLink('eth0', a!.name)!.mtu, 1500, 'unchanged');

  await s.sandboxes.deleteMany([a!, b!]);
  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

test('linkSetHardwareAddr gives a link a new MAC that its neighbours learn, and refuses a malformed one', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  await linkAdd(s.host, { kind: 'bridge', name: bridge, up: true });
  const [a, b] = await makeSandboxes(s, 'a', 'b');
  await plugIn(s, a!, s.name('ha'), '10.11.0.1/24', bridge);
  await plugIn(s, b!, s.name('hb'), '10.11.0.2/24', bridge);
  const neighbourMac = () => ipJson<Array<{ lladdr?: string }>>(['neigh', 'show', '10.11.0.1'], b!.name)[0]?.lladdr;
  t.true(ping(b!.name, '10.11.0.1'));
  t.is(neighbourMac(), ipLink('eth0', a!.name)!.address);

  // arp_notify makes a announce its new MAC (gratuitous ARP), so b's cache follows at once.
  await linkSetIp4Conf(handleOf(a!), 'eth0', { arpNotify: true });
  await linkSetHardwareAddr(handleOf(a!), 'eth0', '02:5e:00:00:0a:0a');
  t.is(ipLink('eth0', a!.name)!.address, '02:5e:00:00:0a:0a');
  t.true(ping(b!.name, '10.11.0.1'), 'b still reaches a');
  t.is(neighbourMac(), '02:5e:00:00:0a:0a', 'b knows the new MAC');

  for (const mac of ['02:5e:00:00:0a', 'zz:5e:00:00:0a:0a', '025e00000a0a', '']) {
    await refusedUpfront(t, handleOf(a!), 'hardwareAddr', () => linkSetHardwareAddr(handleOf(a!), 'eth0', mac), JSON.stringify(mac));
  }
  t.is(ipLink('eth0', a!.name)!.address, '02:5e:00:00:0a:0a', 'unchanged');

  await s.sandboxes.deleteMany([a!, b!]);
  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

test('linkSetAlias records text on a link, an empty alias removes it, and an over-long one is refused by the kernel', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  const index = (await linkAdd(s.host, { kind: 'bridge', name: bridge }))!;
  await linkSetAlias(s.host, bridge, 'owned by switchyard: net 1f2e');
  t.is(ipLink(bridge)!.ifalias, 'owned by switchyard: net 1f2e');
  t.is((await linkByName(s.host, bridge)).alias, 'owned by switchyard: net 1f2e');

  const tooLong = await t.throwsAsync(linkSetAlias(s.host, bridge, 'x'.repeat(300)), { instanceOf: KernelError });
  t.is(tooLong?.code, 'ERANGE');
  t.is(tooLong?.kernelMessage, 'Attribute failed policy validation');
  t.is(ipLink(bridge)!.ifalias, 'owned by switchyard: net 1f2e', 'unchanged');

  await linkSetAlias(s.host, index, '');
  t.is(ipLink(bridge)!.ifalias, undefined);
  t.is((await linkByIndex(s.host, index)).alias, undefined);

  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

test('linkSetGroup moves a link into a device group and back to the default group', async (t) => {
  const s = await scratch(t);
  const group = groupOf(s, 1);
  const bridge = s.name('br');
  const index = (await linkAdd(s.host, { kind: 'bridge', name: bridge }))!;
  t.is(ipLink(bridge)!.group, 'default');

  await linkSetGroup(s.host, bridge, group);
  t.is(ipLink(bridge)!.group, String(group));
  t.is((await linkByName(s.host, bridge)).group, group);
  t.deepEqual(ourLinks(s, ipDump<IpLink>(['link', 'show', 'group', String(group)])), [bridge]);

  await linkSetGroup(s.host, index, 0);
  t.is(ipLink(bridge)!.group, 'default');
  t.is((await linkByIndex(s.host, index)).group, 0);

  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

test('linkSetNsFd moves a link into a sandbox under its own name, where it carries traffic', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  await linkAdd(s.host, { kind: 'bridge', name: bridge, up: true });
  const [a, b] = await makeSandboxes(s, 'a', 'b');
  await plugIn(s, b!, s.name('hb'), '10.12.0.2/24', bridge);
  await linkAdd(s.host, { kind: 'veth', name: s.name('ha'), master: bridge, up: true, peer: { name: s.name('moved') } });
  await linkSetUp(s.host, s.name('moved'));

  await withNetnsFd(a!, (fd) => linkSetNsFd(s.host, s.name('moved'), fd));
  t.is(ipLink(s.name('moved')), undefined, 'gone from the test namespace');
  const moved = ipLink(s.name('moved'), a!.name)!;
  t.truthy(moved, 'present in the sandbox under the same name');
  t.is(moved.linkinfo?.info_kind, 'veth');
  t.false(moved.flags.includes('UP'), 'a move takes a link down');
  t.not(ipLink(s.name('ha'))!.link_netnsid, undefined, 'its peer sees it in another namespace');
  await configure(a!, s.name('moved'), '10.12.0.1/24');
  t.true(await reaches(a!, '10.12.0.2'), 'a reaches b through the moved link');

  await s.sandboxes.deleteMany([a!, b!]);
  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

test('linkSetNsFd moves a link into a sandbox and renames it in one call, even when its old name is taken there', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  await linkAdd(s.host, { kind: 'bridge', name: bridge, up: true });
  const [a, b] = await makeSandboxes(s, 'a', 'b');
  await plugIn(s, b!, s.name('hb'), '10.13.0.2/24', bridge);
  const temporary = s.name('tmp');
  await linkAdd(s.host, { kind: 'veth', name: s.name('ha'), master: bridge, up: true, peer: { name: temporary } });
  // A link with the temporary name already lives in the sandbox.
  await linkAdd(handleOf(a!), { kind: 'bridge', name: temporary });

  const clash = await t.throwsAsync(withNetnsFd(a!, (fd) => linkSetNsFd(s.host, temporary, fd)), { instanceOf: KernelError });
  t.is(clash?.code, 'EEXIST');
  t.truthy(ipLink(temporary), 'without a new name the link stays where it was');

  await withNetnsFd(a!, (fd) => linkSetNsFd(s.host, temporary, fd, 'eth0'));
  t.is(ipLink(temporary), undefined, 'gone from the test namespace');
  const moved = ipLink('eth0', a!.name)!;
  t.is(moved.linkinfo?.info_kind, 'veth');
  t.is(ipLink(temporary, a!.name)!.linkinfo?.info_kind, 'bridge', 'the sandbox\'s own link is untouched');
  await configure(a!, 'eth0', '10.13.0.1/24');
  t.true(ping(a!.name, '10.13.0.2'), 'a reaches b through the moved and renamed link');

  await s.sandboxes.deleteMany([a!, b!]);
  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

// ---------------------------------------------------------------------------------------------
// Reading links

test('linkByName and linkByIndex read a link as iproute2 reports it', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  const bridgeIndex = (await linkAdd(s.host, { kind: 'bridge', name: bridge, up: true }))!;
  const vethIndex = await linkAdd(s.host, {
    kind: 'veth',
    name: s.name('v0'),
    master: bridge,
    up: true,
    mtu: 1450,
    hardwareAddr: '02:5e:00:00:02:01',
    alias: 'a port',
    group: groupOf(s, 2),
    txQueueLen: 500,
    peer: { name: s.name('v1') },
  });
  const seen = ipLink(s.name('v0'))!;
  t.is(vethIndex, seen.ifindex, 'linkAdd echoes the index of a pair that stays here');
  for (const link of [await linkByName(s.host, s.name('v0')), await linkByIndex(s.host, seen.ifindex)]) {
    t.like(link, {
      index: seen.ifindex,
      name: s.name('v0'),
      kind: 'veth',
      slaveKind: 'bridge',
      mtu: 1450,
      hardwareAddr: '02:5e:00:00:02:01',
      up: true,
      masterIndex: bridgeIndex,
      parentIndex: ipLink(s.name('v1'))!.ifindex,
      alias: 'a port',
      group: groupOf(s, 2),
      txQueueLen: 500,
    });
    t.is(link.operState, seen.operstate.toLowerCase());
    t.is(link.linkNetnsId, undefined);
  }
  const peer = await linkByName(s.host, s.name('v1'));
  t.like(peer, { up: false, lowerUp: false, parentIndex: seen.ifindex, masterIndex: undefined });
  t.is(peer.operState, 'down');

  // A veth whose peer is in a sandbox names the peer's namespace by id.
  const [a] = await makeSandboxes(s, 'a');
  await plugIn(s, a!, s.name('ha'), '10.14.0.1/24', bridge);
  const outward = await linkByName(s.host, s.name('ha'));
  t.is(outward.linkNetnsId, ipLink(s.name('ha'))!.link_netnsid);
  t.is(outward.parentIndex, ipLink('eth0', a!.name)!.ifindex);
  t.true(outward.lowerUp, 'its peer is up inside the sandbox');

  await s.sandboxes.deleteMany([a!]);
  await Promise.all([linkDel(s.host, s.name('v0')), linkDel(s.host, bridge)]);
  await s.assertClean(t);
});

test('linkList lists the links of a namespace, filtered by kind, master or group, as iproute2 does', async (t) => {
  const s = await scratch(t);
  const group = groupOf(s, 3);
  const bridge = s.name('br');
  const bridgeIndex = (await linkAdd(s.host, { kind: 'bridge', name: bridge, group }))!;
  await linkAdd(s.host, { kind: 'veth', name: s.name('v0'), master: bridge, peer: { name: s.name('w0') } });
  await linkAdd(s.host, { kind: 'veth', name: s.name('v1'), master: bridgeIndex, peer: { name: s.name('w1'), group } });
  await linkAdd(s.host, { kind: 'macvlan', name: s.name('m0'), parent: s.name('w0') });
  const names = (links: Array<{ name: string }>) => links.map((link) => link.name).filter((name) => name.startsWith(s.prefix)).sort();

  t.deepEqual(names(await linkList(s.host)), ourLinks(s));
  t.deepEqual(names(await linkList(s.host, { kind: 'veth' })), ourLinks(s, ipDump<IpLink>(['-d', 'link', 'show', 'type', 'veth'])));
  t.deepEqual(names(await linkList(s.host, { kind: 'bridge' })), [bridge]);
  t.deepEqual(names(await linkList(s.host, { kind: 'macvlan' })), [s.name('m0')]);
  t.deepEqual(names(await linkList(s.host, { masterIndex: bridgeIndex })), ourLinks(s, ipDump<IpLink>(['link', 'show', 'master', bridge])));
  t.deepEqual(names(await linkList(s.host, { masterIndex: bridgeIndex })), [s.name('v0'), s.name('v1')]);
  t.deepEqual(names(await linkList(s.host, { group })), ourLinks(s, ipDump<IpLink>(['link', 'show', 'group', String(group)])));
  t.deepEqual(names(await linkList(s.host, { group })), [bridge, s.name('w1')]);
  t.deepEqual(names(await linkList(s.host, { kind: 'veth', group })), [s.name('w1')]);
  t.true((await linkList(s.host)).some((link) => link.name === 'lo' && link.kind === undefined), 'loopback has no kind');

  await Promise.all([linkDel(s.host, s.name('v0')), linkDel(s.host, s.name('v1')), linkDel(s.host, bridge)]);
  await s.assertClean(t);
});

// ---------------------------------------------------------------------------------------------
// Deleting links

test('linkDel deletes a link by name or index, and either end of a veth pair takes the other with it', async (t) => {
  const s = await scratch(t);
  await linkAdd(s.host, { kind: 'bridge', name: s.name('b0') });
  const index = (await linkAdd(s.host, { kind: 'bridge', name: s.name('b1') }))!;
  await linkAdd(s.host, { kind: 'veth', name: s.name('v0'), peer: { name: s.name('v1') } });
  const [a] = await makeSandboxes(s, 'a');
  await plugIn(s, a!, s.name('ha'), '10.15.0.1/24');

  await linkDel(s.host, s.name('b0'));
  t.is(ipLink(s.name('b0')), undefined);
  await linkDel(s.host, index);
  t.is(ipLink(s.name('b1')), undefined);
  await linkDel(s.host, s.name('v1'));
  t.is(ipLink(s.name('v0')), undefined, 'the peer went with it');
  await linkDel(s.host, s.name('ha'));
  t.deepEqual(ipLinks(a!.name).map((link) => link.ifname), ['lo'], 'the peer inside the sandbox went with it');
  t.deepEqual(ourLinks(s), []);

  const again = await t.throwsAsync(linkDel(s.host, s.name('b0')), { instanceOf: KernelError });
  t.true(isNotFound(again), 'deleting a deleted link is a not-found error');

  await s.sandboxes.deleteMany([a!]);
  await s.assertClean(t);
});

test('linkDelGroup deletes every link of a group in one request and leaves other groups alone', async (t) => {
  const s = await scratch(t);
  const doomed = groupOf(s, 4);
  const kept = groupOf(s, 5);
  await Promise.all([
    ...Array.from({ length: 30 }, (_, i) => linkAdd(s.host, { kind: 'bridge', name: s.name(`b${i}`), group: doomed })),
    ...Array.from({ length: 10 }, (_, i) => linkAdd(s.host, { kind: 'veth', name: s.name(`v${i}`), group: doomed, peer: { name: s.name(`w${i}`), group: doomed } })),
    ...Array.from({ length: 3 }, (_, i) => linkAdd(s.host, { kind: 'bridge', name: s.name(`k${i}`), group: kept })),
  ]);
  const inGroup = (group: number) => ourLinks(s, ipDump<IpLink>(['link', 'show', 'group', String(group)]));
  t.is(inGroup(doomed).length, 50);

  const { requests, batches } = s.host.socket.stats;
  await linkDelGroup(s.host, doomed);
  t.is(s.host.socket.stats.requests, requests + 1, 'one request');
  t.is(s.host.socket.stats.batches, batches + 1);
  t.deepEqual(inGroup(doomed), []);
  t.deepEqual(ourLinks(s), [s.name('k0'), s.name('k1'), s.name('k2')], 'the other group is untouched');

  const empty = await t.throwsAsync(linkDelGroup(s.host, doomed), { instanceOf: KernelError });
  t.true(isNotFound(empty), 'a group with no links is a not-found error');
  for (const group of [0, -1, 1.5]) {
    await refusedUpfront(t, s.host, 'group', () => linkDelGroup(s.host, group), `group ${group}`);
  }
  t.is(ourLinks(s).length, 3, 'the default group was not touched');

  await linkDelGroup(s.host, kept);
  await s.assertClean(t);
});

test('linkModify makes several changes in one request, and takes a link down and out of its bridge in one more', async (t) => {
  const s = await scratch(t);
  await linkAdd(s.host, { kind: 'bridge', name: s.name('br'), up: true });
  await linkAdd(s.host, { kind: 'veth', name: s.name('v0'), peer: { name: s.name('v1') } });
  const bridge = (await linkByName(s.host, s.name('br'))).index;
  const { requests } = s.host.socket.stats;
  await linkModify(s.host, s.name('v0'), { master: bridge, mtu: 1400, alias: 'modified', group: 7, hardwareAddr: '02:42:0a:00:00:07', up: true });
  t.is(s.host.socket.stats.requests, requests + 1, 'one request');
  const shown = ipLink(s.name('v0'))!;
  t.like(shown, { master: s.name('br'), mtu: 1400, ifalias: 'modified', address: '02:42:0a:00:00:07', group: '7' });
  t.true(shown.flags.includes('UP'));
  await linkModify(s.host, s.name('v0'), { master: 0, up: false });
  const after = ipLink(s.name('v0'))!;
  t.is(after.master, undefined, 'out of the bridge');
  t.false(after.flags.includes('UP'));
  await linkDel(s.host, s.name('v0'));
  await linkDel(s.host, s.name('br'));
  await s.assertClean(t);
});

test('linkFind reads a link as linkByName does, and gives undefined for one that is not there', async (t) => {
  const s = await scratch(t);
  await linkAdd(s.host, { kind: 'bridge', name: s.name('br') });
  t.deepEqual(await linkFind(s.host, s.name('br')), await linkByName(s.host, s.name('br')));
  t.is(await linkFind(s.host, s.name('zz')), undefined);
  await refusedUpfront(t, s.host, 'name', () => linkFind(s.host, 'bad/name'), 'a bad name is still an error');
  await linkDel(s.host, s.name('br'));
  await s.assertClean(t);
});

test('linkDelMany deletes the links of every call in one event-loop turn with one group delete; a link already gone counts as deleted, a bad name fails alone', async (t) => {
  const s = await scratch(t);
  await Promise.all(Array.from({ length: 6 }, (_, i) => linkAdd(s.host, { kind: 'bridge', name: s.name(`d${i}`) })));
  await linkAdd(s.host, { kind: 'veth', name: s.name('v0'), peer: { name: s.name('v1') } });
  const { requests } = s.host.socket.stats;
  const results = await Promise.allSettled([
    linkDelMany(s.host, [s.name('d0'), s.name('d1')]),
    linkDelMany(s.host, [s.name('d2'), s.name('gone')]),
    linkDelMany(s.host, ['bad/name']),
    linkDelMany(s.host, [s.name('d3'), s.name('d4'), s.name('d5'), s.name('v1')]),
  ]);
  t.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
  t.true((results[2] as PromiseRejectedResult).reason instanceof ValidationError, 'the bad name, alone');
  t.is(s.host.socket.stats.requests, requests + 9, 'a group set per link that exists or not (8), then one delete for all of them');
  t.deepEqual(ourLinks(s), [], 'all gone, the veth peer with its other end');
  await s.assertClean(t);
});

// ---------------------------------------------------------------------------------------------
// Failures

test('linkAdd of a name that is taken fails with EEXIST naming the link, and leaves the existing link as it was', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  await linkAdd(s.host, { kind: 'bridge', name: bridge, mtu: 1400, alias: 'not ours' });

  const error = await t.throwsAsync(linkAdd(s.host, { kind: 'bridge', name: bridge, mtu: 1300, up: true, alias: 'ours' }), { instanceOf: KernelError });
  t.is(error?.code, 'EEXIST');
  t.regex(error!.message, new RegExp(`add bridge link ${bridge}\\b`));
  const existing = ipLink(bridge)!;
  t.is(existing.mtu, 1400);
  t.false(existing.flags.includes('UP'));
  t.is(existing.ifalias, 'not ours', 'the existing link keeps its alias');

  // A veth pair whose peer name is taken: neither end is made.
  const peerTaken = await t.throwsAsync(linkAdd(s.host, { kind: 'veth', name: s.name('v0'), alias: 'ours', peer: { name: bridge } }), { instanceOf: KernelError });
  t.is(peerTaken?.code, 'EEXIST');
  t.regex(peerTaken!.message, new RegExp(`peer ${bridge}`));
  t.deepEqual(ourLinks(s), [bridge]);
  t.is(ipLink(bridge)!.ifalias, 'not ours');

  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

test('operations on a link that does not exist fail with a not-found error naming it, and make nothing', async (t) => {
  const s = await scratch(t);
  const missing = s.name('nothere');
  const bridge = s.name('br');
  await linkAdd(s.host, { kind: 'bridge', name: bridge });
  const attempts: Array<[string, () => Promise<unknown>]> = [
    ['linkByName', () => linkByName(s.host, missing)],
    ['linkByIndex', () => linkByIndex(s.host, 0x7ffffff0)],
    ['linkDel', () => linkDel(s.host, missing)],
    ['linkSetUp', () => linkSetUp(s.host, missing)],
    ['linkSetDown', () => linkSetDown(s.host, 0x7ffffff0)],
    ['linkSetMaster of a missing link', () => linkSetMaster(s.host, missing, bridge)],
    ['linkSetMaster to a missing master', () => linkSetMaster(s.host, bridge, missing)],
    ['linkSetName', () => linkSetName(s.host, missing, s.name('new'))],
    ['linkSetMtu', () => linkSetMtu(s.host, missing, 1400)],
    ['linkSetAlias', () => linkSetAlias(s.host, missing, 'x')],
    ['linkAdd with a missing master', () => linkAdd(s.host, { kind: 'veth', name: s.name('v0'), master: missing, peer: { name: s.name('v1') } })],
    ['linkAdd of a macvlan whose parent is missing', () => linkAdd(s.host, { kind: 'macvlan', name: s.name('m0'), parent: missing })],
    // Given by index, the parent is not looked up first: the kernel itself refuses.
    ['linkAdd of a macvlan whose parent index is missing', () => linkAdd(s.host, { kind: 'macvlan', name: s.name('m1'), parent: 0x7ffffff0 })],
    ['linkAdd of a vxlan whose underlay device is missing', () => linkAdd(s.host, { kind: 'vxlan', name: s.name('x0'), vni: 7, vtepDev: missing })],
  ];
  for (const [label, attempt] of attempts) {
    const error = await t.throwsAsync(attempt, { instanceOf: KernelError }, label);
    t.true(isNotFound(error), `${label}: ${error?.message}`);
    t.regex(error?.message ?? '', new RegExp(`${missing}|#${0x7ffffff0}|${s.name('m1')}`), label);
  }
  t.deepEqual(ourLinks(s), [bridge], 'nothing was made');
  t.is(ipLink(bridge)!.master, undefined);

  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

test('interface names over 15 bytes, empty, or with "/", ":" or whitespace are refused naming the field, and nothing is made', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  await linkAdd(s.host, { kind: 'bridge', name: bridge });
  const bad = [
    `${s.prefix}${'x'.repeat(10)}`, // 16 bytes
    `${s.prefix}ééééé`, // 11 characters, 16 bytes
    '',
    `${s.prefix}/a`,
    `${s.prefix}:a`,
    `${s.prefix} a`,
    `${s.prefix}\ta`,
    `${s.prefix}\na`,
  ];
  for (const name of bad) {
    const label = JSON.stringify(name);
    await refusedUpfront(t, s.host, 'name', () => linkAdd(s.host, { kind: 'bridge', name }), `bridge ${label}`);
    await refusedUpfront(t, s.host, 'peer.name', () => linkAdd(s.host, { kind: 'veth', name: s.name('v0'), peer: { name } }), `peer ${label}`);
    await refusedUpfront(t, s.host, 'newName', () => linkSetName(s.host, bridge, name), `rename to ${label}`);
    await refusedUpfront(t, s.host, 'newName', () => linkSetNsFd(s.host, bridge, 0, name), `move as ${label}`);
    await refusedUpfront(t, s.host, 'name', () => linkByName(s.host, name), `find ${label}`);
    await refusedUpfront(t, s.host, 'link', () => linkDel(s.host, name), `delete ${label}`);
  }
  // Exactly 15 bytes is allowed.
  const longest = `${s.prefix}${'x'.repeat(9)}`;
  await linkAdd(s.host, { kind: 'bridge', name: longest });
  t.deepEqual(ourLinks(s), [bridge, longest].sort(), 'only the valid links exist');
  const names = ipLinks().map((link) => link.ifname);
  for (const name of bad) t.false(names.includes(name), JSON.stringify(name));

  await Promise.all([linkDel(s.host, bridge), linkDel(s.host, longest)]);
  await s.assertClean(t);
});

test('linkAdd refuses an unknown kind and malformed options before any kernel call', async (t) => {
  const s = await scratch(t);
  const [a] = await makeSandboxes(s, 'a');
  const refusals: Array<[string, LinkSpec]> = [
    ['kind', { kind: 'dummy', name: s.name('d0') } as unknown as LinkSpec],
    ['kind', { kind: 'VETH', name: s.name('d1') } as unknown as LinkSpec],
    ['vni', { kind: 'vxlan', name: s.name('x0'), vni: 0x1000000 }],
    ['vni', { kind: 'vxlan', name: s.name('x1'), vni: -1 }],
    ['local', { kind: 'vxlan', name: s.name('x2'), vni: 1, local: '10.0.0.300' }],
    ['remote', { kind: 'vxlan', name: s.name('x3'), vni: 1, remote: 'somewhere' }],
    ['link.hardwareAddr', { kind: 'bridge', name: s.name('b0'), hardwareAddr: '02:5e:00:00:00' }],
    ['peer.hardwareAddr', { kind: 'veth', name: s.name('v0'), peer: { name: s.name('v1'), hardwareAddr: 'not a mac' } }],
  ];
  for (const [field, spec] of refusals) {
    await refusedUpfront(t, s.host, field, () => linkAdd(s.host, spec), `${field} ${JSON.stringify(spec)}`);
  }
  // The alias is set by a follow-up request in the handle's own namespace, so it cannot go with netnsFd.
  const aliasInElsewhere = await withNetnsFd(a!, (fd) =>
    t.throwsAsync(linkAdd(s.host, { kind: 'bridge', name: s.name('b1'), netnsFd: fd, alias: 'x' }), { instanceOf: ValidationError }),
  );
  t.is(aliasInElsewhere?.field, 'alias');
  const unknown = await t.throwsAsync(linkAdd(s.host, { kind: 'dummy', name: s.name('d0') } as unknown as LinkSpec), { instanceOf: ValidationError });
  t.regex(unknown!.message, /unknown link kind "dummy" \(veth, bridge, macvlan, vxlan\)/);
  t.deepEqual(ourLinks(s), [], 'nothing was made');
  t.deepEqual(ipLinks(a!.name).map((link) => link.ifname), ['lo'], 'nothing was made in the sandbox');

  await s.sandboxes.deleteMany([a!]);
  await s.assertClean(t);
});

test('when the kernel refuses a request its own reason comes through, and nothing is made', async (t) => {
  const s = await scratch(t);
  await linkAdd(s.host, { kind: 'bridge', name: s.name('b0') });
  const taken = (await linkAdd(s.host, { kind: 'bridge', name: s.name('b1') }))!;

  const loop = await t.throwsAsync(linkSetMaster(s.host, s.name('b0'), s.name('b1')), { instanceOf: KernelError });
  t.is(loop?.code, 'ELOOP');
  t.is(loop?.kernelMessage, 'Can not enslave a bridge to a bridge');
  t.is(loop?.message, `set master ${s.name('b1')} of link ${s.name('b0')} in the host namespace: can not enslave a bridge to a bridge (ELOOP)`);
  t.is(ipLink(s.name('b0'))!.master, undefined);

  const tiny = await t.throwsAsync(linkAdd(s.host, { kind: 'bridge', name: s.name('b2'), mtu: 20 }), { instanceOf: KernelError });
  t.is(tiny?.code, 'EINVAL');
  t.regex(tiny!.message, /mtu less than device minimum/);

  const indexTaken = await t.throwsAsync(linkAdd(s.host, { kind: 'bridge', name: s.name('b3'), index: taken }), { instanceOf: KernelError });
  t.is(indexTaken?.code, 'EEXIST', 'an ifindex that is taken');

  const [a] = await makeSandboxes(s, 'a');
  await linkAdd(handleOf(a!), { kind: 'vxlan', name: 'vx0', vni: 99 });
  const sameVni = await t.throwsAsync(linkAdd(handleOf(a!), { kind: 'vxlan', name: 'vx1', vni: 99 }), { instanceOf: KernelError });
  t.is(sameVni?.code, 'EEXIST');
  t.regex(sameVni!.message, /add vxlan link vx1 in .*: a vxlan device with the specified vni already exists \(EEXIST\)/);
  t.deepEqual(ipLinks(a!.name).map((link) => link.ifname).sort(), ['lo', 'vx0']);

  t.deepEqual(ourLinks(s), [s.name('b0'), s.name('b1')], 'nothing was made');
  await s.sandboxes.deleteMany([a!]);
  await Promise.all([linkDel(s.host, s.name('b0')), linkDel(s.host, s.name('b1'))]);
  await s.assertClean(t);
});

// ---------------------------------------------------------------------------------------------
// Many outstanding requests

test('200 linkAdd calls issued at once on one handle all succeed, pipelined in a few batches', async (t) => {
  const s = await scratch(t);
  const group = groupOf(s, 6);
  const names = Array.from({ length: 200 }, (_, i) => s.name(`b${i}`));
  const { requests, batches } = s.host.socket.stats;
  const indexes = await Promise.all(names.map((name) => linkAdd(s.host, { kind: 'bridge', name, group })));
  t.is(s.host.socket.stats.requests - requests, 200, 'one request per link');
  const used = s.host.socket.stats.batches - batches;
  t.true(used <= 10, `${used} batches for 200 requests`);

  const seen = new Map(ipDump<IpLink>(['link', 'show', 'group', String(group)]).map((link) => [link.ifname, link.ifindex]));
  t.is(seen.size, 200);
  t.deepEqual(indexes, names.map((name) => seen.get(name)), 'each call resolves with its own link\'s index');

  await linkDelGroup(s.host, group);
  await s.assertClean(t);
});

test('a refused request in a pipelined batch fails alone, and the rest of the batch succeeds', async (t) => {
  const s = await scratch(t);
  const taken = s.name('taken');
  await linkAdd(s.host, { kind: 'bridge', name: taken });
  const names = Array.from({ length: 20 }, (_, i) => (i === 10 ? taken : s.name(`b${i}`)));
  const batches = s.host.socket.stats.batches;
  const results = await Promise.allSettled(names.map((name) => linkAdd(s.host, { kind: 'bridge', name })));
  t.true(s.host.socket.stats.batches - batches <= 3, 'the requests went together');

  const failed = results.flatMap((result, i) => (result.status === 'rejected' ? [[i, result.reason] as const] : []));
  t.is(failed.length, 1);
  t.is(failed[0]![0], 10);
  t.true(failed[0]![1] instanceof KernelError && failed[0]![1].code === 'EEXIST');
  t.regex(String(failed[0]![1].message), new RegExp(taken));
  const made = names.filter((_, i) => i !== 10);
  t.deepEqual(ourLinks(s), [...made, taken].sort());
  for (const [i, result] of results.entries()) {
    if (result.status === 'fulfilled') t.is(result.value, ipLink(names[i]!)!.ifindex, names[i]);
  }

  await Promise.all([...made, taken].map((name) => linkDel(s.host, name)));
  await s.assertClean(t);
});

test('ip4Conf and ip6AddrGenMode are set over netlink, at creation or later, with no /proc write', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  await linkAdd(s.host, { kind: 'bridge', name: bridge, up: true, ip4Conf: { arpNotify: true, routeLocalnet: true }, ip6AddrGenMode: 'none', alias: 'switchyard:test' });
  const conf = (name: string, key: string) => readFileSync(`/proc/sys/net/ipv4/conf/${name}/${key}`, 'utf8').trim();
  t.is(conf(bridge, 'arp_notify'), '1');
  t.is(conf(bridge, 'route_localnet'), '1');
  const details = ipJson<Array<{ ifname: string; ifalias?: string; flags: string[]; inet6_addr_gen_mode?: string }>>(['-d', 'link', 'show', 'dev', bridge])[0]!;
  t.is(details.inet6_addr_gen_mode, 'none');
  t.is(details.ifalias, 'switchyard:test');
  t.true(details.flags.includes('UP'), 'up, after its settings');
  t.deepEqual(ipJson(['-6', 'addr', 'show', 'dev', bridge]).flatMap((l: any) => l.addr_info ?? []), [], 'no IPv6 link-local address');

  await linkSetIp4Conf(s.host, bridge, { arpNotify: false, rpFilter: 2 });
  t.is(conf(bridge, 'arp_notify'), '0');
  t.is(conf(bridge, 'rp_filter'), '2');
  await linkSetIp6AddrGenMode(s.host, bridge, 'eui64');
  t.is(ipJson<Array<{ inet6_addr_gen_mode?: string }>>(['-d', 'link', 'show', 'dev', bridge])[0]!.inet6_addr_gen_mode, 'eui64');
  await t.throwsAsync(linkSetIp6AddrGenMode(s.host, bridge, 'bogus' as never), { instanceOf: ValidationError });
  await t.throwsAsync(linkSetIp4Conf(s.host, bridge, { bogus: true } as never), { instanceOf: ValidationError });
  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

test('linkWaitOperUp returns once a link carries traffic, and times out naming the link when it never will', async (t) => {
  const s = await scratch(t);
  const [a] = await makeSandboxes(s, 'a');
  const fd = openSync(a!.path, 'r');
  await linkAdd(s.host, { kind: 'veth', name: s.name('v'), up: true, peer: { name: 'eth0', netnsFd: fd } });
  closeSync(fd);
  const error = await t.throwsAsync(linkWaitOperUp(s.host, s.name('v'), 50), { instanceOf: KernelError });
  t.regex(error!.message, new RegExp(`wait for link ${s.name('v')} .* to be up \\(it is (down|lowerlayerdown)\\)`), 'the peer is down, so this one cannot be up');
  await linkSetUp(handleOf(a!), 'eth0');
  const link = await linkWaitOperUp(s.host, s.name('v'));
  t.is(link.operState, 'up');
  t.is(ipLink(s.name('v'))!.operstate, 'UP');
  await s.sandboxes.deleteMany([a!]);
  await s.assertClean(t);
});

test('linkSetIp6Disabled turns IPv6 off for one interface, in the host namespace and inside a sandbox', async (t) => {
  const s = await scratch(t);
  const [a] = await makeSandboxes(s, 'a');
  const fd = openSync(a!.path, 'r');
  await linkAdd(s.host, { kind: 'veth', name: s.name('v'), peer: { name: 'eth0', netnsFd: fd } });
  closeSync(fd);
  await linkSetIp6Disabled(s.host, s.name('v'), true);
  await linkSetIp6Disabled(handleOf(a!), 'eth0', true);
  await linkSetUp(s.host, s.name('v'));
  await linkSetUp(handleOf(a!), 'eth0');
  await linkWaitOperUp(s.host, s.name('v'));
  t.is(readFileSync(`/proc/sys/net/ipv6/conf/${s.name('v')}/disable_ipv6`, 'utf8').trim(), '1');
  t.deepEqual(ipJson(['-6', 'addr', 'show', 'dev', s.name('v')]).flatMap((l: any) => l.addr_info ?? []), [], 'no IPv6 address on the host end');
  t.deepEqual(ipJson(['-6', 'addr', 'show', 'dev', 'eth0'], a!.name).flatMap((l: any) => l.addr_info ?? []), [], 'none inside either');
  await t.throwsAsync(linkSetIp6Disabled(s.host, s.name('nope'), true), { message: /disable_ipv6 of link .*no such device/ });
  await s.sandboxes.deleteMany([a!]);
  await s.assertClean(t);
});
