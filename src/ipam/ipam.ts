/**
 * IPAM over the store. Keys:
 *   ipam/pools/<poolId>                     a Pool (written once, deleted on release)
 *   ipam/addresses/<poolId>/<address>       { owner } for every address handed out
 *   ipam/pools-version                      a counter every pool creation bumps
 * The store's compare-and-swap is the truth: an address is handed out by creating its key (condition:
 * absent, and the pool key still at the version it was created with), so two callers or two engines
 * can never hold one address. Pool creation is one transaction guarded by the counter, so two
 * concurrent creates cannot both take 172.18.0.0/16, and a failed create leaves nothing behind.
 * In memory, per pool, a set of taken offsets makes picking the lowest free address cheap; it is only
 * a guess that the store confirms.
 */
import { CnmError, badRequest, conflict, notFound } from '../cnm/errors.js';
import type { Condition, Operation, Store } from '../store/store.js';
import type { Family, Subnet } from './cidr.js';
import {
  formatAddress,
  formatSubnet,
  lastAddress,
  parseAddress,
  parsePrefixed,
  parseSubnet,
  subnetContains,
  subnetCovers,
  subnetOf,
  subnetsOverlap,
  subnetSize,
} from './cidr.js';
import { defaultIpv4Pools, ulaSubnet, ulaSubnetCount } from './default-pools.js';
import { createTakenSet } from './taken-set.js';
import type { TakenSet } from './taken-set.js';
import type { Ipam, Lease, Pool, PoolRequest, SubnetRequest } from './types.js';

const poolsPrefix = 'ipam/pools/';
const addressesPrefix = 'ipam/addresses/';
const poolsVersionKey = 'ipam/pools-version';

const poolKey = (poolId: string) => `${poolsPrefix}${poolId}`;
const addressKey = (poolId: string, address: string) => `${addressesPrefix}${poolId}/${address}`;

/** What an address key holds. */
interface AddressRecord {
  owner: string;
}

/** Lost compare-and-swaps in a row after which a pool's cache is reloaded from the store. */
const reloadAfterLosses = 8;
/** Attempts before a contended operation gives up (each lost attempt means another caller won). */
const maxAttempts = 1000;

/** One subnet request, validated, before pools are chosen. */
interface ParsedRequest {
  /** `ipv4[0]` */
  field: string;
  family: Family;
  /** Index within its family's list (part of the pool id). */
  index: number;
  subnet?: Subnet;
  ipRange?: Subnet;
  gateway?: bigint;
  auxAddresses: Array<{ name: string; value: bigint }>;
}

/** What this engine remembers of a pool. */
interface PoolState {
  pool: Pool;
  /** Version of the pool key: every address write is conditioned on it, so none lands after a release. */
  version: number;
  subnet: Subnet;
  taken: TakenSet;
  /** Offsets whose address key is being created right now (kept across reloads). */
  pending: Set<bigint>;
  /** Offsets dynamic allocation may use: the ip-range (or subnet) without network and broadcast address. */
  rangeFirst: bigint;
  rangeLast: bigint;
  reloading?: Promise<void>;
}

