/**
 * Reconcile on start: after a reboot networks come back, sandboxes whose namespace is gone are
 * removed with their endpoints and addresses, orphans carrying this engine's mark are removed, and
 * nothing without the mark is touched.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { scratch } from '../helpers/scratch.js';
import { ipJson } from '../helpers/ip.js';
import { engineState, openEngine } from '../helpers/engine.js';
import { icmpEcho } from '../../src/netns/index.js';
import { Firewall } from '../../src/firewall/firewall.js';
import { nftTransaction } from '../../src/firewall/nft.js';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

test('after a reboot the network is recreated as it was, and sandboxes that died with it are removed with their addresses', async (t) => {
  const s = await scratch(t);
  let engine = await openEngine(t, s);
  const network = await engine.controller.createNetwork({ name: s.name('n'), ipam: { config: [{ subnet: '10.120.0.0/24' }] } });
  const sandbox = await engine.controller.createSandbox({ name: s.name('a') });
  await engine.controller.connect(s.name('n'), s.name('a'));
  const bridge = network.driverState.bridge!;
  const before = ipJson<Array<{ address: string; mtu: number }>>(['link', 'show', bridge])[0]!;
  await engine.close();

  // A reboot: every kernel object is gone (links, nftables tables), the exec root (tmpfs) is empty,
  // the data root survives.
  await new Firewall(engine.firewall.prefix, nftTransaction).removeAll();
  ip('link', 'del', bridge);
  spawnSync('umount', [sandbox.path]);
  spawnSync('rm', ['-f', sandbox.path, `${s.publishDir}/${s.name('a')}`]);

  engine = await openEngine(t, s);
  t.deepEqual(engine.reconciled.restoredNetworks, [s.name('n')]);
  t.deepEqual(engine.reconciled.removedSandboxes, [s.name('a')]);
  t.is(engine.reconciled.removedEndpoints.length, 1);
  const after = ipJson<Array<{ address: string; mtu: number; ifalias?: string }>>(['link', 'show', bridge])[0]!;
  t.is(after.address, before.address, 'the same MAC');
  t.is(after.mtu, before.mtu);
  t.true(after.ifalias?.startsWith(`${engine.owner}:net:`));
  t.deepEqual(ipJson<Array<{ addr_info: Array<{ local: string }> }>>(['addr', 'show', bridge])[0]!.addr_info.map((a) => a.local).filter((a) => a.includes('.')), ['10.120.0.1']);
  const state = await engineState(engine);
  t.deepEqual(state.leases, ['10.120.0.1 gateway'], 'the dead endpoint\'s address is free again');
  const short = network.id.slice(0, 12);
  t.deepEqual(state.firewall.filter((item) => item.includes(' chain ')), [`inet chain net_${short}_in`, `inet chain net_${short}_nat`, `inet chain net_${short}_out`], 'the firewall is back too');

  // The network works: a new sandbox connects and reaches the gateway.
  const b = await engine.controller.createSandbox({ name: s.name('b') });
  await engine.controller.connect(s.name('n'), s.name('b'));
  t.not(await icmpEcho(b.path, '10.120.0.1', { timeoutMs: 2000 }), null);
  await engine.controller.deleteSandbox(s.name('b'));
  await engine.controller.deleteNetwork(s.name('n'));
  t.deepEqual(await engineState(engine), { records: [], leases: [], links: [], namespaceFiles: [], firewall: [] });
  await engine.close();
  await s.assertClean(t);
});

test('orphans carrying this engine\'s mark are removed; links without it, or with another engine\'s, are left alone', async (t) => {
  const s = await scratch(t);
  let engine = await openEngine(t, s);
  const owner = engine.owner;
  await engine.close();

  // Ours but explained by no record: a bridge and a veth end with our mark, a namespace file, an address lease.
  ip('link', 'add', s.name('ob'), 'type', 'bridge');
  ip('link', 'set', s.name('ob'), 'alias', `${owner}:net:${'f'.repeat(64)}`);
  ip('link', 'add', s.name('ov'), 'type', 'veth', 'peer', 'name', s.name('op'));
  ip('link', 'set', s.name('ov'), 'alias', `${owner}:ep:${'e'.repeat(64)}`);
  // Not ours: no mark, another engine's mark, a mark-like alias of a user.
  ip('link', 'add', s.name('ub'), 'type', 'bridge');
  ip('link', 'add', s.name('xb'), 'type', 'bridge');
  ip('link', 'set', s.name('xb'), 'alias', `switchyard:00000000:net:${'f'.repeat(64)}`);
  mkdirSync(`${s.execRoot}/netns`, { recursive: true });
  writeFileSync(`${s.execRoot}/netns/deadbeefdeadbeef`, '');

  engine = await openEngine(t, s);
  t.deepEqual(engine.reconciled.removedLinks.sort(), [s.name('ob'), s.name('ov')].sort());
  t.deepEqual(engine.reconciled.removedNamespaceFiles, ['deadbeefdeadbeef']);
  t.false(existsSync(`${s.execRoot}/netns/deadbeefdeadbeef`));
  const left = ipJson<Array<{ ifname: string }>>(['link', 'show']).map((l) => l.ifname).filter((n) => n.startsWith(s.prefix)).sort();
  t.deepEqual(left, [s.name('ub'), s.name('xb')].sort(), 'what is not ours is untouched');
  await engine.close();
  ip('link', 'del', s.name('ub'));
  ip('link', 'del', s.name('xb'));
  await s.assertClean(t);
});

test('a user\'s bridge named with com.docker.network.bridge.name is used and never deleted', async (t) => {
  const s = await scratch(t);
  ip('link', 'add', s.name('user'), 'type', 'bridge');
  ip('link', 'set', s.name('user'), 'up');
  const engine = await openEngine(t, s);
  const c = engine.controller;
  await c.createNetwork({ name: s.name('n'), options: { 'com.docker.network.bridge.name': s.name('user') }, ipam: { config: [{ subnet: '10.121.0.0/24' }] } });
  const sandbox = await c.createSandbox({ name: s.name('a') });
  await c.connect(s.name('n'), s.name('a'));
  t.not(await icmpEcho(sandbox.path, '10.121.0.1', { timeoutMs: 2000 }), null, 'the sandbox reaches the gateway on the user\'s bridge');
  await c.deleteSandbox(s.name('a'));
  await c.deleteNetwork(s.name('n'));
  const bridge = ipJson<Array<{ ifname: string; addr_info: Array<{ local: string }> }>>(['addr', 'show', s.name('user')])[0]!;
  t.is(bridge.ifname, s.name('user'), 'the bridge is still there');
  t.deepEqual(bridge.addr_info.map((a) => a.local).filter((a) => a.includes('.')), [], 'our gateway address is gone from it');
  await engine.close();
  ip('link', 'del', s.name('user'));
  await s.assertClean(t);
});
