/**
 * The controller: the one place that orders work. Every operation validates (nothing touched), writes
 * its intent to the store, runs driver steps each followed by its undo, then commits. A failure
 * unwinds every step done so far. The engine is the only writer of its data root (a lock), so the
 * records are also kept in memory for reads; the store is what survives a crash.
 */
import { randomBytes } from 'node:crypto';
import { openSync, closeSync } from 'node:fs';
import { Handle } from '../netlink/handle.js';
import { routeList } from '../netlink/route.js';
import { isNotFound } from '../netlink/errors.js';
import { linkByName, linkSetNsFd, linkSetUp, linkSetHardwareAddr, linkSetIp4Conf, linkWaitOperUp } from '../netlink/link.js';
import { addrAdd } from '../netlink/addr.js';
import { routeAdd } from '../netlink/route.js';
import { AF_INET } from '../netlink/ip.js';
import type { SandboxRoot } from '../netns/sandbox.js';
import { checkSandboxName } from '../netns/names.js';
import type { Store, Operation, Condition } from '../store/store.js';
import type { Ipam, Lease, Pool, SubnetRequest } from '../ipam/types.js';
import { parseAddress, parseSubnet, subnetContains } from '../ipam/cidr.js';
import { CnmError, badRequest, conflict, forbidden, notFound } from './errors.js';
import { UndoStack } from './undo.js';
import { faultPoint } from './fault.js';
import { checkPorts } from './ports.js';
import { keys, type EndpointRecord, type NetworkRecord, type PortSpec, type SandboxRecord } from './model.js';
import type { Driver, DriverContext, DriverRegistry, JoinResult, Logger } from './driver.js';
import { KeyedLock } from './lock.js';
import type { Firewall } from '../firewall/firewall.js';
import { macFromIpv4 } from './mac.js';

/** `yard network create` / `POST /networks/create`. */
export interface NetworkCreate {
  name: string;
  driver?: string;
  internal?: boolean;
  attachable?: boolean;
  enableIpv6?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  ipam?: { driver?: string; config?: SubnetRequest[]; options?: Record<string, string> };
}

/** `yard network connect` / `POST /networks/{id}/connect`. */
export interface ConnectOptions {
  ipv4Address?: string;
  ipv6Address?: string;
  aliases?: string[];
  macAddress?: string;
}

export interface ControllerOptions {
  store: Store;
  ipam: Ipam;
  drivers: DriverRegistry;
  host: Handle;
  sandboxes: SandboxRoot;
  /** Ownership mark of this engine's kernel objects. */
  owner: string;
  firewall: Firewall;
  log: Logger;
}

const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Network names: as Docker's, plus Switchyard's rules for what goes into paths and interface names. */
export function checkNetworkName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || name.length === 0) throw badRequest(`${field}: network name must not be empty`, field);
  if (name === '.' || name === '..') throw badRequest(`${field}: network name ${JSON.stringify(name)} is reserved`, field);
  if (/[/:\s]/.test(name)) throw badRequest(`${field}: network name ${JSON.stringify(name)} must not contain '/', ':' or whitespace`, field);
  if (!NAME_PATTERN.test(name)) throw badRequest(`${field}: network name ${JSON.stringify(name)} must start with a letter or digit and hold only letters, digits, '_', '.', '-'`, field);
  if (name.length > 128) throw badRequest(`${field}: network name is ${name.length} characters, the limit is 128`, field);
  return name;
}

function newId(): string {
  return randomBytes(32).toString('hex');
}


export class Controller {
  private readonly store: Store;
  private readonly ipam: Ipam;
  private readonly drivers: DriverRegistry;
  private readonly host: Handle;
  private readonly sandboxRoot: SandboxRoot;
  private readonly owner: string;
  private readonly firewall: Firewall;
  private readonly log: Logger;
  private readonly networks = new Map<string, NetworkRecord>();
  private readonly endpoints = new Map<string, EndpointRecord>();
  private readonly sandboxes = new Map<string, SandboxRecord>();
  /** Network-wide operations take a network exclusively; connects share it. */
  private readonly networkLocks = new KeyedLock();
  private readonly sandboxLocks = new KeyedLock();

