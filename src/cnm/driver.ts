/**
 * The driver contract: libnetwork's verbs. Built-in drivers are stateless: every call carries the
 * records it concerns (the controller owns the state, so teardown after a crash can be recomputed
 * from the store); a remote driver maps them to its wire calls by id. Every delete is idempotent.
 */
import type { Handle } from '../netlink/handle.js';
import type { SandboxRoot } from '../netns/sandbox.js';
import type { Store } from '../store/store.js';
import type { UndoStack } from './undo.js';
import type { Firewall } from '../firewall/firewall.js';
import type { FirewallEndpoint, FirewallNetwork, PublishedPort } from '../firewall/ruleset.js';
import type { EndpointRecord, NetworkRecord, PortSpec, SandboxRecord } from './model.js';

/** Everything a driver may use, handed in with every call: no globals. */
export interface DriverContext {
  /** rtnetlink in the host namespace. */
  host: Handle;
  sandboxes: SandboxRoot;
  store: Store;
  /** Switchyard's nftables tables: one transaction per operation. */
  firewall: Firewall;
  log: Logger;
  /** The current operation's undo stack: push right after a step succeeds. */
  undo: UndoStack;
  signal: AbortSignal;
  /** Ownership mark for kernel objects of this engine (`switchyard:<root id>`): never touch what lacks it. */
  owner: string;
  /** Test-only crash hook: call at each step (`bridge.create-bridge`). */
  fault(step: string): void;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** GetCapabilities. */
export interface Capabilities {
  scope: 'local' | 'global';
  connectivityScope: 'local' | 'global';
  /** At most one network of this driver (Docker's host and null). */
  singleton?: boolean;
  /** Its networks get no subnets and its endpoints no addresses (host, null). Default true. */
  addresses?: boolean;
  /** An endpoint of it must be its sandbox's only one (null: "private" mode). */
  exclusive?: boolean;
}

/** The interface data an endpoint gets (EndpointInterface). */
export interface EndpointInterface {
  /** IPv4 CIDR. */
  address?: string;
  addressIpv6?: string;
  macAddress?: string;
}

/** A route the sandbox gets with an endpoint (StaticRoute). */
export interface StaticRoute {
  destination: string;
  /** 0 next hop, 1 connected. */
  routeType: 0 | 1;
  nextHop?: string;
}

/** What join did, in one of two styles. */
export type JoinResult =
  /** The fast path: the driver made and configured the interface inside the sandbox. */
  | { kind: 'configured'; interfaceName: string }
  /**
   * The remote-plugin style: an interface waits in the host namespace; the controller moves it in,
   * renames it to `dstPrefix<N>`, and sets its MAC, addresses, routes and default gateway.
   */
  | {
      kind: 'move';
      srcName: string;
      dstPrefix: string;
      gateway?: string;
      gatewayIpv6?: string;
      staticRoutes?: StaticRoute[];
      disableGatewayService?: boolean;
    };

/** What join is told about the sandbox. */
export interface JoinTarget {
  sandbox: SandboxRecord;
  /** The name the interface must have inside (`eth<N>`), for drivers that create it there. */
  interfaceName: string;
  /** Whether this endpoint gives the sandbox its default route. */
  defaultRoute: boolean;
}

export interface Driver {
  /** `bridge`, `host`, `null`, `macvlan`, …, or the plugin's name. */
  readonly type: string;
  capabilities(): Capabilities;
  /** Check and normalise `-o` options without side effects; throw CnmError bad-request naming the option. */
  validateNetworkOptions(options: Record<string, string>, network: Pick<NetworkRecord, 'name' | 'internal' | 'enableIpv6'>): Record<string, string>;
  /**
   * Families whose subnets the host holds no address in (no gateway on the host, nothing routed):
   * IPAM lets such a subnet reuse another isolated network's. Default: none.
   */
  isolatedFamilies?(network: Pick<NetworkRecord, 'options' | 'internal'>): { 4?: boolean; 6?: boolean };
  /** Make the network real (a bridge, a VTEP). May fill network.driverState. */
  createNetwork(ctx: DriverContext, network: NetworkRecord): Promise<void>;
  /** Remove what createNetwork made; gone counts as done. */
  deleteNetwork(ctx: DriverContext, network: NetworkRecord): Promise<void>;
  /** Decide the endpoint's interface data; return only fields that were empty (libnetwork's don't-echo rule). */
  createEndpoint(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord): Promise<EndpointInterface | undefined>;
  deleteEndpoint(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord): Promise<void>;
  join(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord, target: JoinTarget): Promise<JoinResult>;
  leave(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord): Promise<void>;
  endpointOperInfo(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord): Promise<Record<string, unknown>>;
  /** Publish the sandbox's ports on its gateway endpoint (push undos); the driver records them on the endpoint. */
  programExternalConnectivity?(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord, ports: PortSpec[]): Promise<void>;
  /** Unpublish them; gone counts as done. */
  revokeExternalConnectivity?(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord): Promise<void>;
  /** After a restart: take back what lives only in the engine process (port reservations). */
  restoreEndpoint?(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord): Promise<void>;
  /** After a restart: make a network whose kernel objects are gone real again (a reboot); default createNetwork. */
  restoreNetwork?(ctx: DriverContext, network: NetworkRecord): Promise<void>;
  /** Whether the network's kernel objects are present (reconcile asks before recreating). */
  networkPresent?(ctx: DriverContext, network: NetworkRecord): Promise<boolean>;
  /** Wait for work the driver finishes in the background (veths deleted after leave returned). */
  drain?(): Promise<void>;
  /** The firewall state of a network and its endpoints, for the rebuild at engine start. */
  firewallOf?(network: NetworkRecord, endpoints: EndpointRecord[]): { network?: FirewallNetwork; endpoints: FirewallEndpoint[]; ports?: PublishedPort[] };
}

/** The drivers an engine knows, by type. Filled by drivers/index.ts, the one explicit list. */
export class DriverRegistry {
  private readonly drivers = new Map<string, Driver>();

  register(driver: Driver): void {
    if (this.drivers.has(driver.type)) throw new Error(`driver ${driver.type} is registered twice`);
    this.drivers.set(driver.type, driver);
  }

  get(type: string): Driver | undefined {
    return this.drivers.get(type);
  }

  types(): string[] {
    return [...this.drivers.keys()].sort();
  }
}
