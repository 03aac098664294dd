/** Links: create, change, delete, read. Names follow vishvananda/netlink, in camelCase. */
import type { Handle } from './handle.js';
import { writeFileSync } from 'node:fs';
import { native } from '../../native/index.js';
import { NetlinkError, ValidationError, fromNative, isNotFound } from './errors.js';
import { checkInterfaceName } from './names.js';
import { formatMac, parseIp, parseMac, AF_INET, AF_INET6 } from './ip.js';
import { attr, cstring, forEachAttr, ifla, linkMessage, rt, u16be, u32, u8 } from './codec.js';
import * as c from './constants.js';

/** A link named by its name or its index (in the handle's namespace). */
export type LinkRef = string | number;

/** Attributes every new link may carry. */
export interface LinkAttrsSpec {
  name: string;
  mtu?: number;
  /** MAC address `aa:bb:cc:dd:ee:ff`; set explicitly so it never flaps. */
  hardwareAddr?: string;
  up?: boolean;
  /** Bridge (or other master) to enslave to, in the handle's namespace. */
  master?: LinkRef;
  /** Free text kept on the link: Switchyard records ownership here. */
  alias?: string;
  /** Device group: links of one group can be deleted in one request (linkDelGroup). */
  group?: number;
  txQueueLen?: number;
  /** Create the link directly in this namespace (fd of a namespace file). */
  netnsFd?: number;
  /** Ask for this ifindex (fails with EEXIST if taken). */
  index?: number;
  /** Per-interface IPv4 settings (what /proc/sys/net/ipv4/conf/NAME holds), set over netlink. */
  ip4Conf?: Ip4Conf;
  /** How IPv6 link-local addresses are made; `none`: no link-local, so no DAD or MLD traffic. */
  ip6AddrGenMode?: Ip6AddrGenMode;
}

/** Per-interface IPv4 settings, as in /proc/sys/net/ipv4/conf/NAME. */
export interface Ip4Conf {
  forwarding?: boolean;
  proxyArp?: boolean;
  /** 0 off, 1 strict, 2 loose. */
  rpFilter?: 0 | 1 | 2;
  /** Announce the interface (gratuitous ARP) when it comes up or its MAC changes. */
  arpNotify?: boolean;
  /** Route 127/8 on this interface (published ports reached from localhost). */
  routeLocalnet?: boolean;
}

export type Ip6AddrGenMode = keyof typeof c.IN6_ADDR_GEN_MODES;

/** The far end of a veth pair. */
export interface VethPeerSpec {
  name: string;
  /** Create the peer directly inside this namespace (fd), so it never has to be moved. */
  netnsFd?: number;
  hardwareAddr?: string;
  mtu?: number;
  // No `up`: the kernel opens the peer before it is paired (veth_open then fails with ENOTCONN),
  // so the peer is set up from inside its namespace, where its other settings go anyway.
  /** Ask for this ifindex; the kernel honours it only when the link's own `index` is given too (veth_newlink). */
  index?: number;
  group?: number;
  /** TX and RX queues of the peer (default 1, see VethSpec.queues). */
  queues?: number;
}

export interface VethSpec extends LinkAttrsSpec {
  kind: 'veth';
  peer: VethPeerSpec;
  /**
   * TX and RX queues (default 1). Given at creation, the kernel allocates that many; left out, it
   * allocates one per possible CPU and then cuts the device down to one in use, which waits for an
   * expedited RCU grace period per end under rtnl_lock (netif_set_real_num_tx_queues): the slowest,
   * most variable part of making a veth pair on a busy machine (docs/benchmarks.md).
   */
  queues?: number;
}

export interface BridgeSpec extends LinkAttrsSpec {
  kind: 'bridge';
  /** Spanning tree on or off (default off: ports forward at once). */
  stp?: boolean;
  /** Forward delay in hundredths of a second (STP only). */
  forwardDelay?: number;
  /** FDB ageing time in hundredths of a second. */
  ageingTime?: number;
  vlanFiltering?: boolean;
  /**
   * IGMP/MLD snooping (default off; the kernel's default is on). With it on, every port that comes
   * up re-arms the multicast timers of every port of the bridge (br_port_state_selection ->
   * br_multicast_enable_port) and each port's query timers then fire: work per attach that grows
   * with the number of ports (docs/benchmarks.md). Off, multicast is flooded to every port, as
   * broadcast is; with it on and no querier on the segment the bridge floods unregistered groups
   * anyway.
   */
  mcastSnooping?: boolean;
}