  constructor(options: ControllerOptions) {
    this.store = options.store;
    this.ipam = options.ipam;
    this.drivers = options.drivers;
    this.host = options.host;
    this.sandboxRoot = options.sandboxes;
    this.owner = options.owner;
    this.firewall = options.firewall;
    this.log = options.log;
  }

  /** Load every record from the store (the engine calls this, then reconciles). */
  async load(): Promise<void> {
    this.networks.clear();
    this.endpoints.clear();
    this.sandboxes.clear();
    for (const entry of await this.store.list<NetworkRecord>('networks/')) this.networks.set(entry.value.id, entry.value);
    for (const entry of await this.store.list<EndpointRecord>('endpoints/')) this.endpoints.set(entry.value.id, entry.value);
    for (const entry of await this.store.list<SandboxRecord>('sandboxes/')) this.sandboxes.set(entry.value.id, entry.value);
  }

  /** The context drivers get for one operation. */
  context(undo: UndoStack, signal: AbortSignal = new AbortController().signal): DriverContext {
    return { host: this.host, sandboxes: this.sandboxRoot, store: this.store, firewall: this.firewall, log: this.log, undo, signal, owner: this.owner, fault: faultPoint };
  }

  private driverOf(type: string, field = 'driver'): Driver {
    const driver = this.drivers.get(type);
    if (!driver) throw new CnmError('not-found', `${field}: unknown network driver ${JSON.stringify(type)} (known: ${this.drivers.types().join(', ')})`, { field });
    return driver;
  }

  // ---- lookups ------------------------------------------------------------------------------

  /** A network by id, name, or unique id prefix (as Docker resolves them). */
  network(ref: string): NetworkRecord {
    const found = resolve(this.networks, ref, 'network');
    if (!found) throw notFound(`network ${ref} not found`);
    return found;
  }

  listNetworks(): NetworkRecord[] {
    return [...this.networks.values()].filter((n) => n.state === 'ready').sort((a, b) => a.created.localeCompare(b.created) || a.name.localeCompare(b.name));
  }

  sandbox(ref: string): SandboxRecord {
    const found = resolve(this.sandboxes, ref, 'sandbox');
    if (!found) throw notFound(`sandbox ${ref} not found`);
    return found;
  }

  listSandboxes(): SandboxRecord[] {
    return [...this.sandboxes.values()].filter((s) => s.state === 'ready').sort((a, b) => a.created.localeCompare(b.created) || a.name.localeCompare(b.name));
  }

  /** Endpoints of a network, or of a sandbox, or all. */
  listEndpoints(filter: { networkId?: string; sandboxId?: string } = {}): EndpointRecord[] {
    return [...this.endpoints.values()].filter(
      (e) => (filter.networkId === undefined || e.networkId === filter.networkId) && (filter.sandboxId === undefined || e.sandboxId === filter.sandboxId),
    );
  }

  // ---- networks -----------------------------------------------------------------------------

