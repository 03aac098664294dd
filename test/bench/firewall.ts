/**
 * Issue 4's benchmark, the parts the firewall has so far: rule count after 1, 10 and 100 networks
 * (a + b x networks, whatever the endpoints), and attaching sandboxes starts no process (every
 * process the engine could start goes through ChildProcess.prototype.spawn, counted here).
 */
import { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../../src/cnm/engine.js';
import { registerBuiltinDrivers } from '../../drivers/index.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { StoreIpam } from '../../src/ipam/ipam.js';
import { nftList } from '../../src/firewall/nft.js';
import { performance } from 'node:perf_hooks';
import { boundLine, progress, quantile, ratioLine } from './report.js';
import { reservePort, type PortReservation } from '../../src/firewall/reservation.js';
import type { PublishedPort } from '../../src/firewall/ruleset.js';
import { quiet } from './common.js';

let spawned = 0;
// Node's typings leave out ChildProcess#spawn, through which spawn, execFile and exec all go.
const prototype = ChildProcess.prototype as unknown as { spawn: (...args: unknown[]) => unknown };
const spawn = prototype.spawn;
prototype.spawn = function counted(this: ChildProcess, ...args: unknown[]) {
  spawned++;
  return spawn.apply(this, args);
};

async function rules(prefix: string): Promise<number> {
  let count = 0;
  for (const family of ['inet', 'bridge']) count += (await nftList({ list: { table: { family, name: prefix } } })).filter((item) => 'rule' in item).length;
  return count;
}

async function main(): Promise<void> {
  await quiet();
  const dataRoot = mkdtempSync(path.join(os.tmpdir(), 'switchyard-test-bench-'));
  const store = await SqliteStore.open(dataRoot);
  const prefix = 'switchyard_benchfw';
  const engine = await Engine.open({ store, ipam: new StoreIpam(store), register: registerBuiltinDrivers, execRoot: '/run/switchyard-bench-fw', publishDir: null, nftPrefix: prefix });
  const c = engine.controller;
  const counts: Record<number, number> = {};
  try {
    progress('firewall: rules after 1, 10 and 100 networks, then 100 endpoints');
    for (let n = 1; n <= 100; n++) {
      await c.createNetwork({ name: `fw${n}`, ipam: { config: [{ subnet: `10.140.${n}.0/24` }] } });
      if (n === 1 || n === 10 || n === 100) counts[n] = await rules(prefix);
    }
    const before = spawned;
    for (let i = 0; i < 100; i++) {
      const sandbox = await c.createSandbox({ name: `fws${i}` });
      await c.connect(`fw${(i % 100) + 1}`, sandbox.id);
    }
    const processes = spawned - before;
    const withEndpoints = await rules(prefix);
    const perNetwork = (counts[10]! - counts[1]!) / 9;
    const base = counts[1]! - perNetwork;
    for (const n of [1, 10, 100]) {
      const expected = base + perNetwork * n;
      console.log(JSON.stringify({ bench: 'firewall.rules', n, value: counts[n], unit: 'rules', reference: expected, ratio: counts[n]! / expected, target: 1, ok: counts[n] === expected, note: `a + b x networks with a = ${base}, b = ${perNetwork}` }));
    }
    console.log(JSON.stringify({ bench: 'firewall.rules_with_endpoints', n: 100, value: withEndpoints, unit: 'rules', reference: counts[100], ratio: withEndpoints / counts[100]!, target: 1, ok: withEndpoints === counts[100], note: '100 networks before and after 100 endpoints' }));
    boundLine('firewall.attach_processes', 100, processes, 'processes', 0, 'processes started while attaching 100 sandboxes with no published ports (absolute bound)');

    // Publishing ports one at a time, as the engine does per port: reserve the host port (a bound
    // socket), then one transaction adding its map elements. Port #10,000 against port #1 (medians
    // of the first and last 100), and the rule count with 1000 published ports.
    progress('firewall: publishing 10,000 ports one at a time');
    const target = '10.140.1.2';
    const published: PublishedPort[] = [];
    const held: PortReservation[] = [];
    const costs: number[] = [];
    let rulesAt1000 = 0;
    try {
      for (let i = 0; i < 10_000; i++) {
        const port: PublishedPort = { proto: i % 2 ? 'udp' : 'tcp', hostIp: '0.0.0.0', hostPort: 20_000 + i, target, targetPort: 80 };
        const t0 = performance.now();
        held.push(await reservePort(port.proto, port.hostIp, port.hostPort));
        await engine.firewall.addPorts([port]);
        costs.push(performance.now() - t0);
        published.push(port);
        if (i === 999) rulesAt1000 = await rules(prefix);
      }
    } finally {
      await engine.firewall.removePorts(published);
      await Promise.all(held.map((r) => r.release()));
    }
    const first = quantile(costs.slice(0, 100), 0.5);
    const last = quantile(costs.slice(-100), 0.5);
    ratioLine('firewall.publish_port_10000_vs_1', 10_000, last, 'ms', first, 1.5, 'median cost of publishing ports #9,901-10,000 against #1-100 (reservation socket + one nft transaction)');
    console.log(JSON.stringify({ bench: 'firewall.rules_with_ports', n: 1000, value: rulesAt1000, unit: 'rules', reference: counts[100], ratio: rulesAt1000 / counts[100]!, target: 1, ok: rulesAt1000 === counts[100], note: '100 networks, before and after 1000 published ports' }));
    for (const sandbox of c.listSandboxes()) await c.deleteSandbox(sandbox.id);
    for (const network of c.listNetworks()) await c.deleteNetwork(network.id);
  } finally {
    await engine.firewall.removeAll();
    await engine.close();
    rmSync(dataRoot, { recursive: true, force: true });
  }
}

await main();
