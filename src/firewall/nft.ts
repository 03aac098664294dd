/**
 * nftables through libnftables in the native addon: one JSON document per call, applied atomically
 * in the engine's own network namespace. No process is started.
 */
import { native, type NativeError } from '../../native/index.js';
import { inline, inlineAllowed } from '../netlink/inline.js';

/**
 * One command of libnftables' JSON schema (libnftables-json(5)), e.g.
 * `{ add: { table: { family: 'inet', name: 'switchyard' } } }` or
 * `{ list: { table: { family: 'inet', name: 'switchyard' } } }`.
 */
export type NftCommand = Record<string, unknown>;

/** A transaction or list libnftables refused; the message says what was being done, then its own text. */
export class FirewallError extends Error {
  /** The errno libnftables' text names (ENOENT for "No such file or directory"), when it names one. */
  readonly errno: number | undefined;

  constructor(message: string, errno?: number) {
    super(message);
    this.name = 'FirewallError';
    this.errno = errno;
  }
}

function document(commands: NftCommand[]): string {
  return JSON.stringify({ nftables: [{ metainfo: { json_schema_version: 1 } }, ...commands] });
}

/**
 * libnftables' error text on one line, its own words without the location prefix (always
 * "internal:0:0-0: Error:" for JSON input): "Could not process rule: No such file or directory",
 * several messages joined with "; ".
 */
function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text
    .split('\n')
    .map((line) => line.replace(/^\S+:\d+:\d+-\d+:\s*/, '').replace(/^Error:\s*/, '').trim())
    .filter((line) => line.length > 0)
    .join('; ');
}

function failure(what: string, error: unknown): FirewallError {
  const errno = (error as Partial<NativeError> | undefined)?.errno;
  return new FirewallError(`${what}: ${errorText(error)}`, typeof errno === 'number' ? errno : undefined);
}

/**
 * Calls go to the addon one at a time: libnftables serialises them anyway (one context, a mutex),
 * and waiting here instead keeps the other calls from holding libuv worker threads (netlink, file
 * system) while they wait for the lock.
 */
let queue: Promise<unknown> = Promise.resolve();
let running = 0;

/**
 * A document this small is one endpoint's or port's elements: with no other call under way it is
 * applied on the JS thread (src/netlink/inline.ts: ~0.1 ms of kernel work against a thread hand-off
 * each way); bigger ones, lists and anything queued go to a worker.
 */
const INLINE_MAX_DOCUMENT = 4096;

function run(text: string, list = false): Promise<string> {
  if (!list && running === 0 && text.length <= INLINE_MAX_DOCUMENT && inlineAllowed()) {
    try {
      return Promise.resolve(inline(() => native().nftRunNow(text)));
    } catch (error) {
      return Promise.reject(error);
    }
  }
  running++;
  const result = queue.then(() => native().nftRun(text)).finally(() => running--);
  queue = result.catch(() => undefined);
  return result;
}

/** Apply commands as one atomic transaction: all of them, or (on any error) none. */
export async function nftTransaction(commands: NftCommand[]): Promise<void> {
  if (commands.length === 0) return;
  try {
    await run(document(commands));
  } catch (error) {
    throw failure('nft transaction', error);
  }
}

/**
 * Run one list command (e.g. `{ list: { table: { family: 'inet', name } } }`) and return the
 * objects it lists, without the metainfo. A list reads the ruleset in several dumps and can fail
 * when another process changes it meanwhile, so kernel errors are retried; one that persists is
 * thrown (a table that does not exist: errno ENOENT). Errors in the command itself are not retried.
 */
export async function nftList(command: NftCommand): Promise<Array<Record<string, unknown>>> {
  let output = '';
  for (let attempt = 1; ; attempt++) {
    try {
      output = await run(document([command]), true);
      break;
    } catch (error) {
      const errno = (error as Partial<NativeError> | undefined)?.errno;
      if (attempt >= 10 || typeof errno !== 'number') throw failure('nft list', error);
    }
  }
  if (!output.trim()) return [];
  const parsed = JSON.parse(output) as { nftables?: Array<Record<string, unknown>> };
  return (parsed.nftables ?? []).filter((item) => !('metainfo' in item));
}

/**
 * Delete a table if it exists (nft 1.0.6 has no `destroy`): add it (a no-op when it exists) and
 * delete it, in one transaction.
 */
export async function nftDeleteTable(family: string, name: string): Promise<void> {
  try {
    await run(document([{ add: { table: { family, name } } }, { delete: { table: { family, name } } }]));
  } catch (error) {
    throw failure(`nft delete table ${family} ${name}`, error);
  }
}
