/**
 * One list of behaviours, run against every Store implementation: MemoryStore is the reference,
 * SqliteStore must not differ from it.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { ConflictError, MemoryStore, SqliteStore, create, remove, update } from '../../src/store/index.js';
import type { Store } from '../../src/store/index.js';
import { scratchDirectory } from '../fixtures/store-scratch.js';

interface Subject {
  name: string;
  open(t: ExecutionContext): Promise<Store>;
}

const subjects: Subject[] = [
  { name: 'memory', open: async () => new MemoryStore() },
  {
    name: 'sqlite',
    async open(t) {
      const store = await SqliteStore.open(scratchDirectory(t));
      t.teardown(() => store.close());
      return store;
    },
  },
];

type Case = [title: string, run: (t: ExecutionContext, store: Store) => Promise<void>];

async function keys(store: Store, prefix: string): Promise<string[]> {
  return (await store.list(prefix)).map((entry) => entry.key);
}

/** Let `count` turns of the event loop pass. */
async function turns(count: number): Promise<void> {
  for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve));
}

const cases: Case[] = [
  [
    'a created key reads back at version 1, and each write adds one',
    async (t, store) => {
      t.is(await store.get('networks/n1'), undefined);
      t.is(await create(store, 'networks/n1', { name: 'web' }), 1);
      t.deepEqual(await store.get('networks/n1'), { key: 'networks/n1', value: { name: 'web' }, version: 1 });
      t.is(await update(store, 'networks/n1', 1, { name: 'web', internal: true }), 2);
      t.is(await update(store, 'networks/n1', 2, { name: 'web2' }), 3);
      t.deepEqual(await store.get('networks/n1'), { key: 'networks/n1', value: { name: 'web2' }, version: 3 });
    },
  ],
  [
    'values come back as the JSON they were stored as',
    async (t, store) => {
      const values: unknown[] = [null, true, 0, -1.5, 'text with "quotes", \\ and ünïcödé 😀', [], [1, [2, { a: null }]], { nested: { deep: [{}] } }];
      for (const [index, value] of values.entries()) await create(store, `values/${index}`, value);
      for (const [index, value] of values.entries()) t.deepEqual((await store.get(`values/${index}`))?.value, value);
    },
  ],
  [
    'list returns the entries under a prefix, in key order, and nothing beyond its bounds',
    async (t, store) => {
      for (const key of ['a/bc', 'b/x', 'a/b/c', 'a0', 'a', 'a/b', 'a.', 'a/a', 'a/', 'a/b/c/d']) await create(store, key, key);
      t.deepEqual(await keys(store, 'a/'), ['a/', 'a/a', 'a/b', 'a/b/c', 'a/b/c/d', 'a/bc'], 'a/ includes a/b/c, excludes a0 and a.');
      t.deepEqual(await keys(store, 'a/bc'), ['a/bc'], 'a/b is not under a/bc');
      t.deepEqual(await keys(store, 'a/b/'), ['a/b/c', 'a/b/c/d']);
      t.deepEqual(await keys(store, 'a/b'), ['a/b', 'a/b/c', 'a/b/c/d', 'a/bc'], 'a prefix is a string prefix, not a path component');
      t.deepEqual(await keys(store, ''), ['a', 'a.', 'a/', 'a/a', 'a/b', 'a/b/c', 'a/b/c/d', 'a/bc', 'a0', 'b/x']);
      t.deepEqual(await keys(store, 'c'), []);
      const entries = await store.list<string>('a/b/');
      t.deepEqual(entries, [
        { key: 'a/b/c', value: 'a/b/c', version: 1 },
        { key: 'a/b/c/d', value: 'a/b/c/d', version: 1 },
      ]);
    },
  ],
  [
    'list includes keys that continue with U+FFFF or a code point above it',
    async (t, store) => {
      // A naive upper bound of prefix + '\uffff' would leave out all four.
      const under = ['p/\uffff', 'p/\uffff\uffff', 'p/\u{1F600}x', 'p/\u{10FFFF}'];
      for (const key of [...under, 'p0', 'q', 'p']) await create(store, key, 1);
      t.deepEqual((await keys(store, 'p/')).sort(), [...under].sort());
      t.deepEqual((await keys(store, 'p/\uffff')).sort(), ['p/\uffff', 'p/\uffff\uffff'].sort());
      t.deepEqual(await keys(store, 'p/\u{10FFFF}'), ['p/\u{10FFFF}']);
      t.deepEqual(await keys(store, 'p/\u{1F600}'), ['p/\u{1F600}x']);
    },
  ],
  [
    'a transaction with one failed condition applies nothing and says ok false',
    async (t, store) => {
      await create(store, 'x', 'x1');
      await create(store, 'y', 'y1');
      const failed = await store.txn(
        [
          { key: 'x', version: 1 },
          { key: 'y', version: 2 },
        ],
        [
          { kind: 'put', key: 'x', value: 'x2' },
          { kind: 'put', key: 'z', value: 'z1' },
          { kind: 'delete', key: 'y' },
        ],
      );
      t.deepEqual(failed, { ok: false, versions: [] });
      t.deepEqual(await store.list(''), [
        { key: 'x', value: 'x1', version: 1 },
        { key: 'y', value: 'y1', version: 1 },
      ]);
      const applied = await store.txn(
        [
          { key: 'x', version: 1 },
          { key: 'y', version: 1 },
          { key: 'z', absent: true },
        ],
        [
          { kind: 'put', key: 'x', value: 'x2' },
          { kind: 'put', key: 'z', value: 'z1' },
          { kind: 'delete', key: 'y' },
        ],
      );
      t.deepEqual(applied, { ok: true, versions: [2, 1, 0] });
      t.deepEqual(await store.list(''), [
        { key: 'x', value: 'x2', version: 2 },
        { key: 'z', value: 'z1', version: 1 },
      ]);
    },
  ],
  [
    'an absent condition holds only while the key does not exist',
    async (t, store) => {
      t.deepEqual(await store.txn([{ key: 'k', absent: true }], [{ kind: 'put', key: 'k', value: 1 }]), { ok: true, versions: [1] });
      t.deepEqual(await store.txn([{ key: 'k', absent: true }], [{ kind: 'put', key: 'k', value: 2 }]), { ok: false, versions: [] });
      t.deepEqual(await store.txn([{ key: 'other', absent: true }], [{ kind: 'put', key: 'k', value: 3 }]), { ok: true, versions: [2] });
      t.deepEqual(await store.get('k'), { key: 'k', value: 3, version: 2 });
    },
  ],
  [
    'a version condition on an absent key fails, whatever the version',
    async (t, store) => {
      for (const version of [0, 1, 2]) {
        t.deepEqual(await store.txn([{ key: 'ghost', version }], [{ kind: 'put', key: 'ghost', value: version }]), { ok: false, versions: [] });
      }
      t.is(await store.get('ghost'), undefined);
    },
  ],
  [
    'a transaction without conditions always applies, in operation order',
    async (t, store) => {
      t.deepEqual(
        await store.txn(
          [],
          [
            { kind: 'put', key: 'k', value: 'first' },
            { kind: 'put', key: 'k', value: 'second' },
            { kind: 'delete', key: 'gone' },
            { kind: 'put', key: 'j', value: 'j' },
            { kind: 'delete', key: 'j' },
          ],
        ),
        { ok: true, versions: [1, 2, 0, 1, 0] },
      );
      t.deepEqual(await store.list(''), [{ key: 'k', value: 'second', version: 2 }]);
      t.deepEqual(await store.txn([], []), { ok: true, versions: [] });
    },
  ],
  [
    'a deleted key that is created again starts over at version 1',
    async (t, store) => {
      await create(store, 'k', 'a');
      await update(store, 'k', 1, 'b');
      await update(store, 'k', 2, 'c');
      await remove(store, 'k', 3);
      t.is(await store.get('k'), undefined);
      t.deepEqual(await store.list('k'), []);
      t.is(await create(store, 'k', 'again'), 1);
      t.deepEqual(await store.get('k'), { key: 'k', value: 'again', version: 1 });
    },
  ],
  [
    'create refuses an existing key with a ConflictError and changes nothing',
    async (t, store) => {
      await create(store, 'names/networks/web', 'n1');
      const error = await t.throwsAsync(create(store, 'names/networks/web', 'n2'), { instanceOf: ConflictError });
      t.is(error?.key, 'names/networks/web');
      t.is(error?.message, 'store: names/networks/web already exists');
      t.deepEqual(await store.get('names/networks/web'), { key: 'names/networks/web', value: 'n1', version: 1 });
    },
  ],
  [
    'update refuses a stale or missing version with a ConflictError and changes nothing',
    async (t, store) => {
      await create(store, 'k', 'a');
      await update(store, 'k', 1, 'b');
      const stale = await t.throwsAsync(update(store, 'k', 1, 'c'), { instanceOf: ConflictError });
      t.is(stale?.key, 'k');
      await t.throwsAsync(update(store, 'k', 3, 'c'), { instanceOf: ConflictError });
      await t.throwsAsync(update(store, 'missing', 1, 'c'), { instanceOf: ConflictError });
      t.deepEqual(await store.get('k'), { key: 'k', value: 'b', version: 2 });
      t.is(await store.get('missing'), undefined);
    },
  ],
  [
    'remove refuses a stale version with a ConflictError; without a version it removes any, and an absent key is fine',
    async (t, store) => {
      await create(store, 'k', 'a');
      await update(store, 'k', 1, 'b');
      await t.throwsAsync(remove(store, 'k', 1), { instanceOf: ConflictError });
      t.is((await store.get('k'))?.version, 2);
      await remove(store, 'k');
      t.is(await store.get('k'), undefined);
      await t.notThrowsAsync(remove(store, 'k'));
      await t.throwsAsync(remove(store, 'k', 1), { instanceOf: ConflictError }, 'a version on an absent key is a conflict');
    },
  ],
  [
    '200 concurrent updates from the same version: exactly one wins, the others conflict',
    async (t, store) => {
      await create(store, 'counter', { writer: -1 });
      const results = await Promise.allSettled(Array.from({ length: 200 }, (_, writer) => update(store, 'counter', 1, { writer })));
      const winners = results.flatMap((result, writer) => (result.status === 'fulfilled' ? [writer] : []));
      t.is(winners.length, 1);
      for (const result of results) if (result.status === 'rejected') t.true(result.reason instanceof ConflictError);
      t.deepEqual(await store.get('counter'), { key: 'counter', value: { writer: winners[0] }, version: 2 });
    },
  ],
  [
    '200 concurrent read-modify-write updates: exactly those that saw the current version win, and none is lost',
    async (t, store) => {
      await create(store, 'log', { writers: [] as number[] });
      const winners: Array<{ writer: number; seen: number }> = [];
      let losers = 0;
      await Promise.all(
        Array.from({ length: 200 }, async (_, writer) => {
          // Writers read in 25 rounds (event-loop turns, not timers, so a busy loop does not merge
          // them) and write one turn after they read: each round races the writes of the one before.
          await turns(writer % 25);
          const entry = (await store.get<{ writers: number[] }>('log'))!;
          await turns(1);
          try {
            await update(store, 'log', entry.version, { writers: [...entry.value.writers, writer] });
            winners.push({ writer, seen: entry.version });
          } catch (error) {
            if (!(error instanceof ConflictError)) throw error;
            losers++;
          }
        }),
      );
      t.is(winners.length + losers, 200);
      t.true(winners.length > 1, 'the writers interleaved');
      winners.sort((a, b) => a.seen - b.seen);
      // Each version was won by exactly one writer, and every win is in the final value, in order.
      t.deepEqual(
        winners.map((winner) => winner.seen),
        Array.from({ length: winners.length }, (_, index) => index + 1),
      );
      const final = (await store.get<{ writers: number[] }>('log'))!;
      t.is(final.version, winners.length + 1);
      t.deepEqual(
        final.value.writers,
        winners.map((winner) => winner.writer),
      );
    },
  ],
  [
    '200 concurrent increments that retry on conflict all land',
    async (t, store) => {
      await create(store, 'count', 0);
      let conflicts = 0;
      await Promise.all(
        Array.from({ length: 200 }, async (_, writer) => {
          await turns(writer % 3);
          for (;;) {
            const entry = (await store.get<number>('count'))!;
            await turns(1);
            try {
              await update(store, 'count', entry.version, entry.value + 1);
              return;
            } catch (error) {
              if (!(error instanceof ConflictError)) throw error;
              conflicts++;
            }
          }
        }),
      );
      t.deepEqual(await store.get('count'), { key: 'count', value: 200, version: 201 });
      t.true(conflicts > 0, 'some writers had to retry');
    },
  ],
];

for (const subject of subjects) {
  for (const [title, run] of cases) {
    test(`${title} (${subject.name})`, async (t) => {
      const store = await subject.open(t);
      await run(t, store);
    });
  }
}
