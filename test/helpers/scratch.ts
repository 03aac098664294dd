/**
 * Per-test scratch space for kernel tests: a unique name prefix, an exec root of its own, a host
 * rtnetlink handle, and a sandbox root. `assertClean` checks (with iproute2, independently of the
 * code under test) that nothing with the prefix is left; teardown removes whatever a failed test
 * left, so one failure never leaks into the next test.
 */
import type { ExecutionContext } from 'ava';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { Handle, linkDel } from '../../src/netlink/index.js';
import { SandboxRoot } from '../../src/netns/index.js';
import { ipJson } from './ip.js';

export const TEST_RUN_ROOT = '/run/switchyard-test';

export interface Scratch {
  /** Unique per test, 6 characters, starts with `sy`: every name the test makes starts with it. */
  prefix: string;
  execRoot: string;
  publishDir: string;
  host: Handle;
  sandboxes: SandboxRoot;
  /** `${prefix}${suffix}`, checked to fit an interface name. */
  name(suffix: string): string;
  /** Assert nothing with this test's prefix is left in the namespace or on disk. */
  assertClean(t: ExecutionContext): Promise<void>;
}

/** Refuse to touch the kernel outside the throwaway namespace `npm test` makes. */
export function requireThrowaway(t: ExecutionContext): void {
  if (process.env.SWITCHYARD_THROWAWAY !== '1') {
    t.fail('kernel tests run only inside the throwaway namespace: use npm test (test/run.mjs)');
    throw new Error('not in a throwaway namespace');
  }
}

/** Leftovers of one prefix, as iproute2 and the file system see them. */
export function leftovers(prefix: string, execRoot: string, publishDir: string): string[] {
  const found: string[] = [];
  for (const link of ipJson<Array<{ ifname: string }>>(['link', 'show'])) if (link.ifname.startsWith(prefix)) found.push(`link ${link.ifname}`);
  if (existsSync(publishDir)) for (const entry of readdirSync(publishDir)) if (entry.startsWith(prefix)) found.push(`${publishDir}/${entry}`);
  const netnsDir = `${execRoot}/netns`;
  if (existsSync(netnsDir)) for (const entry of readdirSync(netnsDir)) found.push(`${netnsDir}/${entry}`);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mountPoint = line.split(' ')[4] ?? '';
    if (mountPoint.startsWith(`${netnsDir}/`)) found.push(`mount ${mountPoint}`);
  }
  return found;
}

export async function scratch(t: ExecutionContext): Promise<Scratch> {
  requireThrowaway(t);
  // The prefix is claimed by making its exec root: two tests alive at once (in any ava worker) never
  // share one, however small the space of 16-bit prefixes.
  mkdirSync(TEST_RUN_ROOT, { recursive: true });
  let prefix: string;
  for (;;) {
    prefix = `sy${randomBytes(2).toString('hex')}`;
    try {
      mkdirSync(`${TEST_RUN_ROOT}/${prefix}`);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const execRoot = `${TEST_RUN_ROOT}/${prefix}`;
  const publishDir = '/run/netns';
  const host = await Handle.open();
  const sandboxes = new SandboxRoot({ execRoot, publishDir });
  t.teardown(async () => {
    // Best effort: remove what a failed test left, sandboxes first (their devices go with them).
    await sandboxes.deleteMany(sandboxes.list()).catch(() => undefined);
    for (const link of ipJson<Array<{ ifname: string }>>(['link', 'show'])) {
      if (link.ifname.startsWith(prefix)) await linkDel(host, link.ifname).catch(() => undefined);
    }
    host.close();
    // The netns dir is a bind mount of itself; unmount it before removing the exec root.
    spawnSync('umount', [`${execRoot}/netns`], { stdio: 'ignore' });
    rmSync(execRoot, { recursive: true, force: true });
  });
  return {
    prefix,
    execRoot,
    publishDir,
    host,
    sandboxes,
    name(suffix: string) {
      const name = `${prefix}${suffix}`;
      if (Buffer.byteLength(name) > 15) throw new Error(`test name ${name} is longer than 15 bytes`);
      return name;
    },
    async assertClean(t: ExecutionContext) {
      // Devices of deleted namespaces are removed by the kernel's cleanup work, shortly after.
      let found = leftovers(prefix, execRoot, publishDir);
      for (let i = 0; i < 100 && found.length > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        found = leftovers(prefix, execRoot, publishDir);
      }
      t.deepEqual(found, [], 'nothing of this test is left in the namespace');
    },
  };
}
