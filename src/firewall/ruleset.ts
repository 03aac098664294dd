/**
 * Switchyard's nftables rules as JSON commands (libnftables-json(5)), built from what the engine
 * knows about a network. Pure: no kernel here. The shape is in docs/firewall.md: constant base chains
 * dispatch through verdict maps and sets, so rules grow with networks, never with endpoints.
 */

/** One JSON command of a transaction. */
export type NftCommand = Record<string, unknown>;

/** What the firewall needs to know about one bridge network. */
export interface FirewallNetwork {
  /** The network id (chains are named after its first 12 hex digits). */
  id: string;
  bridge: string;
  /** IPv4 and IPv6 subnets (CIDR). */
  subnets: string[];
  internal: boolean;
  /** enable_ip_masquerade (default true). */
  masquerade: boolean;
  /** Its own conntrack zone (isolated networks, which may reuse other networks' subnets). */
  zone?: number;
}

const meta = (key: string) => ({ meta: { key } });
const TH_DPORT = { payload: { protocol: 'th', field: 'dport' } };
const LOCAL_DADDR = { match: { op: '==', left: { fib: { result: 'type', flags: ['daddr'] } }, right: 'local' } };
/** `dnat ip|ip6 to KEY map @<maps>_addr : KEY map @<maps>_port` */
const dnatMap = (family: 4 | 6, key: unknown[], maps: string) => ({
  dnat: { family: family === 4 ? 'ip' : 'ip6', addr: { map: { key: { concat: key }, data: `@${maps}_addr` } }, port: { map: { key: { concat: key }, data: `@${maps}_port` } } },
});
const match = (op: '==' | '!=' | 'in', left: unknown, right: unknown) => ({ match: { op, left, right } });
const ACCEPT_POLICY = 'accept';

/** Where a set or map element lives. */
interface ElementPlace {
  family: string;
  table: string;
  name: string;
}

/** Add one element: a set key, or a map key with its data. */
function addElement(place: ElementPlace, key: unknown, data?: unknown): NftCommand {
  return { add: { element: { ...place, elem: [data === undefined ? key : [key, data]] } } };
}

/**
 * Delete one element whether or not it is there: nft 1.0.6 has no `destroy`, so it is added (with
 * its data, for a map) and deleted in the same transaction.
 */
function deleteElement(place: ElementPlace, key: unknown, data?: unknown): NftCommand[] {
  return [addElement(place, key, data), { delete: { element: { ...place, elem: [key] } } }];
}

/** Chains of the base, in either table: everything else belongs to one network. */
export const BASE_CHAINS = ['forward', 'postrouting', 'prerouting', 'antispoof', 'nat_prerouting', 'nat_output', 'guard', 'zone'];

function chainNames(network: FirewallNetwork) {
  const short = network.id.slice(0, 12);
  return { in: `net_${short}_in`, out: `net_${short}_out`, nat: `net_${short}_nat`, zone: `net_${short}_zone` };
}

function prefixOf(cidr: string): { family: 4 | 6; addr: string; len: number } {
  const [addr = '', len = ''] = cidr.split('/');
  return { family: addr.includes(':') ? 6 : 4, addr, len: Number(len) };
}

