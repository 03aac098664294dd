/**
 * Crash safety: a child engine is killed with SIGKILL at each step of network create, connect,
 * disconnect, network delete and sandbox delete; then a fresh engine starts on the same data root
 * and reconciles. Afterwards the store and the kernel agree, nothing is leaked, no address is held
 * twice, the operation can be done again, and everything can be removed.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratch, type Scratch } from '../helpers/scratch.js';
import { ipJson } from '../helpers/ip.js';
import { dataRootOf, engineState, openEngine, ownedLinks } from '../helpers/engine.js';
import type { Engine } from '../../src/cnm/engine.js';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'engine-op.js');

type Operation = 'create-network' | 'connect' | 'disconnect' | 'delete-network' | 'delete-sandbox';

/** Every fault point, with the operation that passes it and what must exist before it. */
const cases: Array<{ operation: Operation; fault: string; before: Array<'network' | 'sandbox' | 'endpoint'> }> = [
  ...['network.create.before-intent', 'network.create.after-intent', 'network.create.after-ipam', 'bridge.create-bridge', 'bridge.after-bridge', 'bridge.after-addresses', 'bridge.before-firewall', 'bridge.after-firewall', 'network.create.after-driver', 'network.create.after-commit'].map((fault) => ({ operation: 'create-network' as const, fault, before: [] })),
  ...['sandbox.create.after-intent', 'sandbox.create.after-namespace'].map((fault) => ({ operation: 'connect' as const, fault, before: ['network' as const] })),
  ...['connect.before-intent', 'connect.after-intent', 'connect.after-ipam', 'connect.after-endpoint', 'bridge.create-veth', 'bridge.after-veth', 'bridge.after-configure', 'connect.after-join', 'connect.after-commit'].map((fault) => ({ operation: 'connect' as const, fault, before: ['network' as const, 'sandbox' as const] })),
  ...['disconnect.after-intent', 'disconnect.after-driver', 'disconnect.after-ipam'].map((fault) => ({ operation: 'disconnect' as const, fault, before: ['network' as const, 'sandbox' as const, 'endpoint' as const] })),
  ...['network.delete.after-intent', 'network.delete.after-driver', 'network.delete.after-ipam'].map((fault) => ({ operation: 'delete-network' as const, fault, before: ['network' as const] })),
  ...['sandbox.delete.after-intent', 'sandbox.delete.after-namespace'].map((fault) => ({ operation: 'delete-sandbox' as const, fault, before: ['sandbox' as const] })),
];

function runChild(s: Scratch, operation: Operation, fault: string) {
  return spawnSync(process.execPath, [child, dataRootOf(s), s.execRoot, s.publishDir, operation, s.name('n'), s.name('a'), `switchyard_${s.prefix}`], {
    encoding: 'utf8',
    env: { ...process.env, SWITCHYARD_FAULT: fault },
    timeout: 60_000,
  });
}

