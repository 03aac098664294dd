/**
 * The engine's firewall: Switchyard's two nftables tables, changed one atomic transaction per
 * operation through libnftables in-process (no process is started). docs/firewall.md has the shape.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import {
  addElementCommands,
  addEndpointCommands,
  addNetworkCommands,
  addPortsCommands,
  baseCommands,
  clearCommands,
  dropCommands,
  dockerUserAddCommands,
  dockerUserMark,
  dockerUserDeleteCommands,
  DOCKER_USER_FAMILIES,
  deleteElementCommands,
  endpointElements,
  removeNetworkCommands,
  removePortsCommands,
  type EndpointElement,
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

/**
 * What the firewall does over nfnetlink directly rather than through libnftables (whose every call
 * builds its cache): read which tables exist and one chain's rules (null when the chain does not
 * exist); optionally write endpoint set elements and forget published ports' conntrack entries.
 */
export interface NftDirect {
  tables(): Promise<Array<{ family: string; name: string }>>;
  chainRules(family: string, table: string, chain: string): Promise<DockerUserRule[] | null>;
  /**
   * Add or delete endpoint set elements in the bridge table `table`, in one transaction (all or
   * none). A delete of an element that is not there counts as done.
   */
  setElements?(table: string, changes: ElementChange[]): Promise<void>;
  /** Delete the conntrack entries published ports translated (absent: nothing is deleted). */
  forgetFlows?(ports: PublishedPort[]): Promise<number>;
  close?(): void;
}

/** A rule as read (DOCKER-USER's): its handle, and its comment when it has one. */
export type DockerUserRule = { handle: number; comment?: string };

/** One endpoint set element added or deleted. */
export interface ElementChange {
  op: 'add' | 'delete';
  element: EndpointElement;
}

export class Firewall {
  /** Table name of both tables (`--nft-prefix`). */
  readonly prefix: string;
  private readonly apply: NftApply;
  private readonly list: NftLister;
  private readonly direct: NftDirect;

  /**
   * Without `direct`, reads go through `list` and element changes through `apply` (libnftables);
   * the engine passes src/firewall/nftables-netlink.ts (a read ~0.1 ms against ~1.3 ms per list).
   */
  constructor(prefix: string, apply: NftApply, list: NftLister = async () => [], direct?: NftDirect) {
    if (!/^[a-zA-Z][a-zA-Z0-9_]{0,30}$/.test(prefix)) throw new Error(`nft prefix ${JSON.stringify(prefix)} must be a letter then up to 30 letters, digits or '_'`);
    this.prefix = prefix;
    this.apply = apply;
    this.direct = direct ?? {
      tables: async () =>
        (await this.list({ list: { tables: null } })).flatMap((item) => {
          const table = item.table as { family?: string; name?: string } | undefined;
          return table?.family && table.name ? [{ family: table.family, name: table.name }] : [];
        }),
      chainRules: async (family, table, name) => {
        const items = await this.list({ list: { chain: { family, table, name } } });
        if (!items.some((item) => item.chain)) return null;
        return items.flatMap((item) => (item.rule ? [item.rule as DockerUserRule] : []));
      },
    };
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
    this.networks = new Map(networks.map((network) => [network.id, network]));
    if (networks.length === 0) {
      // Nothing to hold: no tables at all (they come back with the first network).
      await this.serial(async () => {
        await this.apply(dropCommands(this.prefix));
        this.basePresent = false;
        await this.syncDockerUser([], true);
      });
      return;
    }
    await this.serial(async () => {
      await this.resetBase();
      await this.apply([
        ...networks.flatMap((network) => addNetworkCommands(this.prefix, network)),
        ...endpoints.flatMap((endpoint) => addEndpointCommands(this.prefix, endpoint)),
        ...addPortsCommands(this.prefix, ports),
      ]);
      await this.syncDockerUser(networks, true);
    });
  }

  /** The networks the tables hold: the tables exist exactly while there is one. */
  private networks = new Map<string, FirewallNetwork>();
  /** Whether the base of both tables is in the kernel (unknown before the first rebuild: assumed not). */
  private basePresent = false;
  private queue: Promise<unknown> = Promise.resolve();

  /** Changes to the tables' existence run one after another, in the order asked for. */
  private serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Both tables emptied to their base, or made (whatever a crash or an older engine left goes). */
  private async resetBase(): Promise<void> {
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
    this.basePresent = true;
  }