export type MacvlanMode = keyof typeof c.MACVLAN_MODES;

export interface MacvlanSpec extends LinkAttrsSpec {
  kind: 'macvlan';
  /** The parent interface. */
  parent: LinkRef;
  mode?: MacvlanMode;
}

export interface VxlanSpec extends LinkAttrsSpec {
  kind: 'vxlan';
  vni: number;
  /** UDP destination port (default 4789, the IANA port). */
  port?: number;
  local?: string;
  /** Remote VTEP: a unicast address or a multicast group (`ip link ... remote|group`). */
  remote?: string;
  /** Underlay device. */
  vtepDev?: LinkRef;
  learning?: boolean;
  proxy?: boolean;
  l2miss?: boolean;
  l3miss?: boolean;
  ttl?: number;
}

/** What linkAdd can create: a union keyed on `kind`. */
export type LinkSpec = VethSpec | BridgeSpec | MacvlanSpec | VxlanSpec;

/** A link as the kernel reports it. */
export interface Link {
  index: number;
  name: string;
  /** Link kind (`veth`, `bridge`, …); undefined for physical devices and loopback. */
  kind?: string;
  /** Kind of the master's port data (`bridge` for a bridge port). */
  slaveKind?: string;
  mtu: number;
  hardwareAddr?: string;
  flags: number;
  up: boolean;
  lowerUp: boolean;
  operState: string;
  masterIndex?: number;
  /** IFLA_LINK: the parent (macvlan) or the peer's index (veth). */
  parentIndex?: number;
  /** Set when the parent/peer lives in another namespace. */
  linkNetnsId?: number;
  alias?: string;
  group: number;
  txQueueLen?: number;
  altNames: string[];
}

const OPER_STATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'];

function describe(ref: LinkRef): string {
  return typeof ref === 'number' ? `#${ref}` : ref;
}

/** ifinfomsg + the name attribute when a link is named rather than numbered. */
function select(ref: LinkRef, data: rt.Link = {}, attrs: ifla.LinkAttrs = {}): { data: rt.Link; attrs: ifla.LinkAttrs } {
  if (typeof ref === 'number') return { data: { ...data, index: ref }, attrs };
  checkInterfaceName(ref, 'link');
  return { data: { ...data, index: 0 }, attrs: { ...attrs, ifname: ref } };
}

async function resolveIndex(handle: Handle, ref: LinkRef): Promise<number> {
  return typeof ref === 'number' ? ref : (await linkByName(handle, ref)).index;
}

/** Parse one RTM_NEWLINK payload. */
export function parseLink(payload: Buffer): Link {
  const message = rt.parseLinkMessage(payload);
  const attrs = message.attrs;
  const flags = payload.readUInt32LE(8);
  let kind: string | undefined;
  let slaveKind: string | undefined;
  if (attrs.linkinfo) {
    const info = ifla.parseInfo(attrs.linkinfo);
    kind = info.kind;
    slaveKind = info.slaveKind;
  }
  const altNames: string[] = [];
  forEachAttr(payload.subarray(16), (type, value) => {
    if (type !== c.IFLA_PROP_LIST) return;
    forEachAttr(value, (inner, name) => {
      if (inner === c.IFLA_ALT_IFNAME) altNames.push(name.toString('utf8').replace(/\0+$/, ''));
    });
  });
  let parentIndex: number | undefined;
  if (attrs.link) parentIndex = attrs.link.readInt32LE(0);
  return {
    index: message.data.index ?? 0,
    name: attrs.ifname ?? '',
    kind,
    slaveKind,
    mtu: attrs.mtu ?? 0,
    hardwareAddr: attrs.address && attrs.address.length === 6 ? formatMac(attrs.address) : undefined,
    flags,
    up: (flags & c.IFF_UP) !== 0,
    lowerUp: (flags & c.IFF_LOWER_UP) !== 0,
    operState: OPER_STATES[attrs.operstate ?? 0] ?? 'unknown',
    masterIndex: attrs.master || undefined,
    parentIndex: parentIndex || undefined,
    linkNetnsId: attrs.linkNetnsid,
    alias: attrs.ifalias || undefined,
    group: attrs.group ?? 0,
    txQueueLen: attrs.txqlen,
    altNames,
  };
}

