/** `yard network …`: docker network's commands, flags and output, against the engine API. */
import { flag, parseSubcommand, UsageError, type FlagSpec, type Parsed } from '../args.js';
import type { Client } from '../client.js';
// Output formatting (tables, Go templates) is loaded only by the commands that print with it: ~15 ms
// of module loading that create, connect, disconnect and rm do without.
import type { ApiNetwork } from '../format.js';
import { confirm, type Io } from '../io.js';
import { inspectEach, removeEach } from '../each.js';

const CREATE: FlagSpec[] = [
  { name: 'attachable', kind: 'bool', help: 'Enable manual container attachment' },
  { name: 'aux-address', kind: 'list', value: 'map', help: 'Auxiliary IPv4 or IPv6 addresses used by Network driver' },
  { name: 'config-from', kind: 'string', help: 'The network from which to copy the configuration' },
  { name: 'config-only', kind: 'bool', help: 'Create a configuration only network' },
  { name: 'driver', short: 'd', kind: 'string', help: 'Driver to manage the Network (default "bridge")' },
  { name: 'gateway', kind: 'list', value: 'strings', help: 'IPv4 or IPv6 Gateway for the master subnet' },
  { name: 'ingress', kind: 'bool', help: 'Create swarm routing-mesh network' },
  { name: 'internal', kind: 'bool', help: 'Restrict external access to the network' },
  { name: 'ip-range', kind: 'list', value: 'strings', help: 'Allocate container ip from a sub-range' },
  { name: 'ipam-driver', kind: 'string', help: 'IP Address Management Driver (default "default")' },
  { name: 'ipam-opt', kind: 'list', value: 'map', help: 'Set IPAM driver specific options' },
  { name: 'ipv6', kind: 'bool', help: 'Enable IPv6 networking' },
  { name: 'label', kind: 'list', value: 'list', help: 'Set metadata on a network' },
  { name: 'opt', short: 'o', kind: 'list', value: 'map', help: 'Set driver specific options' },
  { name: 'scope', kind: 'string', help: "Control the network's scope" },
  { name: 'subnet', kind: 'list', value: 'strings', help: 'Subnet in CIDR format that represents a network segment' },
];
const LS: FlagSpec[] = [
  { name: 'filter', short: 'f', kind: 'list', value: 'filter', help: "Provide filter values (e.g. 'driver=bridge')" },
  { name: 'format', kind: 'string', help: 'Pretty-print networks using a Go template' },
  { name: 'no-trunc', kind: 'bool', help: 'Do not truncate the output' },
  { name: 'quiet', short: 'q', kind: 'bool', help: 'Only display network IDs' },
];
const INSPECT: FlagSpec[] = [
  { name: 'format', short: 'f', kind: 'string', help: 'Format the output using the given Go template' },
  { name: 'verbose', short: 'v', kind: 'bool', help: 'Verbose output for diagnostics' },
];
const CONNECT: FlagSpec[] = [
  { name: 'alias', kind: 'list', value: 'strings', help: 'Add network-scoped alias for the container' },
  { name: 'driver-opt', kind: 'list', value: 'strings', help: 'driver options for the network' },
  { name: 'ip', kind: 'string', help: 'IPv4 address (e.g., 172.30.100.104)' },
  { name: 'ip6', kind: 'string', help: 'IPv6 address (e.g., 2001:db8::33)' },
  { name: 'link', kind: 'list', value: 'list', help: 'Add link to another container' },
  { name: 'link-local-ip', kind: 'list', value: 'strings', help: 'Add a link-local address for the container' },
];
const DISCONNECT: FlagSpec[] = [{ name: 'force', short: 'f', kind: 'bool', help: 'Force the container to disconnect from a network' }];
const PRUNE: FlagSpec[] = [
  { name: 'filter', kind: 'list', value: 'filter', help: "Provide filter values (e.g. 'until=<timestamp>')" },
  { name: 'force', short: 'f', kind: 'bool', help: 'Do not prompt for confirmation' },
];

const COMMANDS = `Usage:  yard network COMMAND

Manage networks

Commands:
  connect     Connect a sandbox to a network
  create      Create a network
  disconnect  Disconnect a sandbox from a network
  inspect     Display detailed information on one or more networks
  ls          List networks
  prune       Remove all unused networks
  rm          Remove one or more networks
`;

