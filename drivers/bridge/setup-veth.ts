/**
 * An endpoint's veth, made the fast way: the host end joins the bridge and comes up in the same
 * request that creates the pair, the peer is created directly inside the sandbox under its final
 * name with its MAC, then one batch inside configures it. Returns when both ends carry traffic.
 */
import { openSync, closeSync } from 'node:fs';
import type { DriverContext, JoinTarget } from '../../src/cnm/driver.js';
import type { EndpointRecord, NetworkRecord } from '../../src/cnm/model.js';
import { Handle, addrAdd, isNotFound, linkAdd, linkByName, linkDel, linkDelMany, linkSetIp4Conf, linkSetIp6AddrGenMode, linkSetIp6Disabled, linkSetUp, linkWaitOperUp, routeAdd } from '../../src/netlink/index.js';
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

/** Create and configure the endpoint's veth. Undo: delete the pair (the peer goes with it). */
export async function setupVeth(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord, target: JoinTarget): Promise<void> {
  const options = bridgeOptions(network.options);
  const hostEnd = hostEndOf(endpoint);
  const ipv6 = network.enableIpv6;
  const fd = openSync(target.sandbox.path, 'r');
  try {
    ctx.fault('bridge.create-veth');
    await linkAdd(ctx.host, {
      kind: 'veth',
      name: hostEnd,
      master: bridgeNameOf(network),
      up: ipv6,
      mtu: options.mtu,
      alias: endpointAlias(ctx.owner, endpoint.id),
      peer: { name: target.interfaceName, netnsFd: fd, mtu: options.mtu, ...(endpoint.macAddress ? { hardwareAddr: endpoint.macAddress } : {}) },
    });
  } finally {
    closeSync(fd);
  }
  ctx.undo.push(`delete veth ${hostEnd}`, () => linkDel(ctx.host, hostEnd).catch((error) => (isNotFound(error) ? undefined : Promise.reject(error))));
  if (!ipv6) {
    // An IPv4-only network's ports carry no IPv6 at all (as Docker does): otherwise every port that
    // comes up adds an ff00::/8 route to one list of the host's table and floods MLD, costs that
    // grow with the bridge (measured in docs/benchmarks.md).
    await linkSetIp6Disabled(ctx.host, hostEnd, true);
    await linkSetUp(ctx.host, hostEnd);
  }
  ctx.fault('bridge.after-veth');

  const inside = await Handle.open({ netnsPath: target.sandbox.path });
  try {
    const link = await linkByName(inside, target.interfaceName);
    const steps: Array<Promise<unknown>> = [linkSetUp(inside, 'lo'), linkSetIp4Conf(inside, link.index, { arpNotify: true })];
    if (!ipv6) steps.push(linkSetIp6AddrGenMode(inside, link.index, 'none'));
    steps.push(linkSetUp(inside, link.index));
    if (endpoint.ipv4) steps.push(addrAdd(inside, link.index, endpoint.ipv4.cidr));
    if (endpoint.ipv6) steps.push(addrAdd(inside, link.index, endpoint.ipv6.cidr));
    const gateway4 = network.pools.find((p) => p.family === 4)?.gateway;
    const gateway6 = network.pools.find((p) => p.family === 6)?.gateway;
    if (target.defaultRoute && gateway4 && endpoint.ipv4) steps.push(routeAdd(inside, { dst: 'default', gateway: gateway4 }));
    if (target.defaultRoute && gateway6 && endpoint.ipv6) steps.push(routeAdd(inside, { dst: 'default', gateway: gateway6 }));
    await Promise.all(steps);
    ctx.fault('bridge.after-configure');
    await Promise.all([linkWaitOperUp(inside, link.index), linkWaitOperUp(ctx.host, hostEnd)]);
  } finally {
    inside.close();
  }
}

/**
 * Delete the endpoint's veth (both ends); gone, or gone with its sandbox, counts as done. Deletes
 * made at the same time are gathered into one group delete, so many disconnects wait for RCU once.
 */
export async function teardownVeth(ctx: DriverContext, endpoint: EndpointRecord): Promise<void> {
  await linkDelMany(ctx.host, [hostEndOf(endpoint)]);
}
