/** src/store: the state store. */
export * from './store.js';
export { MemoryStore } from './memory.js';
export { SqliteStore, migrations, prefixUpperBound } from './sqlite.js';
export type { Migration, SqliteStoreOptions } from './sqlite.js';
export { lockDataRoot } from './lock.js';
export type { DataRootLock } from './lock.js';
