/** Commands that take several names (inspect, rm) go through them as docker's do: each on its own. */
import { ApiError, type Client } from './client.js';
import type { Io } from './io.js';
import { exitCodeOf } from './exit.js';

const COLLECTION = { network: '/networks', sandbox: '/sandboxes' } as const;

/**
 * GET each ref of the kind's collection: the objects found, in order; for one that is not there,
 * docker's `Error: No such <kind>: <ref>`. Other errors stop the command.
 */
export async function inspectEach<T>(client: Client, io: Io, kind: 'network' | 'sandbox', refs: string[]): Promise<{ found: T[]; code: number }> {
  const found: T[] = [];
  let code = 0;
  for (const ref of refs) {
    try {
      found.push(await client.json<T>('GET', `${COLLECTION[kind]}/${encodeURIComponent(ref)}`));
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
      io.err(`Error: No such ${kind}: ${ref}`);
      code = Math.max(code, exitCodeOf(error));
    }
  }
  return { found, code };
}

/** DELETE each ref, printing its name when gone; a failure is printed and the rest still go. */
export async function removeEach(client: Client, io: Io, kind: 'network' | 'sandbox', refs: string[], options: { ignoreMissing?: boolean } = {}): Promise<number> {
  let code = 0;
  for (const ref of refs) {
    try {
      await client.request('DELETE', `${COLLECTION[kind]}/${encodeURIComponent(ref)}`);
      io.out(ref);
    } catch (error) {
      if (options.ignoreMissing && error instanceof ApiError && error.status === 404) continue;
      io.err(`Error response from daemon: ${(error as Error).message}`);
      code = Math.max(code, exitCodeOf(error));
    }
  }
  return code;
}
