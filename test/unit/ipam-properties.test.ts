import test from 'ava';
import fc from 'fast-check';
import { CnmError } from '../../src/cnm/errors.js';
import { StoreIpam } from '../../src/ipam/ipam.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { Condition, Entry, Operation, Store, TxnResult } from '../../src/store/store.js';
import { poolRequest } from './ipam-helpers.js';

/** A store whose every call waits for fast-check's scheduler before and after it runs: random interleavings. */
class ScheduledStore implements Store {
  /** Compare-and-swaps that lost: proof that the interleavings really contend. */
  lostTransactions = 0;

  constructor(
    private readonly inner: Store,
    private readonly scheduler: fc.Scheduler,
  ) {}

  private async scheduled<T>(work: () => Promise<T>): Promise<T> {
    await this.scheduler.schedule(Promise.resolve(), 'before');
    const result = await work();
    await this.scheduler.schedule(Promise.resolve(), 'after');
    return result;
  }

  get<T = unknown>(key: string): Promise<Entry<T> | undefined> {
    return this.scheduled(() => this.inner.get<T>(key));
  }
  list<T = unknown>(prefix: string): Promise<Array<Entry<T>>> {
    return this.scheduled(() => this.inner.list<T>(prefix));
  }
  async txn(conditions: Condition[], operations: Operation[]): Promise<TxnResult> {
    const result = await this.scheduled(() => this.inner.txn(conditions, operations));
    if (!result.ok) this.lostTransactions++;
    return result;
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

type Step =
  | { kind: 'allocate'; engine: number }
  | { kind: 'static'; engine: number; offset: number }
  | { kind: 'release'; engine: number; pick: number };

const step = (engines: number): fc.Arbitrary<Step> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('allocate' as const), engine: fc.nat(engines - 1) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('static' as const), engine: fc.nat(engines - 1), offset: fc.integer({ min: 1, max: 30 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('release' as const), engine: fc.nat(engines - 1), pick: fc.nat() }) },
  );

const batchSize = 20;
const batchesPerRun = 20;
const runs = 25; // 25 runs × 20 batches × 20 steps = 10,000 operations per property

const batchesArbitrary = (engines: number) =>
  fc.array(fc.array(step(engines), { minLength: batchSize, maxLength: batchSize }), { minLength: batchesPerRun, maxLength: batchesPerRun });

/**
 * Batches of steps issued together (Promise.all) against engines sharing one store, with the store's
 * answers reordered at random. A model of the live leases checks that no address is ever held twice,
 * and after each batch that the store holds exactly the model's leases.
 */
async function concurrentProperty(engineCount: number): Promise<{ operations: number; lostTransactions: number }> {
  let operations = 0;
  let lostTransactions = 0;
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), batchesArbitrary(engineCount), async (scheduler, batches) => {
      const memory = new MemoryStore();
      const setup = new StoreIpam(memory);
      // 10.1.0.0/27: gateway .1, dynamic .2–.30: small enough that allocations collide and run out.
      const [pool] = await setup.requestPools(poolRequest('web', { ipv4: [{ subnet: '10.1.0.0/27' }] }));
      const poolId = pool!.poolId;
      const store = new ScheduledStore(memory, scheduler);
      const engines = Array.from({ length: engineCount }, () => new StoreIpam(store));
      /** address → owner, of leases handed out and not yet given back. */
      const live = new Map<string, string>([['10.1.0.1', 'gateway']]);
      let counter = 0;

      for (const batch of batches) {
        const held = [...live.keys()].filter((address) => live.get(address) !== 'gateway');
        let exhausted = false;
        const work = batch.map(async (one) => {
          operations++;
          const engine = engines[one.engine]!;
          if (one.kind === 'release') {
            if (held.length === 0) return;
            // Each lease is given back once: a second release of an address handed out again since
            // would take it from its new holder (releases name an address, not a holder).
            const [address] = held.splice(one.pick % held.length, 1) as [string];
            // Given up when the release is issued: from here on another holder is legitimate.
            live.delete(address);
            await engine.releaseAddress(poolId, address);
            return;
          }
          const owner = `endpoint-${counter++}`;
          try {
            const lease = await engine.requestAddress(poolId, owner, one.kind === 'static' ? `10.1.0.${one.offset}` : undefined);
            if (live.has(lease.address)) throw new Error(`${lease.address} handed to ${owner} while ${live.get(lease.address)} holds it`);
            live.set(lease.address, owner);
          } catch (error) {
            if (!(error instanceof CnmError) || error.category !== 'conflict') throw error;
            if (one.kind === 'allocate') exhausted = true;
          }
        });
        await scheduler.waitFor(Promise.all(work));
        lostTransactions += store.lostTransactions;
        store.lostTransactions = 0;

        const stored = await setup.leases(poolId);
        const expected = [...live.entries()].map(([address, owner]) => `${address} ${owner}`).sort();
        const actual = stored.map((lease) => `${lease.address} ${lease.owner}`).sort();
        if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`store ${actual.join(', ')} but model ${expected.join(', ')}`);
        // Without releases in the batch, "no free address" may only mean the pool is full.
        if (exhausted && batch.every((one) => one.kind !== 'release') && stored.length !== 30) {
          throw new Error(`an allocation ran out of addresses with only ${stored.length - 1} of 29 taken`);
        }
      }
    }),
    { numRuns: runs },
  );
  return { operations, lostTransactions };
}

