/** The bridge of one network: create (or adopt), gateway addresses, delete. */
import type { DriverContext } from '../../src/cnm/driver.js';
import type { NetworkRecord } from '../../src/cnm/model.js';
import { conflict } from '../../src/cnm/errors.js';
import { addrAdd, addrDel, isExists, isNotFound, linkAdd, linkDel, linkFind } from '../../src/netlink/index.js';
import { macFromIpv4 } from '../../src/cnm/mac.js';
import { bridgeOptions } from './options.js';

/** The link-local address of an IPv6 network's bridge (libnetwork's too), without DAD. */
const BRIDGE_LINK_LOCAL = 'fe80::1/64';

/** The ownership mark on a network's bridge. */
export function bridgeAlias(owner: string, networkId: string): string {
  return `${owner}:net:${networkId}`;
}

/** Switchyard's bridge name for a network: `sy-` + 12 hex of its id (15 bytes). */
export function bridgeNameOf(network: NetworkRecord): string {
  return network.driverState.bridge ?? bridgeOptions(network.options).bridgeName ?? `sy-${network.id.slice(0, 12)}`;
}


/**
 * Make the bridge: Switchyard's own (named by its id, or by the name option) with its ownership mark,
 * a MAC derived from the gateway so it never flaps, the MTU, STP off, up; or a user's existing bridge
 * named by the option, used as it is and never deleted. Then the gateway addresses.
 * Undo: delete the bridge we made, or remove the addresses we added to a user's.
 */
export async function setupBridge(ctx: DriverContext, network: NetworkRecord): Promise<void> {
  const options = bridgeOptions(network.options);
  const name = bridgeNameOf(network);
  const alias = bridgeAlias(ctx.owner, network.id);
  const gateway4 = network.pools.find((p) => p.family === 4);
  const existing = await linkFind(ctx.host, name);
  let created: boolean;
  if (!existing) {
    ctx.fault('bridge.create-bridge');
    await linkAdd(ctx.host, {
      kind: 'bridge',
      name,
      up: true,
      stp: false,
      mcastSnooping: options.mcastSnooping,
      mtu: options.mtu,
      alias,
      // route_localnet: published ports reached from 127.0.0.1 are routed out through the bridge
      // (the CVE-2020-8558 guard in the firewall keeps outsiders away from 127/8).
      ip4Conf: { routeLocalnet: true },
      ...(gateway4 ? { hardwareAddr: macFromIpv4(gateway4.gateway) } : {}),
      // No generated IPv6 link-local: it would wait for duplicate address detection (1-2 s), and
      // until then the bridge cannot solicit neighbours for forwarded packets (the first published
      // IPv6 connections were lost). An IPv6 network gets fe80::1 at once instead, as Docker does.
      ip6AddrGenMode: 'none' as const,
    });
    ctx.undo.push(`delete bridge ${name}`, () => linkDel(ctx.host, name).catch((error) => (isNotFound(error) ? undefined : Promise.reject(error))));
    created = true;
  } else if (existing.alias === alias) {
    created = true; // ours, left by an interrupted create: adopt it
  } else if (existing.kind === 'bridge' && options.bridgeName === name) {
    created = false; // a user's bridge, named on purpose: use it, never delete it
  } else {
    throw conflict(`create network ${network.name}: interface ${name} already exists and was not made by switchyard for this network`, 'options.com.docker.network.bridge.name');
  }
  network.driverState.bridge = name;
  network.driverState.bridgeCreated = String(created);
  ctx.fault('bridge.after-bridge');
  const addresses = gatewayAddresses(network);
  if (network.enableIpv6 && created) addresses.push(BRIDGE_LINK_LOCAL);
  for (const cidr of addresses) {
    try {
      await addrAdd(ctx.host, name, cidr);
    } catch (error) {
      if (!isExists(error)) throw error; // already there from an interrupted create
    }
    if (!created) ctx.undo.push(`remove ${cidr} from ${name}`, () => addrDel(ctx.host, name, cidr).catch(() => undefined));
  }
  ctx.fault('bridge.after-addresses');
}

/**
 * The gateway addresses the bridge holds: none of a family whose gateway mode is isolated, and no
 * IPv4 one with inhibit_ipv4.
 */
export function gatewayAddresses(network: NetworkRecord): string[] {
  const options = bridgeOptions(network.options);
  return network.pools
    .filter((pool) => !options.isolated[pool.family] && !(pool.family === 4 && options.inhibitIpv4))
    .map((pool) => `${pool.gateway}/${pool.subnet.split('/')[1]}`);
}

/** Remove the bridge (ours) or our gateway addresses (a user's bridge); gone counts as done. */
export async function teardownBridge(ctx: DriverContext, network: NetworkRecord): Promise<void> {
  const name = bridgeNameOf(network);
  const existing = await linkFind(ctx.host, name);
  if (!existing) return;
  if (existing.alias === bridgeAlias(ctx.owner, network.id)) {
    await linkDel(ctx.host, existing.index).catch((error) => (isNotFound(error) ? undefined : Promise.reject(error)));
    return;
  }
  if (network.driverState.bridgeCreated === 'false') {
    for (const cidr of gatewayAddresses(network)) await addrDel(ctx.host, name, cidr).catch(() => undefined);
  }
  // Anything else under that name is not ours: leave it alone.
}

/** Whether the network's bridge is there (after a reboot it is not). */
export async function bridgePresent(ctx: DriverContext, network: NetworkRecord): Promise<boolean> {
  const existing = await linkFind(ctx.host, bridgeNameOf(network));
  return existing !== undefined && (existing.alias === bridgeAlias(ctx.owner, network.id) || network.driverState.bridgeCreated === 'false');
}