/** The base of both tables: sets, maps and hooked chains with their constant rules. */
export function baseCommands(prefix: string): NftCommand[] {
  const inet = { family: 'inet', table: prefix };
  const bridge = { family: 'bridge', table: prefix };
  const rule = (family: typeof inet, chain: string, expr: unknown[]) => ({ add: { rule: { ...family, chain, expr } } });
  return [
    { add: { table: { family: 'inet', name: prefix } } },
    { add: { set: { ...inet, name: 'bridges', type: 'ifname' } } },
    { add: { map: { ...inet, name: 'fwd_in', type: 'ifname', map: 'verdict' } } },
    { add: { map: { ...inet, name: 'fwd_out', type: 'ifname', map: 'verdict' } } },
    { add: { map: { ...inet, name: 'nat_src4', type: 'ipv4_addr', map: 'verdict', flags: ['interval'] } } },
    { add: { map: { ...inet, name: 'nat_src6', type: 'ipv6_addr', map: 'verdict', flags: ['interval'] } } },
    { add: { chain: { ...inet, name: 'forward', type: 'filter', hook: 'forward', prio: 0, policy: ACCEPT_POLICY } } },
    { add: { chain: { ...inet, name: 'postrouting', type: 'nat', hook: 'postrouting', prio: 100, policy: ACCEPT_POLICY } } },
    rule(inet, 'forward', [{ vmap: { key: meta('iifname'), data: '@fwd_in' } }]),
    rule(inet, 'forward', [{ vmap: { key: meta('oifname'), data: '@fwd_out' } }]),
    rule(inet, 'postrouting', [{ vmap: { key: { payload: { protocol: 'ip', field: 'saddr' } }, data: '@nat_src4' } }]),
    rule(inet, 'postrouting', [{ vmap: { key: { payload: { protocol: 'ip6', field: 'saddr' } }, data: '@nat_src6' } }]),
    // Published ports: map elements per port (on every local address of a family, or on one),
    // looked up for traffic arriving (prerouting) and made on this host (output). Address and port
    // are two maps with the same keys: nft 1.0.6's JSON parser turns a map with concatenated data
    // (ipv4_addr . inet_service) into a set, and a dnat through that crashes nft.
    ...([4, 6] as const).flatMap((family) => {
      const addr = family === 4 ? 'ipv4_addr' : 'ipv6_addr';
      return [
        { add: { map: { ...inet, name: `pub${family}_any_addr`, type: ['inet_proto', 'inet_service'], map: addr } } },
        { add: { map: { ...inet, name: `pub${family}_any_port`, type: ['inet_proto', 'inet_service'], map: 'inet_service' } } },
        { add: { map: { ...inet, name: `pub${family}_addr_addr`, type: [addr, 'inet_proto', 'inet_service'], map: addr } } },
        { add: { map: { ...inet, name: `pub${family}_addr_port`, type: [addr, 'inet_proto', 'inet_service'], map: 'inet_service' } } },
      ];
    }),
    { add: { chain: { ...inet, name: 'nat_prerouting', type: 'nat', hook: 'prerouting', prio: -100, policy: ACCEPT_POLICY } } },
    { add: { chain: { ...inet, name: 'nat_output', type: 'nat', hook: 'output', prio: -100, policy: ACCEPT_POLICY } } },
    ...['nat_prerouting', 'nat_output'].flatMap((chain) =>
      ([4, 6] as const).flatMap((family) => {
        const nfproto = match('==', meta('nfproto'), family === 4 ? 'ipv4' : 'ipv6');
        const daddr = { payload: { protocol: family === 4 ? 'ip' : 'ip6', field: 'daddr' } };
        return [
          rule(inet, chain, [nfproto, LOCAL_DADDR, dnatMap(family, [meta('l4proto'), TH_DPORT], `pub${family}_any`)]),
          rule(inet, chain, [nfproto, LOCAL_DADDR, dnatMap(family, [daddr, meta('l4proto'), TH_DPORT], `pub${family}_addr`)]),
        ];
      }),
    ),
    // From localhost to a published port: the bridge routes 127/8 (route_localnet on the bridge), and
    // the source is masqueraded so the endpoint can answer.
    rule(inet, 'postrouting', [match('==', { payload: { protocol: 'ip', field: 'saddr' } }, { prefix: { addr: '127.0.0.0', len: 8 } }), match('in', { ct: { key: 'status' } }, 'dnat'), { masquerade: null }]),
    // CVE-2020-8558: with route_localnet on, nothing from another interface may reach 127/8.
    { add: { chain: { ...inet, name: 'guard', type: 'filter', hook: 'prerouting', prio: -300, policy: ACCEPT_POLICY } } },
    rule(inet, 'guard', [match('!=', meta('iifname'), 'lo'), match('==', { payload: { protocol: 'ip', field: 'daddr' } }, { prefix: { addr: '127.0.0.0', len: 8 } }), { drop: null }]),
    // Conntrack zones: traffic from a bridge of an isolated network (bridged traffic too: with
    // br_netfilter its input interface here is the bridge) is tracked in the network's own zone, so
    // networks that reuse a subnet never share a flow. Before conntrack (raw, -300).
    { add: { map: { ...inet, name: 'zone_in', type: 'ifname', map: 'verdict' } } },
    { add: { chain: { ...inet, name: 'zone', type: 'filter', hook: 'prerouting', prio: -300, policy: ACCEPT_POLICY } } },
    rule(inet, 'zone', [{ vmap: { key: meta('iifname'), data: '@zone_in' } }]),
    { add: { table: { family: 'bridge', name: prefix } } },
    // Ports of networks with ICC off: frames they send to other ports are dropped. (Matching the
    // bridge itself, `meta ibrname`, needs a kernel module this machine does not have.)
    { add: { set: { ...bridge, name: 'icc_off_ports', type: setType('icc_off_ports') } } },
    // Priority -200, before br_netfilter (0): after it diverts an IPv4 frame through the inet hooks
    // and re-injects it, bridge hooks of priority 0 count as already run and are skipped (seen here:
    // ICC-off frames passed untouched, depending on the order hooks were registered).
    { add: { chain: { ...bridge, name: 'forward', type: 'filter', hook: 'forward', prio: -200, policy: ACCEPT_POLICY } } },
    rule(bridge, 'forward', [match('==', meta('iifname'), '@icc_off_ports'), { drop: null }]),
    // Anti-spoofing: a frame from an endpoint's port must carry that endpoint's MAC, and its IPv4,
    // ARP or IPv6 (link-local and unspecified aside) source must be one of the endpoint's addresses.
    { add: { set: { ...bridge, name: 'ports', type: setType('ports') } } },
    { add: { set: { ...bridge, name: 'port_mac', type: setType('port_mac') } } },
    { add: { set: { ...bridge, name: 'port_ip4', type: setType('port_ip4') } } },
    { add: { set: { ...bridge, name: 'port_ip6', type: setType('port_ip6') } } },
    { add: { chain: { ...bridge, name: 'prerouting', type: 'filter', hook: 'prerouting', prio: -300, policy: ACCEPT_POLICY } } },
    { add: { chain: { ...bridge, name: 'antispoof' } } },
    rule(bridge, 'prerouting', [match('==', meta('iifname'), '@ports'), { jump: { target: 'antispoof' } }]),
    rule(bridge, 'antispoof', [match('!=', { concat: [meta('iifname'), { payload: { protocol: 'ether', field: 'saddr' } }] }, '@port_mac'), { drop: null }]),
    rule(bridge, 'antispoof', [
      match('!=', { payload: { protocol: 'arp', field: 'saddr ip' } }, '0.0.0.0'),
      match('!=', { concat: [meta('iifname'), { payload: { protocol: 'arp', field: 'saddr ip' } }] }, '@port_ip4'),
      { drop: null },
    ]),
    rule(bridge, 'antispoof', [match('!=', { concat: [meta('iifname'), { payload: { protocol: 'ip', field: 'saddr' } }] }, '@port_ip4'), { drop: null }]),
    rule(bridge, 'antispoof', [
      match('!=', { payload: { protocol: 'ip6', field: 'saddr' } }, { prefix: { addr: 'fe80::', len: 10 } }),
      match('!=', { payload: { protocol: 'ip6', field: 'saddr' } }, '::'),
      match('!=', { concat: [meta('iifname'), { payload: { protocol: 'ip6', field: 'saddr' } }] }, '@port_ip6'),
      { drop: null },
    ]),
  ];
}

