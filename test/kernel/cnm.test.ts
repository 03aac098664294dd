/** The controller under concurrency and bad input, and the one-engine-per-data-root rule. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratch } from '../helpers/scratch.js';
import { ip, ipJson, ping } from '../helpers/ip.js';
import { closeEmpty, dataRootOf, engineState, openEngine } from '../helpers/engine.js';
import { CnmError } from '../../src/cnm/errors.js';
import { apiSandbox } from '../../src/api/sandboxes.js';
import { icmpEcho } from '../../src/netns/index.js';
import { defaultIpv4Pools } from '../../src/ipam/default-pools.js';
import { parseSubnet, subnetsOverlap } from '../../src/ipam/cidr.js';
import type { Engine } from '../../src/cnm/engine.js';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'engine-op.js');

/** Everything of this engine: store entries with versions, leases, its links (by ownership mark) with their addresses, namespace files. */
async function snapshot(engine: Engine) {
  const store = (await engine.store.list('')).map((e) => `${e.key}@${e.version}`);
  const state = await engineState(engine);
  const addresses = ipJson<Array<{ ifname: string; addr_info: Array<{ local: string }> }>>(['addr', 'show'])
    .filter((l) => state.links.includes(l.ifname))
    .map((l) => `${l.ifname} ${l.addr_info.map((a) => a.local).join(',')}`)
    .sort();
  return { store, ...state, addresses };
}

test('100 concurrent creates of one network name: exactly one succeeds, the rest are conflicts', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const c = engine.controller;
  const results = await Promise.allSettled(Array.from({ length: 100 }, () => c.createNetwork({ name: s.name('n') })));
  const ok = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  t.is(ok.length, 1);
  t.true(refused.every((r) => r.reason instanceof CnmError && r.reason.category === 'conflict' && /already exists/.test(r.reason.message)));
  t.is(c.listNetworks().length, 1);
  t.is((await engine.ipam.pools()).length, 1, 'one pool taken, the others given back');
  await c.deleteNetwork(s.name('n'));
  t.deepEqual((await engineState(engine)).records, []);
  await engine.close();
  await s.assertClean(t);
});

test('50 concurrent connects to one network get 50 distinct addresses, all answering ping', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const c = engine.controller;
  await c.createNetwork({ name: s.name('n'), ipam: { config: [{ subnet: '10.98.0.0/24' }] } });
  const sandboxes = await Promise.all(Array.from({ length: 50 }, (_, i) => c.createSandbox({ name: s.name(`s${i}`) })));
  const endpoints = await Promise.all(sandboxes.map((sandbox) => c.connect(s.name('n'), sandbox.id)));
  const addresses = endpoints.map((e) => e.ipv4!.cidr.split('/')[0]!);
  t.is(new Set(addresses).size, 50);
  const replies = await Promise.all(addresses.map((address, i) => icmpEcho(sandboxes[(i + 1) % 50]!.path, address, { timeoutMs: 3000 })));
  t.is(replies.filter((r) => r !== null).length, 50, 'every address answers from another sandbox');
  await Promise.all(sandboxes.map((sandbox) => c.deleteSandbox(sandbox.id)));
  await c.deleteNetwork(s.name('n'));
  await closeEmpty(t, engine, s);
});

