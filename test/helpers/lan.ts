/**
 * A LAN outside the host, for macvlan tests: the parent is the host end of a veth pair whose other
 * end, eth0, is up in a namespace of its own that stands for the LAN (its router and its other
 * hosts: give it addresses). That namespace lives under an exec root of its own, so the engine under
 * test never sees it among its sandboxes.
 */
import type { ExecutionContext } from 'ava';
import { closeSync, openSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { addrAdd, isNotFound, linkAdd, linkDel, linkSetUp, type Handle } from '../../src/netlink/index.js';
import { SandboxRoot, type Sandbox } from '../../src/netns/index.js';
import { TEST_RUN_ROOT, type Scratch } from './scratch.js';

export interface Lan {
  /** The host end of the pair: the macvlan parent. */
  parent: string;
  /** The LAN namespace, published by name (for `ip -n` and ping). */
  name: string;
  path: string;
  handle: Handle;
  /** Give the LAN side (eth0) an address, e.g. the network's gateway: the LAN's router. */
  addAddress(cidr: string): Promise<void>;
  /** Remove the pair and the LAN namespace (idempotent). */
  remove(): Promise<void>;
}

/** Make a LAN whose parent is `s.name(suffix)`. */
export async function outsideLan(t: ExecutionContext, s: Scratch, suffix = 'p'): Promise<Lan> {
  const parent = s.name(suffix);
  const root = new SandboxRoot({ execRoot: `${TEST_RUN_ROOT}/${parent}-lan`, publishDir: s.publishDir });
  root.init();
  let sandbox: Sandbox | undefined;
  let removed = false;
  const remove = async () => {
    if (removed) return;
    removed = true;
    sandbox?.handle?.close();
    await linkDel(s.host, parent).catch((error) => (isNotFound(error) ? undefined : Promise.reject(error)));
    if (sandbox) await root.deleteMany([sandbox]);
    // The netns dir is a bind mount of itself, as the scratch space's is.
    spawnSync('umount', [root.netnsDir], { stdio: 'ignore' });
    rmSync(root.execRoot, { recursive: true, force: true });
  };
  t.teardown(() => remove().catch(() => undefined));
  sandbox = await root.create({ name: s.name(`${suffix}lan`), handle: true });
  const fd = openSync(sandbox.path, 'r');
  try {
    await linkAdd(s.host, { kind: 'veth', name: parent, up: true, peer: { name: 'eth0', netnsFd: fd } });
  } finally {
    closeSync(fd);
  }
  const handle = sandbox.handle!;
  await Promise.all([linkSetUp(handle, 'lo'), linkSetUp(handle, 'eth0')]);
  return {
    parent,
    name: sandbox.name,
    path: sandbox.path,
    handle,
    addAddress: (cidr: string) => addrAdd(handle, 'eth0', cidr),
    remove,
  };
}
