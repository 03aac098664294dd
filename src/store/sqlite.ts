/**
 * The local-scope store: SQLite (better-sqlite3) at `<data-root>/state.db`, one table
 * `kv(key, value, version)`, under the data-root lock (src/store/lock.ts), so this process is the only
 * writer. WAL with `synchronous=NORMAL`: a committed transaction is in the WAL before the call
 * returns and survives kill -9 of the process; only a power loss can take the last ones back.
 * better-sqlite3 is synchronous; the methods still return promises, as etcd's will.
 *
 * Checkpoints (WAL pages copied into the database, with two fsyncs: 1-13 ms each on the test
 * machine's disk, on the JS thread) run when the store has been idle for a moment, not inside
 * whichever commit crosses SQLite's automatic threshold (1000 pages, 4 MB: about every 100 attaches,
 * each then taking 5-7 ms). Under writes with no pause, one runs when the WAL reaches
 * `CHECKPOINT_WAL_BYTES` (16 MB: about 350 attaches), so it stays bounded. docs/benchmarks.md has
 * the figures.
 */
import Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { lockDataRoot } from './lock.js';
import type { DataRootLock } from './lock.js';
import type { Condition, Entry, Operation, Store, TxnResult } from './store.js';

/** How long the store must go without a commit before the WAL is checkpointed. */
const CHECKPOINT_IDLE_MS = 200;
/** The WAL size at which a commit checkpoints even without a pause (each commit writes 1-4 pages). */
const CHECKPOINT_WAL_BYTES = 16 * 1024 * 1024;

/** One schema step; it runs inside the transaction that records its version. */
export type Migration = (db: Database.Database) => void;

/** The schema, in order: migration N (1-based) brings the database to schema version N. Append only. */
export const migrations: readonly Migration[] = [
  (db) => {
    db.exec('CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL)');
  },
];

export interface SqliteStoreOptions {
  /** How long a statement waits for another connection's lock (a debugging sqlite3 shell). Default 5000. */
  busyTimeoutMs?: number;
  /** The schema steps; tests pass their own. Default: `migrations`. */
  migrations?: readonly Migration[];
}

interface Row {
  key: string;
  value: string;
  version: number;
}

/** An operation with its value already encoded, so a bad value fails before the transaction starts. */
type EncodedOperation = { kind: 'put'; key: string; json: string } | { kind: 'delete'; key: string };

export class SqliteStore implements Store {
  /** `<dataRoot>/state.db`. */
  readonly file: string;
  private readonly db: Database.Database;
  private readonly lock: DataRootLock;
  private readonly selectEntry: Database.Statement<[string], Row>;
  private readonly selectVersion: Database.Statement<[string], number>;
  private readonly selectFrom: Database.Statement<[string], Row>;
  private readonly selectRange: Database.Statement<[string, string], Row>;
  private readonly upsert: Database.Statement<[string, string], number>;
  private readonly deleteKey: Database.Statement<[string]>;
  private readonly apply: (conditions: Condition[], operations: EncodedOperation[]) => TxnResult;
  private closed = false;
  /** Commits since the last checkpoint, the time of the last one, and the idle timer. */
  private writes = 0;
  private lastWrite = 0;
  private readonly walFile: string;
  /** The WAL size at which a commit checkpoints: 16 MB past what the last checkpoint left. */
  private walLimit = CHECKPOINT_WAL_BYTES;
  private idleTimer: NodeJS.Timeout | undefined;