  /** Create a network: validate, intent, IPAM pools, driver, commit. */
  async createNetwork(spec: NetworkCreate): Promise<NetworkRecord> {
    const name = checkNetworkName(spec.name);
    const driver = this.driverOf(spec.driver ?? 'bridge');
    if (spec.ipam?.driver !== undefined && spec.ipam.driver !== 'default') {
      throw new CnmError('not-found', `ipam.driver: unknown IPAM driver ${JSON.stringify(spec.ipam.driver)} (known: default)`, { field: 'ipam.driver' });
    }
    const internal = spec.internal ?? false;
    const enableIpv6 = spec.enableIpv6 ?? false;
    const capabilities = driver.capabilities();
    if (capabilities.singleton && [...this.networks.values()].some((n) => n.driver === driver.type)) {
      throw forbidden(`only one instance of "${driver.type === 'null' ? 'none' : driver.type}" network is allowed`);
    }
    if (capabilities.addresses === false && (spec.ipam?.config?.length || enableIpv6)) {
      throw badRequest(`ipam.config: driver ${driver.type} gives no addresses: no subnets or IPv6`, 'ipam.config');
    }
    const options = driver.validateNetworkOptions({ ...(spec.options ?? {}) }, { name, internal, enableIpv6 });
    const config = spec.ipam?.config ?? [];
    const ipv4: SubnetRequest[] = [];
    const ipv6: SubnetRequest[] = [];
    config.forEach((entry, i) => {
      if (entry.subnet === undefined && (entry.gateway !== undefined || entry.ipRange !== undefined)) {
        throw badRequest(`ipam.config[${i}]: a gateway or ip-range needs a subnet`, `ipam.config[${i}].subnet`);
      }
      (entry.subnet?.includes(':') ? ipv6 : ipv4).push(entry);
    });
    if (ipv6.length > 0 && !enableIpv6) throw badRequest('ipam.config: an IPv6 subnet needs --ipv6 (enableIpv6)', 'enableIpv6');
    if (this.findByName(this.networks, name)) throw conflict(`network with name ${name} already exists`, 'name');

    const id = newId();
    const record: NetworkRecord = {
      id,
      name,
      driver: driver.type,
      scope: driver.capabilities().scope,
      internal,
      attachable: spec.attachable ?? false,
      enableIpv6,
      labels: { ...(spec.labels ?? {}) },
      options,
      ipamOptions: { ...(spec.ipam?.options ?? {}) },
      ipamConfig: config.map((c) => ({ ...c })),
      pools: [],
      driverState: {},
      created: new Date().toISOString(),
      state: 'creating',
    };
    const undo = new UndoStack();
    const ctx = this.context(undo);
    return this.networkLocks.exclusive(id, async () => {
      try {
        // Intent first: the name is taken and the record says "creating" before any kernel work.
        faultPoint('network.create.before-intent');
        const intent = await this.store.txn(
          [{ key: keys.networkName(name), absent: true }, { key: keys.network(id), absent: true }],
          [
            { kind: 'put', key: keys.networkName(name), value: { id } },
            { kind: 'put', key: keys.network(id), value: record },
          ],
        );
        if (!intent.ok) throw conflict(`network with name ${name} already exists`, 'name');
        this.networks.set(id, record);
        undo.push('network intent', async () => {
          this.networks.delete(id);
          await this.store.txn([], [
            { kind: 'delete', key: keys.network(id) },
            { kind: 'delete', key: keys.networkName(name) },
          ]);
        });
        faultPoint('network.create.after-intent');

        if (capabilities.addresses !== false) {
          const avoid = (await routeList(this.host, { family: AF_INET, table: 'all' }))
            .filter((route) => route.dst !== 'default' && route.type === 1 && route.table !== 255)
            .map((route) => route.dst);
          const isolated = driver.isolatedFamilies?.(record);
          record.pools = await this.ipam.requestPools({ networkId: id, networkName: name, ipv4, ipv6: enableIpv6 ? ipv6 : undefined, avoid, ...(isolated ? { isolated } : {}) });
          undo.push('ipam pools', () => this.ipam.releasePools(id));
        }
        faultPoint('network.create.after-ipam');

        await driver.createNetwork(ctx, record);
        undo.push('driver network', () => driver.deleteNetwork(this.context(new UndoStack()), record));
        faultPoint('network.create.after-driver');

        record.state = 'ready';
        await this.store.txn([], [{ kind: 'put', key: keys.network(id), value: record }]);
        faultPoint('network.create.after-commit');
        undo.commit();
        return record;
      } catch (error) {
        record.state = 'creating';
        throw await undo.unwind(error);
      }
    });
  }

  /** Delete a network; refused while it has endpoints. */
  async deleteNetwork(ref: string): Promise<void> {
    const network = this.network(ref);
    await this.networkLocks.exclusive(network.id, async () => {
      const current = this.networks.get(network.id);
      if (!current) return;
      const attached = this.listEndpoints({ networkId: network.id });
      if (attached.length > 0) {
        const names = attached.map((e) => this.sandboxes.get(e.sandboxId)?.name ?? e.sandboxId.slice(0, 12));
        throw forbidden(`error while removing network: network ${network.name} id ${network.id} has active endpoints (${names.join(', ')})`);
      }
      await this.teardownNetwork(current);
    });
  }

