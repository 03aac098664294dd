/**
 * The store: one asynchronous, compare-and-swap shaped interface with two implementations, SQLite
 * for local scope (src/store/sqlite.ts) and etcd for global scope (later). Keys are paths, values are
 * JSON, and every key carries a version: 1 when created, +1 on each write.
 */

/** A stored value with its version. */
export interface Entry<T = unknown> {
  key: string;
  value: T;
  version: number;
}

/** What must hold for a transaction to apply. */
export type Condition =
  | { key: string; version: number } // the key exists at exactly this version
  | { key: string; absent: true }; // the key does not exist

/** One change in a transaction. */
export type Operation = { kind: 'put'; key: string; value: unknown } | { kind: 'delete'; key: string };

/** Result of a transaction. */
export interface TxnResult {
  /** False when a condition did not hold; then nothing was changed. */
  ok: boolean;
  /** After an applied transaction: the new version of each key put, in operation order (0 for deletes). */
  versions: number[];
}

export interface Store {
  /** The entry at key, or undefined. */
  get<T = unknown>(key: string): Promise<Entry<T> | undefined>;
  /** Every entry whose key starts with prefix, in key order. */
  list<T = unknown>(prefix: string): Promise<Array<Entry<T>>>;
  /** Apply every operation if every condition holds, atomically and durably; otherwise change nothing. */
  txn(conditions: Condition[], operations: Operation[]): Promise<TxnResult>;
  /** Release the store (and its data-root lock). */
  close(): Promise<void>;
}

/** A compare-and-swap that lost: the key was not at the version (or absent) as required. */
export class ConflictError extends Error {
  readonly key: string;
  constructor(key: string, message = `store: ${key} changed underneath this operation`) {
    super(message);
    this.name = 'ConflictError';
    this.key = key;
  }
}

/** Create key; fails with ConflictError if it exists. Returns the version (1). */
export async function create(store: Store, key: string, value: unknown): Promise<number> {
  const result = await store.txn([{ key, absent: true }], [{ kind: 'put', key, value }]);
  if (!result.ok) throw new ConflictError(key, `store: ${key} already exists`);
  return result.versions[0]!;
}

/** Replace key if it is at `version`; fails with ConflictError otherwise. Returns the new version. */
export async function update(store: Store, key: string, version: number, value: unknown): Promise<number> {
  const result = await store.txn([{ key, version }], [{ kind: 'put', key, value }]);
  if (!result.ok) throw new ConflictError(key);
  return result.versions[0]!;
}

/** Delete key if it is at `version` (or whatever its version when omitted); absent keys are fine. */
export async function remove(store: Store, key: string, version?: number): Promise<void> {
  const result = await store.txn(version === undefined ? [] : [{ key, version }], [{ kind: 'delete', key }]);
  if (!result.ok) throw new ConflictError(key);
}
