/** Routes. */
import type { Handle } from './handle.js';
import { AF_INET, AF_INET6, formatIp, parseCidr, parseIp } from './ip.js';
import { ValidationError } from './errors.js';
import { attr, forEachAttr, routeMessage, rt, u32 } from './codec.js';
import { linkByName, type LinkRef } from './link.js';
import * as c from './constants.js';

/** A route to add or delete. */
export interface RouteSpec {
  /** `default`, a CIDR, or a bare address (host route). */
  dst: string;
  gateway?: string;
  /** Output link. */
  link?: LinkRef;
  table?: number;
  metric?: number;
  /** Preferred source address. */
  src?: string;
  mtu?: number;
  /** Defaults: `link` when there is no gateway, else `universe`. */
  scope?: 'universe' | 'link' | 'host';
  type?: 'unicast' | 'blackhole' | 'unreachable';
  /** Routing protocol number (RTPROT_*); default `boot`, as `ip route add`. */
  protocol?: number;
}

/** A route as the kernel reports it. */
export interface Route {
  family: number;
  /** `default` or a CIDR. */
  dst: string;
  gateway?: string;
  linkIndex?: number;
  table: number;
  metric?: number;
  src?: string;
  scope: number;
  type: number;
  protocol: number;
}

/** In a delete: match a route of any scope, as `ip route del` asks (fib_table_delete). */
const RT_SCOPE_NOWHERE = 255;
const SCOPES = { universe: c.RT_SCOPE_UNIVERSE, link: c.RT_SCOPE_LINK, host: c.RT_SCOPE_HOST } as const;
const TYPES = { unicast: c.RTN_UNICAST, blackhole: c.RTN_BLACKHOLE, unreachable: c.RTN_UNREACHABLE } as const;

async function encode(handle: Handle, spec: RouteSpec, forDelete = false): Promise<Buffer> {
  const gateway = spec.gateway === undefined ? undefined : parseIp(spec.gateway, 'gateway');
  let family = gateway?.family;
  let dstBytes: Buffer | undefined;
  let dstLength = 0;
  if (spec.dst !== 'default') {
    const dst = parseCidr(spec.dst, 'dst');
    family = dst.family;
    dstBytes = dst.bytes;
    dstLength = dst.prefixLength;
  }
  if (family === undefined) throw new ValidationError('dst', 'a default route needs a gateway or an address family');
  if (gateway && gateway.family !== family) throw new ValidationError('gateway', `${spec.gateway} is not of the same family as ${spec.dst}`);
  const linkIndex = spec.link === undefined ? undefined : typeof spec.link === 'number' ? spec.link : (await linkByName(handle, spec.link)).index;
  const table = spec.table ?? c.RT_TABLE_MAIN;
  const type = TYPES[spec.type ?? 'unicast'];
  const scope = spec.scope ? SCOPES[spec.scope] : gateway || type !== c.RTN_UNICAST || linkIndex === undefined ? c.RT_SCOPE_UNIVERSE : c.RT_SCOPE_LINK;
  const data: rt.Route = {
    family,
    dstLen: dstLength,
    table: table < 256 ? table : 0,
    protocol: forDelete ? 0 : (spec.protocol ?? c.RTPROT_BOOT),
    scope: forDelete && !spec.scope ? RT_SCOPE_NOWHERE : scope,
    type,
  } as rt.Route;
  const attrs: rt.RouteAttrs = {};
  if (dstBytes) attrs.dst = dstBytes;
  if (gateway) attrs.gateway = gateway.bytes;
  if (linkIndex !== undefined) attrs.oif = linkIndex;
  if (spec.metric !== undefined) attrs.priority = spec.metric;
  if (spec.src !== undefined) attrs.prefsrc = parseIp(spec.src, 'src').bytes;
  if (table >= 256) attrs.table = table;
  const extra = spec.mtu !== undefined ? [attr(c.RTA_METRICS, attr(c.RTAX_MTU, u32(spec.mtu)))] : [];
  return routeMessage(data, attrs, extra);
}

function describe(spec: RouteSpec): string {
  return `${spec.dst}${spec.gateway ? ` via ${spec.gateway}` : ''}${spec.link !== undefined ? ` dev ${spec.link}` : ''}`;
}

/**
 * Add a route.
 * Equivalent to: `ip route add <dst> [via <gw>] [dev <link>] [table T] [metric M]`
 */
export async function routeAdd(handle: Handle, spec: RouteSpec): Promise<void> {
  await handle.socket.request(c.RTM_NEWROUTE, await encode(handle, spec), { op: `add route ${describe(spec)} in ${handle.describe()}`, flags: c.NLM_F_CREATE | c.NLM_F_EXCL });
}

/**
 * Add a route or replace the one with the same destination.
 * Equivalent to: `ip route replace <dst> [via <gw>] [dev <link>]`
 */
export async function routeReplace(handle: Handle, spec: RouteSpec): Promise<void> {
  await handle.socket.request(c.RTM_NEWROUTE, await encode(handle, spec), { op: `replace route ${describe(spec)} in ${handle.describe()}`, flags: c.NLM_F_CREATE | c.NLM_F_REPLACE });
}

/**
 * Delete a route.
 * Equivalent to: `ip route del <dst> [via <gw>] [dev <link>]`
 */
export async function routeDel(handle: Handle, spec: RouteSpec): Promise<void> {
  await handle.socket.request(c.RTM_DELROUTE, await encode(handle, spec, true), { op: `delete route ${describe(spec)} in ${handle.describe()}` });
}

/** Parse one RTM_NEWROUTE payload. */
export function parseRoute(payload: Buffer): Route {
  const family = payload.readUInt8(0);
  const dstLength = payload.readUInt8(1);
  let table = payload.readUInt8(4);
  const route: Route = { family, dst: 'default', table, scope: payload.readUInt8(6), type: payload.readUInt8(7), protocol: payload.readUInt8(5) };
  forEachAttr(payload.subarray(12), (type, value) => {
    if (type === c.RTA_DST) route.dst = `${formatIp(value)}/${dstLength}`;
    else if (type === c.RTA_GATEWAY) route.gateway = formatIp(value);
    else if (type === c.RTA_OIF) route.linkIndex = value.readUInt32LE(0);
    else if (type === c.RTA_PRIORITY) route.metric = value.readUInt32LE(0);
    else if (type === c.RTA_PREFSRC) route.src = formatIp(value);
    else if (type === c.RTA_TABLE) table = value.readUInt32LE(0);
  });
  route.table = table;
  return route;
}

/**
 * List routes of a family (default IPv4), in the main table unless another is asked for.
 * Equivalent to: `ip [-6] route show [table T]`
 */
export async function routeList(handle: Handle, filter: { family?: number; table?: number | 'all'; link?: LinkRef } = {}): Promise<Route[]> {
  const family = filter.family ?? AF_INET;
  if (family !== AF_INET && family !== AF_INET6) throw new ValidationError('family', `${family} is not AF_INET or AF_INET6`);
  const replies = await handle.socket.dump(c.RTM_GETROUTE, routeMessage({ family } as rt.Route, {}), { op: `list routes in ${handle.describe()}` });
  const table = filter.table ?? c.RT_TABLE_MAIN;
  const linkIndex = filter.link === undefined ? undefined : typeof filter.link === 'number' ? filter.link : (await linkByName(handle, filter.link)).index;
  return replies
    .filter((r) => r.type === c.RTM_NEWROUTE)
    .map((r) => parseRoute(r.payload))
    .filter((r) => (table === 'all' || r.table === table) && (linkIndex === undefined || r.linkIndex === linkIndex));
}