  private constructor(file: string, db: Database.Database, lock: DataRootLock) {
    this.file = file;
    this.walFile = `${file}-wal`;
    this.db = db;
    this.lock = lock;
    this.selectEntry = db.prepare<[string], Row>('SELECT key, value, version FROM kv WHERE key = ?');
    this.selectVersion = db.prepare<[string], number>('SELECT version FROM kv WHERE key = ?').pluck();
    this.selectFrom = db.prepare<[string], Row>('SELECT key, value, version FROM kv WHERE key >= ? ORDER BY key');
    this.selectRange = db.prepare<[string, string], Row>('SELECT key, value, version FROM kv WHERE key >= ? AND key < ? ORDER BY key');
    this.upsert = db
      .prepare<[string, string], number>(
        'INSERT INTO kv (key, value, version) VALUES (?, ?, 1) ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = kv.version + 1 RETURNING version',
      )
      .pluck();
    this.deleteKey = db.prepare<[string]>('DELETE FROM kv WHERE key = ?');
    const transaction = db.transaction((conditions: Condition[], operations: EncodedOperation[]): TxnResult => {
      for (const condition of conditions) {
        const version = this.selectVersion.get(condition.key);
        if ('absent' in condition ? version !== undefined : version !== condition.version) return { ok: false, versions: [] };
      }
      const versions = operations.map((operation) => {
        if (operation.kind === 'delete') {
          this.deleteKey.run(operation.key);
          return 0;
        }
        return this.upsert.get(operation.key, operation.json)!;
      });
      return { ok: true, versions };
    });
    // BEGIN IMMEDIATE: the write lock is taken before the conditions are read, so no other
    // connection can commit between the check and the writes.
    this.apply = (conditions, operations) => {
      const result = transaction.immediate(conditions, operations);
      if (result.ok && operations.length > 0) this.wrote();
      return result;
    };
  }

  /**
   * After a commit: checkpoint now if the WAL has grown long (each checkpoint truncates it, so its
   * size is what was written since), else once the store goes idle.
   */
  private wrote(): void {
    this.lastWrite = performance.now();
    this.writes++;
    if (this.walSize() >= this.walLimit) return this.checkpoint();
    if (!this.idleTimer) this.idleTimer = setTimeout(() => this.whenIdle(), CHECKPOINT_IDLE_MS).unref();
  }

  private whenIdle(): void {
    this.idleTimer = undefined;
    if (this.closed || this.writes === 0) return;
    const quietFor = performance.now() - this.lastWrite;
    if (quietFor < CHECKPOINT_IDLE_MS) {
      this.idleTimer = setTimeout(() => this.whenIdle(), CHECKPOINT_IDLE_MS - quietFor).unref();
      return;
    }
    this.checkpoint();
  }

