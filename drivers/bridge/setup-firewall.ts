/** The bridge driver's firewall steps: the network's chains and elements, and its endpoints' ports. */
import type { DriverContext } from '../../src/cnm/driver.js';
import type { EndpointRecord, NetworkRecord } from '../../src/cnm/model.js';
import type { FirewallEndpoint, FirewallNetwork } from '../../src/firewall/ruleset.js';
import { bridgeOptions } from './options.js';
import { macFromIpv4 } from '../../src/cnm/mac.js';
import { bridgeNameOf } from './setup-bridge.js';
import { hostEndOf } from './setup-veth.js';

export function firewallNetwork(network: NetworkRecord): FirewallNetwork {
  const options = bridgeOptions(network.options);
  return {
    id: network.id,
    bridge: bridgeNameOf(network),
    subnets: network.pools.map((pool) => pool.subnet),
    internal: network.internal,
    masquerade: options.enableIpMasquerade,
    ...(network.driverState.zone ? { zone: Number(network.driverState.zone) } : {}),
  };
}

export function firewallEndpoint(network: NetworkRecord, endpoint: EndpointRecord): FirewallEndpoint {
  return {
    port: hostEndOf(endpoint),
    icc: bridgeOptions(network.options).enableIcc,
    // A connect interrupted before its MAC was decided left none in the record: the driver decides it
    // from the IPv4 address (createEndpoint), so the same is found here.
    mac: endpoint.macAddress || (endpoint.ipv4 ? macFromIpv4(endpoint.ipv4.cidr) : ''),
    ...(endpoint.ipv4 ? { ipv4: endpoint.ipv4.cidr.split('/')[0]! } : {}),
    ...(endpoint.ipv6 ? { ipv6: endpoint.ipv6.cidr.split('/')[0]! } : {}),
  };
}

/**
 * Isolation, internal-ness and masquerade of a network, in one transaction; forwarding turned on
 * when the network needs egress and it was off (the network records a warning saying so).
 * Undo: the matching removal.
 */
export async function setupFirewall(ctx: DriverContext, network: NetworkRecord): Promise<void> {
  const options = bridgeOptions(network.options);
  // An isolated network may reuse another's subnet: its flows get a conntrack zone of their own.
  if ((options.isolated[4] || options.isolated[6]) && !network.driverState.zone) network.driverState.zone = String(ctx.firewall.allocateZone(network.id));
  const state = firewallNetwork(network);
  ctx.fault('bridge.before-firewall');
  await ctx.firewall.addNetwork(state);
  ctx.undo.push('remove network firewall', () => ctx.firewall.removeNetwork(state));
  if (!network.internal && options.enableIpMasquerade) {
    const turnedOn: string[] = [];
    if (ctx.firewall.enableForwarding(4)) turnedOn.push('net.ipv4.ip_forward=1');
    if (network.enableIpv6 && ctx.firewall.enableForwarding(6)) turnedOn.push('net.ipv6.conf.all.forwarding=1');
    if (turnedOn.length) {
      network.driverState.warning = `forwarding was off on this host: switchyard turned it on (${turnedOn.join(', ')}) so that network ${network.name} reaches the outside`;
      ctx.log.info(network.driverState.warning);
    }
  }
  ctx.fault('bridge.after-firewall');
}

/** Remove the network's firewall state; gone counts as done. */
export function teardownFirewall(ctx: DriverContext, network: NetworkRecord): Promise<void> {
  return ctx.firewall.removeNetwork(firewallNetwork(network));
}

/**
 * An endpoint's firewall elements: its port, MAC and addresses (anti-spoofing) and, with ICC off,
 * its port in the set whose frames to other ports are dropped. Added before the port exists, so it
 * never carries a frame unchecked. Undo: removal.
 */
export async function setupEndpointFirewall(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord): Promise<void> {
  const state = firewallEndpoint(network, endpoint);
  await ctx.firewall.addEndpoint(state);
  ctx.undo.push('remove endpoint firewall', () => ctx.firewall.removeEndpoint(state));
}

export function teardownEndpointFirewall(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord): Promise<void> {
  return ctx.firewall.removeEndpoint(firewallEndpoint(network, endpoint));
}
