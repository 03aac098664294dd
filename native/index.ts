/**
 * Loader for Switchyard's native addon (native/src). Only the calls Node cannot make itself live
 * there; everything else (message encoding, batching, errors) is TypeScript.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** One row of nsCreate: the netlink socket opened inside (or -1), errno of the failed step (0 if none), the step. */
export type NsCreateRow = [nlFd: number, errno: number, step: string | null];

export interface NativeAddon {
  /**
   * Create one network namespace per path (an nsfs bind mount) on a fresh thread, write `settings`
   * ([/proc/sys path, value]) inside each, and optionally open a NETLINK_ROUTE socket inside each.
   */
  nsCreate(paths: string[], wantSocket: boolean, settings?: Array<[string, string]>): Promise<NsCreateRow[]>;
  /** nsCreate on the calling (JS) thread, which is back in its own namespace when it returns. */
  nsCreateNow(paths: string[], wantSocket: boolean, settings?: Array<[string, string]>): NsCreateRow[];
  /** Unmount (lazily) and unlink each namespace file, using up to `threads` threads; [umountErrno, unlinkErrno] per path. */
  nsRemove(paths: string[], threads: number): Promise<Array<[number, number]>>;
  /** Open a socket inside the namespace at nsPath (null: this process's namespace). */
  socketIn(nsPath: string | null, family: number, type: number, protocol: number): Promise<number>;
  /** socketIn on the calling (JS) thread, which is back in its own namespace when it returns. */
  socketInNow(nsPath: string | null, family: number, type: number, protocol: number): number;
  /** Write a file after entering the namespace at nsPath (for /proc/sys/net, which is per namespace). */
  writeFileIn(nsPath: string | null, file: string, data: string): Promise<void>;
  /** Send `count` netlink requests in one datagram and read until each has its final reply. */
  nlTransact(fd: number, request: Buffer, firstSeq: number, count: number, timeoutMs: number): Promise<Buffer>;
  /**
   * nlTransact on the calling (JS) thread without waiting: the replies, or, when the kernel has not
   * answered every request yet, those that came and how many requests they finish (the first ones).
   */
  nlTransactNow(fd: number, request: Buffer, firstSeq: number, count: number): Buffer | [Buffer, number];
  /** Several sockets' batches in one worker job (one thread hop): a Buffer of replies, or the errno, per batch. */
  nlTransactMany(batches: Array<[fd: number, request: Buffer, firstSeq: number, count: number, timeoutMs: number]>): Promise<Array<Buffer | number>>;
  /** ICMP echo on a raw socket until the first reply: microseconds, or null on timeout. */
  icmpEcho(fd: number, family: number, dst: Buffer, ident: number, timeoutMs: number, intervalMs: number): Promise<number | null>;
  /**
   * Run one nftables JSON document (`{"nftables":[…]}`) through libnftables as one atomic
   * transaction, in this process's network namespace, on a libuv worker (calls are serialised):
   * libnftables' JSON output, or "" for commands that print nothing. Rejects with an Error whose
   * message is libnftables' text, with `errno` when that text names one.
   */
  nftRun(document: string): Promise<string>;
  /** nftRun on the calling (JS) thread (which is always in the process's own namespace between native calls). */
  nftRunNow(document: string): string;
  /** Voluntary context switches of the calling thread so far (times it waited; preemption does not count). */
  threadSleeps(): number;
  /** Make dir a shared mount point of its own (bind-mounting it onto itself first if needed). */
  makeSharedMountpoint(dir: string): void;
  /**
   * Take an exclusive OFD write lock on the whole file at path (created if missing) without waiting:
   * the fd holding it (close it to release), or throws a NativeError with errno EAGAIN or EACCES
   * when another open file description holds it, in this process or another.
   */
  lockFile(path: string): number;
  /** Who holds a lock on path that conflicts with a write lock: 0 nobody, a pid (POSIX lock), -1 an OFD lock (no pid). */
  lockHolder(path: string): number;
}

/** Error shape the addon rejects with. */
export interface NativeError extends Error {
  errno: number;
  step?: string;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Directory holding the built addon and the yard-nsexec helper. */
export const nativeBuildDir = path.join(root, 'native', 'build', 'Release');

/** Path of the yard-nsexec helper (runs a command inside a sandbox). */
export const nsexecPath = path.join(nativeBuildDir, 'yard-nsexec');

let loaded: NativeAddon | undefined;

/** The addon, loaded on first use; throws a clear error off Linux or before the native build. */
export function native(): NativeAddon {
  if (loaded) return loaded;
  if (process.platform !== 'linux') throw new Error(`switchyard needs Linux (this is ${process.platform})`);
  const require = createRequire(import.meta.url);
  try {
    loaded = require(path.join(nativeBuildDir, 'switchyard.node')) as NativeAddon;
  } catch (error) {
    throw new Error(`load native addon from ${nativeBuildDir}: ${(error as Error).message} (run npm run build)`);
  }
  return loaded;
}