test('a default pool with a host route over it is skipped; default routes (in any table) do not count', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const c = engine.controller;
  // The first default pool no route covers now; a route over it on a veth of this test's, and
  // a default route in a table of the test's own, as a VPN client would leave one.
  const routed = () =>
    ipJson<Array<{ dst: string; table?: string }>>(['-4', 'route', 'show', 'table', 'all'])
      .filter((r) => r.dst !== 'default' && r.table !== 'local' && /^[\d.]+(\/\d+)?$/.test(r.dst))
      .map((r) => parseSubnet(r.dst.includes('/') ? r.dst : `${r.dst}/32`));
  const blocked = defaultIpv4Pools.find((pool) => !routed().some((route) => subnetsOverlap(route, parseSubnet(pool))))!;
  t.truthy(blocked, 'a free default pool to block');
  const table = String(40000 + Math.floor(Math.random() * 10000));
  t.teardown(() => {
    ip(['link', 'del', s.name('dm')]);
  });
  for (const args of [['link', 'add', s.name('dm'), 'type', 'veth', 'peer', 'name', s.name('dp')], ['link', 'set', s.name('dp'), 'up'], ['link', 'set', s.name('dm'), 'up'], ['route', 'add', blocked, 'dev', s.name('dm')], ['route', 'add', 'default', 'dev', s.name('dm'), 'table', table]]) {
    const result = ip(args);
    t.is(result.status, 0, `ip ${args.join(' ')}: ${result.stderr}`);
  }
  // Were a default route counted, it would cover every pool and this would fail as exhausted.
  const network = await c.createNetwork({ name: s.name('n') });
  const subnet = network.pools[0]!.subnet;
  t.true(defaultIpv4Pools.includes(subnet), `${subnet} is a default pool`);
  t.false(subnetsOverlap(parseSubnet(subnet), parseSubnet(blocked)), `${subnet} is not ${blocked}, which a host route covers`);
  await c.deleteNetwork(s.name('n'));
  ip(['link', 'del', s.name('dm')]);
  await closeEmpty(t, engine, s);
});

test('a network with two IPv4 subnets: addresses from the first until it is full, then the next; a given one from the subnet holding it; each endpoint routes via its own subnet\'s gateway', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const c = engine.controller;
  const n = s.name('n');
  await c.createNetwork({ name: n, ipam: { config: [{ subnet: '10.181.0.0/30' }, { subnet: '10.181.1.0/29' }] } });
  const names = ['a', 'b', 'c', 'g1', 'g2', 'g3', 'h'].map((x) => s.name(x));
  for (const name of names) await c.createSandbox({ name });
  const [a, b, cc, g1, g2, g3, h] = names as [string, string, string, string, string, string, string];
  const address = async (sandbox: string, ipv4Address?: string) => (await c.connect(n, sandbox, ipv4Address ? { ipv4Address } : {})).ipv4!.cidr;
  t.is(await address(a), '10.181.0.2/30', 'the first subnet (its one free address)');
  t.is(await address(b), '10.181.1.2/29', 'then the next');
  t.is(await address(cc, '10.181.1.5'), '10.181.1.5/29', 'a given address, from the subnet that holds it');

  // Each reaches its own subnet's gateway, its default route via that gateway; the bridge has both.
  const defaultVia = (sandbox: string) => ipJson<Array<{ dst: string; gateway?: string }>>(['-4', 'route', 'show', 'default'], sandbox)[0]?.gateway;
  t.deepEqual([defaultVia(a), defaultVia(b), defaultVia(cc)], ['10.181.0.1', '10.181.1.1', '10.181.1.1']);
  const shown = (sandbox: string) => (apiSandbox(c, c.sandbox(sandbox)).Networks as Record<string, { Gateway: string }>)[n]!.Gateway;
  t.deepEqual([shown(a), shown(b)], ['10.181.0.1', '10.181.1.1'], 'inspect shows the gateway of its own subnet');
  t.true(ping(a, '10.181.0.1'));
  t.true(ping(b, '10.181.1.1'));
  t.true(ping(cc, '10.181.1.1'));
  const bridge = ipJson<Array<{ ifname: string; addr_info: Array<{ local: string }> }>>(['-4', 'addr', 'show']).find((l) => l.addr_info.some((x) => x.local === '10.181.0.1'))!;
  t.deepEqual(bridge.addr_info.map((x) => x.local).sort(), ['10.181.0.1', '10.181.1.1']);

  // Refused, naming the field and the subnets, and nothing changes: an address in neither subnet,
  // then (once both are full) any address.
  for (const name of [g1, g2, g3]) await address(name);
  const before = await snapshot(engine);
  const outside = await t.throwsAsync(c.connect(n, h, { ipv4Address: '10.182.0.5' }), { instanceOf: CnmError });
  t.is(outside?.category, 'bad-request');
  t.is(outside?.field, 'ipv4Address');
  t.is(outside?.message, `ipv4Address: 10.182.0.5 is not in any of network ${n}'s subnets (10.181.0.0/30, 10.181.1.0/29)`);
  const garbled = await t.throwsAsync(c.connect(n, h, { ipv4Address: '10.181.1' }), { instanceOf: CnmError });
  t.is(garbled?.message, 'ipv4Address: "10.181.1" is not an IP address');
  const full = await t.throwsAsync(c.connect(n, h), { instanceOf: CnmError });
  t.is(full?.category, 'conflict');
  t.is(full?.message, `no free address in any of network ${n}'s subnets (10.181.0.0/30, 10.181.1.0/29)`);
  t.deepEqual(await snapshot(engine), before, 'store and kernel unchanged');

  // Released on disconnect, and the same address comes back from the same subnet.
  await c.disconnect(n, a);
  t.is(await address(h), '10.181.0.2/30');
  await Promise.all(names.map((name) => c.deleteSandbox(name)));
  await c.deleteNetwork(n);
  await closeEmpty(t, engine, s);
});

