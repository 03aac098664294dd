/**
 * The data-root lock: one engine per data root. An exclusive OFD lock (fcntl F_OFD_SETLK) on
 * `<data-root>/engine.lock`, which holds the holder's PID as text. The kernel releases the lock when
 * the holder dies, kill -9 included, so a stale file never blocks a new engine; a second engine, in
 * another process or this one, is refused with the holder named.
 */
import { closeSync, ftruncateSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { native } from '../../native/index.js';
import type { NativeError } from '../../native/index.js';
import { conflict } from '../cnm/errors.js';
import { fromNative } from '../netlink/errors.js';

/** A held data-root lock. */
export interface DataRootLock {
  /** The data root, as an absolute path. */
  readonly dataRoot: string;
  /** `<dataRoot>/engine.lock`. */
  readonly path: string;
  /** Release the lock (idempotent). */
  release(): void;
}

const EAGAIN = 11;
const EACCES = 13;

/** How long a refused locker waits for a holder that has locked but not yet written its PID. */
const PID_WAIT_MS = 500;
const PID_POLL_MS = 10;

/**
 * Take the data root's lock, without waiting, and record this process's PID in it. Throws a
 * conflict CnmError naming the holder when another engine (or another open in this process) has it.
 * The directory must exist.
 */
export function lockDataRoot(dataRoot: string): DataRootLock {
  const root = path.resolve(dataRoot);
  const lockPath = path.join(root, 'engine.lock');
  const deadline = Date.now() + PID_WAIT_MS;
  for (;;) {
    const fd = tryLock(root, lockPath);
    if (fd !== undefined) return held(root, lockPath, fd);
    const holder = findHolder(root, lockPath);
    if (holder) throw conflict(`data root ${root} is in use by process ${holder.pid} (${holder.commandLine})`);
    // Locked, but no live PID in the file yet: the holder is between its lock and its write, or it
    // released the lock meanwhile (then the next try takes it).
    if (Date.now() >= deadline) {
      throw conflict(`data root ${root} is in use by another process (no live pid recorded in ${lockPath})`);
    }
    sleep(PID_POLL_MS);
  }
}

/** The fd holding the lock, or undefined when someone else holds it. */
function tryLock(root: string, lockPath: string): number | undefined {
  try {
    return native().lockFile(lockPath);
  } catch (error) {
    const errno = (error as NativeError).errno;
    if (errno === EAGAIN || errno === EACCES) return undefined;
    throw fromNative(`lock data root ${root}`, error);
  }
}

function held(root: string, lockPath: string, fd: number): DataRootLock {
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
  } catch (error) {
    closeSync(fd);
    throw new Error(`lock data root ${root}: write pid to ${lockPath}: ${(error as Error).message}`, { cause: error });
  }
  let open = true;
  return {
    dataRoot: root,
    path: lockPath,
    release() {
      if (!open) return;
      open = false;
      // Empty the file while still holding the lock, so it never names a process that let go;
      // closing the fd (the only one on this open file description) releases the lock.
      try {
        ftruncateSync(fd, 0);
      } finally {
        closeSync(fd);
      }
    },
  };
}

/**
 * The live process named in the lock file, if the lock is still held. F_OFD_GETLK reports no PID for
 * an OFD lock (l_pid is -1), so it serves only as the check that somebody holds it; the PID comes
 * from the file, written by the holder. A classic POSIX lock (some other tool) does report its PID.
 */
function findHolder(root: string, lockPath: string): { pid: number; commandLine: string } | undefined {
  let lockedBy: number;
  try {
    lockedBy = native().lockHolder(lockPath);
  } catch (error) {
    throw fromNative(`lock data root ${root}: find the holder of ${lockPath}`, error);
  }
  if (lockedBy === 0) return undefined;
  const pid = lockedBy > 0 ? lockedBy : readPid(lockPath);
  if (pid === undefined) return undefined;
  const commandLine = readCommandLine(pid);
  return commandLine === undefined ? undefined : { pid, commandLine };
}

function readPid(lockPath: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8').trim();
  } catch {
    return undefined;
  }
  return /^[1-9][0-9]*$/.test(text) ? Number(text) : undefined;
}

/** /proc/PID/cmdline with spaces for NULs, or undefined when the process is gone. */
function readCommandLine(pid: number): string | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const args = raw.split('\0');
    if (args.at(-1) === '') args.pop();
    return args.length > 0 ? args.join(' ') : 'no command line';
  } catch {
    return undefined;
  }
}

function sleep(milliseconds: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, milliseconds);
}