  /**
   * Copy the WAL into the database and truncate it (this process is the only writer; with a sqlite3
   * shell reading meanwhile it does what it can without waiting). A failure is not the caller's:
   * the next one retries.
   */
  private checkpoint(): void {
    this.writes = 0;
    // TRUNCATE waits for readers through the busy handler: a sqlite3 shell reading the database
    // would hold the JS thread for the whole busy timeout. Without one it gives up at once (the WAL
    // stays, and the next checkpoint tries again).
    const busy = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma('busy_timeout = 0');
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // e.g. SQLITE_BUSY from another connection: the WAL stays, and so does every commit in it.
    } finally {
      this.db.pragma(`busy_timeout = ${busy}`);
    }
    // Truncated: 16 MB from nothing. Not (a reader held it): 16 MB more before a commit tries again.
    this.walLimit = this.walSize() + CHECKPOINT_WAL_BYTES;
  }

  private walSize(): number {
    return statSync(this.walFile, { throwIfNoEntry: false })?.size ?? 0;
  }

  /**
   * Open the store of a data root: create the root (0700) if missing, take its lock (refused with a
   * conflict error naming the holder if another engine has it), open `state.db` and migrate it.
   */
  static async open(dataRoot: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    const root = path.resolve(dataRoot);
    try {
      mkdirSync(root, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new Error(`open state store in ${root}: create data root: ${(error as Error).message}`, { cause: error });
    }
    const lock = lockDataRoot(root);
    const file = path.join(root, 'state.db');
    let db: Database.Database | undefined;
    try {
      db = new Database(file);
      // First, so that switching to WAL also waits for a reader that holds the file.
      db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
      const journalMode = db.pragma('journal_mode = WAL', { simple: true });
      if (journalMode !== 'wal') throw new Error(`journal mode is ${String(journalMode)}, not wal`);
      db.pragma('synchronous = NORMAL');
      // Checkpoints are the store's own (see the top of this file).
      db.pragma('wal_autocheckpoint = 0');
      migrate(db, options.migrations ?? migrations);
      return new SqliteStore(file, db, lock);
    } catch (error) {
      db?.close();
      lock.release();
      throw new Error(`open state store ${file}: ${(error as Error).message}`, { cause: error });
    }
  }

  async get<T = unknown>(key: string): Promise<Entry<T> | undefined> {
    this.checkOpen(`get ${key}`);
    const row = this.selectEntry.get(key);
    return row ? decode<T>(row) : undefined;
  }

  async list<T = unknown>(prefix: string): Promise<Array<Entry<T>>> {
    this.checkOpen(`list ${prefix}`);
    // A range scan over the primary key's index. Not LIKE: it is case-insensitive for ASCII, is not
    // served by the index then, and `%` and `_` in a key would need escaping.
    const upper = prefixUpperBound(prefix);
    const rows = upper === undefined ? this.selectFrom.all(prefix) : this.selectRange.all(prefix, upper);
    return rows.map((row) => decode<T>(row));
  }

  async txn(conditions: Condition[], operations: Operation[]): Promise<TxnResult> {
    this.checkOpen('apply a transaction');
    const encoded = operations.map((operation): EncodedOperation => {
      if (operation.kind === 'delete') return operation;
      const json = JSON.stringify(operation.value);
      if (json === undefined) throw new TypeError(`store: put ${operation.key}: the value cannot be stored as JSON`);
      return { kind: 'put', key: operation.key, json };
    });
    return this.apply(conditions, encoded);
  }

  /** Close the database, then release the data-root lock. A second close does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    try {
      // Closing the last connection checkpoints the WAL and removes it.
      this.db.close();
    } finally {
      this.lock.release();
    }
  }

  private checkOpen(what: string): void {
    if (this.closed) throw new Error(`store: ${what}: state store ${this.file} is closed`);
  }
}

function decode<T>(row: Row): Entry<T> {
  return { key: row.key, value: JSON.parse(row.value) as T, version: row.version };
}

/**
 * The least string above every string that starts with prefix, in SQLite's BINARY order (UTF-8
 * bytes, which is code point order), or undefined when there is none: the prefix with its last code
 * point raised by one. `prefix + '\uffff'` would miss keys continuing with U+FFFF or any code point
 * above it (4-byte UTF-8).
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const codePoints = [...prefix];
  while (codePoints.length > 0) {
    let last = codePoints.pop()!.codePointAt(0)!;
    // A lone surrogate reaches SQLite as U+FFFD (V8 replaces it when encoding UTF-8).
    if (last >= 0xd800 && last <= 0xdfff) last = 0xfffd;
    if (last < 0x10ffff) return codePoints.join('') + String.fromCodePoint(last + 1 === 0xd800 ? 0xe000 : last + 1);
    // U+10FFFF cannot be raised: raise the code point before it instead.
  }
  return undefined;
}

/** Bring the database to the newest schema this code knows, one transaction per step; refuse a newer one. */
function migrate(db: Database.Database, steps: readonly Migration[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  const readVersion = db.prepare<[], string>("SELECT value FROM meta WHERE key = 'schema_version'").pluck();
  const writeVersion = db.prepare<[string]>(
    "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );
  const text = readVersion.get();
  const version = text === undefined ? 0 : Number(text);
  if (!Number.isSafeInteger(version) || version < 0) throw new Error(`schema version ${JSON.stringify(text)} in table meta is not a number`);
  if (version > steps.length) {
    throw new Error(`schema version ${version} is newer than this switchyard knows (${steps.length}): the database was written by a newer switchyard`);
  }
  for (let next = version + 1; next <= steps.length; next++) {
    const step = steps[next - 1]!;
    try {
      db.transaction(() => {
        step(db);
        writeVersion.run(String(next));
      }).immediate();
    } catch (error) {
      throw new Error(`migrate to schema version ${next}: ${(error as Error).message}`, { cause: error });
    }
  }
}
