/**
 * Issue 3's benchmark: attach N sandboxes to one bridge network through the controller (sandbox
 * record + namespace, IPAM address, SQLite store, bridge driver), N = 100 and 1000, against
 * ../shared/bench/kernel-floor.sh N in the same run; engine memory and open descriptors with 1000
 * endpoints.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Engine } from '../../src/cnm/engine.js';
import { registerBuiltinDrivers } from '../../drivers/index.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { StoreIpam } from '../../src/ipam/ipam.js';
import { boundLine, progress, quantile, ratioLine } from './report.js';
import { floor, kernelAloneLine, quiet, singleAttachFloor } from './common.js';

const IN_FLIGHT = Number(process.env.BENCH_CONCURRENCY ?? 100);

async function attach(engine: Engine, i: number): Promise<void> {
  const sandbox = await engine.controller.createSandbox({ name: `syc${i}` });
  await engine.controller.connect('bench', sandbox.id);
}

async function main(): Promise<void> {
  await quiet();
  const floors = { 100: floor(100), 1000: floor(1000) };
  await quiet();
  const alone = singleAttachFloor();
  // The data root on disk, as /var/lib/switchyard would be (the exec root is on tmpfs, as /run is).
  const dataRoot = mkdtempSync(path.join(os.tmpdir(), 'switchyard-test-bench-'));
  const store = await SqliteStore.open(dataRoot);
  const engine = await Engine.open({ store, ipam: new StoreIpam(store), register: registerBuiltinDrivers, execRoot: '/run/switchyard-bench-cnm', publishDir: null, nftPrefix: 'switchyard_bench' });
  const c = engine.controller;
  const totals: Record<number, number> = {};
  const singles: Record<number, number[]> = {};
  let rssMb = 0;
  let fds = 0;
  try {
    for (const n of [100, 1000]) {
      await quiet();
      progress(`controller attach, N=${n}, ${IN_FLIGHT} in flight`);
      await c.createNetwork({ name: 'bench', ipam: { config: [{ subnet: '10.252.0.0/16' }] } });
      let next = 0;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
        while (next < n) await attach(engine, next++);
      }));
      totals[n] = performance.now() - t0;
      const count = n === 100 ? 50 : 200;
      progress(`N=${n}: ${count} single attaches on a network with ${n - count}-${n} endpoints`);
      const sandboxes = c.listSandboxes();
      for (const sandbox of sandboxes.slice(n - count)) await c.deleteSandbox(sandbox.id);
      await quiet();
      const samples: number[] = [];
      for (let k = 0; k < count; k++) {
        const a0 = performance.now();
        await attach(engine, n + k);
        samples.push(performance.now() - a0);
      }
      singles[n] = samples;
      if (n === 1000) {
        (globalThis as { gc?: () => void }).gc?.();
        const memory = process.memoryUsage();
        rssMb = memory.rss / 1024 / 1024;
        progress(`memory with 1000 endpoints (MB): ${Object.entries(memory).map(([key, value]) => `${key} ${(value / 1048576).toFixed(1)}`).join(', ')}`);
        fds = readdirSync('/proc/self/fd').length;
      }
      progress(`N=${n}: attach ${(totals[n]! / 1000).toFixed(3)} s (floor ${floors[n as 100 | 1000].total_s} s), single attach p50 ${quantile(samples, 0.5).toFixed(2)} ms p99 ${quantile(samples, 0.99).toFixed(2)} ms`);
      const t1 = performance.now();
      await Promise.all(c.listSandboxes().map((sandbox) => c.deleteSandbox(sandbox.id)));
      await c.deleteNetwork('bench');
      progress(`N=${n}: teardown ${((performance.now() - t1) / 1000).toFixed(3)} s`);
    }
  } finally {
    await engine.firewall.removeAll();
    await engine.close();
    rmSync(dataRoot, { recursive: true, force: true });
  }
  ratioLine('cnm.attach.total', 1000, totals[1000]! / 1000, 's', floors[1000].total_s, 1.5, `reference: kernel-floor.sh 1000 total_s; sandbox + connect through the controller, ${IN_FLIGHT} in flight`);
  ratioLine('cnm.attach.p99_vs_p50', 1000, quantile(singles[1000]!, 0.99), 'ms', quantile(singles[100]!, 0.5), 1.5, 'value: p99 of 200 single attaches with 800-1000 endpoints; reference: p50 of 50 with 50-100');
  kernelAloneLine('cnm.attach.p99_vs_p50.kernel_alone', alone, quantile(singles[100]!, 0.5), quantile(singles[1000]!, 0.99));
  boundLine('cnm.engine.rss', 1000, rssMb, 'MB', 120, 'engine process RSS with 1000 endpoints (absolute bound)');
  boundLine('cnm.engine.open_fds', 1000, fds, 'fds', 100, 'open file descriptors with 1000 endpoints: no socket kept per sandbox (absolute bound)');
}

await main();
