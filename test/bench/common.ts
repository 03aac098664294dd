/** What the benchmarks share: the kernel floor reference, and waiting for a quiet machine. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { progress } from './report.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const floorScript = path.resolve(root, '..', 'shared', 'bench', 'kernel-floor.sh');

export interface Floor {
  n: number;
  total_s: number;
  teardown_s: number;
  ping_ok: boolean;
}

export function floor(n: number): Floor {
  progress(`kernel floor, N=${n}`);
  const out = execFileSync('bash', [floorScript, String(n)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as Floor;
}


export interface SingleAttachFloor {
  n100_p50_ms: number;
  n100_p99_ms: number;
  n1000_p50_ms: number;
  n1000_p99_ms: number;
  ratio: number;
}

/**
 * The kernel's own single-attach latency on this machine (native/bench/attach-floor.c: the same
 * kernel work as one attach, straight syscalls from one thread, sampled as the benchmarks sample):
 * what the `*.attach.p99_vs_p50` figures would be with no engine at all.
 */
export function singleAttachFloor(): SingleAttachFloor {
  progress('kernel single-attach floor (native/bench/attach-floor.c)');
  const tool = path.resolve(root, 'native', 'build', 'Release', 'yard-attach-floor');
  const out = execFileSync(tool, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim()) as SingleAttachFloor;
}

/** Wait for the CPUs to be idle (the kernel finishes cleaning up earlier namespaces in the background). */
export async function quiet(): Promise<void> {
  const sample = () => readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1, 9).map(Number);
  for (let i = 0; i < 60; i++) {
    const a = sample();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const b = sample();
    const total = b.reduce((sum, v, k) => sum + v - a[k]!, 0);
    if ((b[3]! - a[3]!) >= 0.95 * total) return;
  }
}


/**
 * The single-attach floor beside an engine's own figures (informational: the issues bound the
 * engine's p99 at N=1000 over its p50 at N=100, not these). `engine_p99_vs_kernel_p99` is the
 * engine's p99 at N=1000 over the kernel's alone, both from this run.
 */
export function kernelAloneLine(bench: string, alone: SingleAttachFloor, engineP50N100: number, engineP99N1000: number): void {
  console.log(
    JSON.stringify({
      bench,
      n: 1000,
      kernel_p50_n100_ms: alone.n100_p50_ms,
      kernel_p50_n1000_ms: alone.n1000_p50_ms,
      kernel_p99_n1000_ms: alone.n1000_p99_ms,
      kernel_ratio: alone.ratio,
      engine_ratio: +(engineP99N1000 / engineP50N100).toFixed(3),
      engine_p99_vs_kernel_p99: +(engineP99N1000 / alone.n1000_p99_ms).toFixed(3),
      note: 'informational: p99 at N=1000 over p50 at N=100 for the kernel alone (native/bench/attach-floor.c: the same kernel work per attach, straight syscalls from one thread, sampled the same way)',
    }),
  );
}
