/** The macvlan driver's options, with Docker's names (`docker network create -d macvlan -o parent=eth0 ...`). */
import { badRequest } from '../../src/cnm/errors.js';
import type { MacvlanMode } from '../../src/netlink/index.js';
import { checkInterfaceName } from '../../src/netlink/index.js';

export const PARENT = 'parent';
export const MACVLAN_MODE = 'macvlan_mode';
/** Docker's generic option for the in-sandbox name prefix; the controller applies it for every driver. */
export const IFACE_PREFIX = 'com.docker.network.container_iface_prefix';

const KNOWN = [PARENT, MACVLAN_MODE, IFACE_PREFIX];
/** Docker's four modes (the kernel's `source` mode is not one of them). */
export const MODES: readonly MacvlanMode[] = ['bridge', 'private', 'vepa', 'passthru'];

/** Parsed macvlan options. */
export interface MacvlanOptions {
  /** The host interface the children hang from, as given. */
  parent: string;
  mode: MacvlanMode;
}

/**
 * Check options and return them as given (Docker shows them so in inspect); throws naming the option.
 * Pure: whether the parent exists is the kernel's to say, at network create.
 */
export function validateMacvlanOptions(options: Record<string, string>, network: { internal: boolean }): Record<string, string> {
  for (const [key, value] of Object.entries(options)) {
    const field = `options.${key}`;
    if (!KNOWN.includes(key)) throw badRequest(`${field}: unknown option for driver macvlan (known: ${KNOWN.join(', ')})`, field);
    if (typeof value !== 'string') throw badRequest(`${field}: option values are strings`, field);
    if (key === PARENT) {
      try {
        checkInterfaceName(value, field);
      } catch (error) {
        throw badRequest((error as Error).message, field);
      }
      if (value === 'lo') throw badRequest(`${field}: the loopback interface cannot be a macvlan parent`, field);
    } else if (key === MACVLAN_MODE) {
      if (!(MODES as readonly string[]).includes(value)) throw badRequest(`${field}: ${JSON.stringify(value)} is not a macvlan mode (${MODES.join(', ')})`, field);
    } else if (key === IFACE_PREFIX) {
      if (!/^[a-z][a-z0-9]{0,9}$/.test(value)) throw badRequest(`${field}: ${JSON.stringify(value)} must be 1-10 lower-case letters and digits, starting with a letter`, field);
    }
  }
  if (options[PARENT] === undefined) {
    // Docker makes a dummy interface as the parent then (an island only the network's own containers
    // share); switchyard creates no parents, and the dummy kind is absent on the machines it runs on.
    throw badRequest(`options.${PARENT}: the macvlan driver needs -o ${PARENT}=IF, an existing host interface on the LAN the sandboxes join (switchyard does not make a dummy parent as docker does without one; for a network of sandboxes only, use a bridge network)`, `options.${PARENT}`);
  }
  if (network.internal) {
    // Docker's internal macvlan hangs from a dummy parent. On a real parent the sandboxes would still
    // reach every host of the LAN, so "internal" would be a promise the driver cannot keep.
    throw badRequest('internal: the macvlan driver does not make internal networks: docker puts them on a dummy parent, which switchyard does not create, and on a real parent the sandboxes would still reach the LAN (use a bridge network with --internal)', 'internal');
  }
  return { ...options };
}

/** The options as the driver uses them, with Docker's default mode (bridge). */
export function macvlanOptions(options: Record<string, string>): MacvlanOptions {
  return { parent: options[PARENT] ?? '', mode: (options[MACVLAN_MODE] as MacvlanMode | undefined) ?? 'bridge' };
}
