/** Addresses on links. IPv6 addresses are added without duplicate address detection (no DAD wait). */
import type { Handle } from './handle.js';
import { AF_INET, AF_INET6, broadcastBytes, formatIp, parseCidr } from './ip.js';
import { addressMessage, attr, forEachAttr, rt, u32 } from './codec.js';
import { linkByName, type LinkRef } from './link.js';
import * as c from './constants.js';

/** An address as the kernel reports it. */
export interface Addr {
  index: number;
  family: number;
  /** `10.0.0.2/24` */
  cidr: string;
  address: string;
  prefixLength: number;
  label?: string;
  broadcast?: string;
  scope: number;
  flags: number;
}

/** Options of addrAdd/addrReplace. */
export interface AddrOptions {
  label?: string;
  /** IPv4 broadcast; by default the subnet's (as `ip addr add ... brd +`), none for /31 and /32. */
  broadcast?: string | null;
  /** Keep duplicate address detection for IPv6 (off by default: addresses are usable at once). */
  dad?: boolean;
  scope?: number;
}

async function indexOf(handle: Handle, link: LinkRef): Promise<number> {
  return typeof link === 'number' ? link : (await linkByName(handle, link)).index;
}

function encode(index: number, cidrText: string, options: AddrOptions = {}): Buffer {
  const cidr = parseCidr(cidrText);
  const noDad = cidr.family === AF_INET6 && !options.dad;
  const data: rt.Address = { family: cidr.family, prefixlen: cidr.prefixLength, index, scope: options.scope ?? 0, flags: noDad ? { nodad: true } : {} };
  const attrs: rt.AddressAttrs = { local: cidr.bytes, address: cidr.bytes };
  if (options.label !== undefined) attrs.label = options.label;
  if (cidr.family === AF_INET) {
    if (options.broadcast) attrs.broadcast = parseCidr(options.broadcast, 'broadcast').bytes;
    else if (options.broadcast === undefined && cidr.prefixLength < 31) attrs.broadcast = broadcastBytes(cidr, cidr.prefixLength);
  }
  const extra = noDad ? [attr(c.IFA_FLAGS, u32(c.IFA_F_NODAD))] : [];
  return Buffer.concat([addressMessage(data, attrs), ...extra]);
}

/**
 * Add an address to a link.
 * Equivalent to: `ip addr add <cidr> dev <link> [brd +] [nodad]`
 */
export async function addrAdd(handle: Handle, link: LinkRef, cidr: string, options?: AddrOptions): Promise<void> {
  const payload = encode(await indexOf(handle, link), cidr, options);
  await handle.socket.request(c.RTM_NEWADDR, payload, { op: `add address ${cidr} to ${link} in ${handle.describe()}`, flags: c.NLM_F_CREATE | c.NLM_F_EXCL });
}

/**
 * Add an address, or update it if present.
 * Equivalent to: `ip addr replace <cidr> dev <link>`
 */
export async function addrReplace(handle: Handle, link: LinkRef, cidr: string, options?: AddrOptions): Promise<void> {
  const payload = encode(await indexOf(handle, link), cidr, options);
  await handle.socket.request(c.RTM_NEWADDR, payload, { op: `replace address ${cidr} on ${link} in ${handle.describe()}`, flags: c.NLM_F_CREATE | c.NLM_F_REPLACE });
}

/**
 * Remove an address from a link.
 * Equivalent to: `ip addr del <cidr> dev <link>`
 */
export async function addrDel(handle: Handle, link: LinkRef, cidr: string): Promise<void> {
  const payload = encode(await indexOf(handle, link), cidr, { broadcast: null });
  await handle.socket.request(c.RTM_DELADDR, payload, { op: `delete address ${cidr} from ${link} in ${handle.describe()}` });
}

/** Parse one RTM_NEWADDR payload. */
export function parseAddr(payload: Buffer): Addr {
  const message = rt.parseAddressMessage(payload);
  const family = payload.readUInt8(0);
  const prefixLength = payload.readUInt8(1);
  let flags = payload.readUInt8(2);
  forEachAttr(payload.subarray(8), (type, value) => {
    if (type === c.IFA_FLAGS) flags = value.readUInt32LE(0);
  });
  const bytes = message.attrs.local ?? message.attrs.address ?? Buffer.alloc(family === AF_INET ? 4 : 16);
  const address = formatIp(bytes);
  return {
    index: message.data.index ?? 0,
    family,
    cidr: `${address}/${prefixLength}`,
    address,
    prefixLength,
    label: message.attrs.label,
    broadcast: message.attrs.broadcast ? formatIp(message.attrs.broadcast) : undefined,
    scope: payload.readUInt8(3),
    flags,
  };
}

/**
 * List addresses, optionally of one link or family.
 * Equivalent to: `ip addr show [dev <link>]`
 */
export async function addrList(handle: Handle, filter: { link?: LinkRef; family?: number } = {}): Promise<Addr[]> {
  const index = filter.link === undefined ? undefined : await indexOf(handle, filter.link);
  const payload = addressMessage({ family: filter.family ?? 0, index: index ?? 0 }, {});
  const replies = await handle.socket.dump(c.RTM_GETADDR, payload, { op: `list addresses in ${handle.describe()}` });
  return replies
    .filter((r) => r.type === c.RTM_NEWADDR)
    .map((r) => parseAddr(r.payload))
    .filter((a) => index === undefined || a.index === index);
}
