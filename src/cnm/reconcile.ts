/**
 * Reconcile on start, before serving: make the store and the kernel agree again after a crash or a
 * reboot. Unfinished operations are rolled back (teardown is idempotent and recomputed from the
 * records); networks whose kernel objects are gone are recreated; sandboxes whose namespace is gone
 * are removed with their endpoints and addresses; addresses and kernel objects that Switchyard owns
 * but no record explains are removed. Nothing without Switchyard's ownership mark is touched.
 */
import { readdirSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { linkDel, linkList, isNotFound } from '../netlink/index.js';
import type { Controller } from './controller.js';
import type { DriverContext, DriverRegistry, Logger } from './driver.js';
import type { Ipam } from '../ipam/types.js';
import type { SandboxRoot } from '../netns/sandbox.js';

const NSFS_MAGIC = 0x6e736673;

/** What reconcile did, for the log and for tests. */
export interface ReconcileReport {
  rolledBackNetworks: string[];
  restoredNetworks: string[];
  removedSandboxes: string[];
  removedEndpoints: string[];
  releasedAddresses: string[];
  releasedPools: string[];
  removedLinks: string[];
  removedNamespaceFiles: string[];
  errors: string[];
}

function isLiveNamespace(file: string): boolean {
  try {
    return statfsSync(file).type === NSFS_MAGIC;
  } catch {
    return false;
  }
}

export async function reconcile(
  controller: Controller,
  ipam: Ipam,
  drivers: DriverRegistry,
  sandboxes: SandboxRoot,
  context: () => DriverContext,
  log: Logger,
): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    rolledBackNetworks: [],
    restoredNetworks: [],
    removedSandboxes: [],
    removedEndpoints: [],
    releasedAddresses: [],
    releasedPools: [],
    removedLinks: [],
    removedNamespaceFiles: [],
    errors: [],
  };
  const attempt = async (what: string, step: () => Promise<unknown>) => {
    try {
      await step();
    } catch (error) {
      report.errors.push(`${what}: ${(error as Error).message}`);
      log.warn(`reconcile: ${what} failed`, { error: (error as Error).message });
    }
  };

  const records = controller.records();
  const liveSandboxes = new Set(records.sandboxes.filter((s) => s.state === 'ready' && isLiveNamespace(s.path)).map((s) => s.id));

  // Endpoints: unfinished ones, and those whose sandbox is gone, are torn down with their addresses.
  for (const endpoint of records.endpoints) {
    if (endpoint.state === 'ready' && liveSandboxes.has(endpoint.sandboxId)) continue;
    await attempt(`remove endpoint ${endpoint.id.slice(0, 12)}`, async () => {
      await controller.forgetEndpoint(endpoint);
      report.removedEndpoints.push(endpoint.id);
    });
  }

  // Sandboxes: unfinished ones, and those whose namespace is gone (a reboot), are forgotten.
  for (const sandbox of records.sandboxes) {
    if (liveSandboxes.has(sandbox.id)) continue;
    await attempt(`remove sandbox ${sandbox.name}`, async () => {
      await controller.forgetSandbox(sandbox);
      report.removedSandboxes.push(sandbox.name);
    });
  }

  // Networks: unfinished ones are rolled back; ready ones whose kernel objects are gone are recreated.
  for (const network of records.networks) {
    const driver = drivers.get(network.driver);
    if (network.state !== 'ready') {
      await attempt(`roll back network ${network.name}`, async () => {
        await controller.forgetNetwork(network);
        report.rolledBackNetworks.push(network.name);
      });
      continue;
    }
    if (driver?.networkPresent && driver.restoreNetwork && !(await driver.networkPresent(context(), network))) {
      await attempt(`restore network ${network.name}`, async () => {
        await driver.restoreNetwork!(context(), network);
        report.restoredNetworks.push(network.name);
      });
    }
  }

  // Addresses: leases held by no endpoint, and pools of no network, are released.
  const after = controller.records();
  const networkIds = new Set(after.networks.map((n) => n.id));
  const endpointIds = new Set(after.endpoints.map((e) => e.id));
  for (const pool of await ipam.pools()) {
    if (!networkIds.has(pool.networkId)) {
      await attempt(`release pools of ${pool.networkId.slice(0, 12)}`, async () => {
        await ipam.releasePools(pool.networkId);
        report.releasedPools.push(pool.subnet);
      });
      continue;
    }
    for (const lease of await ipam.leases(pool.poolId)) {
      if (lease.owner === 'gateway' || lease.owner.startsWith('aux:') || endpointIds.has(lease.owner)) continue;
      await attempt(`release ${lease.address}`, async () => {
        await ipam.releaseAddress(lease.poolId, lease.address, lease.owner);
        report.releasedAddresses.push(lease.address);
      });
    }
  }

  // Kernel objects with this engine's mark that no record explains.
  const ctx = context();
  const mark = `${ctx.owner}:`;
  for (const link of await linkList(ctx.host)) {
    if (!link.alias?.startsWith(mark)) continue;
    const [kind, id] = link.alias.slice(mark.length).split(':');
    const explained = (kind === 'net' && networkIds.has(id ?? '')) || (kind === 'ep' && endpointIds.has(id ?? ''));
    if (explained) continue;
    await attempt(`remove orphan link ${link.name}`, async () => {
      await linkDel(ctx.host, link.index).catch((error) => (isNotFound(error) ? undefined : Promise.reject(error)));
      report.removedLinks.push(link.name);
    });
  }

  // Namespace files under the exec root that no sandbox record points at.
  const known = new Set(after.sandboxes.map((s) => path.basename(s.path)));
  let files: string[] = [];
  try {
    files = readdirSync(sandboxes.netnsDir);
  } catch {
    files = [];
  }
  const orphans = files.filter((file) => !known.has(file));
  if (orphans.length > 0) {
    const listed = sandboxes.list();
    await attempt('remove orphan namespace files', async () => {
      await sandboxes.deleteMany(listed.filter((s) => orphans.includes(s.id)));
      report.removedNamespaceFiles.push(...orphans);
    });
  }
  return report;
}