  /**
   * A conntrack zone for a network (the lowest no other network of this engine has), held from now
   * on; it is given back when the network is removed. Zone 0 is everyone else's.
   */
  allocateZone(networkId: string): number {
    const taken = new Set([...this.networks.values()].filter((n) => n.id !== networkId).map((n) => n.zone));
    for (const zone of this.pendingZones.values()) taken.add(zone);
    let zone = 1;
    while (taken.has(zone)) zone++;
    if (zone > 65535) throw new Error('no free conntrack zone (65535 isolated networks)');
    this.pendingZones.set(networkId, zone);
    return zone;
  }

  private pendingZones = new Map<string, number>();

  /** Add a network; the first one makes the tables (their base, in a transaction of its own). */
  addNetwork(network: FirewallNetwork): Promise<void> {
    this.networks.set(network.id, network);
    this.pendingZones.delete(network.id);
    return this.serial(async () => {
      if (!this.basePresent) await this.resetBase();
      // The network and its DOCKER-USER rules (where dockerd runs) in one transaction.
      await this.apply([...addNetworkCommands(this.prefix, network), ...(await this.dockerUserCommands([network], false))]);
    });
  }

  /** Remove a network (idempotent); with the last one the tables go, in the same transaction. */
  removeNetwork(network: FirewallNetwork): Promise<void> {
    this.networks.delete(network.id);
    this.pendingZones.delete(network.id);
    const last = this.networks.size === 0;
    return this.serial(async () => {
      await this.syncDockerUser([], false, network);
      if (!this.basePresent) return; // no tables: nothing of it can be there
      await this.apply([...removeNetworkCommands(this.prefix, network), ...(last && this.networks.size === 0 ? dropCommands(this.prefix) : [])]);
      if (last && this.networks.size === 0) this.basePresent = false;
    });
  }

  /**
   * An endpoint's state is set elements (anti-spoofing, ICC), no rule. Changes asked for in the same
   * turn of the event loop (many sandboxes connecting at once) go to the kernel as one transaction.
   */
  addEndpoint(endpoint: FirewallEndpoint): Promise<void> {
    return this.gathered(endpointElements(endpoint).map((element) => ({ op: 'add', element })));
  }

  removeEndpoint(endpoint: FirewallEndpoint): Promise<void> {
    return this.gathered(endpointElements(endpoint).map((element) => ({ op: 'delete', element })));
  }

  private pending: Array<{ changes: ElementChange[]; resolve(): void; reject(error: Error): void }> = [];

  /** Element changes in one transaction: over nfnetlink where the engine gave it, else libnftables JSON. */
  private applyElements(changes: ElementChange[]): Promise<void> {
    if (this.direct.setElements) return this.direct.setElements(this.prefix, changes);
    return this.apply(
      changes.flatMap(({ op, element }) => {
        return op === 'add' ? addElementCommands(this.prefix, element) : deleteElementCommands(this.prefix, element);
      }),
    );
  }