  /** Remove a network from what the store says (also after a crash): best effort, every error reported. */
  private async teardownNetwork(network: NetworkRecord): Promise<void> {
    // A create interrupted before its commit left a record without its pools; IPAM has them
    // (persisted before any driver work), and the driver's teardown needs them (gateways, NAT).
    if (network.pools.length === 0) network.pools = await this.ipam.pools(network.id);
    network.state = 'deleting';
    await this.store.txn([], [{ kind: 'put', key: keys.network(network.id), value: network }]);
    faultPoint('network.delete.after-intent');
    const errors: Error[] = [];
    const driver = this.drivers.get(network.driver);
    if (driver) {
      try {
        await driver.deleteNetwork(this.context(new UndoStack()), network);
      } catch (error) {
        errors.push(error as Error);
      }
    }
    faultPoint('network.delete.after-driver');
    try {
      await this.ipam.releasePools(network.id);
    } catch (error) {
      errors.push(error as Error);
    }
    faultPoint('network.delete.after-ipam');
    if (errors.length > 0) throw new CnmError('internal', `delete network ${network.name}: ${errors.map((e) => e.message).join('; ')}`);
    await this.store.txn([], [
      { kind: 'delete', key: keys.network(network.id) },
      { kind: 'delete', key: keys.networkName(network.name) },
    ]);
    this.networks.delete(network.id);
  }

  // ---- sandboxes ----------------------------------------------------------------------------

  /** Create a sandbox (a network namespace, published by name), with the ports it publishes. */
  async createSandbox(spec: { name: string; ports?: PortSpec[] }): Promise<SandboxRecord> {
    try {
      checkSandboxName(spec.name);
    } catch (error) {
      throw badRequest((error as Error).message, 'name');
    }
    const ports = checkPorts(spec.ports ?? []);
    if (this.findByName(this.sandboxes, spec.name)) throw conflict(`sandbox with name ${spec.name} already exists`, 'name');
    const id = newId();
    const record: SandboxRecord = { id, name: spec.name, path: this.sandboxRoot.pathOf(id.slice(0, 16)), ...(ports.length ? { ports } : {}), created: new Date().toISOString(), state: 'creating' };
    const undo = new UndoStack();
    try {
      const intent = await this.store.txn(
        [{ key: keys.sandboxName(spec.name), absent: true }],
        [
          { kind: 'put', key: keys.sandboxName(spec.name), value: { id } },
          { kind: 'put', key: keys.sandbox(id), value: record },
        ],
      );
      if (!intent.ok) throw conflict(`sandbox with name ${spec.name} already exists`, 'name');
      this.sandboxes.set(id, record);
      undo.push('sandbox intent', async () => {
        this.sandboxes.delete(id);
        await this.store.txn([], [
          { kind: 'delete', key: keys.sandbox(id) },
          { kind: 'delete', key: keys.sandboxName(spec.name) },
        ]);
      });
      faultPoint('sandbox.create.after-intent');
      const made = await this.sandboxRoot.create({ name: spec.name, id: id.slice(0, 16) });
      undo.push('namespace', () => this.sandboxRoot.delete(made));
      faultPoint('sandbox.create.after-namespace');
      record.state = 'ready';
      await this.store.txn([], [{ kind: 'put', key: keys.sandbox(id), value: record }]);
      undo.commit();
      return record;
    } catch (error) {
      throw await undo.unwind(error);
    }
  }

  /** Delete a sandbox, disconnecting it from every network first. */
  async deleteSandbox(ref: string): Promise<void> {
    const sandbox = this.sandbox(ref);
    for (const endpoint of this.listEndpoints({ sandboxId: sandbox.id })) {
      await this.disconnect(endpoint.networkId, sandbox.id, { force: true });
    }
    await this.sandboxLocks.exclusive(sandbox.id, () => this.teardownSandbox(sandbox));
  }

  private async teardownSandbox(sandbox: SandboxRecord): Promise<void> {
    sandbox.state = 'deleting';
    await this.store.txn([], [{ kind: 'put', key: keys.sandbox(sandbox.id), value: sandbox }]);
    faultPoint('sandbox.delete.after-intent');
    await this.sandboxRoot.delete({ id: sandbox.id.slice(0, 16), name: sandbox.name });
    faultPoint('sandbox.delete.after-namespace');
    await this.store.txn([], [
      { kind: 'delete', key: keys.sandbox(sandbox.id) },
      { kind: 'delete', key: keys.sandboxName(sandbox.name) },
    ]);
    this.sandboxes.delete(sandbox.id);
  }

