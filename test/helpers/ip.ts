/** Independent checkers for kernel tests: iproute2's JSON output, and commands run in a namespace. */
import { execFileSync, spawnSync } from 'node:child_process';

/** `ip -j ARGS` (optionally `ip -n NS`, or with `-netns` given a path via `ip netns exec`-free nsenter-less form). */
export function ipJson<T = any>(args: string[], netns?: string): T {
  const prefix = netns ? ['-n', netns] : [];
  const out = execFileSync('ip', ['-j', ...prefix, ...args], { encoding: 'utf8' });
  return JSON.parse(out || '[]') as T;
}

/** Run `ip ARGS` and return its exit status and output (for checks that expect failure). */
export function ip(args: string[], netns?: string): { status: number; stdout: string; stderr: string } {
  const prefix = netns ? ['-n', netns] : [];
  const result = spawnSync('ip', [...prefix, ...args], { encoding: 'utf8' });
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** One `ping` from inside a published namespace: true when a reply came back. */
export function ping(netns: string, address: string, timeoutSeconds = 2): boolean {
  const family = address.includes(':') ? '-6' : '-4';
  return spawnSync('ip', ['netns', 'exec', netns, 'ping', family, '-c', '1', '-W', String(timeoutSeconds), address], { stdio: 'ignore' }).status === 0;
}
