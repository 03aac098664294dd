/**
 * Issue 2's benchmark: attach N sandboxes to one bridge through the kernel layer (sandbox, veth with
 * the peer made inside, bridge port, MAC, up, address, default route), N = 100 and 1000, against
 * ../shared/bench/kernel-floor.sh N run in the same benchmark run.
 */
import { execFileSync } from 'node:child_process';
import { openSync, closeSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Handle, linkAdd, linkDel, linkList, linkSetUp, addrAdd, routeAdd } from '../../src/netlink/index.js';
import { SandboxRoot, icmpEcho, type Sandbox } from '../../src/netns/index.js';
import { boundLine, progress, quantile, ratioLine } from './report.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const floorScript = path.resolve(root, '..', 'shared', 'bench', 'kernel-floor.sh');
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

interface Floor {
  n: number;
  total_s: number;
  teardown_s: number;
  ping_ok: boolean;
}

function floor(n: number): Floor {
  progress(`kernel floor, N=${n}`);
  const out = execFileSync('bash', [floorScript, String(n)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as Floor;
}

function mac(i: number): string {
  const bytes = [0x02, 0x42, 10, 251, (i >> 8) & 0xff, i & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

function address(i: number): string {
  return `10.251.${(i >> 8) & 0xff}.${i & 0xff}`;
}

interface Run {
  totalMs: number;
  teardownMs: number;
  attachMs: number[];
  sandboxes: Sandbox[];
}

/** One attach: everything the floor does for one sandbox, through src/netlink and src/netns. */
async function attach(host: Handle, sandboxes: SandboxRoot, bridgeIndex: number, i: number): Promise<Sandbox> {
  const sandbox = await sandboxes.create({ name: `syb${i}`, handle: true, publish: false });
  const fd = openSync(sandbox.path, 'r');
  try {
    // Both ifindexes explicit (the kernel honours the peer's only with the link's own): the host end
    // gets one from a range nothing else uses in the benchmark's namespace, eth0 gets 2.
    await linkAdd(host, { kind: 'veth', name: `sybv${i}`, index: 100_000 + i, master: bridgeIndex, up: true, peer: { name: 'eth0', netnsFd: fd, hardwareAddr: mac(i), index: 2 } });
  } finally {
    closeSync(fd);
  }
  // As Docker does on IPv4-only networks: no IPv6 on the host end (no link-local, DAD or MLD floods
  // across the bridge each time a port comes up). Inside, the sandbox root's settings did the same.
  writeFileSync(`/proc/sys/net/ipv6/conf/sybv${i}/disable_ipv6`, '1');
  const inside = sandbox.handle!;
  await Promise.all([linkSetUp(inside, 'lo'), linkSetUp(inside, 2), addrAdd(inside, 2, `${address(i)}/16`), routeAdd(inside, { dst: 'default', gateway: '10.251.0.1' })]);
  inside.close();
  delete sandbox.handle;
  return sandbox;
}

async function run(n: number, host: Handle, sandboxes: SandboxRoot, bridgeIndex: number, first = 2): Promise<Run> {
  const attachMs: number[] = new Array(n);
  const made: Sandbox[] = new Array(n);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const k = next++;
        const t0 = performance.now();
        made[k] = await attach(host, sandboxes, bridgeIndex, first + k);
        attachMs[k] = performance.now() - t0;
      }
    }),
  );
  const totalMs = performance.now() - started;
  return { totalMs, teardownMs: 0, attachMs, sandboxes: made };
}

async function teardown(sandboxes: SandboxRoot, made: Sandbox[], host: Handle, bridge: string): Promise<number> {
  const t0 = performance.now();
  await sandboxes.deleteMany(made);
  await linkDel(host, bridge);
  return performance.now() - t0;
}

/** Wait until the kernel's namespace cleanup has taken the host ends of deleted sandboxes off the bridge. */
async function waitForPorts(host: Handle, bridge: number, count: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await linkList(host, { masterIndex: bridge })).length <= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`bridge still has more than ${count} ports`);
}

