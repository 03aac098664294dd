/**
 * Issue 2's benchmark: attach N sandboxes to one bridge through the kernel layer (sandbox, veth with
 * the peer made inside, bridge port, MAC, up, address, default route), N = 100 and 1000, against
 * ../shared/bench/kernel-floor.sh N run in the same benchmark run.
 */
import { openSync, closeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Handle, linkAdd, linkDel, linkList, linkModify, linkSetUp, linkSetIp6Disabled, linkWaitOperUp, addrAdd, routeAdd } from '../../src/netlink/index.js';
import { SandboxRoot, icmpEcho, type Sandbox } from '../../src/netns/index.js';
import { boundLine, progress, quantile, ratioLine } from './report.js';
import { floor, kernelAloneLine, quiet, singleAttachFloor } from './common.js';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 100);

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

/**
 * One attach: everything the floor does for one sandbox, through src/netlink and src/netns: the
 * sandbox (with a socket inside), the veth made from inside (eth0 with its MAC; its other end placed
 * straight into the host namespace), the host end onto the bridge and up, the inside configured, and
 * both ends waited for until they carry traffic.
 */
async function attach(host: Handle, sandboxes: SandboxRoot, bridgeIndex: number, i: number): Promise<Sandbox> {
  const sandbox = await sandboxes.create({ name: `syb${i}`, handle: true, publish: false });
  const inside = sandbox.handle!;
  const hostEnd = `sybv${i}`;
  let eth: number;
  const hostNamespace = openSync('/proc/self/ns/net', 'r');
  try {
    eth = (await linkAdd(inside, { kind: 'veth', name: 'eth0', hardwareAddr: mac(i), peer: { name: hostEnd, netnsFd: hostNamespace } }))!;
  } finally {
    closeSync(hostNamespace);
  }
  // As Docker does on IPv4-only networks, no IPv6 on the ports: no link-local, DAD, MLD or ff00::/8
  // route per port (IPv6 off on the host end before it comes up, addrgenmode none inside).
  await linkSetIp6Disabled(host, hostEnd, true);
  await Promise.all([
    linkModify(host, hostEnd, { master: bridgeIndex, up: true }),
    linkSetUp(inside, 'lo'),
    linkModify(inside, eth, { ip4Conf: { arpNotify: true }, ip6AddrGenMode: 'none' }),
    linkSetUp(inside, eth),
    addrAdd(inside, eth, `${address(i)}/16`),
    routeAdd(inside, { dst: 'default', gateway: '10.251.0.1' }),
  ]);
  // Attach returns when both ends can carry traffic, not merely when they are configured.
  await Promise.all([linkWaitOperUp(inside, eth), linkWaitOperUp(host, hostEnd)]);
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

/**
 * Attach latency on a bridge that already holds `n` sandboxes: take `samples` of them away, then
 * attach them again one at a time, timing each attach and the first echo reply from the gateway
 * after it returned.
 */
async function sample(host: Handle, sandboxes: SandboxRoot, bridge: number, run: Run, n: number, samples: number): Promise<{ attachMs: number[]; pingMs: number[] }> {
  const again = run.sandboxes.splice(n - samples, samples);
  await sandboxes.deleteMany(again);
  await waitForPorts(host, bridge, n - samples);
  await quiet();
  const attachMs: number[] = [];
  const pingMs: number[] = [];
  for (let k = 0; k < samples; k++) {
    const t0 = performance.now();
    const sandbox = await attach(host, sandboxes, bridge, 2 + n - samples + k);
    const t1 = performance.now();
    const us = await icmpEcho(sandbox.path, '10.251.0.1', { timeoutMs: 1000, intervalMs: 1 });
    attachMs.push(t1 - t0);
    pingMs.push(us === null ? Infinity : performance.now() - t1);
    run.sandboxes.push(sandbox);
  }
  return { attachMs, pingMs };
}

async function main(): Promise<void> {
  await quiet();
  const floors = { 100: floor(100), 1000: floor(1000) };
  await quiet();
  const alone = singleAttachFloor();
  const host = await Handle.open();
  const sandboxes = new SandboxRoot({ execRoot: '/run/switchyard-bench', publishDir: null });
  sandboxes.init();
  const results: Record<number, Run & { samples: { attachMs: number[]; pingMs: number[] } }> = {};
  for (const n of [100, 1000]) {
    await quiet();
    progress(`switchyard attach, N=${n}, ${CONCURRENCY} in flight`);
    const bridge = (await linkAdd(host, { kind: 'bridge', name: 'sybench', up: true, stp: false, hardwareAddr: '02:42:0a:fb:00:01', ip6AddrGenMode: 'none' }))!;
    await addrAdd(host, bridge, '10.251.0.1/16');
    const result = await run(n, host, sandboxes, bridge);
    const count = n === 100 ? 50 : 200;
    progress(`N=${n}: ${count} single attaches (each followed by a ping to the gateway) on a bridge with ${n - count}-${n} ports`);
    const samples = await sample(host, sandboxes, bridge, result, n, count);
    await quiet();
    result.teardownMs = await teardown(sandboxes, result.sandboxes, host, 'sybench');
    results[n] = { ...result, samples };
    const f = floors[n as 100 | 1000];
    progress(
      `N=${n}: attach ${(result.totalMs / 1000).toFixed(3)} s (floor ${f.total_s} s), teardown ${(result.teardownMs / 1000).toFixed(3)} s (floor ${f.teardown_s} s), ` +
        `single attach p50 ${quantile(samples.attachMs, 0.5).toFixed(2)} ms p99 ${quantile(samples.attachMs, 0.99).toFixed(2)} ms, ` +
        `ping after attach p50 ${quantile(samples.pingMs, 0.5).toFixed(2)} ms p99 ${quantile(samples.pingMs, 0.99).toFixed(2)} ms`,
    );
  }
  // The benchmark's namespace goes away after this: wait for the kernel to finish removing the
  // devices of deleted sandboxes, so its leak check sees them gone.
  for (let i = 0; i < 500 && (await linkList(host)).some((link) => link.name.startsWith('sybv')); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const r100 = results[100]!;
  const r1000 = results[1000]!;
  ratioLine('kernel.attach.total', 100, r100.totalMs / 1000, 's', floors[100].total_s, 1.2, 'reference: kernel-floor.sh 100 total_s (the issue bounds N=1000; shown for N=100)');
  ratioLine('kernel.attach.total', 1000, r1000.totalMs / 1000, 's', floors[1000].total_s, 1.2, `reference: kernel-floor.sh 1000 total_s; ${CONCURRENCY} attaches in flight`);
  ratioLine('kernel.teardown.total', 1000, r1000.teardownMs / 1000, 's', floors[1000].teardown_s, 1.2, 'reference: kernel-floor.sh 1000 teardown_s');
  ratioLine('kernel.attach.p99_vs_p50', 1000, quantile(r1000.samples.attachMs, 0.99), 'ms', quantile(r100.samples.attachMs, 0.5), 1.5, 'value: p99 of 200 single attaches on a bridge with 800-1000 ports; reference: p50 of 50 single attaches with 50-100 ports');
  kernelAloneLine('kernel.attach.p99_vs_p50.kernel_alone', alone, quantile(r100.samples.attachMs, 0.5), quantile(r1000.samples.attachMs, 0.99));
  console.log(JSON.stringify({ bench: 'kernel.attach.latency_in_throughput_run', n: 1000, p50_ms: +quantile(r1000.attachMs, 0.5).toFixed(2), p99_ms: +quantile(r1000.attachMs, 0.99).toFixed(2), n100_p50_ms: +quantile(r100.attachMs, 0.5).toFixed(2), note: `informational: ${CONCURRENCY} attaches in flight, so latency is mostly queueing` }));
  boundLine('kernel.ping_after_attach.median', 200, quantile(r1000.samples.pingMs, 0.5), 'ms', 5, 'first echo reply from the gateway after attach returned, bridge with 800-1000 ports (absolute bound)');
  boundLine('kernel.ping_after_attach.p99', 200, quantile(r1000.samples.pingMs, 0.99), 'ms', 20, 'first echo reply from the gateway after attach returned, bridge with 800-1000 ports (absolute bound)');
  host.close();
}

await main();
