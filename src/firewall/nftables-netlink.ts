/**
 * What the firewall reads on every network create and delete, read over nfnetlink directly: which
 * tables exist, and one chain's rules (handle and comment). libnftables builds its whole cache for
 * each list (~1.3 ms for `list tables` against ~0.1 ms for the one dump here, and a missing chain
 * was a failed list). Changes still go through libnftables (src/firewall/nft.ts). Its socket also
 * serves conntrack deletes (src/firewall/conntrack.ts).
 *
 * The reads share one socket for the engine's life: closing a NETLINK_NETFILTER socket makes
 * nf_tables finish the cleanup of earlier transactions first (an RCU grace period, 4-15 ms measured
 * here, on the JS thread), so a socket per read cost more than the read.
 */
import { NetlinkSocket } from '../netlink/socket.js';
import { KernelError } from '../netlink/errors.js';
import { attr, forEachAttr } from '../netlink/codec.js';
import type { NftReader } from './firewall.js';
import type { PublishedPort } from './ruleset.js';
import { conntrackDeletePort } from './conntrack.js';

const NETLINK_NETFILTER = 12;
const NFNL_SUBSYS_NFTABLES = 10;
const NFT_MSG_GETTABLE = 1;
const NFT_MSG_GETCHAIN = 4;
const NFT_MSG_GETRULE = 7;
const NFTA_TABLE_NAME = 1;
const NFTA_CHAIN_TABLE = 1;
const NFTA_CHAIN_NAME = 3;
const NFTA_RULE_TABLE = 1;
const NFTA_RULE_CHAIN = 2;
const NFTA_RULE_HANDLE = 3;
const NFTA_RULE_USERDATA = 7;
/** libnftnl's rule user data: type-length-value records; type 0 is the comment (NUL-terminated). */
const NFTNL_UDATA_RULE_COMMENT = 0;

/** nftables' family numbers (NFPROTO_*) by the names nft and libnftables' JSON use. */
const FAMILIES: Record<string, number> = { inet: 1, ip: 2, arp: 3, netdev: 5, bridge: 7, ip6: 10 };
const FAMILY_NAMES = Object.fromEntries(Object.entries(FAMILIES).map(([name, number]) => [number, name])) as Record<number, string>;

const type = (message: number) => (NFNL_SUBSYS_NFTABLES << 8) | message;
const cstring = (text: string) => Buffer.from(`${text}\0`);
const text = (value: Buffer) => value.toString('utf8').replace(/\0.*$/s, '');

/** nfgenmsg: family, version 0, resource id 0. */
function nfgenmsg(family: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt8(family, 0);
  return out;
}

function familyNumber(family: string): number {
  const number = FAMILIES[family];
  if (number === undefined) throw new Error(`unknown nftables family ${JSON.stringify(family)}`);
  return number;
}

/**
 * Every table in the engine's network namespace, of every family.
 * Equivalent to: `nft list tables`
 */
async function tableNames(socket: NetlinkSocket): Promise<Array<{ family: string; name: string }>> {
  const replies = await socket.dump(type(NFT_MSG_GETTABLE), nfgenmsg(0), { op: 'list nftables tables' });
  const tables: Array<{ family: string; name: string }> = [];
  for (const reply of replies) {
    const family = FAMILY_NAMES[reply.payload.readUInt8(0)] ?? String(reply.payload.readUInt8(0));
    forEachAttr(reply.payload.subarray(4), (kind, value) => {
      if (kind === NFTA_TABLE_NAME) tables.push({ family, name: text(value) });
    });
  }
  return tables;
}

function comment(userdata: Buffer): string | undefined {
  for (let at = 0; at + 2 <= userdata.length; ) {
    const kind = userdata.readUInt8(at);
    const length = userdata.readUInt8(at + 1);
    if (kind === NFTNL_UDATA_RULE_COMMENT) return text(userdata.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return undefined;
}

/**
 * One chain's rules, each with its handle and comment; null when the table or chain does not exist.
 * Equivalent to: `nft -a list chain FAMILY TABLE CHAIN`
 */
async function chainRules(socket: NetlinkSocket, family: string, table: string, chain: string): Promise<Array<{ handle: number; comment?: string }> | null> {
  const number = familyNumber(family);
  try {
    await socket.request(type(NFT_MSG_GETCHAIN), Buffer.concat([nfgenmsg(number), attr(NFTA_CHAIN_TABLE, cstring(table)), attr(NFTA_CHAIN_NAME, cstring(chain))]), {
      op: `get nftables chain ${family} ${table} ${chain}`,
    });
  } catch (error) {
    if (error instanceof KernelError && error.code === 'ENOENT') return null;
    throw error;
  }
  // A dump filtered to the chain (a chain removed meanwhile lists as no rules).
  const replies = await socket.dump(type(NFT_MSG_GETRULE), Buffer.concat([nfgenmsg(number), attr(NFTA_RULE_TABLE, cstring(table)), attr(NFTA_RULE_CHAIN, cstring(chain))]), {
    op: `list nftables chain ${family} ${table} ${chain}`,
  });
  return replies.map((reply) => {
    const rule: { handle: number; comment?: string } = { handle: 0 };
    forEachAttr(reply.payload.subarray(4), (kind, value) => {
      if (kind === NFTA_RULE_HANDLE) rule.handle = Number(value.readBigUInt64BE(0));
      if (kind === NFTA_RULE_USERDATA) {
        const found = comment(value);
        if (found !== undefined) rule.comment = found;
      }
    });
    return rule;
  });
}

/**
 * The engine's nfnetlink socket, opened at its first use and kept until close: the firewall's reads,
 * and the conntrack entries of unpublished ports deleted.
 */
export class NetfilterReader implements NftReader {
  private socket: Promise<NetlinkSocket> | undefined;

  private open(): Promise<NetlinkSocket> {
    if (!this.socket) {
      const opening = NetlinkSocket.open(null, NETLINK_NETFILTER, 'nfnetlink');
      this.socket = opening;
      // A failed open is not kept: the next read tries again.
      opening.catch(() => {
        if (this.socket === opening) this.socket = undefined;
      });
    }
    return this.socket;
  }

  /** Equivalent to: `nft list tables` */
  async tables(): Promise<Array<{ family: string; name: string }>> {
    return tableNames(await this.open());
  }

  /**
   * One chain's rules, each with its handle and comment; null when the table or chain does not exist.
   * Equivalent to: `nft -a list chain FAMILY TABLE CHAIN`
   */
  async chainRules(family: string, table: string, chain: string): Promise<Array<{ handle: number; comment?: string }> | null> {
    return chainRules(await this.open(), family, table, chain);
  }

  /** Delete the conntrack entries published ports translated; how many went. */
  async forgetFlows(ports: PublishedPort[]): Promise<number> {
    let deleted = 0;
    for (const port of ports) deleted += await conntrackDeletePort(port, await this.open());
    return deleted;
  }

  /** Close the socket once its reads are answered; a later read opens a new one. */
  close(): void {
    const socket = this.socket;
    this.socket = undefined;
    void socket?.then(
      (open) => open.close(),
      () => undefined,
    );
  }
}