  // ---- endpoints ----------------------------------------------------------------------------

  /** Connect a sandbox to a network: intent, addresses, driver endpoint, join, commit. */
  async connect(networkRef: string, sandboxRef: string, options: ConnectOptions = {}): Promise<EndpointRecord> {
    const network = this.network(networkRef);
    const sandbox = this.sandbox(sandboxRef);
    if (network.state !== 'ready') throw conflict(`network ${network.name} is being ${network.state === 'creating' ? 'created' : 'deleted'}`);
    if (sandbox.state !== 'ready') throw conflict(`sandbox ${sandbox.name} is being ${sandbox.state === 'creating' ? 'created' : 'deleted'}`);
    const driver = this.driverOf(network.driver);
    const ipv4Pools = network.pools.filter((p) => p.family === 4);
    const ipv6Pools = network.pools.filter((p) => p.family === 6);
    if (options.ipv6Address !== undefined && !ipv6Pools.length) throw badRequest(`ipv6Address: network ${network.name} has no IPv6 subnet`, 'ipv6Address');
    if (options.ipv4Address !== undefined && !ipv4Pools.length) throw badRequest(`ipv4Address: network ${network.name} has no IPv4 subnet`, 'ipv4Address');
    if (options.macAddress !== undefined && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(options.macAddress)) {
      throw badRequest(`macAddress: ${JSON.stringify(options.macAddress)} is not a MAC address (aa:bb:cc:dd:ee:ff)`, 'macAddress');
    }
    return this.networkLocks.shared(network.id, () =>
      this.sandboxLocks.exclusive(sandbox.id, async () => {
        if (!this.networks.has(network.id)) throw notFound(`network ${networkRef} not found`);
        if (!this.sandboxes.has(sandbox.id)) throw notFound(`sandbox ${sandboxRef} not found`);
        const existing = this.listEndpoints({ sandboxId: sandbox.id });
        if (existing.some((e) => e.networkId === network.id)) {
          throw forbidden(`endpoint with name ${sandbox.name} already exists in network ${network.name}`);
        }
        const exclusive = (n: NetworkRecord | undefined) => n !== undefined && this.drivers.get(n.driver)?.capabilities().exclusive === true;
        if (existing.length > 0 && (driver.capabilities().exclusive || existing.some((e) => exclusive(this.networks.get(e.networkId))))) {
          throw forbidden(`sandbox ${sandbox.name} cannot be connected to multiple networks with one of the networks in private (none) mode`);
        }
        // Docker's generic option: the in-sandbox name prefix (default eth), numbered per sandbox.
        const prefix = network.options['com.docker.network.container_iface_prefix'] ?? 'eth';
        const used = new Set(existing.map((e) => e.interfaceName));
        let n = 0;
        while (used.has(`${prefix}${n}`)) n++;
        const defaultRoute = !network.internal && !existing.some((e) => e.driverState.defaultRoute === 'true');
        const endpoint: EndpointRecord = {
          id: newId(),
          networkId: network.id,
          sandboxId: sandbox.id,
          interfaceName: `${prefix}${n}`,
          macAddress: options.macAddress?.toLowerCase() ?? '',
          aliases: [...(options.aliases ?? [])],
          requested: { ...(options.ipv4Address ? { ipv4: options.ipv4Address } : {}), ...(options.ipv6Address ? { ipv6: options.ipv6Address } : {}) },
          driverState: { defaultRoute: String(defaultRoute) },
          state: 'creating',
        };
        const undo = new UndoStack();
        const ctx = this.context(undo);
        try {
          faultPoint('connect.before-intent');
          await this.putRecord(keys.endpoint(network.id, endpoint.id), endpoint, [{ key: keys.endpoint(network.id, endpoint.id), absent: true }]);
          this.endpoints.set(endpoint.id, endpoint);
          undo.push('endpoint intent', async () => {
            this.endpoints.delete(endpoint.id);
            await this.store.txn([], [{ kind: 'delete', key: keys.endpoint(network.id, endpoint.id) }]);
          });
          faultPoint('connect.after-intent');

          if (ipv4Pools.length) {
            const lease = await this.leaseFrom(network, ipv4Pools, endpoint.id, options.ipv4Address, 'ipv4Address');
            endpoint.ipv4 = { poolId: lease.poolId, cidr: lease.cidr };
            undo.push('ipv4 address', () => this.ipam.releaseAddress(lease.poolId, lease.address, endpoint.id));
          }
          if (ipv6Pools.length) {
            const lease = await this.leaseFrom(network, ipv6Pools, endpoint.id, options.ipv6Address, 'ipv6Address');
            endpoint.ipv6 = { poolId: lease.poolId, cidr: lease.cidr };
            undo.push('ipv6 address', () => this.ipam.releaseAddress(lease.poolId, lease.address, endpoint.id));
          }
          faultPoint('connect.after-ipam');

          const given = endpoint.macAddress;
          const decided = await driver.createEndpoint(ctx, network, endpoint);
          undo.push('driver endpoint', () => driver.deleteEndpoint(this.context(new UndoStack()), network, endpoint));
          if (decided?.macAddress && !given) endpoint.macAddress = decided.macAddress.toLowerCase();
          if (!endpoint.macAddress && endpoint.ipv4) endpoint.macAddress = macFromIpv4(endpoint.ipv4.cidr);
          faultPoint('connect.after-endpoint');

          const joined = await driver.join(ctx, network, endpoint, { sandbox, interfaceName: endpoint.interfaceName, defaultRoute });
          undo.push('driver join', () => driver.leave(this.context(new UndoStack()), network, endpoint));
          if (joined.kind === 'move') await this.moveIntoSandbox(endpoint, sandbox, joined, undo, defaultRoute);
          faultPoint('connect.after-join');
          // The sandbox's ports go on its gateway endpoint (Docker: ProgramExternalConnectivity).
          if (defaultRoute && sandbox.ports?.length && driver.programExternalConnectivity) {
            await driver.programExternalConnectivity(ctx, network, endpoint, sandbox.ports);
            faultPoint('connect.after-ports');
          }

          endpoint.state = 'ready';
          await this.putRecord(keys.endpoint(network.id, endpoint.id), endpoint);
          faultPoint('connect.after-commit');
          undo.commit();
          return endpoint;
        } catch (error) {
          throw await undo.unwind(error);
        }
      }),
    );
  }

