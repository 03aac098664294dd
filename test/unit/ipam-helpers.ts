/** Shared bits of the IPAM unit tests. */
import type { ExecutionContext } from 'ava';
import { CnmError } from '../../src/cnm/errors.js';
import type { ErrorCategory } from '../../src/cnm/errors.js';
import type { PoolRequest } from '../../src/ipam/types.js';
import type { Store } from '../../src/store/store.js';

/** A request for network `name` (id `id-<name>`) with the given parts. */
export function poolRequest(name: string, parts: Partial<PoolRequest> = {}): PoolRequest {
  return { networkId: `id-${name}`, networkName: name, ipv4: [], avoid: [], ...parts };
}

/** Await a rejection and check it is a CnmError of that category, naming that field, with a matching message. */
export async function rejects(
  t: ExecutionContext,
  promise: Promise<unknown>,
  category: ErrorCategory,
  field: string | undefined,
  message: RegExp,
): Promise<CnmError> {
  const error = await t.throwsAsync(promise, { instanceOf: CnmError, message });
  if (!(error instanceof CnmError)) throw new Error('unreachable: t.throwsAsync checked the class');
  t.is(error.category, category, error.message);
  t.is(error.field, field, error.message);
  if (field !== undefined) t.true(error.message.includes(field), `the message names ${field}: ${error.message}`);
  t.regex(error.message, /^[a-z]/, 'messages start lower case');
  t.false(error.message.endsWith('.'), 'messages end without a period');
  return error;
}

/** Every key in the store with its value, for before/after comparisons. */
export async function snapshot(store: Store): Promise<Record<string, unknown>> {
  return Object.fromEntries((await store.list('')).map((entry) => [entry.key, entry.value]));
}
