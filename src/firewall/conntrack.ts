/**
 * Conntrack entries of a published port, deleted when the mapping goes away: otherwise a UDP flow
 * (or any flow still in the table) keeps being translated to the old target until it times out.
 * ctnetlink over Switchyard's own netlink transport: a dump of the table, then one delete per
 * matching entry, all in the engine's namespace; no `conntrack` process.
 */
import { NetlinkSocket } from '../netlink/socket.js';
import net from 'node:net';
import { AF_INET, AF_INET6, formatIp, parseIp } from '../netlink/ip.js';
import type { PublishedPort } from './ruleset.js';
import { attr, forEachAttr, nfgenmsg } from '../netlink/codec.js';

const NFNL_SUBSYS_CTNETLINK = 1;
const IPCTNL_MSG_CT_GET = 1;
const IPCTNL_MSG_CT_DELETE = 2;
const CTA_TUPLE_ORIG = 1;
const CTA_TUPLE_REPLY = 2;
const CTA_TUPLE_IP = 1;
const CTA_TUPLE_PROTO = 2;
const CTA_IP_V4_SRC = 1;
const CTA_IP_V6_SRC = 3;
const CTA_PROTO_SRC_PORT = 2;
const CTA_PROTO_NUM = 1;
const CTA_PROTO_DST_PORT = 3;
const NLA_F_NESTED = 0x8000;
const PROTOCOLS = { tcp: 6, udp: 17 } as const;

interface Entry {
  proto: number;
  /** Original direction: the destination port (the host port of a published port). */
  dport: number;
  /** Reply direction: the source address and port (the endpoint a DNAT sent the flow to). */
  replySrc: string;
  replySport: number;
  tuple: Buffer;
}

function parseTuple(value: Buffer): { proto: number; src: string; sport: number; dport: number } {
  const tuple = { proto: -1, src: '', sport: -1, dport: -1 };
  forEachAttr(value, (inner, data) => {
    if (inner === CTA_TUPLE_IP) {
      forEachAttr(data, (key, field) => {
        if (key === CTA_IP_V4_SRC || key === CTA_IP_V6_SRC) tuple.src = formatIp(field);
      });
    }
    if (inner === CTA_TUPLE_PROTO) {
      forEachAttr(data, (key, field) => {
        if (key === CTA_PROTO_NUM) tuple.proto = field.readUInt8(0);
        if (key === CTA_PROTO_SRC_PORT) tuple.sport = field.readUInt16BE(0);
        if (key === CTA_PROTO_DST_PORT) tuple.dport = field.readUInt16BE(0);
      });
    }
  });
  return tuple;
}

/** One dumped entry: what a published port's flows are matched on, with the raw original tuple. */
function parseEntry(payload: Buffer): Entry | undefined {
  let orig: (ReturnType<typeof parseTuple> & { raw: Buffer }) | undefined;
  let reply: ReturnType<typeof parseTuple> | undefined;
  forEachAttr(payload.subarray(4), (type, value) => {
    if (type === CTA_TUPLE_ORIG) orig = { ...parseTuple(value), raw: value };
    if (type === CTA_TUPLE_REPLY) reply = parseTuple(value);
  });
  if (!orig || !reply) return undefined;
  return { proto: orig.proto, dport: orig.dport, replySrc: reply.src, replySport: reply.sport, tuple: orig.raw };
}

/**
 * Delete the conntrack entries published ports translated: over a port's protocol, to its host port,
 * answered by its target (so flows of the endpoint's own to some port elsewhere are left alone).
 * One dump of the table per address family, however many ports (a published range can be
 * thousands). Returns how many were deleted; entries already gone count as done. `socket` is a
 * NETLINK_NETFILTER socket of the engine's namespace, kept open (src/firewall/nftables-netlink.ts
 * says why).
 * Equivalent to, per port: `conntrack -D -f ipv4|ipv6 -p PROTO --orig-port-dst HOSTPORT --reply-src TARGET --reply-port-src PORT`
 */
export async function conntrackDeletePorts(ports: PublishedPort[], socket: NetlinkSocket): Promise<number> {
  const key = (proto: number, hostPort: number, target: string, targetPort: number) => `${proto}/${hostPort}/${target}/${targetPort}`;
  let deleted = 0;
  for (const family of [AF_INET, AF_INET6]) {
    const wanted = new Set(
      ports
        .filter((port) => net.isIPv6(port.target) === (family === AF_INET6))
        .map((port) => key(PROTOCOLS[port.proto], port.hostPort, formatIp(parseIp(port.target).bytes), port.targetPort)),
    );
    if (wanted.size === 0) continue;
    const entries = await socket.dump((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET, nfgenmsg(family), { op: 'list conntrack entries' });
    const matching = entries
      .map((reply) => parseEntry(reply.payload))
      .filter((entry): entry is Entry => entry !== undefined && wanted.has(key(entry.proto, entry.dport, entry.replySrc, entry.replySport)));
    const deletes = matching.map((entry) => {
      const body = Buffer.concat([nfgenmsg(family), attr(CTA_TUPLE_ORIG | NLA_F_NESTED, entry.tuple)]);
      return socket
        .request((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE, body, { op: `delete conntrack entry of port ${entry.dport} to ${entry.replySrc}` })
        .then(
          () => 1,
          (error: Error & { code?: string }) => (error.code === 'ENOENT' ? 0 : Promise.reject(error)),
        );
    });
    deleted += (await Promise.all(deletes)).reduce((sum, n) => sum + n, 0);
  }
  return deleted;
}
