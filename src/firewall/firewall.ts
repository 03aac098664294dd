/**
 * The engine's firewall: Switchyard's two nftables tables, changed one atomic transaction per
 * operation through libnftables in-process (no process is started). docs/firewall.md has the shape.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import {
  addEndpointCommands,
  addNetworkCommands,
  addPortsCommands,
  baseCommands,
  clearCommands,
  dropCommands,
  removeEndpointCommands,
  removeNetworkCommands,
  removePortsCommands,
  type PublishedPort,
  type FirewallEndpoint,
  type FirewallNetwork,
  type NftCommand,
} from './ruleset.js';

/** Runs one atomic transaction (libnftables in production; tests may record instead). */
export type NftApply = (commands: NftCommand[]) => Promise<void>;

/** Runs one list command; a table that does not exist lists as nothing. */
export type NftLister = (command: NftCommand) => Promise<Array<Record<string, unknown>>>;

const FORWARDING = { 4: '/proc/sys/net/ipv4/ip_forward', 6: '/proc/sys/net/ipv6/conf/all/forwarding' } as const;

export class Firewall {
  /** Table name of both tables (`--nft-prefix`). */
  readonly prefix: string;
  private readonly apply: NftApply;
  private readonly list: NftLister;

  constructor(prefix: string, apply: NftApply, list: NftLister = async () => []) {
    if (!/^[a-zA-Z][a-zA-Z0-9_]{0,30}$/.test(prefix)) throw new Error(`nft prefix ${JSON.stringify(prefix)} must be a letter then up to 30 letters, digits or '_'`);
    this.prefix = prefix;
    this.apply = apply;
    this.list = async (command) => {
      try {
        return await list(command);
      } catch (error) {
        if (/No such file or directory/.test((error as Error).message)) return [];
        throw error;
      }
    };
  }

  /**
   * Replace both tables' contents with what the records say (engine start, after a crash or a reboot),
   * in two transactions: the base (emptied, or made), then every network and endpoint. One batch that
   * creates the base's map-dispatching rules and also adds map elements jumping to chains made in the
   * same batch is refused by the kernel (ENOENT, seen on this kernel), so between the two the base
   * runs alone for a moment: forwarding is accepted, and nothing is masqueraded or isolated.
   */
  async rebuild(networks: FirewallNetwork[], endpoints: FirewallEndpoint[], ports: PublishedPort[] = []): Promise<void> {
    const existing: Array<{ family: string; kind: 'chain' | 'set' | 'map'; name: string }> = [];
    for (const family of ['inet', 'bridge']) {
      for (const item of await this.list({ list: { table: { family, name: this.prefix } } })) {
        for (const kind of ['chain', 'set', 'map'] as const) {
          const object = item[kind] as { name: string } | undefined;
          if (object) existing.push({ family, kind, name: object.name });
        }
      }
    }
    await this.apply([...clearCommands(this.prefix, existing), ...baseCommands(this.prefix)]);
    await this.apply([
      ...networks.flatMap((network) => addNetworkCommands(this.prefix, network)),
      ...endpoints.flatMap((endpoint) => addEndpointCommands(this.prefix, endpoint)),
      ...addPortsCommands(this.prefix, ports),
    ]);
  }

  addNetwork(network: FirewallNetwork): Promise<void> {
    return this.apply(addNetworkCommands(this.prefix, network));
  }

  removeNetwork(network: FirewallNetwork): Promise<void> {
    return this.apply(removeNetworkCommands(this.prefix, network));
  }

  /** An endpoint's state is set elements (anti-spoofing, ICC): one small transaction, no rule. */
  addEndpoint(endpoint: FirewallEndpoint): Promise<void> {
    return this.apply(addEndpointCommands(this.prefix, endpoint));
  }

  removeEndpoint(endpoint: FirewallEndpoint): Promise<void> {
    return this.apply(removeEndpointCommands(this.prefix, endpoint));
  }

  /** Publish ports (map elements: no rule). */
  addPorts(ports: PublishedPort[]): Promise<void> {
    return this.apply(addPortsCommands(this.prefix, ports));
  }

  /** Unpublish ports (idempotent). */
  removePorts(ports: PublishedPort[]): Promise<void> {
    return this.apply(removePortsCommands(this.prefix, ports));
  }

  /** Remove both tables (idempotent). */
  removeAll(): Promise<void> {
    return this.apply(dropCommands(this.prefix));
  }

  /**
   * Turn on forwarding for a family (egress needs it); true when it was off, so the caller can say
   * so. A /proc/sys write in the engine's own namespace: no process.
   */
  enableForwarding(family: 4 | 6): boolean {
    const file = FORWARDING[family];
    if (readFileSync(file, 'utf8').trim() === '1') return false;
    writeFileSync(file, '1');
    return true;
  }
}