/** IFLA_AF_SPEC for the IPv4 devconf and IPv6 address-generation settings, when any is given. */
function afSpec(ip4Conf: Ip4Conf | undefined, ip6AddrGenMode: Ip6AddrGenMode | undefined): Buffer[] {
  const families: Buffer[] = [];
  if (ip4Conf) {
    const values = Object.entries(ip4Conf)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => {
        const id = c.IPV4_DEVCONF[key as keyof typeof c.IPV4_DEVCONF];
        if (id === undefined) throw new ValidationError(`ip4Conf.${key}`, 'is not a known IPv4 interface setting');
        return attr(id, u32(Number(value)));
      });
    if (values.length) families.push(attr(AF_INET, attr(c.IFLA_INET_CONF, Buffer.concat(values))));
  }
  if (ip6AddrGenMode !== undefined) {
    const mode = c.IN6_ADDR_GEN_MODES[ip6AddrGenMode];
    if (mode === undefined) throw new ValidationError('ip6AddrGenMode', `${JSON.stringify(ip6AddrGenMode)} is not one of ${Object.keys(c.IN6_ADDR_GEN_MODES).join(', ')}`);
    families.push(attr(AF_INET6, attr(c.IFLA_INET6_ADDR_GEN_MODE, u8(mode))));
  }
  return families.length ? [attr(c.IFLA_AF_SPEC, Buffer.concat(families))] : [];
}

function flagBits(up: boolean | undefined): { flags: rt.DeviceFlags; change: rt.DeviceFlags } {
  return up === undefined ? { flags: {}, change: {} } : { flags: up ? { up: true } : {}, change: { up: true } };
}

function queueAttrs(queues: number | undefined, field: string): ifla.LinkAttrs {
  const count = queues ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > 4096) throw new ValidationError(field, `${queues} is outside 1-4096`);
  return { numTxQueues: count, numRxQueues: count };
}

function commonAttrs(spec: LinkAttrsSpec | VethPeerSpec, field: string): ifla.LinkAttrs {
  const attrs: ifla.LinkAttrs = { ifname: spec.name };
  if (spec.mtu !== undefined) attrs.mtu = spec.mtu;
  if (spec.hardwareAddr !== undefined) attrs.address = parseMac(spec.hardwareAddr, `${field}.hardwareAddr`);
  if (spec.group !== undefined) attrs.group = spec.group;
  if (spec.netnsFd !== undefined) attrs.netNsFd = spec.netnsFd;
  if ('txQueueLen' in spec && spec.txQueueLen !== undefined) attrs.txqlen = spec.txQueueLen;
  return attrs;
}

