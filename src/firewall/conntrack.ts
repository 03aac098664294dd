/**
 * Conntrack entries of a published port, deleted when the mapping goes away: otherwise a UDP flow
 * (or any flow still in the table) keeps being translated to the old target until it times out.
 * ctnetlink over Switchyard's own netlink transport: a dump of the table, then one delete per
 * matching entry, all in the engine's namespace; no `conntrack` process.
 */
import { NetlinkSocket } from '../netlink/socket.js';
import { AF_INET } from '../netlink/ip.js';
import { attr, forEachAttr } from '../netlink/codec.js';

const NETLINK_NETFILTER = 12;
const NFNL_SUBSYS_CTNETLINK = 1;
const IPCTNL_MSG_CT_GET = 1;
const IPCTNL_MSG_CT_DELETE = 2;
const NFNETLINK_V0 = 0;
const CTA_TUPLE_ORIG = 1;
const CTA_TUPLE_PROTO = 2;
const CTA_PROTO_NUM = 1;
const CTA_PROTO_DST_PORT = 3;
const NLA_F_NESTED = 0x8000;
const PROTOCOLS = { tcp: 6, udp: 17 } as const;

/** nfgenmsg: family, version, resource id (big endian). */
function nfgenmsg(family: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt8(family, 0);
  out.writeUInt8(NFNETLINK_V0, 1);
  return out;
}

/** The original-direction protocol and destination port of one dumped entry, with its raw tuple. */
function parseEntry(payload: Buffer): { proto: number; dport: number; tuple: Buffer } | undefined {
  let result: { proto: number; dport: number; tuple: Buffer } | undefined;
  forEachAttr(payload.subarray(4), (type, value) => {
    if (type !== CTA_TUPLE_ORIG) return;
    let proto = -1;
    let dport = -1;
    forEachAttr(value, (inner, data) => {
      if (inner !== CTA_TUPLE_PROTO) return;
      forEachAttr(data, (key, field) => {
        if (key === CTA_PROTO_NUM) proto = field.readUInt8(0);
        if (key === CTA_PROTO_DST_PORT) dport = field.readUInt16BE(0);
      });
    });
    result = { proto, dport, tuple: value };
  });
  return result;
}

/**
 * Delete the IPv4 conntrack entries whose original direction went to `port` over `proto` (the flows
 * a published port translated). Returns how many were deleted; entries already gone count as done.
 * Equivalent to: `conntrack -D -f ipv4 -p PROTO --orig-port-dst PORT`
 */
export async function conntrackDeletePort(proto: 'tcp' | 'udp', port: number): Promise<number> {
  const socket = await NetlinkSocket.open(null, NETLINK_NETFILTER, 'ctnetlink');
  try {
    const type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
    const entries = await socket.dump(type, nfgenmsg(AF_INET), { op: 'list conntrack entries' });
    const matching = entries
      .map((reply) => parseEntry(reply.payload))
      .filter((entry): entry is NonNullable<typeof entry> => entry !== undefined && entry.proto === PROTOCOLS[proto] && entry.dport === port);
    const deletes = matching.map((entry) => {
      const body = Buffer.concat([nfgenmsg(AF_INET), attr(CTA_TUPLE_ORIG | NLA_F_NESTED, entry.tuple)]);
      return socket
        .request((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE, body, { op: `delete conntrack entry of ${proto} port ${port}` })
        .then(
          () => 1,
          (error: Error & { code?: string }) => (error.code === 'ENOENT' ? 0 : Promise.reject(error)),
        );
    });
    return (await Promise.all(deletes)).reduce((sum, n) => sum + n, 0);
  } finally {
    socket.close();
  }
}
