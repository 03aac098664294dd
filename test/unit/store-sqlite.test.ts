/**
 * What only the SQLite store has: files on disk, durability across kill -9, schema migrations.
 * The behaviour it shares with MemoryStore is in store-behaviour.test.ts.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { SqliteStore, create, migrations, prefixUpperBound } from '../../src/store/index.js';
import type { Migration } from '../../src/store/index.js';
import { scratchDirectory, spawnStoreChild } from '../fixtures/store-scratch.js';

/** Open the database file directly, as an independent checker. */
function inspect<T>(file: string, look: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return look(db);
  } finally {
    db.close();
  }
}

test('open creates a missing data root with mode 0700 and a WAL database at schema version 1', async (t) => {
  const dataRoot = path.join(scratchDirectory(t), 'nested', 'root');
  const store = await SqliteStore.open(dataRoot);
  t.is(store.file, path.join(dataRoot, 'state.db'));
  t.is(statSync(dataRoot).mode & 0o777, 0o700);
  t.true(existsSync(path.join(dataRoot, 'engine.lock')));
  await create(store, 'k', 'v');
  await store.close();
  inspect(store.file, (db) => {
    t.is(db.pragma('journal_mode', { simple: true }), 'wal');
    t.is(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get(), '1');
    t.deepEqual(
      db.prepare('SELECT name, type, "notnull", pk FROM pragma_table_info(\'kv\') ORDER BY cid').all(),
      [
        { name: 'key', type: 'TEXT', notnull: 0, pk: 1 },
        { name: 'value', type: 'TEXT', notnull: 1, pk: 0 },
        { name: 'version', type: 'INTEGER', notnull: 1, pk: 0 },
      ],
    );
    t.deepEqual(db.prepare('SELECT key, value, version FROM kv').all(), [{ key: 'k', value: '"v"', version: 1 }]);
  });
});

test('a reopened store has every entry and version it had', async (t) => {
  const dataRoot = scratchDirectory(t);
  const first = await SqliteStore.open(dataRoot);
  await create(first, 'endpoints/n1/e1', { address: '10.0.0.2' });
  await first.txn([], [{ kind: 'put', key: 'endpoints/n1/e1', value: { address: '10.0.0.3' } }]);
  await create(first, 'networks/n1', { name: 'web' });
  const before = await first.list('');
  await first.close();
  const second = await SqliteStore.open(dataRoot);
  t.teardown(() => second.close());
  t.deepEqual(await second.list(''), before);
  t.is((await second.get('endpoints/n1/e1'))?.version, 2);
});

test('list reads a range of the primary key, not a LIKE scan', async (t) => {
  const store = await SqliteStore.open(scratchDirectory(t));
  await store.close();
  inspect(store.file, (db) => {
    const plan = db
      .prepare('EXPLAIN QUERY PLAN SELECT key, value, version FROM kv WHERE key >= ? AND key < ? ORDER BY key')
      .all('a/', prefixUpperBound('a/')) as Array<{ detail: string }>;
    t.regex(plan.map((row) => row.detail).join('\n'), /SEARCH kv USING INDEX sqlite_autoindex_kv_1 \(key>\? AND key<\?\)/);
  });
  t.is(prefixUpperBound('a/'), 'a0');
  t.is(prefixUpperBound(''), undefined);
  t.is(prefixUpperBound('a\u{10FFFF}'), 'b');
  t.is(prefixUpperBound('\u{10FFFF}'), undefined);
  t.is(prefixUpperBound('a\ud7ff'), 'a\ue000', 'the surrogate range is skipped');
});

test('a value that cannot be stored as JSON is refused and the transaction changes nothing', async (t) => {
  const store = await SqliteStore.open(scratchDirectory(t));
  t.teardown(() => store.close());
  await t.throwsAsync(
    store.txn(
      [],
      [
        { kind: 'put', key: 'good', value: 1 },
        { kind: 'put', key: 'bad', value: undefined },
      ],
    ),
    { message: 'store: put bad: the value cannot be stored as JSON' },
  );
  await t.throwsAsync(store.txn([], [{ kind: 'put', key: 'big', value: 1n }]), { instanceOf: TypeError });
  t.deepEqual(await store.list(''), []);
});