/** `key=value` filters into the API's JSON form (map[string]map[string]bool). */
export function filtersParam(items: string[]): string {
  const filters: Record<string, Record<string, boolean>> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`bad format of filter (expected name=value): ${item}`);
    (filters[item.slice(0, eq)] ??= {})[item.slice(eq + 1)] = true;
  }
  return Object.keys(filters).length ? `?filters=${encodeURIComponent(JSON.stringify(filters))}` : '';
}

/** Docker's create flags into a create request: subnets with their ranges, gateways and aux addresses. */
function createBody(name: string, p: Parsed): Record<string, unknown> {
  const subnets = flag.list(p, 'subnet');
  const ranges = flag.list(p, 'ip-range');
  const gateways = flag.list(p, 'gateway');
  const aux = flag.map(p, 'aux-address');
  // Docker pairs --ip-range, --gateway and --aux-address with the --subnet that contains them.
  const config = subnets.map((subnet) => ({ Subnet: subnet, IPRange: '', Gateway: '', AuxiliaryAddresses: {} as Record<string, string> }));
  const contains = (subnet: string, address: string) => sameFamily(subnet, address) && inSubnet(subnet, address);
  const place = (value: string, what: string, put: (entry: (typeof config)[number]) => void) => {
    const host = value.split('/')[0]!;
    const entry = config.find((e) => contains(e.Subnet, host));
    if (!entry) throw new UsageError(`no matching subnet for ${what} ${value}`);
    put(entry);
  };
  for (const range of ranges) place(range, 'range', (e) => (e.IPRange ? fail(`cannot configure multiple ranges (${range}, ${e.IPRange}) on the same subnet (${e.Subnet})`) : (e.IPRange = range)));
  for (const gateway of gateways) place(gateway, 'gateway', (e) => (e.Gateway ? fail(`cannot configure multiple gateways (${gateway}, ${e.Gateway}) for the same subnet (${e.Subnet})`) : (e.Gateway = gateway)));
  for (const [key, address] of Object.entries(aux)) place(address, 'aux-address', (e) => (e.AuxiliaryAddresses[key] = address));
  return {
    Name: name,
    CheckDuplicate: true,
    Driver: flag.string(p, 'driver') ?? 'bridge',
    ...(flag.string(p, 'scope') ? { Scope: flag.string(p, 'scope') } : {}),
    EnableIPv6: flag.bool(p, 'ipv6'),
    IPAM: { Driver: flag.string(p, 'ipam-driver') ?? 'default', Config: config, Options: flag.map(p, 'ipam-opt') },
    Internal: flag.bool(p, 'internal'),
    Attachable: flag.bool(p, 'attachable'),
    Ingress: flag.bool(p, 'ingress'),
    ConfigOnly: flag.bool(p, 'config-only'),
    ...(flag.string(p, 'config-from') ? { ConfigFrom: { Network: flag.string(p, 'config-from') } } : {}),
    Options: flag.map(p, 'opt'),
    Labels: flag.map(p, 'label'),
  };
}

function fail(message: string): never {
  throw new UsageError(message);
}

function sameFamily(subnet: string, address: string): boolean {
  return subnet.includes(':') === address.includes(':');
}

