/** Neighbours (ARP/NDP entries) and bridge forwarding database entries (family `bridge`). */
import type { Handle } from './handle.js';
import { AF_BRIDGE, formatIp, formatMac, parseIp, parseMac } from './ip.js';
import { ValidationError } from './errors.js';
import { attr, forEachAttr, neighborMessage, rt, u32 } from './codec.js';
import { linkByName, type LinkRef } from './link.js';
import * as c from './constants.js';

/** A neighbour or FDB entry to add or delete. */
export interface NeighSpec {
  link: LinkRef;
  /** IP address (ARP/NDP entry), or for an FDB entry on a VXLAN device the remote VTEP. */
  ip?: string;
  mac?: string;
  /** `bridge` for FDB entries; otherwise the IP's family. */
  family?: 'inet' | 'inet6' | 'bridge';
  /** Default `permanent`. */
  state?: 'permanent' | 'reachable' | 'stale' | 'noarp';
  /** NTF_SELF: the entry belongs to the device itself (a VXLAN FDB); NTF_MASTER: to its bridge. */
  self?: boolean;
  master?: boolean;
  vni?: number;
}

/** A neighbour or FDB entry as the kernel reports it. */
export interface Neigh {
  family: number;
  linkIndex: number;
  ip?: string;
  mac?: string;
  state: number;
  flags: number;
  masterIndex?: number;
  vni?: number;
}

const STATES = { permanent: c.NUD_PERMANENT, reachable: c.NUD_REACHABLE, stale: c.NUD_STALE, noarp: c.NUD_NOARP } as const;

async function encode(handle: Handle, spec: NeighSpec): Promise<Buffer> {
  const ip = spec.ip === undefined ? undefined : parseIp(spec.ip, 'ip');
  const family = spec.family === 'bridge' ? AF_BRIDGE : ip?.family;
  if (family === undefined) throw new ValidationError('ip', 'a neighbour entry needs an IP address, or family bridge for an FDB entry');
  if (family === AF_BRIDGE && spec.mac === undefined) throw new ValidationError('mac', 'an FDB entry needs a MAC address');
  const ifindex = typeof spec.link === 'number' ? spec.link : (await linkByName(handle, spec.link)).index;
  const flags = (spec.self ? c.NTF_SELF : 0) | (spec.master ? c.NTF_MASTER : 0);
  const data = { family, ifindex, state: rt.parseNeighborState(STATES[spec.state ?? 'permanent']), flags: rt.parseNeighborFlags(flags), type: 0 } as rt.Neighbor;
  const attrs: rt.NeighborAttrs = {};
  if (ip) attrs.dst = ip.bytes;
  if (spec.mac !== undefined) attrs.lladdr = parseMac(spec.mac, 'mac');
  const extra = spec.vni !== undefined ? [attr(c.NDA_VNI, u32(spec.vni))] : [];
  return neighborMessage(data, attrs, extra);
}

function describe(spec: NeighSpec): string {
  return `${spec.ip ?? ''}${spec.ip && spec.mac ? ' ' : ''}${spec.mac ?? ''} dev ${spec.link}`;
}

async function send(handle: Handle, spec: NeighSpec, type: number, flags: number, verb: string): Promise<void> {
  await handle.socket.request(type, await encode(handle, spec), { op: `${verb} ${spec.family === 'bridge' ? 'fdb entry' : 'neighbour'} ${describe(spec)} in ${handle.describe()}`, flags });
}

/**
 * Add a neighbour or FDB entry; fails if it exists.
 * Equivalent to: `ip neigh add <ip> lladdr <mac> dev <link>` / `bridge fdb add <mac> dev <link> [dst <ip>]`
 */
export function neighAdd(handle: Handle, spec: NeighSpec): Promise<void> {
  return send(handle, spec, c.RTM_NEWNEIGH, c.NLM_F_CREATE | c.NLM_F_EXCL, 'add');
}

/**
 * Add or replace a neighbour or FDB entry.
 * Equivalent to: `ip neigh replace <ip> lladdr <mac> dev <link>` / `bridge fdb replace ...`
 */
export function neighSet(handle: Handle, spec: NeighSpec): Promise<void> {
  return send(handle, spec, c.RTM_NEWNEIGH, c.NLM_F_CREATE | c.NLM_F_REPLACE, 'set');
}

/**
 * Append an FDB entry (one more remote for a MAC: a VXLAN flood list).
 * Equivalent to: `bridge fdb append <mac> dev <link> dst <ip>`
 */
export function neighAppend(handle: Handle, spec: NeighSpec): Promise<void> {
  return send(handle, spec, c.RTM_NEWNEIGH, c.NLM_F_CREATE | c.NLM_F_APPEND, 'append');
}

/**
 * Delete a neighbour or FDB entry.
 * Equivalent to: `ip neigh del <ip> dev <link>` / `bridge fdb del <mac> dev <link>`
 */
export function neighDel(handle: Handle, spec: NeighSpec): Promise<void> {
  return send(handle, spec, c.RTM_DELNEIGH, 0, 'delete');
}

/** Parse one RTM_NEWNEIGH payload. */
export function parseNeigh(payload: Buffer): Neigh {
  const neigh: Neigh = { family: payload.readUInt8(0), linkIndex: payload.readInt32LE(4), state: payload.readUInt16LE(8), flags: payload.readUInt8(10) };
  forEachAttr(payload.subarray(12), (type, value) => {
    if (type === c.NDA_DST) neigh.ip = formatIp(value);
    else if (type === c.NDA_LLADDR && value.length === 6) neigh.mac = formatMac(value);
    else if (type === c.NDA_MASTER) neigh.masterIndex = value.readUInt32LE(0);
    else if (type === c.NDA_VNI) neigh.vni = value.readUInt32LE(0);
  });
  return neigh;
}

/**
 * List neighbour entries (or FDB entries with family `bridge`).
 * Equivalent to: `ip neigh show` / `bridge fdb show`
 */
export async function neighList(handle: Handle, filter: { family?: 'inet' | 'inet6' | 'bridge'; link?: LinkRef } = {}): Promise<Neigh[]> {
  const family = filter.family === 'bridge' ? AF_BRIDGE : filter.family === 'inet6' ? 10 : filter.family === 'inet' ? 2 : 0;
  const replies = await handle.socket.dump(c.RTM_GETNEIGH, neighborMessage({ family } as rt.Neighbor, {}), { op: `list neighbours in ${handle.describe()}` });
  const linkIndex = filter.link === undefined ? undefined : typeof filter.link === 'number' ? filter.link : (await linkByName(handle, filter.link)).index;
  return replies
    .filter((r) => r.type === c.RTM_NEWNEIGH)
    .map((r) => parseNeigh(r.payload))
    .filter((n) => linkIndex === undefined || n.linkIndex === linkIndex);
}