export class StoreIpam implements Ipam {
  private readonly states = new Map<string, PoolState>();
  private readonly loading = new Map<string, Promise<PoolState>>();
  /** Pool creations and releases of this engine, one at a time (other engines are kept out by the counter). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly store: Store) {}

  async requestPools(request: PoolRequest): Promise<Pool[]> {
    if (typeof request.networkId !== 'string' || request.networkId === '' || request.networkId.includes('/')) {
      throw badRequest(`networkId: ${JSON.stringify(request.networkId)} is not a network id`, 'networkId');
    }
    const parsed = parseRequests(request);
    const avoid = parseAvoid(request.avoid);
    return this.serially(async () => {
      for (let attempt = 0; attempt < maxAttempts; attempt++) {
        const counter = await this.store.get<number>(poolsVersionKey);
        const existing = (await this.store.list<Pool>(poolsPrefix)).map((entry) => entry.value);
        const own = existing.find((pool) => pool.networkId === request.networkId);
        if (own) throw conflict(`network ${request.networkName} already has address pools (${own.subnet})`);
        const generation = (counter?.value ?? 0) + 1;
        const pools = choosePools(request, parsed, avoid, existing, generation);

        const conditions: Condition[] = [counter ? { key: poolsVersionKey, version: counter.version } : { key: poolsVersionKey, absent: true }];
        const operations: Operation[] = [{ kind: 'put', key: poolsVersionKey, value: generation }];
        const poolOperation = new Map<string, number>();
        for (const pool of pools) {
          conditions.push({ key: poolKey(pool.poolId), absent: true });
          poolOperation.set(pool.poolId, operations.push({ kind: 'put', key: poolKey(pool.poolId), value: pool }) - 1);
          for (const [address, owner] of reservedAddresses(pool)) {
            conditions.push({ key: addressKey(pool.poolId, address), absent: true });
            operations.push({ kind: 'put', key: addressKey(pool.poolId, address), value: { owner } satisfies AddressRecord });
          }
        }
        const result = await this.store.txn(conditions, operations);
        if (!result.ok) continue; // another engine created pools meanwhile: choose again
        for (const pool of pools) {
          const state = newState(pool, result.versions[poolOperation.get(pool.poolId)!]!);
          for (const [address] of reservedAddresses(pool)) state.taken.add(offsetOf(state, address));
          this.states.set(pool.poolId, state);
        }
        return pools;
      }
      throw new CnmError('unavailable', `create pools of network ${request.networkName}: the store kept changing underneath (${maxAttempts} attempts)`);
    });
  }

  async releasePools(networkId: string): Promise<void> {
    await this.serially(async () => {
      const pools = await this.pools(networkId);
      // The pool keys go first: from then on no address of theirs can be created (every address
      // write is conditioned on its pool key), so the sweep below leaves none behind.
      if (pools.length > 0) await this.store.txn([], pools.map((pool): Operation => ({ kind: 'delete', key: poolKey(pool.poolId) })));
      for (const pool of pools) {
        this.states.delete(pool.poolId);
        this.loading.delete(pool.poolId);
      }
      await this.sweepAddresses(networkId);
    });
  }

  async pools(networkId?: string): Promise<Pool[]> {
    const pools = (await this.store.list<Pool>(poolsPrefix)).map((entry) => entry.value);
    return pools.filter((pool) => networkId === undefined || pool.networkId === networkId).sort(comparePools);
  }

  async requestAddress(poolId: string, owner: string, address?: string): Promise<Lease> {
    if (typeof owner !== 'string' || owner === '') throw badRequest('owner: an address needs an owner', 'owner');
    const state = await this.state(poolId);
    return address === undefined ? this.requestDynamic(state, owner) : this.requestStatic(state, owner, address);
  }

  async releaseAddress(poolId: string, address: string, owner?: string): Promise<void> {
    const parsed = parseAddress(address);
    if (!parsed) throw badRequest(`address: ${JSON.stringify(address)} is not an ip address`, 'address');
    const text = formatAddress(parsed.family, parsed.value);
    const key = addressKey(poolId, text);
    if (owner !== undefined) {
      // Only the holder's release counts: a late second release must not take the address from
      // whoever got it since. Compare-and-swap on the version read with the owner.
      const entry = await this.store.get<AddressRecord>(key);
      if (!entry || entry.value.owner !== owner) return;
      const result = await this.store.txn([{ key, version: entry.version }], [{ kind: 'delete', key }]);
      if (!result.ok) return;
    } else {
      await this.store.txn([], [{ kind: 'delete', key }]);
    }
    // Forgotten only after the store let go, so no caller here picks it while its key still exists.
    const state = this.states.get(poolId);
    if (state && subnetContains(state.subnet, parsed)) {
      const offset = parsed.value - state.subnet.network;
      if (!state.pending.has(offset)) state.taken.delete(offset);
    }
  }

  async leases(poolId: string): Promise<Lease[]> {
    const entry = await this.store.get<Pool>(poolKey(poolId));
    if (!entry) throw notFound(`address pool ${poolId} not found`);
    const pool = entry.value;
    const subnet = parseSubnet(pool.subnet);
    const prefix = `${addressesPrefix}${poolId}/`;
    return (await this.store.list<AddressRecord>(prefix))
      .map((record) => ({ address: record.key.slice(prefix.length), owner: record.value.owner }))
      .map(({ address, owner }) => ({ value: parseAddress(address)?.value ?? -1n, lease: leaseOf(pool, subnet, address, owner) }))
      .sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
      .map(({ lease }) => lease);
  }

  /** The lowest free address of the ip-range, confirmed by creating its key. */
  private async requestDynamic(state: PoolState, owner: string): Promise<Lease> {
    const { pool, subnet } = state;
    let losses = 0;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      let offset = state.taken.lowestFree(state.rangeFirst, state.rangeLast);
      if (offset === undefined || losses >= reloadAfterLosses) {
        // Full as far as this engine knows, or it keeps losing: others may have released or taken
        // addresses since the cache was loaded.
        await this.reload(state);
        losses = 0;
        offset = state.taken.lowestFree(state.rangeFirst, state.rangeLast);
        if (offset === undefined) {
          throw conflict(`no free address in pool ${pool.subnet}${pool.ipRange ? ` (ip-range ${pool.ipRange})` : ''} of network ${pool.networkName}`);
        }
      }
      const address = formatAddress(subnet.family, subnet.network + offset);
      const outcome = await this.claim(state, offset, address, owner);
      if (outcome === 'claimed') return leaseOf(pool, subnet, address, owner);
      losses++;
    }
    throw new CnmError('unavailable', `request address in pool ${pool.subnet}: the store kept changing underneath (${maxAttempts} attempts)`);
  }

  /** A given address: inside the subnet (not necessarily the ip-range), not the network or broadcast address, free. */
  private async requestStatic(state: PoolState, owner: string, text: string): Promise<Lease> {
    const { pool, subnet } = state;
    const address = parseAddress(text);
    if (!address) throw badRequest(`address: ${JSON.stringify(text)} is not an ip address`, 'address');
    const canonical = formatAddress(address.family, address.value);
    if (!subnetContains(subnet, address)) throw badRequest(`address: ${canonical} is outside subnet ${pool.subnet}`, 'address');
    const reserved = reservedRole(subnet, address.value);
    if (reserved) throw badRequest(`address: ${canonical} is the ${reserved} address of ${pool.subnet}`, 'address');
    const offset = address.value - subnet.network;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const outcome = await this.claim(state, offset, canonical, owner);
      if (outcome === 'claimed') return leaseOf(pool, subnet, canonical, owner);
      if (outcome !== 'retry') throw conflict(`address ${canonical} is already in use by ${outcome.owner}`, 'address');
    }
    throw new CnmError('unavailable', `request address ${canonical}: the store kept changing underneath (${maxAttempts} attempts)`);
  }

  /**
   * Create the address key if it is absent and the pool unchanged. The offset is marked taken first,
   * so concurrent callers of this engine pick other addresses; it stays marked when someone else
   * holds the address.
   */
  private async claim(state: PoolState, offset: bigint, address: string, owner: string): Promise<'claimed' | 'retry' | { owner: string }> {
    const key = addressKey(state.pool.poolId, address);
    const wasTaken = state.taken.has(offset);
    state.taken.add(offset);
    state.pending.add(offset);
    let ok: boolean;
    try {
      const result = await this.store.txn(
        [
          { key: poolKey(state.pool.poolId), version: state.version },
          { key, absent: true },
        ],
        [{ kind: 'put', key, value: { owner } satisfies AddressRecord }],
      );
      ok = result.ok;
    } catch (error) {
      if (!wasTaken) state.taken.delete(offset);
      throw error;
    } finally {
      state.pending.delete(offset);
    }
    if (ok) return 'claimed';
    const holder = await this.store.get<AddressRecord>(key);
    if (holder) return { owner: holder.value.owner };
    // Not held, so the pool condition failed (released, or recreated under this id) or the holder
    // let go in between: find out which.
    if (!wasTaken) state.taken.delete(offset);
    const current = await this.store.get<Pool>(poolKey(state.pool.poolId));
    if (!current || current.version !== state.version) {
      this.forget(state);
      throw notFound(`address pool ${state.pool.poolId} (${state.pool.subnet}) no longer exists`);
    }
    return 'retry';
  }

  /** The state of a pool, loaded from the store on first use. */
  private async state(poolId: string): Promise<PoolState> {
    const known = this.states.get(poolId);
    if (known) return known;
    let loading = this.loading.get(poolId);
    if (!loading) {
      loading = this.load(poolId).finally(() => this.loading.delete(poolId));
      this.loading.set(poolId, loading);
    }
    return loading;
  }

  private async load(poolId: string): Promise<PoolState> {
    const entry = await this.store.get<Pool>(poolKey(poolId));
    if (!entry) throw notFound(`address pool ${poolId} not found`);
    const state = newState(entry.value, entry.version);
    for (const offset of await this.takenOffsets(state)) state.taken.add(offset);
    this.states.set(poolId, state);
    return state;
  }

  /** Rebuild the taken set from the store (keeping the offsets being claimed right now). */
  private async reload(state: PoolState): Promise<void> {
    if (!state.reloading) {
      state.reloading = (async () => {
        const offsets = await this.takenOffsets(state);
        const taken = createTakenSet(state.subnet.family, subnetSize(state.subnet));
        for (const offset of offsets) taken.add(offset);
        for (const offset of state.pending) taken.add(offset);
        state.taken = taken;
      })().finally(() => {
        state.reloading = undefined;
      });
    }
    await state.reloading;
  }

  private async takenOffsets(state: PoolState): Promise<bigint[]> {
    const prefix = `${addressesPrefix}${state.pool.poolId}/`;
    const offsets: bigint[] = [];
    for (const entry of await this.store.list(prefix)) {
      const address = parseAddress(entry.key.slice(prefix.length));
      if (address && subnetContains(state.subnet, address)) offsets.push(address.value - state.subnet.network);
    }
    return offsets;
  }

  private forget(state: PoolState): void {
    if (this.states.get(state.pool.poolId) === state) this.states.delete(state.pool.poolId);
  }

  /**
   * Delete the address keys of every pool of the network whose pool key is gone: normally right after
   * the pool keys, and again on a later release when an engine died in between.
   */
  private async sweepAddresses(networkId: string): Promise<void> {
    const byPool = new Map<string, string[]>();
    for (const entry of await this.store.list(`${addressesPrefix}${networkId}-`)) {
      const poolId = entry.key.slice(addressesPrefix.length, entry.key.indexOf('/', addressesPrefix.length));
      if (!isPoolIdOf(poolId, networkId)) continue;
      byPool.set(poolId, [...(byPool.get(poolId) ?? []), entry.key]);
    }
    for (const [poolId, keys] of byPool) {
      // Only while the pool key is absent: a pool created again meanwhile keeps its addresses.
      await this.store.txn(
        [{ key: poolKey(poolId), absent: true }],
        keys.map((key): Operation => ({ kind: 'delete', key })),
      );
    }
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** Pool ids: `<networkId>-<generation>-ipv<family>-<index>`; the generation (the pools counter) makes them unique over time. */
function poolIdOf(networkId: string, generation: number, family: Family, index: number): string {
  return `${networkId}-${generation}-ipv${family}-${index}`;
}

function isPoolIdOf(poolId: string, networkId: string): boolean {
  return poolId.startsWith(`${networkId}-`) && /^\d+-ipv[46]-\d+$/.test(poolId.slice(networkId.length + 1));
}

/** A network's pools in the order they were asked for: IPv4 first, then by index. */
function comparePools(a: Pool, b: Pool): number {
  if (a.networkId !== b.networkId) return a.networkId < b.networkId ? -1 : 1;
  if (a.family !== b.family) return a.family - b.family;
  return indexOf(a.poolId) - indexOf(b.poolId);
}

function indexOf(poolId: string): number {
  return Number(/-(\d+)$/.exec(poolId)?.[1] ?? 0);
}

function newState(pool: Pool, version: number): PoolState {
  const subnet = parseSubnet(pool.subnet);
  const [usableFirst, usableLast] = usableOffsets(subnet);
  let rangeFirst = usableFirst;
  let rangeLast = usableLast;
  if (pool.ipRange) {
    const range = parseSubnet(pool.ipRange);
    rangeFirst = maxOf(rangeFirst, range.network - subnet.network);
    rangeLast = minOf(rangeLast, lastAddress(range) - subnet.network);
  }
  return { pool, version, subnet, taken: createTakenSet(subnet.family, subnetSize(subnet)), pending: new Set(), rangeFirst, rangeLast };
}

function offsetOf(state: PoolState, address: string): bigint {
  return parseAddress(address)!.value - state.subnet.network;
}

/** Offsets an address may have: not the network address, and for IPv4 not the broadcast address. */
function usableOffsets(subnet: Subnet): [bigint, bigint] {
  const size = subnetSize(subnet);
  return [1n, subnet.family === 4 ? size - 2n : size - 1n];
}

/** `network` or `broadcast` when the address is one of those of the subnet. */
function reservedRole(subnet: Subnet, value: bigint): string | undefined {
  if (value === subnet.network) return 'network';
  if (subnet.family === 4 && value === lastAddress(subnet)) return 'broadcast';
  return undefined;
}

/** The gateway and auxiliary addresses of a pool, with their owners. */
function reservedAddresses(pool: Pool): Array<[string, string]> {
  return [[pool.gateway, 'gateway'], ...Object.entries(pool.auxAddresses).map(([name, address]): [string, string] => [address, `aux:${name}`])];
}

function leaseOf(pool: Pool, subnet: Subnet, address: string, owner: string): Lease {
  return { poolId: pool.poolId, address, cidr: `${address}/${subnet.prefixLength}`, owner };
}

const maxOf = (a: bigint, b: bigint) => (a > b ? a : b);
const minOf = (a: bigint, b: bigint) => (a < b ? a : b);

/** Validate every subnet request (everything that needs no store), in the order given. */
function parseRequests(request: PoolRequest): ParsedRequest[] {
  const ipv4 = request.ipv4 ?? [];
  const lists: Array<[Family, SubnetRequest[]]> = [[4, ipv4.length === 0 ? [{}] : ipv4]];
  if (request.ipv6) lists.push([6, request.ipv6.length === 0 ? [{}] : request.ipv6]);
  const parsed: ParsedRequest[] = [];
  for (const [family, list] of lists) {
    list.forEach((subnetRequest, index) => parsed.push(parseSubnetRequest(subnetRequest, family, index)));
  }
  // Subnets of one request must not overlap each other.
  for (const [position, one] of parsed.entries()) {
    for (const other of parsed.slice(0, position)) {
      if (one.subnet && other.subnet && subnetsOverlap(one.subnet, other.subnet)) {
        const field = `${one.field}.subnet`;
        throw badRequest(`${field}: subnet ${formatSubnet(one.subnet)} overlaps ${other.field}.subnet (${formatSubnet(other.subnet)})`, field);
      }
    }
  }
  return parsed;
}

function parseSubnetRequest(request: SubnetRequest, family: Family, index: number): ParsedRequest {
  const field = `ipv${family}[${index}]`;
  const auxEntries = Object.entries(request.auxAddresses ?? {});
  const parsed: ParsedRequest = { field, family, index, auxAddresses: [] };
  if (request.subnet === undefined || request.subnet === '') {
    // As Docker: "every ip-range or gateway must have a corresponding subnet".
    if (request.ipRange) throw badRequest(`${field}.ipRange: an ip-range needs a subnet`, `${field}.ipRange`);
    if (request.gateway) throw badRequest(`${field}.gateway: a gateway needs a subnet`, `${field}.gateway`);
    if (auxEntries.length > 0) throw badRequest(`${field}.auxAddresses: auxiliary addresses need a subnet`, `${field}.auxAddresses`);
    return parsed;
  }

  const subnet = parseCanonicalSubnet(request.subnet, family, `${field}.subnet`);
  const minimum = family === 4 ? 30 : 126;
  if (subnet.prefixLength > minimum) {
    throw badRequest(`${field}.subnet: ${request.subnet} is too small (a gateway and one address need at least a /${minimum})`, `${field}.subnet`);
  }
  parsed.subnet = subnet;
  const subnetText = formatSubnet(subnet);

  if (request.ipRange !== undefined && request.ipRange !== '') {
    const rangeField = `${field}.ipRange`;
    const ipRange = parseCanonicalSubnet(request.ipRange, family, rangeField);
    if (!subnetCovers(subnet, ipRange)) throw badRequest(`${rangeField}: ip-range ${formatSubnet(ipRange)} is not inside subnet ${subnetText}`, rangeField);
    parsed.ipRange = ipRange;
  }

  const inside = (text: string, what: string, fieldName: string): bigint => {
    const address = parseAddress(text);
    if (!address) throw badRequest(`${fieldName}: ${JSON.stringify(text)} is not an ip address`, fieldName);
    const canonical = formatAddress(address.family, address.value);
    if (!subnetContains(subnet, address)) throw badRequest(`${fieldName}: ${what} ${canonical} is not inside subnet ${subnetText}`, fieldName);
    const role = reservedRole(subnet, address.value);
    if (role) throw badRequest(`${fieldName}: ${what} ${canonical} is the ${role} address of ${subnetText}`, fieldName);
    return address.value;
  };

  parsed.gateway = request.gateway !== undefined && request.gateway !== '' ? inside(request.gateway, 'gateway', `${field}.gateway`) : subnet.network + 1n;
  const used = new Map<bigint, string>([[parsed.gateway, 'the gateway']]);
  for (const [name, text] of auxEntries) {
    const auxField = `${field}.auxAddresses.${name}`;
    if (name === '') throw badRequest(`${field}.auxAddresses: an auxiliary address needs a name`, `${field}.auxAddresses`);
    const value = inside(text, 'auxiliary address', auxField);
    const holder = used.get(value);
    if (holder) throw badRequest(`${auxField}: auxiliary address ${formatAddress(family, value)} is already ${holder}`, auxField);
    used.set(value, `auxiliary address ${name}`);
    parsed.auxAddresses.push({ name, value });
  }
  return parsed;
}

/** A CIDR of the family with no host bits set. */
function parseCanonicalSubnet(text: string, family: Family, field: string): Subnet {
  const prefixed = typeof text === 'string' ? parsePrefixed(text) : undefined;
  if (!prefixed) throw badRequest(`${field}: ${JSON.stringify(text)} is not a cidr (address/prefix-length)`, field);
  if (prefixed.family !== family) throw badRequest(`${field}: ${text} is not an ipv${family} subnet`, field);
  const subnet = subnetOf(prefixed);
  if (subnet.network !== prefixed.value) throw badRequest(`${field}: ${text} has host bits set; did you mean ${formatSubnet(subnet)}`, field);
  return subnet;
}

/** The host's routes; host bits are ignored, default routes (which overlap everything) left out. */
function parseAvoid(avoid: string[] | undefined): Subnet[] {
  return (avoid ?? []).flatMap((text, index) => {
    const prefixed = typeof text === 'string' ? parsePrefixed(text) : undefined;
    if (!prefixed) throw badRequest(`avoid[${index}]: ${JSON.stringify(text)} is not a cidr`, `avoid[${index}]`);
    return prefixed.prefixLength === 0 ? [] : [subnetOf(prefixed)];
  });
}

/** Pick the subnets (given ones checked against other networks, default ones chosen) and build the pools. */
function choosePools(request: PoolRequest, parsed: ParsedRequest[], avoid: Subnet[], existing: Pool[], generation: number): Pool[] {
  const taken = existing.map((pool) => ({ pool, subnet: parseSubnet(pool.subnet) }));
  for (const one of parsed) {
    if (!one.subnet) continue;
    // Subnets the host holds no address in (isolated networks) may reuse each other's: they never
    // meet in the host's routing table, and the firewall gives each its own conntrack zone.
    const isolated = request.isolated?.[one.family] === true;
    const clash = taken.find((other) => subnetsOverlap(other.subnet, one.subnet!) && !(isolated && other.pool.isolated));
    if (clash) {
      throw conflict(
        `${one.field}.subnet: subnet ${formatSubnet(one.subnet)} overlaps network ${clash.pool.networkName} (${clash.pool.subnet})`,
        `${one.field}.subnet`,
      );
    }
  }
  const chosen: Subnet[] = parsed.flatMap((one) => (one.subnet ? [one.subnet] : []));
  const isFree = (candidate: Subnet) =>
    !taken.some((other) => subnetsOverlap(other.subnet, candidate)) &&
    !avoid.some((route) => subnetsOverlap(route, candidate)) &&
    !chosen.some((other) => subnetsOverlap(other, candidate));

  return parsed.map((one): Pool => {
    let subnet = one.subnet;
    if (!subnet) {
      subnet = one.family === 4 ? defaultIpv4Pool(isFree) : ulaPool(request.networkId, isFree);
      if (!subnet) {
        throw conflict(`${one.field}.subnet: no free default address pool${one.family === 6 ? ' (ipv6 unique local /64)' : ''}`, `${one.field}.subnet`);
      }
      chosen.push(subnet);
    }
    const gateway = one.gateway ?? subnet.network + 1n;
    return {
      poolId: poolIdOf(request.networkId, generation, one.family, one.index),
      networkId: request.networkId,
      networkName: request.networkName,
      family: one.family,
      subnet: formatSubnet(subnet),
      ...(one.ipRange ? { ipRange: formatSubnet(one.ipRange) } : {}),
      gateway: formatAddress(one.family, gateway),
      ...(request.isolated?.[one.family] ? { isolated: true } : {}),
      auxAddresses: Object.fromEntries(one.auxAddresses.map(({ name, value }) => [name, formatAddress(one.family, value)])),
    };
  });
}

function defaultIpv4Pool(isFree: (candidate: Subnet) => boolean): Subnet | undefined {
  return defaultIpv4Pools.map(parseSubnet).find(isFree);
}

/** The network's ULA /64 (subnet id 0), or the next subnet id of its /48 should that one be taken. */
function ulaPool(networkId: string, isFree: (candidate: Subnet) => boolean): Subnet | undefined {
  for (let subnetId = 0; subnetId < ulaSubnetCount; subnetId++) {
    const candidate = parseSubnet(ulaSubnet(networkId, subnetId));
    if (isFree(candidate)) return candidate;
  }
  return undefined;
}