test('concurrent allocations and releases in one engine never hand out an address twice', async (t) => {
  const { operations, lostTransactions } = await concurrentProperty(1);
  t.true(operations >= 10_000, `${operations} operations`);
  t.log(`${operations} operations, ${lostTransactions} lost compare-and-swaps`);
});

test('concurrent allocations and releases in two engines sharing one store never hand out an address twice', async (t) => {
  const { operations, lostTransactions } = await concurrentProperty(2);
  t.true(operations >= 10_000, `${operations} operations`);
  t.true(lostTransactions > 0, 'the two engines did race for addresses');
  t.log(`${operations} operations, ${lostTransactions} lost compare-and-swaps`);
});

type SequentialStep = { kind: 'allocate' } | { kind: 'static'; offset: number } | { kind: 'release'; pick: number } | { kind: 'restart' };

test('allocation is deterministic: always the lowest free address of the range, also after a restart', async (t) => {
  const sequentialStep: fc.Arbitrary<SequentialStep> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('allocate' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('static' as const), offset: fc.integer({ min: 1, max: 62 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const) }) },
  );
  // 10.2.0.0/26 (usable .1–.62), with or without an ip-range /28 somewhere inside.
  const ipRangeStart = fc.option(fc.integer({ min: 0, max: 3 }).map((index) => index * 16));
  await fc.assert(
    fc.asyncProperty(ipRangeStart, fc.array(sequentialStep, { maxLength: 200 }), async (rangeStart, steps) => {
      const store = new MemoryStore();
      let ipam = new StoreIpam(store);
      const [pool] = await ipam.requestPools(
        poolRequest('web', { ipv4: [{ subnet: '10.2.0.0/26', ...(rangeStart === null ? {} : { ipRange: `10.2.0.${rangeStart}/28` }) }] }),
      );
      const [first, last] = rangeStart === null ? [1, 62] : [Math.max(1, rangeStart), rangeStart + 15];
      const taken = new Set<number>([1]);
      const lowestFree = () => {
        for (let offset = first; offset <= last; offset++) if (!taken.has(offset)) return offset;
        return undefined;
      };
      for (const one of steps) {
        if (one.kind === 'restart') {
          ipam = new StoreIpam(store);
        } else if (one.kind === 'release') {
          const held = [...taken].filter((offset) => offset !== 1);
          if (held.length === 0) continue;
          const offset = held[one.pick % held.length]!;
          await ipam.releaseAddress(pool!.poolId, `10.2.0.${offset}`);
          taken.delete(offset);
          // Released and asked for again at once: the same address comes back when it is the lowest free one.
          if (lowestFree() === offset) {
            const lease = await ipam.requestAddress(pool!.poolId, 'again');
            if (lease.address !== `10.2.0.${offset}`) return false;
            taken.add(offset);
          }
        } else if (one.kind === 'static') {
          const free = !taken.has(one.offset);
          const result = await ipam.requestAddress(pool!.poolId, 'static', `10.2.0.${one.offset}`).then(
            () => true,
            () => false,
          );
          if (result !== free) return false;
          taken.add(one.offset);
        } else {
          const expected = lowestFree();
          const result = await ipam.requestAddress(pool!.poolId, 'dynamic').then(
            (lease) => lease.address,
            (error: CnmError) => error.category,
          );
          if (result !== (expected === undefined ? 'conflict' : `10.2.0.${expected}`)) return false;
          if (expected !== undefined) taken.add(expected);
        }
      }
      return true;
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test('two engines with the same history on two stores hand out the same addresses', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.oneof(fc.constant(-1), fc.nat(40)), { maxLength: 150 }), async (steps) => {
      const histories: string[][] = [];
      for (let copy = 0; copy < 2; copy++) {
        const ipam = new StoreIpam(new MemoryStore());
        const [pool] = await ipam.requestPools(poolRequest('web', { ipv4: [{ subnet: '10.3.0.0/26' }] }));
        const held: string[] = [];
        const history: string[] = [];
        for (const pick of steps) {
          if (pick === -1 || held.length === 0) {
            const lease = await ipam.requestAddress(pool!.poolId, 'endpoint').catch(() => undefined);
            if (lease) held.push(lease.address);
            history.push(lease?.address ?? 'full');
          } else {
            const [address] = held.splice(pick % held.length, 1);
            await ipam.releaseAddress(pool!.poolId, address!);
          }
        }
        histories.push(history);
      }
      return JSON.stringify(histories[0]) === JSON.stringify(histories[1]);
    }),
    { numRuns: 100 },
  );
  t.pass();
});