test('a second engine on the same data root refuses to start and names the holder', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const result = spawnSync(process.execPath, [child, dataRootOf(s), s.execRoot, s.publishDir, 'create-network', s.name('n'), s.name('a'), `switchyard_${s.prefix}`], { encoding: 'utf8' });
  t.not(result.status, 0);
  t.regex(result.stderr, new RegExp(`data root .* is in use by process ${process.pid}\\b`));
  t.deepEqual(engine.controller.listNetworks(), [], 'the refused engine changed nothing');
  await engine.close();
  await s.assertClean(t);
});

test('bad input gets a clear error naming the field and the rule, and changes nothing in the store or the kernel', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const c = engine.controller;
  await c.createNetwork({ name: s.name('db'), ipam: { config: [{ subnet: '10.99.0.0/24', ipRange: '10.99.0.128/25' }] } });
  await c.createNetwork({ name: s.name('tiny'), ipam: { config: [{ subnet: '10.99.1.0/30' }] } });
  await c.createSandbox({ name: s.name('a') });
  await c.createSandbox({ name: s.name('b') });
  await c.createSandbox({ name: s.name('c') });
  await c.connect(s.name('db'), s.name('a'), { ipv4Address: '10.99.0.5' });
  await c.connect(s.name('tiny'), s.name('a'));
  const before = await snapshot(engine);

  const cases: Array<[string, () => Promise<unknown>, CnmError['category'], RegExp]> = [
    ['invalid CIDR', () => c.createNetwork({ name: s.name('x'), ipam: { config: [{ subnet: '10.300.0.0/16' }] } }), 'bad-request', /subnet/],
    ['host bits set', () => c.createNetwork({ name: s.name('x'), ipam: { config: [{ subnet: '10.100.0.5/16' }] } }), 'bad-request', /host bits/],
    ['gateway outside the subnet', () => c.createNetwork({ name: s.name('x'), ipam: { config: [{ subnet: '10.100.0.0/24', gateway: '10.101.0.1' }] } }), 'bad-request', /gateway/],
    ['ip-range outside the subnet', () => c.createNetwork({ name: s.name('x'), ipam: { config: [{ subnet: '10.100.0.0/24', ipRange: '10.101.0.0/25' }] } }), 'bad-request', /ip.?range/i],
    ['overlapping subnets', () => c.createNetwork({ name: s.name('x'), ipam: { config: [{ subnet: '10.99.0.0/16' }] } }), 'conflict', /overlaps/],
    ['duplicate name', () => c.createNetwork({ name: s.name('db') }), 'conflict', /already exists/],
    ['unknown driver', () => c.createNetwork({ name: s.name('x'), driver: 'nope' }), 'not-found', /unknown network driver "nope"/],
    ['unknown option', () => c.createNetwork({ name: s.name('x'), options: { 'com.docker.network.bridge.bogus': '1' } }), 'bad-request', /unknown option/],
    ['bad option value', () => c.createNetwork({ name: s.name('x'), options: { 'com.docker.network.driver.mtu': 'big' } }), 'bad-request', /not an MTU/],
    ['bridge name over 15 bytes', () => c.createNetwork({ name: s.name('x'), options: { 'com.docker.network.bridge.name': 'a-very-long-bridge' } }), 'bad-request', /15/],
    ['bridge name with a slash', () => c.createNetwork({ name: s.name('x'), options: { 'com.docker.network.bridge.name': 'br/0' } }), 'bad-request', /'\/'/],
    ['network name with a slash', () => c.createNetwork({ name: 'a/b' }), 'bad-request', /'\/'/],
    ['network name with a colon', () => c.createNetwork({ name: 'a:b' }), 'bad-request', /':'/],
    ['network name with whitespace', () => c.createNetwork({ name: 'a b' }), 'bad-request', /whitespace/],
    ['empty network name', () => c.createNetwork({ name: '' }), 'bad-request', /empty/],
    ['network name .', () => c.createNetwork({ name: '.' }), 'bad-request', /reserved/],
    ['network name ..', () => c.createNetwork({ name: '..' }), 'bad-request', /reserved/],
    ['sandbox name with a slash', () => c.createSandbox({ name: 'a/b' }), 'bad-request', /'\/'/],
    ['sandbox name ..', () => c.createSandbox({ name: '..' }), 'bad-request', /reserved/],
    ['published port with an unknown protocol', () => c.createSandbox({ name: s.name('p'), ports: [{ proto: 'sctp' as 'tcp', hostIp: '0.0.0.0', hostPort: 8080, port: 80 }] }), 'bad-request', /ports\[0\]\.proto: "sctp" is not tcp or udp/],
    ['published port out of range', () => c.createSandbox({ name: s.name('p'), ports: [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 70000, port: 80 }] }), 'bad-request', /ports\[0\]\.hostPort: 70000 is not a port/],
    ['published port on a bad host address', () => c.createSandbox({ name: s.name('p'), ports: [{ proto: 'tcp', hostIp: '300.1.1.1', hostPort: 8080, port: 80 }] }), 'bad-request', /ports\[0\]\.hostIp/],
    ['host port published twice', () => c.createSandbox({ name: s.name('p'), ports: [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, port: 80 }, { proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, port: 81 }] }), 'bad-request', /ports\[1\]: host port 8080\/tcp is already published by ports\[0\]/],
    ['static address outside the subnet', () => c.connect(s.name('db'), s.name('b'), { ipv4Address: '10.100.0.5' }), 'bad-request', /address/],
    ['address in use', () => c.connect(s.name('db'), s.name('b'), { ipv4Address: '10.99.0.5' }), 'conflict', /already in use/],
    ['exhausted pool', () => c.connect(s.name('tiny'), s.name('b')), 'conflict', /no (free|available)|exhausted|full/i],
    ['bad MAC address', () => c.connect(s.name('db'), s.name('b'), { macAddress: 'zz' }), 'bad-request', /MAC/],
    ['connecting twice', () => c.connect(s.name('db'), s.name('a')), 'forbidden', /already exists/],
    ['unknown network', () => c.connect('no-such-network', s.name('b')), 'not-found', /not found/],
    ['unknown sandbox', () => c.connect(s.name('db'), 'no-such-sandbox'), 'not-found', /not found/],
    ['deleting a network with endpoints', () => c.deleteNetwork(s.name('db')), 'forbidden', /active endpoints/],
  ];
  for (const [label, attempt, category, message] of cases) {
    const error = await t.throwsAsync(attempt(), undefined, label);
    t.true(error instanceof CnmError, `${label}: a categorised error (${error?.message})`);
    t.is((error as CnmError).category, category, `${label}: ${error?.message}`);
    t.regex(error!.message, message, label);
    t.regex(error!.message, /^[a-z]/, `${label}: lower case`);
    t.deepEqual(await snapshot(engine), before, `${label}: store and kernel unchanged`);
  }
  for (const sandbox of c.listSandboxes()) await c.deleteSandbox(sandbox.id);
  for (const network of c.listNetworks()) await c.deleteNetwork(network.id);
  await engine.close();
  await s.assertClean(t);
});