/**
 * Empty both tables without deleting them (deleting and re-adding a table in one batch breaks the
 * references that follow it in that batch): all rules flushed, every set and map emptied, every
 * chain but the base ones deleted. `existing` is what the tables hold now (from a list). With the
 * base and the networks added after it in the same transaction, this replaces the ruleset atomically.
 */
export function clearCommands(prefix: string, existing: Array<{ family: string; kind: 'chain' | 'set' | 'map'; name: string }>): NftCommand[] {
  const commands: NftCommand[] = [
    { add: { table: { family: 'inet', name: prefix } } },
    { flush: { table: { family: 'inet', name: prefix } } },
    { add: { table: { family: 'bridge', name: prefix } } },
    { flush: { table: { family: 'bridge', name: prefix } } },
  ];
  for (const item of existing.filter((i) => i.kind !== 'chain')) commands.push({ flush: { [item.kind]: { family: item.family, table: prefix, name: item.name } } });
  for (const item of existing.filter((i) => i.kind === 'chain' && !BASE_CHAINS.includes(i.name))) {
    commands.push({ delete: { chain: { family: item.family, table: prefix, name: item.name } } });
  }
  return commands;
}

/** Remove both tables (idempotent: each is added first, as nft 1.0.6 has no destroy). */
export function dropCommands(prefix: string): NftCommand[] {
  return [
    { add: { table: { family: 'inet', name: prefix } } },
    { delete: { table: { family: 'inet', name: prefix } } },
    { add: { table: { family: 'bridge', name: prefix } } },
    { delete: { table: { family: 'bridge', name: prefix } } },
  ];
}

