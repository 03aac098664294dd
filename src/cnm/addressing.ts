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
  // The gateway of the subnet the endpoint's address came from (a network may have several).
  const gateway4 = endpoint.ipv4 && network.pools.find((p) => p.poolId === endpoint.ipv4!.poolId)?.gateway;
  const gateway6 = endpoint.ipv6 && network.pools.find((p) => p.poolId === endpoint.ipv6!.poolId)?.gateway;
  if (defaultRoute && gateway4 && endpoint.ipv4) steps.push(routeAdd(inside, { dst: 'default', gateway: gateway4 }));
  if (defaultRoute && gateway6 && endpoint.ipv6) steps.push(routeAdd(inside, { dst: 'default', gateway: gateway6 }));
  return steps;
}