test('an IPv6 network without a subnet gets a ULA /64: the sandbox has its address and reaches the gateway over IPv6', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const c = engine.controller;
  const network = await c.createNetwork({ name: s.name('n'), enableIpv6: true, ipam: { config: [{ subnet: '10.122.0.0/24' }] } });
  const v6 = network.pools.find((p) => p.family === 6)!;
  t.regex(v6.subnet, /^fd[0-9a-f]{2}:[0-9a-f:]+\/64$/, 'a ULA /64');
  const sandbox = await c.createSandbox({ name: s.name('a') });
  const endpoint = await c.connect(s.name('n'), s.name('a'));
  t.truthy(endpoint.ipv6, 'the endpoint has an IPv6 address');
  const inside = ipJson<Array<{ addr_info: Array<{ local: string; prefixlen: number; scope: string }> }>>(['-6', 'addr', 'show', 'dev', 'eth0'], s.name('a'))[0]!;
  t.true(inside.addr_info.some((a) => `${a.local}/${a.prefixlen}` === endpoint.ipv6!.cidr && a.scope === 'global'));
  const routes = ipJson<Array<{ dst: string; gateway?: string }>>(['-6', 'route', 'show'], s.name('a'));
  t.deepEqual(routes.filter((r) => r.dst === 'default').map((r) => r.gateway), [v6.gateway]);
  t.not(await icmpEcho(sandbox.path, v6.gateway, { timeoutMs: 3000 }), null, 'ping6 to the gateway');
  await c.deleteSandbox(s.name('a'));
  await c.deleteNetwork(s.name('n'));
  await engine.close();
  await s.assertClean(t);
});