/** Add one network: its chains, their rules, and its map and set elements. */
export function addNetworkCommands(prefix: string, network: FirewallNetwork): NftCommand[] {
  const inet = { family: 'inet', table: prefix };
  const chains = chainNames(network);
  const rule = (chain: string, expr: unknown[]) => ({ add: { rule: { ...inet, chain, expr } } });
  const commands: NftCommand[] = [
    { add: { chain: { ...inet, name: chains.in } } },
    { add: { chain: { ...inet, name: chains.out } } },
    // From the bridge: staying on it is ICC's business (bridge table); an internal network goes
    // nowhere else; no network reaches another Switchyard bridge (isolation, both ways, since the
    // other bridge's chain drops its side too).
    rule(chains.in, [match('==', meta('oifname'), network.bridge), { return: null }]),
    ...(network.internal ? [rule(chains.in, [{ drop: null }])] : []),
    rule(chains.in, [match('==', meta('oifname'), '@bridges'), { drop: null }]),
    // Into the bridge from elsewhere: nothing reaches an internal network.
    rule(chains.out, [match('==', meta('iifname'), network.bridge), { return: null }]),
    ...(network.internal ? [rule(chains.out, [{ drop: null }])] : []),
    { add: { element: { ...inet, name: 'bridges', elem: [network.bridge] } } },
    { add: { element: { ...inet, name: 'fwd_in', elem: [[network.bridge, { jump: { target: chains.in } }]] } } },
    { add: { element: { ...inet, name: 'fwd_out', elem: [[network.bridge, { jump: { target: chains.out } }]] } } },
  ];
  if (network.zone !== undefined) {
    commands.push({ add: { chain: { ...inet, name: chains.zone } } });
    commands.push(rule(chains.zone, [{ mangle: { key: { ct: { key: 'zone' } }, value: network.zone } }]));
    commands.push(addElement({ ...inet, name: 'zone_in' }, network.bridge, { jump: { target: chains.zone } }));
  }
  if (network.masquerade && !network.internal) {
    commands.push({ add: { chain: { ...inet, name: chains.nat } } });
    commands.push(rule(chains.nat, [match('!=', meta('oifname'), network.bridge), { masquerade: null }]));
    // Hairpin: an endpoint reaching a published port through a host address comes back into its own
    // bridge after the DNAT; masqueraded, the answer goes back the same way.
    commands.push(rule(chains.nat, [match('==', meta('oifname'), network.bridge), match('in', { ct: { key: 'status' } }, 'dnat'), { masquerade: null }]));
    for (const subnet of network.subnets) {
      const p = prefixOf(subnet);
      commands.push({
        add: { element: { ...inet, name: p.family === 4 ? 'nat_src4' : 'nat_src6', elem: [[{ prefix: { addr: p.addr, len: p.len } }, { jump: { target: chains.nat } }]] } },
      });
    }
  }
  return commands;
}

/**
 * Remove one network: elements first (they hold the jumps to its chains), then its chains. Each
 * piece is added before it is deleted, so removing a network that is half there, or gone, works.
 */
