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

const BOOLEANS = [ENABLE_ICC, ENABLE_IP_MASQUERADE, DEFAULT_BRIDGE, INHIBIT_IPV4];
const KNOWN = [BRIDGE_NAME, MTU, ENABLE_ICC, ENABLE_IP_MASQUERADE, HOST_BINDING_IPV4, DEFAULT_BRIDGE, INHIBIT_IPV4, IFACE_PREFIX, HOST_IPV4];

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
}

/** Check options and return them normalised (as stored and shown by inspect); throws naming the option. */
export function validateBridgeOptions(options: Record<string, string>): Record<string, string> {
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
  };
}