  /**
   * An endpoint's address from a network's subnets of one family, as libnetwork assigns it: a given
   * address from the subnet that holds it; otherwise the first subnet with a free address, in the
   * order the network was created with.
   */
  private async leaseFrom(network: NetworkRecord, pools: Pool[], owner: string, requested: string | undefined, field: string): Promise<Lease> {
    if (pools.length === 1) return this.ipam.requestAddress(pools[0]!.poolId, owner, requested);
    const subnets = pools.map((p) => p.subnet).join(', ');
    if (requested !== undefined) {
      const address = parseAddress(requested);
      if (!address) throw badRequest(`${field}: ${JSON.stringify(requested)} is not an IP address`, field);
      const pool = pools.find((p) => subnetContains(parseSubnet(p.subnet), address));
      if (!pool) throw badRequest(`${field}: ${requested} is not in any of network ${network.name}'s subnets (${subnets})`, field);
      return this.ipam.requestAddress(pool.poolId, owner, requested);
    }
    for (const pool of pools) {
      try {
        return await this.ipam.requestAddress(pool.poolId, owner);
      } catch (error) {
        if (!(error instanceof CnmError && error.category === 'conflict')) throw error; // full: the next one
      }
    }
    throw conflict(`no free address in any of network ${network.name}'s subnets (${subnets})`, field);
  }

