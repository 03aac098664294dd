/** Independent checkers for kernel tests: iproute2's JSON output, and commands run in a namespace. */
import { spawnSync } from 'node:child_process';

/** `ip -j ARGS` (optionally `ip -n NS`, or with `-netns` given a path via `ip netns exec`-free nsenter-less form). */
export function ipJson<T = any>(args: string[], netns?: string): T {
  const prefix = netns ? ['-n', netns] : [];
  for (let attempt = 1; ; attempt++) {
    const result = spawnSync('ip', ['-j', ...prefix, ...args], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`ip -j ${[...prefix, ...args].join(' ')}: ${result.stderr.trim() || `exit ${result.status}`}`);
    // The kernel changed the table during the dump (an address leaving DAD, say): iproute2 says the
    // output "may be inconsistent", and it may miss entries. Ask again.
    if (/Dump was interrupted/.test(result.stderr) && attempt < 10) continue;
    return JSON.parse(result.stdout || '[]') as T;
  }
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

/**
 * nftables' own `nft`, by its path: npm puts node_modules/.bin first on PATH, and ava's dependency
 * @vercel/nft installs an unrelated `nft` command there.
 */
export const NFT = '/usr/sbin/nft';

/**
 * `nft -j list table FAMILY NAME` as parsed JSON objects (without metainfo); [] when the table does
 * not exist. A list that runs into another process's commit can fail: it is retried.
 */
export function nftTableJson(family: string, name: string): Array<Record<string, any>> {
  for (let attempt = 1; ; attempt++) {
    const result = spawnSync(NFT, ['-j', 'list', 'table', family, name], { encoding: 'utf8' });
    if (result.status === 0) {
      if (!result.stdout.trim()) return [];
      return (JSON.parse(result.stdout).nftables as Array<Record<string, any>>).filter((item) => !item.metainfo);
    }
    // A list reads the whole ruleset first, and fails when another process deletes a table meanwhile:
    // only an error that persists means the table is not there.
    if (attempt >= 20) {
      if (/No such file or directory/.test(result.stderr)) return [];
      throw new Error(`nft list table ${family} ${name}: ${result.stderr.trim()}`);
    }
  }
}