export function removeNetworkCommands(prefix: string, network: FirewallNetwork): NftCommand[] {
  const inet = { family: 'inet', table: prefix };
  const chains = chainNames(network);
  const names = [chains.in, chains.out, chains.nat, chains.zone];
  const element = (name: string, key: unknown, data?: unknown) => deleteElement({ ...inet, name }, key, data);
  // The chains first (the placeholder elements jump to them), then the elements, then the chains.
  const commands: NftCommand[] = names.map((name) => ({ add: { chain: { ...inet, name } } }));
  commands.push(
    ...element('fwd_in', network.bridge, { jump: { target: chains.in } }),
    ...element('fwd_out', network.bridge, { jump: { target: chains.out } }),
    ...element('bridges', network.bridge),
    ...element('zone_in', network.bridge, { jump: { target: chains.zone } }),
  );
  for (const subnet of network.subnets) {
    const p = prefixOf(subnet);
    commands.push(...element(p.family === 4 ? 'nat_src4' : 'nat_src6', { prefix: { addr: p.addr, len: p.len } }, { jump: { target: chains.nat } }));
  }
  for (const name of names) commands.push({ flush: { chain: { ...inet, name } } }, { delete: { chain: { ...inet, name } } });
  return commands;
}

/** One endpoint's port on its network's bridge. */
export interface FirewallEndpoint {
  /** The host end of the endpoint's veth: its bridge port. */
  port: string;
  /** enable_icc of its network. */
  icc: boolean;
  /** The only source MAC its frames may carry. */
  mac: string;
  /** Its addresses (plain, no prefix): the only sources its packets may carry. */
  ipv4?: string;
  ipv6?: string;
}

/**
 * The bridge table's per-endpoint sets and the types of their keys' parts. The firewall writes their
 * elements over nfnetlink (src/firewall/nftables-netlink.ts), which encodes keys by these types.
 */
export const ENDPOINT_SETS = {
  ports: ['ifname'],
  port_mac: ['ifname', 'ether_addr'],
  port_ip4: ['ifname', 'ipv4_addr'],
  port_ip6: ['ifname', 'ipv6_addr'],
  icc_off_ports: ['ifname'],
} as const;

export type EndpointSet = keyof typeof ENDPOINT_SETS;

/** A set's type as libnftables' JSON names it: one type, or a concatenation. */
function setType(set: EndpointSet): string | string[] {
  const types = ENDPOINT_SETS[set];
  return types.length === 1 ? types[0] : [...types];
}

/** One element of an endpoint set: the set, and its key's parts (as ENDPOINT_SETS types them). */
export interface EndpointElement {
  set: EndpointSet;
  key: string[];
}

/** An endpoint's elements: its port, MAC and addresses for anti-spoofing, and with ICC off its port. */
export function endpointElements(endpoint: FirewallEndpoint): EndpointElement[] {
  // What an interrupted connect did not record (no MAC, no address yet) has no element to name; the
  // rebuild at engine start empties every set anyway.
  const elements: EndpointElement[] = [{ set: 'ports', key: [endpoint.port] }];
  if (endpoint.mac) elements.push({ set: 'port_mac', key: [endpoint.port, endpoint.mac] });
  if (endpoint.ipv4) elements.push({ set: 'port_ip4', key: [endpoint.port, endpoint.ipv4] });
  if (endpoint.ipv6) elements.push({ set: 'port_ip6', key: [endpoint.port, endpoint.ipv6] });
  if (!endpoint.icc) elements.push({ set: 'icc_off_ports', key: [endpoint.port] });
  return elements;
}

const elementJson = (key: string[]): unknown => (key.length === 1 ? key[0] : { concat: key });

/** Add one endpoint set element. */
export function addElementCommands(prefix: string, { set, key }: EndpointElement): NftCommand[] {
  return [addElement({ family: 'bridge', table: prefix, name: set }, elementJson(key))];
}

/** Delete one endpoint set element (idempotent: it is added first). */
export function deleteElementCommands(prefix: string, { set, key }: EndpointElement): NftCommand[] {
  return deleteElement({ family: 'bridge', table: prefix, name: set }, elementJson(key));
}

/**
 * Add one endpoint: its port, MAC and addresses for anti-spoofing, and with ICC off its port in the
 * set whose frames to other ports are dropped. Elements only: no rule per endpoint.
 */