  /** The remote-plugin style of join: move the interface in, name it, and configure it as dockerd does. */
  private async moveIntoSandbox(endpoint: EndpointRecord, sandbox: SandboxRecord, joined: Extract<JoinResult, { kind: 'move' }>, undo: UndoStack, defaultRoute: boolean): Promise<void> {
    const used = new Set(this.listEndpoints({ sandboxId: sandbox.id }).filter((e) => e.id !== endpoint.id).map((e) => e.interfaceName));
    let n = 0;
    while (used.has(`${joined.dstPrefix}${n}`)) n++;
    endpoint.interfaceName = `${joined.dstPrefix}${n}`;
    endpoint.driverState.joinStyle = 'move';
    endpoint.driverState.srcName = joined.srcName;
    const fd = openSync(sandbox.path, 'r');
    try {
      await linkSetNsFd(this.host, joined.srcName, fd, endpoint.interfaceName);
    } finally {
      closeSync(fd);
    }
    const inside = await Handle.open({ netnsPath: sandbox.path });
    try {
      // Undo: move it back out under its old name, where the driver's deleteEndpoint finds it.
      undo.push('move interface into sandbox', async () => {
        const back = openSync('/proc/self/ns/net', 'r');
        const handle = await Handle.open({ netnsPath: sandbox.path });
        try {
          await linkSetNsFd(handle, endpoint.interfaceName, back, joined.srcName);
        } finally {
          handle.close();
          closeSync(back);
        }
      });
      const link = await linkByName(inside, endpoint.interfaceName);
      const steps: Array<Promise<unknown>> = [linkSetUp(inside, 'lo')];
      if (endpoint.macAddress) steps.push(linkSetHardwareAddr(inside, link.index, endpoint.macAddress));
      steps.push(linkSetIp4Conf(inside, link.index, { arpNotify: true }));
      steps.push(linkSetUp(inside, link.index));
      if (endpoint.ipv4) steps.push(addrAdd(inside, link.index, endpoint.ipv4.cidr));
      if (endpoint.ipv6) steps.push(addrAdd(inside, link.index, endpoint.ipv6.cidr));
      await Promise.all(steps);
      const routes: Array<Promise<unknown>> = [];
      for (const route of joined.staticRoutes ?? []) {
        routes.push(routeAdd(inside, route.routeType === 1 ? { dst: route.destination, link: link.index } : { dst: route.destination, gateway: route.nextHop! }));
      }
      if (defaultRoute && joined.gateway) routes.push(routeAdd(inside, { dst: 'default', gateway: joined.gateway }));
      if (defaultRoute && joined.gatewayIpv6) routes.push(routeAdd(inside, { dst: 'default', gateway: joined.gatewayIpv6 }));
      await Promise.all(routes);
      endpoint.driverState.defaultRoute = String(defaultRoute && (joined.gateway !== undefined || joined.gatewayIpv6 !== undefined));
      await linkWaitOperUp(inside, link.index);
    } finally {
      inside.close();
    }
  }

  /** Disconnect a sandbox from a network: leave, delete the endpoint, free its addresses. */
  async disconnect(networkRef: string, sandboxRef: string, options: { force?: boolean } = {}): Promise<void> {
    const network = this.network(networkRef);
    const sandbox = resolve(this.sandboxes, sandboxRef, 'sandbox');
    const endpoint = this.listEndpoints({ networkId: network.id }).find((e) => e.sandboxId === sandbox?.id || (options.force && e.sandboxId === sandboxRef));
    if (!endpoint) throw notFound(`sandbox ${sandboxRef} is not connected to network ${network.name}`);
    await this.networkLocks.shared(network.id, () => this.sandboxLocks.exclusive(endpoint.sandboxId, () => this.teardownEndpoint(network, endpoint)));
  }