/** Store and kernel agree: every ready record has its kernel objects, every owned object has its record, no address twice. */
async function assertConsistent(t: ExecutionContext, engine: Engine, label: string): Promise<void> {
  const { networks, endpoints, sandboxes } = engine.controller.records();
  t.true([...networks, ...endpoints, ...sandboxes].every((r) => r.state === 'ready'), `${label}: only finished records are left`);
  const links = ipJson<Array<{ ifname: string; ifalias?: string; master?: string }>>(['link', 'show']);
  const expected = new Set([...networks.map((n) => n.driverState.bridge!), ...endpoints.map((e) => `syv${e.id.slice(0, 12)}`)]);
  t.deepEqual(ownedLinks(engine).sort(), [...expected].sort(), `${label}: owned links are exactly those of the records`);
  for (const endpoint of endpoints) {
    const network = networks.find((n) => n.id === endpoint.networkId)!;
    const hostEnd = links.find((l) => l.ifname === `syv${endpoint.id.slice(0, 12)}`);
    t.is(hostEnd?.master, network.driverState.bridge, `${label}: the endpoint's host end is on its bridge`);
    const sandbox = sandboxes.find((s) => s.id === endpoint.sandboxId)!;
    const inside = ipJson<Array<{ addr_info: Array<{ local: string; prefixlen: number; family: string }> }>>(['addr', 'show', 'dev', endpoint.interfaceName], sandbox.name)[0]!;
    t.deepEqual(inside.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`), [endpoint.ipv4!.cidr], `${label}: the sandbox has the endpoint's address`);
  }
  const state = await engineState(engine);
  const addresses = state.leases.map((lease) => lease.split(' ')[0]);
  t.is(new Set(addresses).size, addresses.length, `${label}: no address is held twice`);
  const owners = state.leases.map((lease) => lease.split(' ')[1]).sort();
  t.deepEqual(owners, [...networks.map(() => 'gateway'), ...endpoints.map((e) => e.id)].sort(), `${label}: every lease is a gateway or a live endpoint's`);
  t.deepEqual(state.namespaceFiles.sort(), sandboxes.map((s) => path.basename(s.path)).sort(), `${label}: namespace files are exactly the sandboxes'`);
  const chains = networks.flatMap((n) => ['in', 'nat', 'out'].map((part) => `inet chain net_${n.id.slice(0, 12)}_${part}`));
  t.deepEqual(state.firewall.filter((item) => item.includes(' chain ')), chains.sort(), `${label}: the firewall has exactly the records' networks`);
}

for (const { operation, fault, before } of cases) {
  test(`kill -9 at ${fault} during ${operation}: the engine starts, store and kernel agree, nothing leaks`, async (t) => {
    const s = await scratch(t);
    // Build what the operation needs, then let go of the data root.
    const setup = await openEngine(t, s);
    if (before.includes('network')) await setup.controller.createNetwork({ name: s.name('n'), ipam: { config: [{ subnet: '10.97.0.0/24' }] } });
    if (before.includes('sandbox')) await setup.controller.createSandbox({ name: s.name('a') });
    if (before.includes('endpoint')) await setup.controller.connect(s.name('n'), s.name('a'));
    await setup.close();

    const result = runChild(s, operation, fault);
    t.is(result.signal, 'SIGKILL', `the child died at ${fault} (stdout ${result.stdout.trim()}, stderr ${result.stderr.trim().slice(0, 500)})`);

    const engine = await openEngine(t, s); // the engine always starts
    t.deepEqual(engine.reconciled.errors, [], 'reconcile met no errors');
    await assertConsistent(t, engine, `after ${fault}`);

    // The operation can be done again (or is already done), then everything comes away.
    const c = engine.controller;
    const hasNetwork = c.listNetworks().some((n) => n.name === s.name('n'));
    const hasSandbox = c.listSandboxes().some((x) => x.name === s.name('a'));
    if (operation === 'create-network' && !hasNetwork) await c.createNetwork({ name: s.name('n'), ipam: { config: [{ subnet: '10.97.0.0/24' }] } });
    if (operation === 'connect' && c.listEndpoints().length === 0) {
      if (!hasSandbox) await c.createSandbox({ name: s.name('a') });
      await c.connect(s.name('n'), s.name('a'));
    }
    await assertConsistent(t, engine, 'after redoing the operation');
    for (const sandbox of c.listSandboxes()) await c.deleteSandbox(sandbox.id);
    for (const network of c.listNetworks()) await c.deleteNetwork(network.id);
    t.deepEqual(await engineState(engine), { records: [], leases: [], links: [], namespaceFiles: [], firewall: [] });
    await engine.close();
    await s.assertClean(t);
  });
}

test('there are at least 20 fault points across create, connect and disconnect', (t) => {
  t.true(cases.filter((c) => ['create-network', 'connect', 'disconnect'].includes(c.operation)).length >= 20);
});