export function addEndpointCommands(prefix: string, endpoint: FirewallEndpoint): NftCommand[] {
  return endpointElements(endpoint).flatMap((element) => addElementCommands(prefix, element));
}

/** Remove one endpoint's elements (idempotent: each is added first). */
export function removeEndpointCommands(prefix: string, endpoint: FirewallEndpoint): NftCommand[] {
  return endpointElements(endpoint).flatMap((element) => deleteElementCommands(prefix, element));
}

/** One published port: host side to endpoint side, of one family. */
export interface PublishedPort {
  proto: 'tcp' | 'udp';
  /** `0.0.0.0` or `::`: every local address of the family; else that one. */
  hostIp: string;
  hostPort: number;
  /** The endpoint's address of the same family. */
  target: string;
  targetPort: number;
}

function portElements(prefix: string, port: PublishedPort): Array<{ family: string; table: string; name: string; key: unknown; data: unknown }> {
  const any = port.hostIp === '0.0.0.0' || port.hostIp === '::';
  const maps = `pub${port.target.includes(':') ? 6 : 4}_${any ? 'any' : 'addr'}`;
  const key = any ? { concat: [port.proto, port.hostPort] } : { concat: [port.hostIp, port.proto, port.hostPort] };
  return [
    { family: 'inet', table: prefix, name: `${maps}_addr`, key, data: port.target },
    { family: 'inet', table: prefix, name: `${maps}_port`, key, data: port.targetPort },
  ];
}

/** Publish ports: two map elements each (address, port), no rule. */
export function addPortsCommands(prefix: string, ports: PublishedPort[]): NftCommand[] {
  return ports.flatMap((port) => portElements(prefix, port).map(({ key, data, ...place }) => addElement(place, key, data)));
}

/** Unpublish ports (idempotent: each element is added first). */
export function removePortsCommands(prefix: string, ports: PublishedPort[]): NftCommand[] {
  return ports.flatMap((port) => portElements(prefix, port).flatMap(({ key, data, ...place }) => deleteElement(place, key, data)));
}

/**
 * Coexistence with dockerd: its FORWARD chain (iptables-nft, `table ip filter`) has policy drop, and
 * an accept in Switchyard's own table cannot override another base chain's drop. So each network
 * gets two rules at the top of DOCKER-USER (IPv4 and IPv6, where dockerd made it): traffic from and to
 * its bridge is accepted there, and decided by Switchyard's table (isolation, internal, ICC). The
 * rules use only what iptables-nft itself writes for `-i B -j ACCEPT` (interface match, counter,
 * verdict, comment), so dockerd's own iptables calls still parse the chain.
 */
export const DOCKER_USER_FAMILIES = ['ip', 'ip6'] as const;

/**
 * What a DOCKER-USER rule's comment starts with: `<prefix> network ` for every rule of an engine,
 * `<prefix> network <id12>` for one network's (whose comment then names its bridge too).
 */
export function dockerUserMark(prefix: string, network?: Pick<FirewallNetwork, 'id'>): string {
  return network ? `${prefix} network ${network.id.slice(0, 12)}` : `${prefix} network `;
}

/** Insert a network's two DOCKER-USER rules into one family's chain (which must exist). */
export function dockerUserAddCommands(family: (typeof DOCKER_USER_FAMILIES)[number], prefix: string, network: FirewallNetwork): NftCommand[] {
  const place = { family, table: 'filter', chain: 'DOCKER-USER' };
  const comment = `${dockerUserMark(prefix, network)} ${network.bridge}`;
  return ['oifname', 'iifname'].map((key) => ({
    insert: { rule: { ...place, expr: [match('==', meta(key), network.bridge), { counter: { packets: 0, bytes: 0 } }, { accept: null }], comment } },
  }));
}

/** Delete DOCKER-USER rules by handle (from a list of the chain). */
export function dockerUserDeleteCommands(family: (typeof DOCKER_USER_FAMILIES)[number], handles: number[]): NftCommand[] {
  return handles.map((handle) => ({ delete: { rule: { family, table: 'filter', chain: 'DOCKER-USER', handle } } }));
}