  /** Remove an endpoint from what the store says: best effort, gone counts as done. */
  private async teardownEndpoint(network: NetworkRecord, endpoint: EndpointRecord): Promise<void> {
    endpoint.state = 'deleting';
    await this.putRecord(keys.endpoint(network.id, endpoint.id), endpoint);
    faultPoint('disconnect.after-intent');
    const driver = this.drivers.get(network.driver);
    const errors: Error[] = [];
    const ctx = this.context(new UndoStack());
    if (driver) {
      const steps = [
        () => (endpoint.driverState.ports && driver.revokeExternalConnectivity ? driver.revokeExternalConnectivity(ctx, network, endpoint) : Promise.resolve()),
        () => driver.leave(ctx, network, endpoint),
        () => this.moveOutOfSandbox(endpoint),
        () => driver.deleteEndpoint(ctx, network, endpoint),
      ];
      for (const step of steps) {
        try {
          await step();
        } catch (error) {
          errors.push(error as Error);
        }
      }
    }
    faultPoint('disconnect.after-driver');
    for (const lease of [endpoint.ipv4, endpoint.ipv6]) {
      if (!lease) continue;
      try {
        await this.ipam.releaseAddress(lease.poolId, lease.cidr.split('/')[0]!, endpoint.id);
      } catch (error) {
        errors.push(error as Error);
      }
    }
    faultPoint('disconnect.after-ipam');
    if (errors.length > 0) throw new CnmError('internal', `disconnect ${endpoint.interfaceName} from ${network.name}: ${errors.map((e) => e.message).join('; ')}`);
    await this.store.txn([], [{ kind: 'delete', key: keys.endpoint(network.id, endpoint.id) }]);
    this.endpoints.delete(endpoint.id);
  }

  /**
   * For a host-side-style endpoint: between Leave and DeleteEndpoint, move the interface back to the
   * host namespace under its original name, as dockerd does, so the plugin finds what it made.
   * Gone (with its sandbox) counts as done.
   */
  private async moveOutOfSandbox(endpoint: EndpointRecord): Promise<void> {
    if (endpoint.driverState.joinStyle !== 'move' || !endpoint.driverState.srcName) return;
    const sandbox = this.sandboxes.get(endpoint.sandboxId);
    if (!sandbox) return;
    let inside: Handle;
    try {
      inside = await Handle.open({ netnsPath: sandbox.path });
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    const home = openSync('/proc/self/ns/net', 'r');
    try {
      await linkSetNsFd(inside, endpoint.interfaceName, home, endpoint.driverState.srcName);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    } finally {
      closeSync(home);
      inside.close();
    }
  }

  private async putRecord(key: string, value: unknown, conditions: Condition[] = []): Promise<void> {
    const operations: Operation[] = [{ kind: 'put', key, value }];
    const result = await this.store.txn(conditions, operations);
    if (!result.ok) throw conflict(`store: ${key} changed underneath this operation`);
  }

  private findByName<T extends { name: string }>(map: Map<string, T>, name: string): T | undefined {
    for (const value of map.values()) if (value.name === name) return value;
    return undefined;
  }

  // ---- used by reconcile ---------------------------------------------------------------------

  /** Records as loaded, including unfinished ones. */
  records(): { networks: NetworkRecord[]; endpoints: EndpointRecord[]; sandboxes: SandboxRecord[] } {
    return { networks: [...this.networks.values()], endpoints: [...this.endpoints.values()], sandboxes: [...this.sandboxes.values()] };
  }

  /** Tear down an unfinished or orphaned endpoint (reconcile). */
  async forgetEndpoint(endpoint: EndpointRecord): Promise<void> {
    const network = this.networks.get(endpoint.networkId);
    if (!network) {
      await this.store.txn([], [{ kind: 'delete', key: keys.endpoint(endpoint.networkId, endpoint.id) }]);
      this.endpoints.delete(endpoint.id);
      return;
    }
    await this.teardownEndpoint(network, endpoint);
  }

  /** Tear down an unfinished network (reconcile). */
  async forgetNetwork(network: NetworkRecord): Promise<void> {
    await this.teardownNetwork(network);
  }

  /** Forget a sandbox whose namespace is gone (reconcile); its endpoints must be gone first. */
  async forgetSandbox(sandbox: SandboxRecord): Promise<void> {
    await this.teardownSandbox(sandbox);
  }
}

/** Find a record by exact id, exact name, or unique id prefix; an ambiguous prefix is an error. */
function resolve<T extends { id: string; name: string }>(map: Map<string, T>, ref: string, kind: string): T | undefined {
  const byId = map.get(ref);
  if (byId) return byId;
  for (const value of map.values()) if (value.name === ref) return value;
  if (ref.length === 0) return undefined;
  const matches = [...map.values()].filter((value) => value.id.startsWith(ref));
  if (matches.length > 1) throw badRequest(`${kind} ${ref} is ambiguous (${matches.length} matches)`);
  return matches[0];
}