test('the MTU option sets the bridge and both veth ends, container_iface_prefix names the interface inside, and snooping is off unless asked', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const c = engine.controller;
  const network = await c.createNetwork({
    name: s.name('n'),
    options: { 'com.docker.network.driver.mtu': '1400', 'com.docker.network.container_iface_prefix': 'lan' },
    ipam: { config: [{ subnet: '10.123.0.0/24' }] },
  });
  await c.createSandbox({ name: s.name('a') });
  const endpoint = await c.connect(s.name('n'), s.name('a'));
  t.is(endpoint.interfaceName, 'lan0');
  const mtu = (name: string, netns?: string) => ipJson<Array<{ mtu: number }>>(['link', 'show', name], netns)[0]!.mtu;
  t.is(mtu(network.driverState.bridge!), 1400);
  t.is(mtu(`syv${endpoint.id.slice(0, 12)}`), 1400);
  t.is(mtu('lan0', s.name('a')), 1400);
  // IGMP/MLD snooping: off unless asked.
  const snooping = (bridge: string) => ipJson<Array<{ linkinfo: { info_data: { mcast_snooping: number } } }>>(['-d', 'link', 'show', bridge])[0]!.linkinfo.info_data.mcast_snooping;
  t.is(snooping(network.driverState.bridge!), 0);
  const snooped = await c.createNetwork({ name: s.name('m'), options: { 'com.switchyard.bridge.mcast_snooping': 'true' }, ipam: { config: [{ subnet: '10.124.0.0/24' }] } });
  t.is(snooping(snooped.driverState.bridge!), 1);
  await c.deleteNetwork(s.name('m'));
  await c.deleteSandbox(s.name('a'));
  await c.deleteNetwork(s.name('n'));
  await engine.close();
  await s.assertClean(t);
});