/** Whether an address lies in a subnet (both written in the same family); bad text is left to the daemon. */
function inSubnet(subnet: string, address: string): boolean {
  const [base = '', lengthText = ''] = subnet.split('/');
  const length = Number(lengthText);
  const bits = (text: string): bigint | undefined => {
    if (!text.includes(':')) {
      const parts = text.split('.').map(Number);
      if (parts.length !== 4 || parts.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return undefined;
      return parts.reduce((acc, x) => (acc << 8n) | BigInt(x), 0n);
    }
    const [head = '', tail] = text.split('::');
    const groups = (s: string) => (s ? s.split(':') : []);
    const h = groups(head);
    const t = tail === undefined ? [] : groups(tail);
    const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    if (all.length !== 8 || all.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
    return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  };
  const width = subnet.includes(':') ? 128 : 32;
  const a = bits(base);
  const b = bits(address);
  if (a === undefined || b === undefined || !Number.isInteger(length) || length < 0 || length > width) return true; // the daemon names the mistake
  const shift = BigInt(width - length);
  return a >> shift === b >> shift;
}

export async function network(argv: string[], client: Client, io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const parse = (specs: FlagSpec[], line: string, about: string, min: number, max = Infinity, stopAtArgs = false) =>
    parseSubcommand(rest, `network ${sub}`, specs, line, about, { min, max, stopAtArgs }, io.out);
  switch (sub) {
    case 'create': {
      const p = parse(CREATE, 'yard network create [OPTIONS] NETWORK', 'Create a network', 1, 1);
      if (!p) return 0;
      const created = await client.json<{ Id: string; Warning?: string }>('POST', '/networks/create', createBody(p.args[0]!, p));
      if (created.Warning) io.err(created.Warning);
      io.out(created.Id);
      return 0;
    }
    case 'ls':
    case 'list': {
      const p = parse(LS, 'yard network ls [OPTIONS]', 'List networks', 0, 0);
      if (!p) return 0;
      const networks = await client.json<ApiNetwork[]>('GET', `/networks${filtersParam(flag.list(p, 'filter'))}`);
      const { formatNetworkList } = await import('../format.js');
      const text = formatNetworkList(networks, { format: flag.string(p, 'format'), noTrunc: flag.bool(p, 'no-trunc'), quiet: flag.bool(p, 'quiet') });
      if (text) io.out(text.replace(/\n$/, ''));
      return 0;
    }
    case 'inspect': {
      const p = parse(INSPECT, 'yard network inspect [OPTIONS] NETWORK [NETWORK...]', 'Display detailed information on one or more networks', 1);
      if (!p) return 0;
      const { found, code } = await inspectEach<ApiNetwork>(client, io, 'network', p.args);
      const { formatNetworkInspect } = await import('../format.js');
      const text = formatNetworkInspect(found, flag.string(p, 'format'));
      if (text) io.out(text.replace(/\n$/, ''));
      return code;
    }
    case 'rm':
    case 'remove': {
      const p = parse([{ name: 'force', short: 'f', kind: 'bool', help: 'Do not error if the network does not exist' }], 'yard network rm NETWORK [NETWORK...]', 'Remove one or more networks', 1);
      if (!p) return 0;
      return removeEach(client, io, 'network', p.args, { ignoreMissing: flag.bool(p, 'force') });
    }
    case 'connect': {
      const p = parse(CONNECT, 'yard network connect [OPTIONS] NETWORK SANDBOX', 'Connect a sandbox to a network', 2, 2);
      if (!p) return 0;
      await client.request('POST', `/networks/${encodeURIComponent(p.args[0]!)}/connect`, {
        Container: p.args[1],
        EndpointConfig: {
          IPAMConfig: { IPv4Address: flag.string(p, 'ip') ?? '', IPv6Address: flag.string(p, 'ip6') ?? '', LinkLocalIPs: flag.list(p, 'link-local-ip') },
          Links: flag.list(p, 'link'),
          Aliases: flag.list(p, 'alias'),
          DriverOpts: flag.map(p, 'driver-opt'),
        },
      });
      return 0;
    }
    case 'disconnect': {
      const p = parse(DISCONNECT, 'yard network disconnect [OPTIONS] NETWORK SANDBOX', 'Disconnect a sandbox from a network', 2, 2);
      if (!p) return 0;
      await client.request('POST', `/networks/${encodeURIComponent(p.args[0]!)}/disconnect`, { Container: p.args[1], Force: flag.bool(p, 'force') });
      return 0;
    }
    case 'prune': {
      const p = parse(PRUNE, 'yard network prune [OPTIONS]', 'Remove all unused networks', 0, 0);
      if (!p) return 0;
      if (!flag.bool(p, 'force') && !(await confirm(io, 'WARNING! This will remove all custom networks not used by at least one sandbox.\nAre you sure you want to continue? [y/N] '))) return 0;
      const result = await client.json<{ NetworksDeleted: string[] | null }>('POST', `/networks/prune${filtersParam(flag.list(p, 'filter'))}`);
      if (result.NetworksDeleted?.length) io.out(`Deleted Networks:\n${result.NetworksDeleted.join('\n')}\n`);
      return 0;
    }
    case undefined:
    case '--help':
    case 'help':
      io.out(COMMANDS);
      return 0;
    default:
      throw new UsageError(`yard network: unknown command ${JSON.stringify(sub)}\n\n${COMMANDS}`);
  }
}