function kindData(spec: LinkSpec, vtepIndex: number | undefined): Buffer | undefined {
  switch (spec.kind) {
    case 'veth': {
      const peer = spec.peer;
      checkInterfaceName(peer.name, 'peer.name');
      const peerMessage = linkMessage({ index: peer.index ?? 0 }, { ...commonAttrs(peer, 'peer'), ...queueAttrs(peer.queues, 'peer.queues') });
      return attr(c.VETH_INFO_PEER, peerMessage);
    }
    case 'bridge': {
      const parts: Buffer[] = [];
      if (spec.forwardDelay !== undefined) parts.push(attr(c.IFLA_BR_FORWARD_DELAY, u32(spec.forwardDelay)));
      if (spec.ageingTime !== undefined) parts.push(attr(c.IFLA_BR_AGEING_TIME, u32(spec.ageingTime)));
      if (spec.stp !== undefined) parts.push(attr(c.IFLA_BR_STP_STATE, u32(spec.stp ? 1 : 0)));
      if (spec.vlanFiltering !== undefined) parts.push(attr(c.IFLA_BR_VLAN_FILTERING, u8(spec.vlanFiltering ? 1 : 0)));
      parts.push(attr(c.IFLA_BR_MCAST_SNOOPING, u8(spec.mcastSnooping === true ? 1 : 0)));
      return parts.length ? Buffer.concat(parts) : undefined;
    }
    case 'macvlan':
      return attr(c.IFLA_MACVLAN_MODE, u32(c.MACVLAN_MODES[spec.mode ?? 'bridge']));
    case 'vxlan': {
      if (!Number.isInteger(spec.vni) || spec.vni < 0 || spec.vni > 0xffffff) {
        throw new ValidationError('vni', `${spec.vni} is outside 0-16777215`);
      }
      const parts: Buffer[] = [attr(c.IFLA_VXLAN_ID, u32(spec.vni)), attr(c.IFLA_VXLAN_PORT, u16be(spec.port ?? 4789))];
      if (spec.local !== undefined) {
        const local = parseIp(spec.local, 'local');
        parts.push(attr(local.family === AF_INET ? c.IFLA_VXLAN_LOCAL : c.IFLA_VXLAN_LOCAL6, local.bytes));
      }
      if (spec.remote !== undefined) {
        const remote = parseIp(spec.remote, 'remote');
        parts.push(attr(remote.family === AF_INET ? c.IFLA_VXLAN_GROUP : c.IFLA_VXLAN_GROUP6, remote.bytes));
      }
      if (vtepIndex !== undefined) parts.push(attr(c.IFLA_VXLAN_LINK, u32(vtepIndex)));
      if (spec.learning !== undefined) parts.push(attr(c.IFLA_VXLAN_LEARNING, u8(spec.learning ? 1 : 0)));
      if (spec.proxy !== undefined) parts.push(attr(c.IFLA_VXLAN_PROXY, u8(spec.proxy ? 1 : 0)));
      if (spec.l2miss !== undefined) parts.push(attr(c.IFLA_VXLAN_L2MISS, u8(spec.l2miss ? 1 : 0)));
      if (spec.l3miss !== undefined) parts.push(attr(c.IFLA_VXLAN_L3MISS, u8(spec.l3miss ? 1 : 0)));
      if (spec.ttl !== undefined) parts.push(attr(c.IFLA_VXLAN_TTL, u8(spec.ttl)));
      return Buffer.concat(parts);
    }
  }
}

/**
 * Create a link (veth pair, bridge, macvlan, vxlan) in one request, already enslaved, up and with its
 * MAC when asked; a veth peer can be created directly inside another namespace. Resolves with the new
 * link's index (the kernel echoes it) unless the link itself was made in another namespace.
 * Equivalent to: `ip link add <name> [address MAC] [mtu N] [master BR] type <kind> ...` + `ip link set <name> up`
 */