async function main(): Promise<void> {
  const floors = { 100: floor(100), 1000: floor(1000) };
  const host = await Handle.open();
  const sandboxes = new SandboxRoot({
    execRoot: '/run/switchyard-bench',
    publishDir: null,
    settings: [
      ['/proc/sys/net/ipv6/conf/all/disable_ipv6', '1'],
      ['/proc/sys/net/ipv6/conf/default/disable_ipv6', '1'],
    ],
  });
  sandboxes.init();
  const results: Record<number, Run> = {};
  for (const n of [100, 1000]) {
    progress(`switchyard attach, N=${n}, concurrency ${CONCURRENCY}`);
    const bridge = (await linkAdd(host, { kind: 'bridge', name: 'sybench', up: true, stp: false, hardwareAddr: '02:42:0a:fb:00:01' }))!;
    await addrAdd(host, bridge, '10.251.0.1/16');
    const result = await run(n, host, sandboxes, bridge);
    if (n === 1000) {
      // Reachability right after attach, on the loaded bridge: take the last 100 sandboxes away
      // (a bridge takes at most 1023 ports), then attach them again one at a time, each followed by
      // the first echo reply from the gateway.
      progress('ping after attach, 100 samples on a bridge with 900-1000 ports');
      const again = result.sandboxes.splice(n - 100, 100);
      await sandboxes.deleteMany(again);
      await waitForPorts(host, bridge, n - 100);
      const pingMs: number[] = [];
      for (let k = 0; k < 100; k++) {
        const sandbox = await attach(host, sandboxes, bridge, 2 + n - 100 + k);
        const t0 = performance.now();
        const us = await icmpEcho(sandbox.path, '10.251.0.1', { timeoutMs: 1000, intervalMs: 1 });
        pingMs.push(us === null ? Infinity : performance.now() - t0);
        result.sandboxes.push(sandbox);
      }
      boundLine('kernel.ping_after_attach.median', 100, quantile(pingMs, 0.5), 'ms', 5, 'first echo reply from the gateway after attach returned (absolute bound)');
      boundLine('kernel.ping_after_attach.p99', 100, quantile(pingMs, 0.99), 'ms', 20, 'first echo reply from the gateway after attach returned (absolute bound)');
    }
    result.teardownMs = await teardown(sandboxes, result.sandboxes, host, 'sybench');
    results[n] = result;
    progress(`N=${n}: attach ${(result.totalMs / 1000).toFixed(3)} s, teardown ${(result.teardownMs / 1000).toFixed(3)} s, p50 ${quantile(result.attachMs, 0.5).toFixed(2)} ms, p99 ${quantile(result.attachMs, 0.99).toFixed(2)} ms; floor total ${floors[n as 100 | 1000].total_s} s, teardown ${floors[n as 100 | 1000].teardown_s} s`);
    // Let the kernel finish cleaning up namespaces before the next round.
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  const r100 = results[100]!;
  const r1000 = results[1000]!;
  ratioLine('kernel.attach.total', 100, r100.totalMs / 1000, 's', floors[100].total_s, 1.2, 'reference: kernel-floor.sh 100 total_s (not a target of the issue; shown for N=100)');
  ratioLine('kernel.attach.total', 1000, r1000.totalMs / 1000, 's', floors[1000].total_s, 1.2, 'reference: kernel-floor.sh 1000 total_s');
  ratioLine('kernel.teardown.total', 1000, r1000.teardownMs / 1000, 's', floors[1000].teardown_s, 1.2, 'reference: kernel-floor.sh 1000 teardown_s');
  ratioLine('kernel.attach.p99_vs_p50', 1000, quantile(r1000.attachMs, 0.99), 'ms', quantile(r100.attachMs, 0.5), 1.5, `reference: per-attach p50 at N=100; concurrency ${CONCURRENCY}`);
  host.close();
}

await main();
