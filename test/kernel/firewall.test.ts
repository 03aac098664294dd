/**
 * The firewall with real traffic: egress masqueraded to the host's address as seen from an
 * "outside" host (one more namespace behind a veth), isolation between networks, internal networks,
 * ICC off, and nothing of Switchyard's left in nftables afterwards. Rules grow with networks only.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import dgram from 'node:dgram';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { scratch, type Scratch } from '../helpers/scratch.js';
import { ipJson, nftTableJson } from '../helpers/ip.js';
import { engineState, openEngine } from '../helpers/engine.js';
import { Handle, addrAdd, addrDel, linkAdd, linkSetHardwareAddr, linkSetUp, routeAdd } from '../../src/netlink/index.js';
import { icmpEcho, sandboxExec, sandboxSpawn, type Sandbox } from '../../src/netns/index.js';
import type { Engine } from '../../src/cnm/engine.js';

/** nft's view of one of the engine's tables (the independent checker). */
const nftTable = nftTableJson;

function ruleCount(prefix: string): number {
  return [...nftTable('inet', prefix), ...nftTable('bridge', prefix)].filter((item) => item.rule).length;
}

/** An outside host: a sandbox behind a veth from the test namespace (10.131.N.1 here, .2 there). */
async function outside(s: Scratch, n: number): Promise<{ sandbox: Sandbox; address: string; hostAddress: string }> {
  const sandbox = await s.sandboxes.create({ name: s.name('out'), handle: true });
  const fd = openSync(sandbox.path, 'r');
  await linkAdd(s.host, { kind: 'veth', name: s.name('up'), up: true, peer: { name: 'eth0', netnsFd: fd } });
  closeSync(fd);
  await addrAdd(s.host, s.name('up'), `10.131.${n}.1/24`);
  const h = sandbox.handle!;
  await Promise.all([linkSetUp(h, 'lo'), linkSetUp(h, 'eth0')]);
  await addrAdd(h, 'eth0', `10.131.${n}.2/24`);
  h.close();
  return { sandbox, address: `10.131.${n}.2`, hostAddress: `10.131.${n}.1` };
}