  /**
   * Apply with whatever else is asked for in this turn, as one transaction; if that fails, each
   * caller's changes are applied alone, so every caller gets its own result and error.
   */
  private gathered(changes: ElementChange[]): Promise<void> {
    if (changes.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.pending.push({ changes, resolve, reject });
      if (this.pending.length > 1) return;
      setImmediate(async () => {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.applyElements(batch.flatMap((item) => item.changes));
          batch.forEach((item) => item.resolve());
        } catch (error) {
          if (batch.length === 1) return batch[0]!.reject(error as Error);
          await Promise.all(batch.map((item) => this.applyElements(item.changes).then(item.resolve, item.reject)));
        }
      });
    });
  }

  /**
   * Make this engine's DOCKER-USER rules right, in each family where dockerd made the chain, in one
   * transaction: delete the rules of `removed` (or with `all`, every rule of this engine's), insert
   * those of `add`. A chain found holding none of this engine's rules while it has other networks
   * (dockerd started after them) gets every network's. Without dockerd, a list and nothing else.
   */
  private async syncDockerUser(add: FirewallNetwork[], all: boolean, removed?: FirewallNetwork): Promise<void> {
    const commands = await this.dockerUserCommands(add, all, removed);
    if (commands.length) await this.apply(commands);
  }

  /** The commands syncDockerUser applies: one list of the tables, and of DOCKER-USER where dockerd made it. */
  private async dockerUserCommands(add: FirewallNetwork[], all: boolean, removed?: FirewallNetwork): Promise<NftCommand[]> {
    const commands: NftCommand[] = [];
    for (const { family, rules, of } of await this.dockerUserChains()) {
      let inserts = add;
      if (!all && rules.length === 0 && add.length > 0) inserts = [...this.networks.values()];
      const deletes = all ? rules : [...add, ...(removed ? [removed] : [])].flatMap(of);
      commands.push(...dockerUserDeleteCommands(family, deletes.map((rule) => rule.handle)));
      for (const network of inserts) commands.push(...dockerUserAddCommands(family, this.prefix, network));
    }
    return commands;
  }

  /**
   * This engine's rules in DOCKER-USER, in each family where dockerd made the chain, and a network's
   * among them. Without dockerd (no `filter` table of iptables-nft) one dump of the table names is
   * all it costs.
   */
  private async dockerUserChains(): Promise<Array<{ family: (typeof DOCKER_USER_FAMILIES)[number]; rules: DockerUserRule[]; of(network: FirewallNetwork): DockerUserRule[] }>> {
    const mine = dockerUserMark(this.prefix);
    const tables = await this.direct.tables();
    const chains = [];
    for (const family of DOCKER_USER_FAMILIES) {
      if (!tables.some((table) => table.family === family && table.name === 'filter')) continue;
      const chain = await this.direct.chainRules(family, 'filter', 'DOCKER-USER');
      if (!chain) continue;
      const rules = chain.filter((rule) => rule.comment?.startsWith(mine));
      const of = (network: FirewallNetwork) => rules.filter((rule) => rule.comment!.startsWith(`${dockerUserMark(this.prefix, network)} `));
      chains.push({ family, rules, of });
    }
    return chains;
  }

  /**
   * Bring DOCKER-USER to exactly this engine's networks' rules, where dockerd made the chain: a
   * network missing any of its rules gets them again, rules of networks this engine no longer has
   * go. For a dockerd started, restarted or flushed since the networks were made. Returns how many
   * rules changed; without dockerd it costs one nfnetlink dump of the table names.
   */
  reconcileDockerUser(): Promise<number> {
    return this.serial(async () => {
      const commands: NftCommand[] = [];
      const networks = [...this.networks.values()];
      for (const { family, rules, of } of await this.dockerUserChains()) {
        const owned = new Map(networks.map((network) => [network, of(network)]));
        const incomplete = networks.filter((network) => owned.get(network)!.length !== dockerUserAddCommands(family, this.prefix, network).length);
        const kept = new Set([...owned.values()].flat());
        const stale = rules.filter((rule) => !kept.has(rule));
        commands.push(...dockerUserDeleteCommands(family, [...stale, ...incomplete.flatMap((network) => owned.get(network)!)].map((rule) => rule.handle)));
        for (const network of incomplete) commands.push(...dockerUserAddCommands(family, this.prefix, network));
      }
      if (commands.length) await this.apply(commands);
      return commands.length;
    });
  }

  private watch: NodeJS.Timeout | undefined;

  /**
   * Reconcile DOCKER-USER every `intervalMs` until close: the daemon's, since dockerd may start (and
   * set FORWARD's policy to drop) at any time. A round still running skips the next tick.
   */
  watchDockerUser(intervalMs: number, onError: (error: Error) => void, onChange?: (rulesChanged: number) => void): void {
    clearInterval(this.watch);
    let running = false;
    this.watch = setInterval(() => {
      if (running) return;
      running = true;
      this.reconcileDockerUser()
        .then((changed) => changed && onChange?.(changed))
        .catch(onError)
        .finally(() => (running = false));
    }, intervalMs).unref();
  }

  /** Publish ports (map elements: no rule). */
  addPorts(ports: PublishedPort[]): Promise<void> {
    return this.apply(addPortsCommands(this.prefix, ports));
  }

  /** Unpublish ports (idempotent). */
  removePorts(ports: PublishedPort[]): Promise<void> {
    return this.apply(removePortsCommands(this.prefix, ports));
  }

  /**
   * Forget the flows unpublished ports translated: a UDP flow would otherwise keep going to the old
   * endpoint until its conntrack entry times out.
   */
  async forgetFlows(ports: PublishedPort[]): Promise<number> {
    return ports.length && this.direct.forgetFlows ? this.direct.forgetFlows(ports) : 0;
  }

  /** Stop the DOCKER-USER watch and release what the reads hold (the engine's nfnetlink socket); the firewall may still be used. */
  close(): void {
    clearInterval(this.watch);
    this.watch = undefined;
    this.direct.close?.();
  }

  /** Remove both tables (idempotent). */
  removeAll(): Promise<void> {
    this.networks.clear();
    return this.serial(async () => {
      await this.apply(dropCommands(this.prefix));
      this.basePresent = false;
      await this.syncDockerUser([], true);
    });
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