test('a closed store refuses further calls, and closing twice is harmless', async (t) => {
  const store = await SqliteStore.open(scratchDirectory(t));
  await store.close();
  await t.notThrowsAsync(store.close());
  await t.throwsAsync(store.get('k'), { message: `store: get k: state store ${store.file} is closed` });
  await t.throwsAsync(store.txn([], []), { message: /is closed$/ });
});

test('every transaction the process reported committed survives its kill -9, and the database is intact', async (t) => {
  const dataRoot = scratchDirectory(t);
  const child = spawnStoreChild(t, 'commit', dataRoot, '1000');
  await child.waitForLine((line) => line === 'ready');
  await child.waitForLine((line) => Number(line) >= 250);
  child.process.kill('SIGKILL');
  const status = await child.exited;
  t.is(status.signal, 'SIGKILL');
  const reported = child.lines.filter((line) => line !== 'ready').map(Number);
  t.true(reported.length >= 251 && reported.length < 1000, `killed mid-way (${reported.length} reported)`);
  t.deepEqual(
    reported,
    Array.from({ length: reported.length }, (_, index) => index),
  );

  const store = await SqliteStore.open(dataRoot);
  const commits = await store.list<{ index: number }>('commits/');
  const stored = new Set(commits.map((entry) => entry.value.index));
  t.deepEqual(
    reported.filter((index) => !stored.has(index)),
    [],
    'no reported commit is missing',
  );
  // The one transaction in flight when the kill landed may have committed without being reported.
  t.true(commits.length === reported.length || commits.length === reported.length + 1, `${commits.length} commits stored`);
  t.deepEqual(
    commits.map((entry) => entry.value.index),
    Array.from({ length: commits.length }, (_, index) => index),
  );
  t.is((await store.get<number>('last'))?.value, commits.length - 1, 'both keys of each transaction committed together');
  await store.close();
  t.is(
    inspect(store.file, (db) => db.pragma('integrity_check', { simple: true })),
    'ok',
  );
});

test('opening an existing database runs only the migrations it has not had', async (t) => {
  const dataRoot = scratchDirectory(t);
  const runs: number[] = [];
  const counted = (number: number, step: Migration): Migration => (db) => {
    runs.push(number);
    step(db);
  };
  const first = counted(1, migrations[0]!);
  const second = counted(2, (db) => db.exec('CREATE TABLE extra (id INTEGER PRIMARY KEY)'));

  const store = await SqliteStore.open(dataRoot, { migrations: [first] });
  await create(store, 'k', 'v');
  await store.close();
  t.deepEqual(runs, [1]);

  const again = await SqliteStore.open(dataRoot, { migrations: [first] });
  t.deepEqual(await again.get('k'), { key: 'k', value: 'v', version: 1 });
  await again.close();
  t.deepEqual(runs, [1], 'migration 1 did not run again');

  const upgraded = await SqliteStore.open(dataRoot, { migrations: [first, second] });
  t.deepEqual(await upgraded.get('k'), { key: 'k', value: 'v', version: 1 });
  await upgraded.close();
  t.deepEqual(runs, [1, 2]);
  inspect(upgraded.file, (db) => t.is(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get(), '2'));

  // The default list (one migration) now meets a database one version ahead of it.
  await t.throwsAsync(SqliteStore.open(dataRoot), {
    message: `open state store ${upgraded.file}: schema version 2 is newer than this switchyard knows (1): the database was written by a newer switchyard`,
  });
});

test('a database with a newer schema version is refused, and the refusal leaves the data root unlocked and unchanged', async (t) => {
  const dataRoot = scratchDirectory(t);
  const store = await SqliteStore.open(dataRoot);
  await create(store, 'k', 'v');
  await store.close();
  inspect(store.file, (db) => db.prepare("UPDATE meta SET value = '7' WHERE key = 'schema_version'").run());

  await t.throwsAsync(SqliteStore.open(dataRoot), { message: /schema version 7 is newer than this switchyard knows \(1\)/ });
  inspect(store.file, (db) => {
    t.is(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get(), '7');
    t.deepEqual(db.prepare('SELECT key, value, version FROM kv').all(), [{ key: 'k', value: '"v"', version: 1 }]);
  });
  const noop: Migration = () => {};
  const newer = await SqliteStore.open(dataRoot, { migrations: [migrations[0]!, noop, noop, noop, noop, noop, noop] });
  t.teardown(() => newer.close());
  t.deepEqual(await newer.get('k'), { key: 'k', value: 'v', version: 1 }, 'the lock was released after the refusal');
});

