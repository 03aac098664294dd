/** What every driver that configures an interface inside a sandbox does last (bridge, macvlan). */
import { addrAdd, routeAdd, type Handle } from '../netlink/index.js';
import type { EndpointRecord, NetworkRecord } from './model.js';

/**
 * The requests that give the endpoint's interface its addresses and, when the endpoint gives the
 * sandbox its default route, default routes via the gateways of its subnets; issued at once, so they go
 * to the kernel in one batch (the addresses first: a route needs its subnet's route).
 */
export function addressingSteps(inside: Handle, index: number, network: NetworkRecord, endpoint: EndpointRecord, defaultRoute: boolean): Array<Promise<unknown>> {
  const steps: Array<Promise<unknown>> = [];
  if (endpoint.ipv4) steps.push(addrAdd(inside, index, endpoint.ipv4.cidr));
  if (endpoint.ipv6) steps.push(addrAdd(inside, index, endpoint.ipv6.cidr));
  const gateway4 = gatewayOf(network, endpoint.ipv4);
  const gateway6 = gatewayOf(network, endpoint.ipv6);
  if (defaultRoute && gateway4) steps.push(routeAdd(inside, { dst: 'default', gateway: gateway4 }));
  if (defaultRoute && gateway6) steps.push(routeAdd(inside, { dst: 'default', gateway: gateway6 }));
  return steps;
}

/** The gateway of the subnet an endpoint's address came from (a network may have several per family). */
export function gatewayOf(network: NetworkRecord, lease: { poolId: string } | undefined): string | undefined {
  return lease && network.pools.find((p) => p.poolId === lease.poolId)?.gateway;
}
