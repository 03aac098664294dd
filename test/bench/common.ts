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

