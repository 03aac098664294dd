/** The bridge driver's options, with Docker's names (`docker network create -o ...`). */
import { badRequest } from '../../src/cnm/errors.js';
import { checkInterfaceName } from '../../src/netlink/names.js';
import { parseIp } from '../../src/netlink/ip.js';

export const BRIDGE_NAME = 'com.docker.network.bridge.name';
export const MTU = 'com.docker.network.driver.mtu';
export const ENABLE_ICC = 'com.docker.network.bridge.enable_icc';
export const ENABLE_IP_MASQUERADE = 'com.docker.network.bridge.enable_ip_masquerade';
export const HOST_BINDING_IPV4 = 'com.docker.network.bridge.host_binding_ipv4';
export const DEFAULT_BRIDGE = 'com.docker.network.bridge.default_bridge';
export const INHIBIT_IPV4 = 'com.docker.network.bridge.inhibit_ipv4';
export const IFACE_PREFIX = 'com.docker.network.container_iface_prefix';
export const HOST_IPV4 = 'com.docker.network.host_ipv4';
export const GATEWAY_MODE_IPV4 = 'com.docker.network.bridge.gateway_mode_ipv4';
export const GATEWAY_MODE_IPV6 = 'com.docker.network.bridge.gateway_mode_ipv6';
/**
 * Switchyard's own: IGMP/MLD snooping on the bridge. Off unless asked (the kernel's default and
 * Docker's is on): multicast floods every port, as a lab without a querier needs, and a new port does
 * not re-arm every other port's timers (docs/benchmarks.md).
 */
export const MCAST_SNOOPING = 'com.switchyard.bridge.mcast_snooping';
const GATEWAY_MODES = ['nat', 'isolated'];

const BOOLEANS = [ENABLE_ICC, ENABLE_IP_MASQUERADE, DEFAULT_BRIDGE, INHIBIT_IPV4, MCAST_SNOOPING];
const KNOWN = [BRIDGE_NAME, MTU, ENABLE_ICC, ENABLE_IP_MASQUERADE, HOST_BINDING_IPV4, DEFAULT_BRIDGE, INHIBIT_IPV4, IFACE_PREFIX, HOST_IPV4, GATEWAY_MODE_IPV4, GATEWAY_MODE_IPV6, MCAST_SNOOPING];

/** Go's strconv.ParseBool, which Docker uses for these options. */
export function parseBool(value: string, field: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw badRequest(`${field}: ${JSON.stringify(value)} is not a boolean (true, false, 1, 0)`, field);
}

/** Parsed bridge options. */
export interface BridgeOptions {
  bridgeName?: string;
  mtu: number;
  enableIcc: boolean;
  enableIpMasquerade: boolean;
  hostBindingIpv4: string;
  /** inhibit_ipv4: the bridge gets no IPv4 address (the user's bridge has one, or routes elsewhere). */
  inhibitIpv4: boolean;
  /**
   * gateway_mode_ipv4/ipv6 (Docker 28): `nat` (the default) or `isolated`, only for internal
   * networks: the bridge gets no address of the family, so nothing reaches the host, and the
   * subnet may reuse another isolated network's (each gets its own conntrack zone).
   */
  isolated: { 4: boolean; 6: boolean };
  /** com.switchyard.bridge.mcast_snooping (default false). */
  mcastSnooping: boolean;
}

/** Check options and return them normalised (as stored and shown by inspect); throws naming the option. */
export function validateBridgeOptions(options: Record<string, string>, network: { internal: boolean } = { internal: false }): Record<string, string> {
  for (const [key, value] of Object.entries(options)) {
    const field = `options.${key}`;
    if (!KNOWN.includes(key)) throw badRequest(`${field}: unknown option for driver bridge (known: ${KNOWN.join(', ')})`, field);
    if (typeof value !== 'string') throw badRequest(`${field}: option values are strings`, field);
    if (key === BRIDGE_NAME) {
      try {
        checkInterfaceName(value, field);
      } catch (error) {
        throw badRequest((error as Error).message, field);
      }
    } else if (key === MTU) {
      if (!/^\d+$/.test(value) || Number(value) < 68 || Number(value) > 65535) throw badRequest(`${field}: ${JSON.stringify(value)} is not an MTU (68-65535)`, field);
    } else if (BOOLEANS.includes(key)) {
      parseBool(value, field);
    } else if (key === HOST_BINDING_IPV4 || key === HOST_IPV4) {
      try {
        if (parseIp(value, field).family !== 2) throw new Error('not IPv4');
      } catch {
        throw badRequest(`${field}: ${JSON.stringify(value)} is not an IPv4 address`, field);
      }
    } else if (key === GATEWAY_MODE_IPV4 || key === GATEWAY_MODE_IPV6) {
      if (value === 'routed' || value === 'nat-unprotected') throw badRequest(`${field}: ${value} is not supported by switchyard (supported: ${GATEWAY_MODES.join(', ')})`, field);
      if (!GATEWAY_MODES.includes(value)) throw badRequest(`${field}: ${JSON.stringify(value)} is not a gateway mode (${GATEWAY_MODES.join(', ')})`, field);
      if (value === 'isolated' && !network.internal) throw badRequest(`${field}: isolated needs an internal network (--internal)`, field);
    } else if (key === IFACE_PREFIX) {
      if (!/^[a-z][a-z0-9]{0,9}$/.test(value)) throw badRequest(`${field}: ${JSON.stringify(value)} must be 1-10 lower-case letters and digits, starting with a letter`, field);
    }
  }
  return { ...options };
}

/** The options as the driver uses them, with Docker's defaults. */
export function bridgeOptions(options: Record<string, string>): BridgeOptions {
  return {
    bridgeName: options[BRIDGE_NAME],
    mtu: options[MTU] ? Number(options[MTU]) : 1500,
    enableIcc: options[ENABLE_ICC] ? parseBool(options[ENABLE_ICC], ENABLE_ICC) : true,
    enableIpMasquerade: options[ENABLE_IP_MASQUERADE] ? parseBool(options[ENABLE_IP_MASQUERADE], ENABLE_IP_MASQUERADE) : true,
    hostBindingIpv4: options[HOST_BINDING_IPV4] ?? '0.0.0.0',
    inhibitIpv4: options[INHIBIT_IPV4] ? parseBool(options[INHIBIT_IPV4], INHIBIT_IPV4) : false,
    isolated: { 4: options[GATEWAY_MODE_IPV4] === 'isolated', 6: options[GATEWAY_MODE_IPV6] === 'isolated' },
    mcastSnooping: options[MCAST_SNOOPING] ? parseBool(options[MCAST_SNOOPING], MCAST_SNOOPING) : false,
  };
}