export async function linkAdd(handle: Handle, spec: LinkSpec): Promise<number | undefined> {
  checkInterfaceName(spec.name, 'name');
  if (!['veth', 'bridge', 'macvlan', 'vxlan'].includes((spec as { kind: string }).kind)) {
    throw new ValidationError('kind', `unknown link kind ${JSON.stringify((spec as { kind: string }).kind)} (veth, bridge, macvlan, vxlan)`);
  }
  const [masterIndex, parentIndex, vtepIndex] = await Promise.all([
    spec.master === undefined ? undefined : resolveIndex(handle, spec.master),
    spec.kind === 'macvlan' ? resolveIndex(handle, spec.parent) : undefined,
    spec.kind === 'vxlan' && spec.vtepDev !== undefined ? resolveIndex(handle, spec.vtepDev) : undefined,
  ]);
  if (spec.kind === 'veth' && spec.peer.index !== undefined && spec.index === undefined) {
    throw new ValidationError('peer.index', 'the kernel honours a peer index only when the link\'s own index is given too');
  }
  if (spec.alias !== undefined && spec.netnsFd !== undefined) {
    throw new ValidationError('alias', 'an alias can only be set on a link created in the handle\'s own namespace');
  }
  const attrs = commonAttrs(spec, 'link');
  if (spec.kind === 'veth') Object.assign(attrs, queueAttrs(spec.queues, 'queues'));
  if (masterIndex !== undefined) attrs.master = masterIndex;
  if (parentIndex !== undefined) attrs.link = u32(parentIndex);
  const data = kindData(spec, vtepIndex);
  const info = Buffer.concat([attr(c.IFLA_INFO_KIND, cstring(spec.kind)), ...(data ? [attr(c.IFLA_INFO_DATA, data)] : [])]);
  // Per-family settings cannot ride on the create (the kernel validates them against an existing
  // device: EAFNOSUPPORT); they follow it, and `up` waits for them so no link-local address slips out.
  const settings = afSpec(spec.ip4Conf, spec.ip6AddrGenMode);
  const upLater = spec.up === true && settings.length > 0;
  const payload = linkMessage({ index: spec.index ?? 0, ...flagBits(upLater ? undefined : spec.up) }, attrs, [attr(c.IFLA_LINKINFO, info)]);
  // The echo of a link made in another namespace would be sent there, so ask only when the link
  // stays here (a veth peer elsewhere is fine: its own notification just goes unheard).
  const echo = spec.netnsFd === undefined ? c.NLM_F_ECHO : 0;
  const replies = await handle.socket.request(c.RTM_NEWLINK, payload, {
    op: `add ${spec.kind} link ${spec.name}${spec.kind === 'veth' ? ` (peer ${spec.peer.name})` : ''} in ${handle.describe()}`,
    flags: c.NLM_F_CREATE | c.NLM_F_EXCL | echo,
  });
  const created = replies.find((reply) => reply.type === c.RTM_NEWLINK);
  const index = created ? parseLink(created.payload).index : spec.index;
  // The kernel ignores IFLA_IFALIAS when it creates a link, so the alias follows once the link exists
  // (sent in the same batch, it would land on a same-named link that made the create fail: EEXIST).
  if (spec.alias !== undefined || settings.length > 0) {
    const ref = index ?? spec.name;
    const selected = select(ref, {}, spec.alias !== undefined ? { ifalias: spec.alias } : {});
    const following = [
      handle.socket.request(c.RTM_SETLINK, linkMessage(selected.data, selected.attrs, settings), { op: `set alias and settings of new link ${spec.name} in ${handle.describe()}` }),
      ...(upLater ? [linkSetUp(handle, ref)] : []),
    ];
    await Promise.all(following);
  }
  return index;
}

/**
 * Delete a link (both ends of a veth pair go together).
 * Equivalent to: `ip link del <name>`
 */
export async function linkDel(handle: Handle, ref: LinkRef): Promise<void> {
  const { data, attrs } = select(ref);
  await handle.socket.request(c.RTM_DELLINK, linkMessage(data, attrs), { op: `delete link ${describe(ref)} in ${handle.describe()}`, blocking: true });
}

/**
 * Delete every link of a device group in one request: the kernel unregisters them as one batch and
 * waits for RCU once instead of once per link.
 * Equivalent to: `ip link del group <group>`
 */
export async function linkDelGroup(handle: Handle, group: number): Promise<void> {
  if (!Number.isInteger(group) || group <= 0) throw new ValidationError('group', `${group} is not a device group (1-4294967295; 0 is the default group)`);
  await handle.socket.request(c.RTM_DELLINK, linkMessage({ index: 0 }, { group }), { op: `delete link group ${group} in ${handle.describe()}`, blocking: true });
}

/**
 * Find a link by name.
 * Equivalent to: `ip link show <name>`
 */
export async function linkByName(handle: Handle, name: string): Promise<Link> {
  checkInterfaceName(name, 'name');
  return getLink(handle, name);
}

/**
 * Find a link by name, or undefined when there is none.
 * Equivalent to: `ip link show <name> 2>/dev/null`
 */
