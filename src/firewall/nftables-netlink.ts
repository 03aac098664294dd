/**
 * What the firewall does on every network create and delete and every connect and disconnect, over
 * nfnetlink directly: read which tables exist and one chain's rules (handle and comment), write
 * endpoint set elements (one batch, all or none), and delete conntrack entries (conntrack.ts).
 * libnftables builds its whole cache for each call (~1.3 ms for `list tables` against ~0.1 ms for
 * the one dump here, and a missing chain was a failed list). Everything else (tables, chains, rules,
 * the rebuild at engine start) still goes through libnftables (src/firewall/nft.ts).
 *
 * All of it shares one socket for the engine's life: closing a NETLINK_NETFILTER socket makes
 * nf_tables finish the cleanup of earlier transactions first (an RCU grace period, 4-15 ms measured
 * here, on the JS thread), so a socket per call cost more than the call.
 */
import { NetlinkSocket } from '../netlink/socket.js';
import { KernelError } from '../netlink/errors.js';
import { attr, forEachAttr, nfgenmsg } from '../netlink/codec.js';
import type { ElementChange, NftDirect } from './firewall.js';
import { ENDPOINT_SETS } from './ruleset.js';
import { parseIp } from '../netlink/ip.js';
import type { PublishedPort } from './ruleset.js';
import { conntrackDeletePorts } from './conntrack.js';

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
const NFT_MSG_NEWSETELEM = 12;
const NFT_MSG_DELSETELEM = 14;
const NFTA_SET_ELEM_LIST_TABLE = 1;
const NFTA_SET_ELEM_LIST_SET = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS = 3;
const NFTA_LIST_ELEM = 1;
const NFTA_SET_ELEM_KEY = 1;
const NFTA_DATA_VALUE = 1;
const NLA_F_NESTED = 0x8000;
const NLM_F_CREATE = 0x400;
const IFNAMSIZ = 16;
/** libnftnl's rule user data: type-length-value records; type 0 is the comment (NUL-terminated). */
const NFTNL_UDATA_RULE_COMMENT = 0;

/** nftables' family numbers (NFPROTO_*) by the names nft and libnftables' JSON use. */
const FAMILIES: Record<string, number> = { inet: 1, ip: 2, arp: 3, netdev: 5, bridge: 7, ip6: 10 };
const FAMILY_NAMES = Object.fromEntries(Object.entries(FAMILIES).map(([name, number]) => [number, name])) as Record<number, string>;

const type = (message: number) => (NFNL_SUBSYS_NFTABLES << 8) | message;
const cstring = (text: string) => Buffer.from(`${text}\0`);
const text = (value: Buffer) => value.toString('utf8').replace(/\0.*$/s, '');

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
 * One part of a set key as nftables stores it, padded to 32-bit registers as concatenations are:
 * ifname 16 bytes (NUL-padded), ether_addr 6 (+2), ipv4_addr 4, ipv6_addr 16, in network order.
 */
function keyPart(type: string, value: string): Buffer {
  switch (type) {
    case 'ifname': {
      const name = Buffer.from(value);
      if (name.length === 0 || name.length >= IFNAMSIZ) throw new Error(`set key: interface name ${JSON.stringify(value)} must be 1-15 bytes`);
      const out = Buffer.alloc(IFNAMSIZ);
      name.copy(out);
      return out;
    }
    case 'ether_addr': {
      if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(value)) throw new Error(`set key: ${JSON.stringify(value)} is not a MAC address`);
      const out = Buffer.alloc(8);
      value.split(':').forEach((byte, i) => out.writeUInt8(parseInt(byte, 16), i));
      return out;
    }
    case 'ipv4_addr':
    case 'ipv6_addr': {
      const ip = parseIp(value);
      if (ip.bytes.length !== (type === 'ipv4_addr' ? 4 : 16)) throw new Error(`set key: ${JSON.stringify(value)} is not an ${type === 'ipv4_addr' ? 'IPv4' : 'IPv6'} address`);
      return Buffer.from(ip.bytes);
    }
    default:
      throw new Error(`set key: no encoding for type ${type}`);
  }
}

/** A key of an endpoint set: its parts, encoded by the set's types (ENDPOINT_SETS). */
export function encodeSetKey(set: keyof typeof ENDPOINT_SETS, key: string[]): Buffer {
  const types = ENDPOINT_SETS[set] as readonly string[] | undefined;
  if (!types) throw new Error(`set key: there is no set ${set} of endpoints (${Object.keys(ENDPOINT_SETS).join(', ')})`);
  if (key.length !== types.length) throw new Error(`set ${set}: a key has ${types.length} part(s) (${types.join(' . ')}), not ${key.length}`);
  return Buffer.concat(types.map((type, i) => keyPart(type, key[i]!)));
}

/** NEWSETELEM or DELSETELEM of some elements of one set in a bridge-family table. */
function elementsMessage(op: 'add' | 'delete', table: string, set: string, keys: Buffer[]): { type: number; flags: number; payload: Buffer } {
  const list = Buffer.concat(keys.map((key) => attr(NFTA_LIST_ELEM | NLA_F_NESTED, attr(NFTA_SET_ELEM_KEY | NLA_F_NESTED, attr(NFTA_DATA_VALUE, key)))));
  return {
    type: type(op === 'add' ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM),
    flags: op === 'add' ? NLM_F_CREATE : 0,
    payload: Buffer.concat([nfgenmsg(FAMILIES.bridge!), attr(NFTA_SET_ELEM_LIST_TABLE, cstring(table)), attr(NFTA_SET_ELEM_LIST_SET, cstring(set)), attr(NFTA_SET_ELEM_LIST_ELEMENTS | NLA_F_NESTED, list)]),
  };
}

/**
 * The messages of one transaction of element changes, in the order asked for: a run of changes of
 * one kind to one set is one message; a delete is an add then a delete (nft's `destroy` is newer
 * than Debian 12's kernel), so an element that is not there counts as deleted.
 */
export function elementMessages(table: string, changes: ElementChange[]): Array<{ type: number; flags: number; payload: Buffer }> {
  const runs: Array<{ op: 'add' | 'delete'; set: keyof typeof ENDPOINT_SETS; keys: Buffer[] }> = [];
  for (const { op, element } of changes) {
    const last = runs.at(-1);
    const key = encodeSetKey(element.set, element.key);
    if (last && last.op === op && last.set === element.set) last.keys.push(key);
    else runs.push({ op, set: element.set, keys: [key] });
  }
  return runs.flatMap(({ op, set, keys }) => (op === 'add' ? [elementsMessage('add', table, set, keys)] : [elementsMessage('add', table, set, keys), elementsMessage('delete', table, set, keys)]));
}

/**
 * The engine's nfnetlink socket, opened at its first use and kept until close: the firewall's reads,
 * and the conntrack entries of unpublished ports deleted.
 */
export class NetfilterSocket implements NftDirect {
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

  /**
   * Add or delete endpoint set elements of the bridge-family table `table` in one nftables
   * transaction (all or none).
   * Equivalent to: `nft add element bridge TABLE SET { KEY }` / `nft delete element …`, in one batch
   */
  async setElements(table: string, changes: ElementChange[]): Promise<void> {
    const messages = elementMessages(table, changes);
    if (messages.length === 0) return;
    await (await this.open()).nfBatch(NFNL_SUBSYS_NFTABLES, messages, { op: `update the endpoint sets of bridge table ${table}` });
  }

  /** Delete the conntrack entries published ports translated; how many went. */
  async forgetFlows(ports: PublishedPort[]): Promise<number> {
    return ports.length ? conntrackDeletePorts(ports, await this.open()) : 0;
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
