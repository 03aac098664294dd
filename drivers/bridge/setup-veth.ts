/**
 * An endpoint's veth, made the fast way: both ends created in their final namespaces under their
 * final names in one request, then few round trips, and returns when both ends carry traffic.
 */
import { openSync, closeSync } from 'node:fs';
import { addressingSteps } from '../../src/cnm/addressing.js';
import type { DriverContext, JoinTarget } from '../../src/cnm/driver.js';
import type { EndpointRecord, NetworkRecord } from '../../src/cnm/model.js';
import { Handle, isNotFound, linkAdd, linkByName, linkDel, linkDelMany, linkModify, linkSetIp6Disabled, linkSetName, linkSetUp, linkWaitOperUp } from '../../src/netlink/index.js';
import { bridgeOptions } from './options.js';
import { bridgeNameOf } from './setup-bridge.js';

/** Host end of an endpoint's veth: `syv` + 12 hex of its id (15 bytes), so teardown can find it from the id alone. */
export function hostEndOf(endpoint: EndpointRecord): string {
  return `syv${endpoint.id.slice(0, 12)}`;
}

/** Ownership mark on an endpoint's host end. */
export function endpointAlias(owner: string, endpointId: string): string {
  return `${owner}:ep:${endpointId}`;
}

/**
 * Create and configure the endpoint's veth in four round trips (the host end comes up only after
 * `beforeUp`, the endpoint's firewall elements, is done): the pair is created from inside the
 * sandbox (eth<N> with its MAC; the kernel echoes its index, so no lookup), its other end placed
 * straight into the host namespace; the host end gets IPv6 off (IPv4-only networks), then its bridge,
 * ownership mark and up in one request; one batch configures the inside; then both ends are waited
 * for until they carry traffic. Undo: delete the pair (the other end goes with it).
 */
export async function setupVeth(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord, target: JoinTarget, beforeUp: Promise<void> = Promise.resolve()): Promise<void> {
  const options = bridgeOptions(network.options);
  const hostEnd = hostEndOf(endpoint);
  const ipv6 = network.enableIpv6;
  const inside = await Handle.open({ netnsPath: target.sandbox.path });
  try {
    const hostNamespace = openSync('/proc/self/ns/net', 'r');
    let index: number | undefined;
    let bridge: number;
    try {
      ctx.fault('bridge.create-veth');
      // The bridge is looked up on the host socket while the pair is made on the sandbox's: no extra
      // round trip, and never a stale index (a recreated bridge has a new one).
      const made = linkAdd(inside, {
        kind: 'veth',
        name: target.interfaceName,
        mtu: options.mtu,
        ...(endpoint.macAddress ? { hardwareAddr: endpoint.macAddress } : {}),
        peer: { name: hostEnd, netnsFd: hostNamespace, mtu: options.mtu },
      });
      const found = linkByName(ctx.host, bridgeNameOf(network));
      found.catch(() => undefined);
      index = await made;
      ctx.undo.push(`delete veth ${hostEnd}`, () => linkDel(ctx.host, hostEnd).catch((error) => (isNotFound(error) ? undefined : Promise.reject(error))));
      bridge = (await found).index;
    } finally {
      closeSync(hostNamespace);
    }
    ctx.fault('bridge.after-veth');
    const eth = index ?? (await linkByName(inside, target.interfaceName)).index;

    // As Docker does on IPv4-only networks, the host end carries no IPv6 at all: otherwise every port
    // that comes up adds an ff00::/8 route to one list of the host's table and floods MLD, costs that
    // grow with the bridge (docs/benchmarks.md).
    if (!ipv6) await linkSetIp6Disabled(ctx.host, hostEnd, true);
    await beforeUp;
    const steps: Array<Promise<unknown>> = [
      linkModify(ctx.host, hostEnd, { master: bridge, alias: endpointAlias(ctx.owner, endpoint.id), up: true }),
      linkSetUp(inside, 'lo'),
      linkModify(inside, eth, { ip4Conf: { arpNotify: true }, ...(ipv6 ? {} : { ip6AddrGenMode: 'none' as const }) }),
      linkSetUp(inside, eth),
    ];
    steps.push(...addressingSteps(inside, eth, network, endpoint, target.defaultRoute));
    await Promise.all(steps);
    ctx.fault('bridge.after-configure');
    await Promise.all([linkWaitOperUp(inside, eth), linkWaitOperUp(ctx.host, hostEnd)]);
  } finally {
    inside.close();
  }
}

/** Deletes still under way (the kernel waits for RCU on each veth: ~15 ms). */
const reaping = new Set<Promise<void>>();

/**
 * Take the endpoint's veth away. What a caller can see is done when this returns: the inside end is
 * down (its addresses no longer answer, its routes are gone) and renamed, so its name is free for the
 * sandbox's next endpoint, and the host end is off the bridge. The pair itself is deleted in the
 * background, with deletes made at the same time gathered into one group delete (a single delete
 * waits ~15 ms for RCU); `drainVeths` waits for them. A sandbox that is gone took its veths along.
 */
export async function teardownVeth(ctx: DriverContext, endpoint: EndpointRecord): Promise<void> {
  const hostEnd = hostEndOf(endpoint);
  const path = ctx.sandboxes.pathOf(endpoint.sandboxId.slice(0, 16));
  let inside: Handle | undefined;
  try {
    inside = await Handle.open({ netnsPath: path });
    const eth = await linkByName(inside, endpoint.interfaceName);
    await Promise.all([linkModify(inside, eth.index, { up: false }), linkSetName(inside, eth.index, `gone${endpoint.id.slice(0, 11)}`)]);
  } catch (error) {
    // No sandbox any more, or no such interface in it: nothing inside to free.
    if (!isNotFound(error) && (error as NodeJS.ErrnoException).code !== 'ENOENT' && !/no such file/i.test((error as Error).message)) throw error;
  } finally {
    inside?.close();
  }
  const deleted: Promise<void> = linkDelMany(ctx.host, [hostEnd])
    .catch((error: Error) => ctx.log.warn(`delete veth ${hostEnd}: ${error.message}`))
    .finally(() => reaping.delete(deleted));
  reaping.add(deleted);
}

/** Wait until the veths taken away so far are deleted. */
export async function drainVeths(): Promise<void> {
  while (reaping.size) await Promise.all([...reaping]);
}