export async function linkFind(handle: Handle, name: string): Promise<Link | undefined> {
  try {
    return await linkByName(handle, name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Find a link by index.
 * Equivalent to: `ip link show index <index>`
 */
export async function linkByIndex(handle: Handle, index: number): Promise<Link> {
  return getLink(handle, index);
}

async function getLink(handle: Handle, ref: LinkRef): Promise<Link> {
  const { data, attrs } = select(ref, {}, { extMask: u32(c.RTEXT_FILTER_SKIP_STATS) });
  const replies = await handle.socket.request(c.RTM_GETLINK, linkMessage(data, attrs), {
    op: `find link ${describe(ref)} in ${handle.describe()}`,
  });
  const reply = replies.find((r) => r.type === c.RTM_NEWLINK);
  if (!reply) throw new NetlinkError(`find link ${describe(ref)} in ${handle.describe()}`, 19 /* ENODEV */);
  return parseLink(reply.payload);
}

/** Filters for linkList. */
export interface LinkFilter {
  kind?: string;
  masterIndex?: number;
  group?: number;
}

/**
 * List the links of the handle's namespace.
 * Equivalent to: `ip link show [type KIND] [master BR] [group G]`
 */
export async function linkList(handle: Handle, filter: LinkFilter = {}): Promise<Link[]> {
  const attrs: ifla.LinkAttrs = { extMask: u32(c.RTEXT_FILTER_SKIP_STATS) };
  if (filter.masterIndex !== undefined) attrs.master = filter.masterIndex;
  const replies = await handle.socket.dump(c.RTM_GETLINK, linkMessage({}, attrs), { op: `list links in ${handle.describe()}` });
  return replies
    .filter((r) => r.type === c.RTM_NEWLINK)
    .map((r) => parseLink(r.payload))
    .filter(
      (link) =>
        (filter.kind === undefined || link.kind === filter.kind) &&
        (filter.masterIndex === undefined || link.masterIndex === filter.masterIndex) &&
        (filter.group === undefined || link.group === filter.group),
    );
}

async function setLink(handle: Handle, ref: LinkRef, op: string, data: rt.Link, attrs: ifla.LinkAttrs, blocking = false): Promise<void> {
  const selected = select(ref, data, attrs);
  await handle.socket.request(c.RTM_SETLINK, linkMessage(selected.data, selected.attrs), { op: `${op} ${describe(ref)} in ${handle.describe()}`, blocking });
}

/**
 * Set a link up.
 * Equivalent to: `ip link set <name> up`
 */
export function linkSetUp(handle: Handle, ref: LinkRef): Promise<void> {
  return setLink(handle, ref, 'set up link', flagBits(true), {});
}

/**
 * Set a link down.
 * Equivalent to: `ip link set <name> down`
 */
export function linkSetDown(handle: Handle, ref: LinkRef): Promise<void> {
  return setLink(handle, ref, 'set down link', flagBits(false), {}, true);
}

/**
 * Enslave a link to a bridge (or other master).
 * Equivalent to: `ip link set <name> master <bridge>`
 */
export async function linkSetMaster(handle: Handle, ref: LinkRef, master: LinkRef): Promise<void> {
  const masterIndex = await resolveIndex(handle, master);
  return setLink(handle, ref, `set master ${describe(master)} of link`, {}, { master: masterIndex });
}

/**
 * Release a link from its master.
 * Equivalent to: `ip link set <name> nomaster`
 */
export function linkSetNoMaster(handle: Handle, ref: LinkRef): Promise<void> {
  return setLink(handle, ref, 'set nomaster of link', {}, { master: 0 }, true);
}

/**
 * Move a link into another namespace (fd of a namespace file), optionally renaming it on the way
 * in one request, so a temporary name never clashes in the target.
 * Equivalent to: `ip link set <name> netns <ns> [name <newName>]`
 */
export async function linkSetNsFd(handle: Handle, ref: LinkRef, netnsFd: number, newName?: string): Promise<void> {
  if (newName === undefined) return setLink(handle, ref, 'move to another namespace link', {}, { netNsFd: netnsFd }, true);
  checkInterfaceName(newName, 'newName');
  const index = await resolveIndex(handle, ref);
  return setLink(handle, index, `move to another namespace as ${newName} link`, {}, { netNsFd: netnsFd, ifname: newName }, true);
}

/**
 * Rename a link (it must be down unless the kernel allows live renames).
 * Equivalent to: `ip link set <name> name <newName>`
 */
export async function linkSetName(handle: Handle, ref: LinkRef, newName: string): Promise<void> {
  checkInterfaceName(newName, 'newName');
  const index = await resolveIndex(handle, ref);
  return setLink(handle, index, `rename to ${newName} link`, {}, { ifname: newName });
}

/**
 * Set a link's MTU.
 * Equivalent to: `ip link set <name> mtu <mtu>`
 */
export function linkSetMtu(handle: Handle, ref: LinkRef, mtu: number): Promise<void> {
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) return Promise.reject(new ValidationError('mtu', `${mtu} is outside 68-65535`));
  return setLink(handle, ref, `set mtu ${mtu} of link`, {}, { mtu });
}

/**
 * Set a link's MAC address.
 * Equivalent to: `ip link set <name> address <mac>`
 */
export async function linkSetHardwareAddr(handle: Handle, ref: LinkRef, mac: string): Promise<void> {
  return setLink(handle, ref, `set address ${mac} of link`, {}, { address: parseMac(mac) });
}

/**
 * Set a link's alias (Switchyard records ownership there).
 * Equivalent to: `ip link set <name> alias <text>`
 */
export function linkSetAlias(handle: Handle, ref: LinkRef, alias: string): Promise<void> {
  return setLink(handle, ref, 'set alias of link', {}, { ifalias: alias });
}

/**
 * Put a link in a device group.
 * Equivalent to: `ip link set <name> group <group>`
 */
export function linkSetGroup(handle: Handle, ref: LinkRef, group: number): Promise<void> {
  return setLink(handle, ref, `set group ${group} of link`, {}, { group });
}

/**
 * Set per-interface IPv4 settings over netlink, without a /proc/sys write (which costs ~0.2 ms in a
 * fresh namespace).
 * Equivalent to: `sysctl -w net.ipv4.conf.<name>.<setting>=<value>`
 */
export async function linkSetIp4Conf(handle: Handle, ref: LinkRef, conf: Ip4Conf): Promise<void> {
  const selected = select(ref);
  await handle.socket.request(c.RTM_SETLINK, linkMessage(selected.data, selected.attrs, afSpec(conf, undefined)), {
    op: `set ipv4 settings ${JSON.stringify(conf)} of link ${describe(ref)} in ${handle.describe()}`,
  });
}

/**
 * Choose how IPv6 link-local addresses are made; `none` before the link comes up means no
 * link-local address, so no DAD or MLD traffic from it.
 * Equivalent to: `ip link set <name> addrgenmode <mode>`
 */
export async function linkSetIp6AddrGenMode(handle: Handle, ref: LinkRef, mode: Ip6AddrGenMode): Promise<void> {
  const selected = select(ref);
  await handle.socket.request(c.RTM_SETLINK, linkMessage(selected.data, selected.attrs, afSpec(undefined, mode)), {
    op: `set ipv6 addrgenmode ${mode} of link ${describe(ref)} in ${handle.describe()}`,
  });
}

/**
 * Wait until the kernel reports a link operationally up (carrier on and its linkwatch work done:
 * queues active, bridge port forwarding). Until then the first packets are dropped, and a dropped
 * first ARP request is retried only after a second.
 * Equivalent to: polling `ip link show <name>` until `state UP`
 */
export async function linkWaitOperUp(handle: Handle, ref: LinkRef, timeoutMs = 2000): Promise<Link> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const link = await getLink(handle, ref);
    if (link.operState === 'up') return link;
    if (Date.now() >= deadline) {
      throw new NetlinkError(`wait for link ${describe(ref)} in ${handle.describe()} to be up (it is ${link.operState})`, 62 /* ETIME */);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

interface PendingDelete {
  ref: LinkRef;
  resolve(): void;
  reject(error: Error): void;
}

const pendingDeletes = new WeakMap<Handle, PendingDelete[]>();

/**
 * Delete links, gathering every call made in the same turn of the event loop on one handle into one
 * device-group delete: each link is put in a fresh group, then the group goes in one request, so
 * the kernel waits for RCU once for all of them instead of ~15 ms per link. A link already gone
 * counts as deleted.
 * Equivalent to: `ip link set <name> group G` for each, then `ip link del group G`
 */
export function linkDelMany(handle: Handle, refs: LinkRef[]): Promise<void> {
  if (refs.length === 0) return Promise.resolve();
  let queue = pendingDeletes.get(handle);
  const first = !queue;
  if (!queue) {
    queue = [];
    pendingDeletes.set(handle, queue);
  }
  const waits = refs.map((ref) => new Promise<void>((resolve, reject) => queue!.push({ ref, resolve, reject })));
  if (first) {
    queueMicrotask(() => {
      const batch = pendingDeletes.get(handle) ?? [];
      pendingDeletes.delete(handle);
      void deleteAsGroup(handle, batch);
    });
  }
  return Promise.all(waits).then(() => undefined);
}

async function deleteAsGroup(handle: Handle, batch: PendingDelete[]): Promise<void> {
  // A group number nothing else uses: high, random, never the default (0).
  const group = 0x40000000 + Math.floor(Math.random() * 0x3fffffff);
  const grouped = await Promise.allSettled(batch.map((item) => linkSetGroup(handle, item.ref, group)));
  const members = batch.filter((item, i) => {
    const result = grouped[i]!;
    if (result.status === 'fulfilled') return true;
    if (result.reason instanceof NetlinkError && ['ENODEV', 'ENOENT'].includes(result.reason.code)) item.resolve();
    else item.reject(result.reason as Error);
    return false;
  });
  if (members.length === 0) return;
  try {
    await linkDelGroup(handle, group);
    for (const item of members) item.resolve();
  } catch (error) {
    if (error instanceof NetlinkError && error.code === 'ENODEV') for (const item of members) item.resolve();
    else for (const item of members) item.reject(error as Error);
  }
}

/**
 * Turn IPv6 off (or on) for one interface: no addresses, no routes, no DAD or MLD. There is no
 * netlink attribute for this, so it is the interface's /proc/sys file, written directly (in the
 * process's namespace) or from a thread inside the handle's namespace.
 * Equivalent to: `sysctl -w net.ipv6.conf.<name>.disable_ipv6=1`
 */
export async function linkSetIp6Disabled(handle: Handle, name: string, disabled: boolean): Promise<void> {
  checkInterfaceName(name, 'name');
  const file = `/proc/sys/net/ipv6/conf/${name}/disable_ipv6`;
  try {
    if (handle.netnsPath === null) writeFileSync(file, disabled ? '1' : '0');
    else await native().writeFileIn(handle.netnsPath, file, disabled ? '1' : '0');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NetlinkError(`set disable_ipv6 of link ${name} in ${handle.describe()}`, 19 /* ENODEV */);
    throw fromNative(`set disable_ipv6 of link ${name} in ${handle.describe()}`, error);
  }
}

/** Changes linkModify makes in one request. */
export interface LinkChanges {
  up?: boolean;
  master?: number;
  mtu?: number;
  alias?: string;
  group?: number;
  hardwareAddr?: string;
  ip4Conf?: Ip4Conf;
  ip6AddrGenMode?: Ip6AddrGenMode;
}

/**
 * Make several changes to a link in one request (one round trip instead of one each). The kernel
 * applies per-family settings after the up flag, so set `ip6AddrGenMode` before `up` when it matters.
 * Equivalent to: `ip link set <name> [master BR] [mtu N] [alias TEXT] [group G] [address MAC] [up|down]`
 */
export async function linkModify(handle: Handle, ref: LinkRef, changes: LinkChanges): Promise<void> {
  const attrs: ifla.LinkAttrs = {};
  if (changes.master !== undefined) attrs.master = changes.master;
  if (changes.mtu !== undefined) attrs.mtu = changes.mtu;
  if (changes.alias !== undefined) attrs.ifalias = changes.alias;
  if (changes.group !== undefined) attrs.group = changes.group;
  if (changes.hardwareAddr !== undefined) attrs.address = parseMac(changes.hardwareAddr);
  const selected = select(ref, flagBits(changes.up), attrs);
  await handle.socket.request(c.RTM_SETLINK, linkMessage(selected.data, selected.attrs, afSpec(changes.ip4Conf, changes.ip6AddrGenMode)), {
    op: `modify link ${describe(ref)} in ${handle.describe()}`,
    // Down and out of a bridge both wait for RCU in the kernel.
    blocking: changes.up === false || changes.master === 0,
  });
}