/** A TCP server in `host` that answers every connection with the peer's address, then a client in `from`. */
async function sourceSeenBy(host: Sandbox, address: string, from: Sandbox): Promise<string | null> {
  const server = sandboxSpawn(host, [process.execPath, '-e', `require('net').createServer((c) => c.end(c.remoteAddress)).listen(7777, '${address}', () => console.log('ready'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      server.stdout!.once('data', () => resolve());
      server.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    const client = await sandboxExec(from, [process.execPath, '-e', `const c = require('net').connect(7777, '${address}'); let d = ''; c.on('data', (x) => (d += x)); c.on('end', () => { process.stdout.write(d); process.exit(0); }); c.on('error', () => process.exit(3)); setTimeout(() => process.exit(4), 2000)`], { timeoutMs: 5000 });
    return client.exitCode === 0 ? client.stdout.replace(/^::ffff:/, '') : null;
  } finally {
    server.kill('SIGKILL');
  }
}

async function cleanup(t: ExecutionContext, s: Scratch, engine: Engine, extra: Sandbox[]) {
  const c = engine.controller;
  for (const sandbox of c.listSandboxes()) await c.deleteSandbox(sandbox.id);
  for (const network of c.listNetworks()) await c.deleteNetwork(network.id);
  await s.sandboxes.deleteMany(extra);
  // With the last network the tables went: nothing of the engine's is left in nftables.
  const tables = JSON.parse(execFileSync('/usr/sbin/nft', ['-j', 'list', 'tables'], { encoding: 'utf8' })).nftables as Array<{ table?: { name: string } }>;
  t.deepEqual(tables.filter((item) => item.table?.name === engine.firewall.prefix), [], "the engine's tables went with its last network");
  await engine.close();
  await s.assertClean(t);
}

test('egress is masqueraded to the host-side address, with forwarding on', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const out = await outside(s, 1);
  const c = engine.controller;
  await c.createNetwork({ name: s.name('n'), ipam: { config: [{ subnet: '10.130.1.0/24' }] } });
  // (ip_forward is shared by every test of this namespace; that the driver says when it turns it on
  // is shown in test/unit/bridge-firewall.test.ts.)
  t.is(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), '1');
  const a = await c.createSandbox({ name: s.name('a') });
  await c.connect(s.name('n'), s.name('a'));
  t.is(await sourceSeenBy(out.sandbox, out.address, a), out.hostAddress, 'the outside sees the host, not 10.130.1.x');

  // Without masquerade the outside sees the sandbox's own address (and, lacking a route back, cannot answer).
  await c.createNetwork({ name: s.name('m'), options: { 'com.docker.network.bridge.enable_ip_masquerade': 'false' }, ipam: { config: [{ subnet: '10.130.9.0/24' }] } });
  const b = await c.createSandbox({ name: s.name('b') });
  await c.connect(s.name('m'), s.name('b'));
  t.is(await sourceSeenBy(out.sandbox, out.address, b), null, 'no masquerade: no way back');
  await cleanup(t, s, engine, [out.sandbox]);
});

test('networks are isolated from each other; each reaches its own gateway', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const c = engine.controller;
  await c.createNetwork({ name: s.name('n1'), ipam: { config: [{ subnet: '10.130.11.0/24' }] } });
  await c.createNetwork({ name: s.name('n2'), ipam: { config: [{ subnet: '10.130.12.0/24' }] } });
  const a = await c.createSandbox({ name: s.name('a') });
  const b = await c.createSandbox({ name: s.name('b') });
  const ea = await c.connect(s.name('n1'), s.name('a'));
  const eb = await c.connect(s.name('n2'), s.name('b'));
  t.not(await icmpEcho(a.path, '10.130.11.1', { timeoutMs: 2000 }), null);
  t.not(await icmpEcho(b.path, '10.130.12.1', { timeoutMs: 2000 }), null);
  t.is(await icmpEcho(a.path, eb.ipv4!.cidr.split('/')[0]!, { timeoutMs: 500 }), null, 'n1 cannot reach n2');
  t.is(await icmpEcho(b.path, ea.ipv4!.cidr.split('/')[0]!, { timeoutMs: 500 }), null, 'n2 cannot reach n1');
  await cleanup(t, s, engine, []);
});

test('an internal network reaches nothing outside it and nothing outside reaches it', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const out = await outside(s, 2);
  const c = engine.controller;
  await c.createNetwork({ name: s.name('i'), internal: true, ipam: { config: [{ subnet: '10.130.21.0/24' }] } });
  const a = await c.createSandbox({ name: s.name('a') });
  const b = await c.createSandbox({ name: s.name('b') });
  const ea = await c.connect(s.name('i'), s.name('a'));
  await c.connect(s.name('i'), s.name('b'));
  t.deepEqual(JSON.parse(execFileSync('ip', ['-j', '-n', s.name('a'), 'route', 'show', 'default'], { encoding: 'utf8' })), [], 'no default route');
  t.not(await icmpEcho(b.path, ea.ipv4!.cidr.split('/')[0]!, { timeoutMs: 2000 }), null, 'inside the network: fine');
  await routeAdd(s.host, { dst: '10.130.21.0/24', link: s.name('up') }).catch(() => undefined);
  execFileSync('ip', ['-n', s.name('out'), 'route', 'add', '10.130.21.0/24', 'via', out.hostAddress]);
  execFileSync('ip', ['-n', s.name('a'), 'route', 'add', 'default', 'via', '10.130.21.1']);
  t.is(await icmpEcho(a.path, out.address, { timeoutMs: 500 }), null, 'out of an internal network: dropped');
  t.is(await icmpEcho(out.sandbox.path, ea.ipv4!.cidr.split('/')[0]!, { timeoutMs: 500 }), null, 'into an internal network: dropped');
  await cleanup(t, s, engine, [out.sandbox]);
});

test('with enable_icc=false endpoints of one network cannot reach each other, only the gateway', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const c = engine.controller;
  await c.createNetwork({ name: s.name('n'), options: { 'com.docker.network.bridge.enable_icc': 'false' }, ipam: { config: [{ subnet: '10.130.31.0/24' }] } });
  const a = await c.createSandbox({ name: s.name('a') });
  await c.createSandbox({ name: s.name('b') });
  await c.connect(s.name('n'), s.name('a'));
  const eb = await c.connect(s.name('n'), s.name('b'));
  t.not(await icmpEcho(a.path, '10.130.31.1', { timeoutMs: 2000 }), null, 'the gateway answers');
  t.is(await icmpEcho(a.path, eb.ipv4!.cidr.split('/')[0]!, { timeoutMs: 500 }), null, 'the other endpoint does not');
  await c.disconnect(s.name('n'), s.name('b'));
  const ports = nftTable('bridge', engine.firewall.prefix).find((item) => item.set?.name === 'icc_off_ports')?.set.elem ?? [];
  t.is(ports.length, 1, 'one port left in the ICC-off set after a disconnect');
  await cleanup(t, s, engine, []);
});

test('rules grow with networks, not with endpoints: a + b x networks', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const c = engine.controller;
  const counts: Record<number, number> = {};
  for (let n = 1; n <= 10; n++) {
    await c.createNetwork({ name: s.name(`n${n}`), ipam: { config: [{ subnet: `10.132.${n}.0/24` }] } });
    if (n === 1 || n === 10) counts[n] = ruleCount(engine.firewall.prefix);
  }
  const sandboxes = await Promise.all(Array.from({ length: 20 }, (_, i) => c.createSandbox({ name: s.name(`s${i}`) })));
  await Promise.all(sandboxes.map((sandbox, i) => c.connect(s.name(`n${(i % 10) + 1}`), sandbox.id)));
  const withEndpoints = ruleCount(engine.firewall.prefix);
  const perNetwork = (counts[10]! - counts[1]!) / 9;
  t.true(Number.isInteger(perNetwork), `each network adds the same number of rules (${perNetwork})`);
  t.is(withEndpoints, counts[10], '20 endpoints add no rule');
  t.log(`rules = ${counts[1]! - perNetwork} + ${perNetwork} x networks`);
  await cleanup(t, s, engine, []);
});

test("an endpoint cannot send with another endpoint's IP or MAC (anti-spoofing)", async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const c = engine.controller;
  await c.createNetwork({ name: s.name('n'), ipam: { config: [{ subnet: '10.130.41.0/24' }] } });
  const [a, b, listener] = await Promise.all(['a', 'b', 'c'].map((x) => c.createSandbox({ name: s.name(x) })));
  const [ea, eb, ec] = await Promise.all([a!, b!, listener!].map((x) => c.connect(s.name('n'), x.id)));
  const ip = (e: typeof ea) => e!.ipv4!.cidr.split('/')[0]!;

  // The listener reports the source address of every datagram it gets.
  const server = sandboxSpawn(listener!, [process.execPath, '-e', `const s = require('dgram').createSocket('udp4'); s.on('message', (m, r) => console.log(r.address)); s.bind(7778, () => console.log('ready'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const seen: string[] = [];
  await new Promise<void>((resolve) => server.stdout!.once('data', () => resolve()));
  server.stdout!.setEncoding('utf8').on('data', (chunk: string) => seen.push(...chunk.split('\n').filter(Boolean)));
  const send = (from: string) =>
    sandboxExec(a!, [process.execPath, '-e', `const s = require('dgram').createSocket('udp4'); s.bind({ address: '${from}', port: 0 }, () => s.send('x', 7778, '${ip(ec)}', () => s.close()))`], { timeoutMs: 5000 });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
  try {
    t.is((await send(ip(ea))).exitCode, 0);
    await settle();
    t.deepEqual(seen, [ip(ea)], 'an honest datagram arrives');

    // b's address on a's interface: the kernel lets a send with it, the bridge must not.
    const inside = await Handle.open({ netnsPath: a!.path });
    await addrAdd(inside, 'eth0', `${ip(eb)}/32`);
    t.is((await send(ip(eb))).exitCode, 0);
    await settle();
    t.deepEqual(seen, [ip(ea)], "a datagram with b's address is dropped");
    await addrDel(inside, 'eth0', `${ip(eb)}/32`);

    // b's MAC on a's interface, with a's own address.
    await linkSetHardwareAddr(inside, 'eth0', eb!.macAddress);
    t.is((await send(ip(ea))).exitCode, 0);
    await settle();
    t.deepEqual(seen, [ip(ea)], "a frame with b's MAC is dropped");
    await linkSetHardwareAddr(inside, 'eth0', ea!.macAddress);
    inside.close();
  } finally {
    server.kill('SIGKILL');
  }
  await cleanup(t, s, engine, []);
});

/** Ask a TCP or UDP service something from a sandbox (or, without one, from this test's own namespace). */
async function ask(from: Sandbox | null, proto: 'tcp' | 'udp', host: string, port: number): Promise<string | null> {
  const code =
    proto === 'tcp'
      ? `const c = require('net').connect(${port}, '${host}'); let d = ''; c.on('data', (x) => (d += x)); c.on('end', () => { process.stdout.write(d); process.exit(0); }); c.on('error', () => process.exit(3)); setTimeout(() => process.exit(4), 1500)`
      : `const s = require('dgram').createSocket('${host.includes(':') ? 'udp6' : 'udp4'}'); s.on('message', (m) => { process.stdout.write(String(m)); process.exit(0); }); s.send('?', ${port}, '${host}'); setTimeout(() => process.exit(4), 1500)`;
  const result = from
    ? await sandboxExec(from, [process.execPath, '-e', code], { timeoutMs: 5000 })
    : await new Promise<{ exitCode: number | null; stdout: string }>((resolve) => {
        const child = spawn(process.execPath, ['-e', code]);
        let stdout = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.on('close', (exitCode) => resolve({ exitCode, stdout }));
      });
  return result.exitCode === 0 ? result.stdout : null;
}

test('published ports: reachable through a host address, 127.0.0.1 and by hairpin, reserved on the host, gone after disconnect', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const out = await outside(s, 5);
  const c = engine.controller;
  await c.createNetwork({ name: s.name('n'), ipam: { config: [{ subnet: '10.130.51.0/24' }] } });
  const tcpPort = 18080 + Math.floor(Math.random() * 1000);
  const udpPort = tcpPort + 1000;
  const a = await c.createSandbox({ name: s.name('a'), ports: [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: tcpPort, port: 80 }, { proto: 'udp', hostIp: '0.0.0.0', hostPort: udpPort, port: 53 }] });
  const b = await c.createSandbox({ name: s.name('b') });
  await c.connect(s.name('n'), s.name('a'));
  await c.connect(s.name('n'), s.name('b'));
  const servers = sandboxSpawn(a, [process.execPath, '-e', `require('net').createServer((c) => c.end('tcp from a')).listen(80); const u = require('dgram').createSocket('udp4'); u.on('message', (m, r) => u.send('udp from a', r.port, r.address)); u.bind(53, () => console.log('ready'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => servers.stdout!.once('data', () => resolve()));
  try {
    t.is(await ask(out.sandbox, 'tcp', out.hostAddress, tcpPort), 'tcp from a', 'from outside, through the host address');
    t.is(await ask(null, 'tcp', '127.0.0.1', tcpPort), 'tcp from a', 'from the host, through 127.0.0.1');
    t.is(await ask(b, 'tcp', out.hostAddress, tcpPort), 'tcp from a', 'by hairpin, from the same network through the host address');
    t.is(await ask(out.sandbox, 'udp', out.hostAddress, udpPort), 'udp from a', 'UDP from outside');

    // The host port is taken: a host process cannot bind it, and another sandbox cannot publish it.
    const taken = await new Promise<string>((resolve) => {
      const server = net.createServer().once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? '')).listen(tcpPort, () => server.close(() => resolve('bound')));
    });
    t.is(taken, 'EADDRINUSE');
    await c.createSandbox({ name: s.name('c'), ports: [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: tcpPort, port: 80 }] });
    const before = await engineState(engine);
    const error = await t.throwsAsync(c.connect(s.name('n'), s.name('c')));
    t.regex(error!.message, new RegExp(`publish port 0\\.0\\.0\\.0:${tcpPort}:80/tcp: the host port is already in use`));
    t.deepEqual(await engineState(engine), before, 'the refused connect changed nothing');

    // Disconnected: the mapping and the reservation are gone.
    await c.disconnect(s.name('n'), s.name('a'));
    t.is(await ask(out.sandbox, 'tcp', out.hostAddress, tcpPort), null, 'no longer published');
    const free = await new Promise<string>((resolve) => {
      const server = net.createServer().once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? '')).listen(tcpPort, () => server.close(() => resolve('bound')));
    });
    t.is(free, 'bound', 'the host port is free again');
  } finally {
    servers.kill('SIGKILL');
  }
  await cleanup(t, s, engine, [out.sandbox]);
});

test('published ports over IPv6, host port ranges and ports the kernel picks', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const out = await outside(s, 8);
  await addrAdd(s.host, s.name('up'), 'fd00:131:8::1/64');
  const h = await Handle.open({ netnsPath: out.sandbox.path });
  await addrAdd(h, 'eth0', 'fd00:131:8::2/64');
  h.close();
  const c = engine.controller;
  await c.createNetwork({ name: s.name('n'), enableIpv6: true, ipam: { config: [{ subnet: '10.130.81.0/24' }, { subnet: 'fd00:130:81::/64' }] } });
  const port = 20000 + Math.floor(Math.random() * 1000);
  const range = port + 1000;
  // A host process holds the first port of the range: the range gives the next one.
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(range, '0.0.0.0', () => resolve()));
  const a = await c.createSandbox({
    name: s.name('a'),
    ports: [
      { proto: 'tcp', hostIp: '', hostPort: port, port: 80 },
      { proto: 'tcp', hostIp: '', hostPort: range, hostPortEnd: range + 2, port: 81 },
      { proto: 'udp', hostIp: '::', hostPort: 0, port: 53 },
    ],
  });
  const endpoint = await c.connect(s.name('n'), s.name('a'));
  const bindings = JSON.parse(endpoint.driverState.ports!) as Array<{ proto: string; hostIp: string; hostPort: number; port: number }>;
  const picked = bindings.find((b) => b.proto === 'udp')!.hostPort;
  t.deepEqual(
    bindings.map((b) => `${b.hostIp} ${b.proto} ${b.port}`),
    ['0.0.0.0 tcp 80', ':: tcp 80', '0.0.0.0 tcp 81', ':: tcp 81', ':: udp 53'],
    'no host address: both families; :: only IPv6',
  );
  t.deepEqual(bindings.filter((b) => b.port === 81).map((b) => b.hostPort), [range + 1, range + 1], 'the first free port of the range, the same on both families');
  t.true(picked >= 1024, `the kernel picked UDP port ${picked}`);
  const servers = sandboxSpawn(
    a,
    [process.execPath, '-e', `const net = require('net'); for (const p of [80, 81]) net.createServer((c) => c.end('tcp ' + p + ' via ' + (c.localAddress.includes('.') ? 'IPv4' : 'IPv6'))).listen(p, '::'); const u = require('dgram').createSocket('udp6'); u.on('message', (m, r) => u.send('udp6 from a', r.port, r.address)); u.bind(53, '::', () => console.log('ready'))`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) => servers.stdout!.once('data', () => resolve()));
  try {
    t.is(await ask(out.sandbox, 'tcp', out.hostAddress, port), 'tcp 80 via IPv4');
    t.is(await ask(out.sandbox, 'tcp', 'fd00:131:8::1', port), 'tcp 80 via IPv6', 'from outside, through the host IPv6 address');
    t.is(await ask(out.sandbox, 'tcp', 'fd00:131:8::1', range + 1), 'tcp 81 via IPv6', 'the port the range gave');
    t.is(await ask(out.sandbox, 'tcp', out.hostAddress, range + 1), 'tcp 81 via IPv4');
    t.is(await ask(out.sandbox, 'udp', 'fd00:131:8::1', picked), 'udp6 from a', 'UDP over IPv6 on the picked port');
    t.is(await ask(out.sandbox, 'udp', out.hostAddress, picked), null, 'published on :: only: not over IPv4');
    const bindV6 = await new Promise<string>((resolve) => {
      const server = net.createServer().once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? '')).listen({ port, host: '::', ipv6Only: true }, () => server.close(() => resolve('bound')));
    });
    t.is(bindV6, 'EADDRINUSE', 'the IPv6 host port is reserved too');
    await c.disconnect(s.name('n'), s.name('a'));
    t.is(await ask(out.sandbox, 'tcp', 'fd00:131:8::1', port), null, 'unpublished');
  } finally {
    servers.kill('SIGKILL');
    holder.close();
  }
  await cleanup(t, s, engine, [out.sandbox]);
});

test('isolated internal networks may reuse a subnet; their flows never share conntrack state', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const c = engine.controller;
  const isolated = { 'com.docker.network.bridge.gateway_mode_ipv4': 'isolated' };
  const subnet = { config: [{ subnet: '10.140.0.0/24' }] };
  const red = await c.createNetwork({ name: s.name('red'), internal: true, options: isolated, ipam: subnet });
  const blue = await c.createNetwork({ name: s.name('blue'), internal: true, options: isolated, ipam: subnet });
  // The reuse is for isolated networks only, and isolated is for internal networks only.
  const routed = await t.throwsAsync(c.createNetwork({ name: s.name('r'), ipam: subnet }));
  t.regex(routed!.message, /ipv4\[0\]\.subnet: subnet 10\.140\.0\.0\/24 overlaps network/);
  const notInternal = await t.throwsAsync(c.createNetwork({ name: s.name('x'), options: isolated, ipam: { config: [{ subnet: '10.141.0.0/24' }] } }));
  t.regex(notInternal!.message, /^options\.com\.docker\.network\.bridge\.gateway_mode_ipv4: isolated needs an internal network \(--internal\)/);
  for (const network of [red, blue]) {
    const addresses = ipJson<Array<{ addr_info: Array<{ family: string }> }>>(['addr', 'show', network.driverState.bridge!])[0]!.addr_info;
    t.deepEqual(addresses.filter((a) => a.family === 'inet'), [], 'the bridge holds no address of the subnet');
  }
  const sandboxes: Record<string, Sandbox> = {};
  for (const [network, color] of [[s.name('red'), 'red'], [s.name('blue'), 'blue']] as const) {
    for (const [role, address] of [['a', '10.140.0.2'], ['b', '10.140.0.3']] as const) {
      sandboxes[color + role] = await c.createSandbox({ name: s.name(color[0]! + role) });
      await c.connect(network, s.name(color[0]! + role), { ipv4Address: address });
    }
  }
  const servers = ['red', 'blue'].map((color) =>
    sandboxSpawn(sandboxes[`${color}b`]!, [process.execPath, '-e', `const u = require('dgram').createSocket('udp4'); u.on('message', (m, r) => u.send('${color}', r.port, r.address)); u.bind(6000, () => console.log('ready'))`], { stdio: ['ignore', 'pipe', 'inherit'] }),
  );
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.stdout!.once('data', () => resolve()))));
  // The same flow (addresses and ports) in both networks at once.
  const flow = (color: string) =>
    sandboxExec(sandboxes[`${color}a`]!, [process.execPath, '-e', `const s = require('dgram').createSocket('udp4'); s.on('message', (m) => { process.stdout.write(String(m)); process.exit(0); }); s.bind(5000, () => s.send('?', 6000, '10.140.0.3')); setTimeout(() => process.exit(4), 2000)`], { timeoutMs: 5000 });
  try {
    const answers = await Promise.all([flow('red'), flow('blue')]);
    t.deepEqual(answers.map((a) => a.stdout), ['red', 'blue'], 'each network answers its own');
    const entries = execFileSync('conntrack', ['-L', '-p', 'udp', '--orig-src', '10.140.0.2', '--orig-dst', '10.140.0.3', '--sport', '5000', '--dport', '6000'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const zones = [...entries.matchAll(/zone=(\d+)/g)].map((m) => Number(m[1])).sort();
    t.is(zones.length, 2, `one conntrack entry per network, not one shared (${entries.trim()})`);
    t.not(zones[0], zones[1], 'in zones of their own');
    t.deepEqual(zones, [Number(red.driverState.zone), Number(blue.driverState.zone)].sort());
  } finally {
    servers.forEach((server) => server.kill('SIGKILL'));
  }
  await cleanup(t, s, engine, []);
});

test('UDP flows re-target when published ports move to another sandbox (their conntrack entries are flushed, two ports in one pass)', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const out = await outside(s, 6);
  const c = engine.controller;
  await c.createNetwork({ name: s.name('n'), ipam: { config: [{ subnet: '10.130.61.0/24' }] } });
  const port = 19000 + Math.floor(Math.random() * 1000);
  // Two host ports to the same port inside (docker run -p P:53/udp -p P+1:53/udp).
  const publish = [0, 1].map((k) => ({ proto: 'udp' as const, hostIp: '0.0.0.0', hostPort: port + k, port: 53 }));
  const [a, b] = await Promise.all(['a', 'b'].map((x) => c.createSandbox({ name: s.name(x), ports: publish })));
  const answer = (sandbox: Sandbox, text: string) =>
    sandboxSpawn(sandbox, [process.execPath, '-e', `const u = require('dgram').createSocket('udp4'); u.on('message', (m, r) => u.send('${text}', r.port, r.address)); u.bind(53, () => console.log('ready'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const servers = [answer(a!, 'from a'), answer(b!, 'from b')];
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.stdout!.once('data', () => resolve()))));
  // One flow: the same source port every time, as a long-lived UDP client (DNS, syslog, a game) has.
  const flow = (times: number, k: number) =>
    sandboxExec(out.sandbox, [process.execPath, '-e', `const s = require('dgram').createSocket('udp4'); const got = []; s.on('message', (m) => got.push(String(m))); s.bind(${40053 + k}, () => { let n = 0; const tick = () => { if (n++ < ${times}) { s.send('?', ${port + k}, '${out.hostAddress}'); setTimeout(tick, 100); } else { console.log(JSON.stringify(got)); process.exit(0); } }; tick(); })`], { timeoutMs: 10_000 });
  const flows = async (times: number) => (await Promise.all([0, 1].map((k) => flow(times, k)))).map((run) => JSON.parse(run.stdout) as string[]);
  try {
    await c.connect(s.name('n'), s.name('a'));
    t.deepEqual(await flows(3), [['from a', 'from a', 'from a'], ['from a', 'from a', 'from a']]);
    await c.disconnect(s.name('n'), s.name('a'));
    // A different address than a's (it would otherwise get a's back, and a stale entry would look right).
    await c.connect(s.name('n'), s.name('b'), { ipv4Address: '10.130.61.50' });
    for (const [k, after] of (await flows(3)).entries()) {
      t.true(after.length > 0 && after.every((x) => x === 'from b'), `the flow to host port ${port + k} now reaches b (${JSON.stringify(after)})`);
    }
  } finally {
    servers.forEach((server) => server.kill('SIGKILL'));
  }
  await cleanup(t, s, engine, [out.sandbox]);
});

test('CVE-2020-8558: a frame to 127.0.0.1 sent into the bridge (route_localnet is on there) never reaches the host', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const c = engine.controller;
  const network = await c.createNetwork({ name: s.name('n'), ipam: { config: [{ subnet: '10.130.71.0/24' }] } });
  const a = await c.createSandbox({ name: s.name('a') });
  const endpoint = await c.connect(s.name('n'), s.name('a'));
  const bridgeMac = ipJson<Array<{ address: string }>>(['link', 'show', network.driverState.bridge!])[0]!.address;
  // A service on the host listening on every address, 127.0.0.1 included.
  const listener = dgram.createSocket('udp4');
  const received: string[] = [];
  listener.on('message', (message) => received.push(String(message)));
  const port = await new Promise<number>((resolve) => listener.bind(0, '0.0.0.0', () => resolve(listener.address().port)));
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'send-to-localhost.py');
  const send = (to: string) => sandboxExec(a, ['python3', script, 'eth0', endpoint.macAddress, endpoint.ipv4!.cidr.split('/')[0]!, bridgeMac, String(port), to], { timeoutMs: 5000 });
  try {
    // The hand-made frame works: addressed to the gateway, it arrives.
    t.is((await send('10.130.71.1')).exitCode, 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.deepEqual(received, ['to 10.130.71.1'], 'a hand-made frame to the gateway arrives');
    // The same frame addressed to 127.0.0.1 does not.
    t.is((await send('127.0.0.1')).exitCode, 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.deepEqual(received, ['to 10.130.71.1'], 'to 127.0.0.1: dropped by the guard');
  } finally {
    listener.close();
  }
  await cleanup(t, s, engine, []);
});
