/** A fixture many kernel tests share: two sandboxes with eth0 on one bridge in the test namespace. */
import { closeSync, openSync } from 'node:fs';
import { linkAdd, linkDel, linkSetUp, type Handle } from '../../src/netlink/index.js';
import type { Sandbox } from '../../src/netns/index.js';
import type { Scratch } from './scratch.js';

/** Two sandboxes with eth0 (index 2) on one bridge, lo and eth0 up, no addresses yet. */
export interface BridgePair {
  bridge: string;
  /** Host ends of the veth pairs: the bridge ports of a and b. */
  ports: [string, string];
  a: Sandbox;
  b: Sandbox;
  ha: Handle;
  hb: Handle;
  /** Published names, for `ip -n` and ping. */
  na: string;
  nb: string;
  remove(): Promise<void>;
}

/** Build the pair; `macs` gives a's and b's eth0 their MAC addresses. */
export async function twoSandboxesOnABridge(s: Scratch, macs?: [string, string]): Promise<BridgePair> {
  const bridge = s.name('br');
  await linkAdd(s.host, { kind: 'bridge', name: bridge, up: true });
  const [a, b] = await s.sandboxes.createMany([
    { name: s.name('a'), handle: true },
    { name: s.name('b'), handle: true },
  ]);
  const ports: [string, string] = [s.name('v0'), s.name('v1')];
  for (const [i, sandbox] of [a!, b!].entries()) {
    const fd = openSync(sandbox.path, 'r');
    try {
      await linkAdd(s.host, { kind: 'veth', name: ports[i]!, master: bridge, up: true, peer: { name: 'eth0', netnsFd: fd, ...(macs ? { hardwareAddr: macs[i]! } : {}) } });
    } finally {
      closeSync(fd);
    }
    // The peer cannot be set up at creation: it is set up from inside. A new namespace numbers its
    // links from 1 (lo), so eth0 is 2.
    await Promise.all([linkSetUp(sandbox.handle!, 'lo'), linkSetUp(sandbox.handle!, 'eth0')]);
  }
  return {
    bridge,
    ports,
    a: a!,
    b: b!,
    ha: a!.handle!,
    hb: b!.handle!,
    na: a!.name,
    nb: b!.name,
    async remove() {
      await s.sandboxes.deleteMany([a!, b!]);
      await linkDel(s.host, bridge);
    },
  };
}