test('a failed migration leaves the schema version where it was', async (t) => {
  const dataRoot = scratchDirectory(t);
  const broken: Migration = (db) => {
    db.exec('CREATE TABLE half (id INTEGER)');
    throw new Error('disk on fire');
  };
  await t.throwsAsync(SqliteStore.open(dataRoot, { migrations: [migrations[0]!, broken] }), {
    message: `open state store ${path.join(dataRoot, 'state.db')}: migrate to schema version 2: disk on fire`,
  });
  inspect(path.join(dataRoot, 'state.db'), (db) => {
    t.is(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get(), '1');
    t.is(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'half'").pluck().get(), 0, 'the step was rolled back');
  });
});

test('the WAL is checkpointed once the store is idle, not by the commit that crosses a threshold; without a pause, at 16 MB', async (t) => {
  const dataRoot = scratchDirectory(t);
  const store = await SqliteStore.open(dataRoot);
  t.teardown(() => store.close());
  const size = () => statSync(store.file).size;
  const wal = () => statSync(`${store.file}-wal`).size;
  const idle = () => new Promise((resolve) => setTimeout(resolve, 500));
  await idle(); // the migrations' pages
  const before = size();
  await create(store, 'big', 'x'.repeat(200_000));
  t.is(size(), before, 'a commit leaves the database file alone (its pages are in the WAL)');
  await idle();
  t.true(size() >= before + 200_000, 'an idle store copied the WAL into the database');
  t.is(wal(), 0, 'and truncated the WAL');

  // Commits with no pause between them (no timer can run): the one that takes the WAL to 16 MB
  // checkpoints (SQLite's own would have run at 4 MB).
  const value = 'y'.repeat(20_000);
  const start = size();
  let commits = 0;
  while (wal() < 15 * 1024 * 1024) await create(store, `k${commits++}`, value);
  t.is(size(), start, `${commits} commits in a row, ${(wal() / 1048576).toFixed(1)} MB of WAL: the database file is untouched`);
  while (size() === start) await create(store, `k${commits++}`, value);
  t.true(wal() < 1024 * 1024, 'the commit that checkpointed truncated the WAL');
  t.true(size() >= start + 8 * 1024 * 1024, "the pages went into the database (frames rewrite some pages, so less than the WAL)");
});

test('a checkpoint never waits for a reader (a sqlite3 shell holding a snapshot): commits stay fast, and the WAL goes once the reader does', async (t) => {
  const dataRoot = scratchDirectory(t);
  const store = await SqliteStore.open(dataRoot);
  t.teardown(() => store.close());
  const wal = () => statSync(`${store.file}-wal`).size;
  await new Promise((resolve) => setTimeout(resolve, 500));
  const reader = new Database(store.file, { readonly: true });
  t.teardown(() => reader.close());
  reader.exec('BEGIN');
  reader.prepare('SELECT count(*) FROM kv').get();
  const value = 'z'.repeat(20_000);
  let commits = 0;
  let slowest = 0;
  while (wal() < 17 * 1024 * 1024) {
    const t0 = performance.now();
    await create(store, `r${commits++}`, value);
    slowest = Math.max(slowest, performance.now() - t0);
  }
  t.true(slowest < 1000, `no commit waited for the reader (slowest ${slowest.toFixed(0)} ms; the busy timeout is 5000 ms)`);
  t.true(wal() >= 16 * 1024 * 1024, 'the WAL stays while the reader holds its snapshot');
  reader.exec('COMMIT');
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.is(wal(), 0, 'once the reader is done, the idle checkpoint truncates it');
  t.is((await store.list('r')).length, commits);
});
