/** Remove everything a daemon made, through an engine on its data root (benchmarks end with it). */
import { spawnSync } from 'node:child_process';
import { Engine } from '../../src/cnm/engine.js';
import { registerBuiltinDrivers } from '../../drivers/index.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { StoreIpam } from '../../src/ipam/ipam.js';

export async function removeAll(dataRoot: string, execRoot: string, nftPrefix: string): Promise<void> {
  const store = await SqliteStore.open(dataRoot);
  const engine = await Engine.open({ store, ipam: new StoreIpam(store), register: registerBuiltinDrivers, execRoot, publishDir: '/run/netns', nftPrefix });
  const c = engine.controller;
  for (const sandbox of c.listSandboxes()) await c.deleteSandbox(sandbox.id);
  for (const network of c.listNetworks()) await c.deleteNetwork(network.id);
  await engine.firewall.removeAll();
  await engine.close();
  spawnSync('umount', [`${execRoot}/netns`]);
}
