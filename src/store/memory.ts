/** An in-memory Store, for unit tests and fakes: the same semantics as SQLite, nothing durable. */
import type { Condition, Entry, Operation, Store, TxnResult } from './store.js';

export class MemoryStore implements Store {
  private readonly data = new Map<string, { value: string; version: number }>();

  async get<T = unknown>(key: string): Promise<Entry<T> | undefined> {
    const row = this.data.get(key);
    return row ? { key, value: JSON.parse(row.value) as T, version: row.version } : undefined;
  }

  async list<T = unknown>(prefix: string): Promise<Array<Entry<T>>> {
    return [...this.data.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, row]) => ({ key, value: JSON.parse(row.value) as T, version: row.version }));
  }

  async txn(conditions: Condition[], operations: Operation[]): Promise<TxnResult> {
    for (const condition of conditions) {
      const row = this.data.get(condition.key);
      if ('absent' in condition ? row !== undefined : row?.version !== condition.version) return { ok: false, versions: [] };
    }
    const versions = operations.map((operation) => {
      if (operation.kind === 'delete') {
        this.data.delete(operation.key);
        return 0;
      }
      const version = (this.data.get(operation.key)?.version ?? 0) + 1;
      this.data.set(operation.key, { value: JSON.stringify(operation.value), version });
      return version;
    });
    return { ok: true, versions };
  }

  async close(): Promise<void> {}
}
