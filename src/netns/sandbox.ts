/**
 * Sandboxes: network namespaces kept alive by nsfs bind mounts under `<exec-root>/netns/<id>`
 * (a shared mount point of its own, as `ip netns` keeps /run/netns), published by name in
 * /run/netns so `ip netns exec NAME` works. No process holds a sandbox, and no socket is kept open
 * for it once the caller closes the handle it got.
 */
import { mkdirSync, readdirSync, readlinkSync, symlinkSync, unlinkSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { native } from '../../native/index.js';
import { Handle } from '../netlink/handle.js';
import { KernelError, ValidationError, fromNative } from '../netlink/errors.js';
import { inline, inlineAllowed, onWorker } from '../netlink/inline.js';
import { checkSandboxName } from './names.js';

/** Where sandboxes live. */
export interface SandboxRootOptions {
  /** Switchyard's exec root (default /run/switchyard); namespace files go in `<execRoot>/netns`. */
  execRoot: string;
  /** Directory where sandboxes are published by name for `ip netns` (default /run/netns; null: not published). */
  publishDir?: string | null;
  /** Extra /proc/sys settings written inside every new sandbox on its creation thread ([path, value]). */
  settings?: Array<[string, string]>;
}

/** One sandbox to create. */
export interface SandboxSpec {
  name: string;
  /** Defaults to a random 16-hex-digit id. */
  id?: string;
  /** Publish in the publish dir (default true). */
  publish?: boolean;
  /** Return an open rtnetlink handle inside the new sandbox (close it when done). */
  handle?: boolean;
}

/** A sandbox on disk. */
export interface Sandbox {
  id: string;
  name: string;
  /** The namespace file: pass to `Handle.open({ netnsPath })`, or open it to get a namespace fd. */
  path: string;
  /** The /run/netns entry, when published. */
  publishedPath?: string;
  /** An rtnetlink handle inside the sandbox, when asked for at creation. */
  handle?: Handle;
}

/**
 * Settings every sandbox gets on its creation thread. None by default: a /proc/sys write in a fresh
 * namespace costs ~0.2 ms, so per-interface settings (arp_notify, IPv6 address generation) go over
 * netlink with the interface instead (linkSetIp4Conf, linkSetIp6AddrGenMode).
 */
const SANDBOX_SETTINGS: Array<[string, string]> = [];

const REMOVE_THREADS = 8;
/** Coalesced creates: namespaces per native call, and native calls at once (one per core here). */
const CREATE_BATCH_SIZE = 64;
const CREATE_BATCHES_IN_FLIGHT = 2;
/**
 * A batch this small, with nothing else under way, is made on the JS thread (inline.ts): a namespace
 * takes ~0.4 ms of kernel work, and a thread hand-off each way costs as much again on an idle VM.
 */
const INLINE_CREATES = 4;

/** The sandboxes of one exec root. */
export class SandboxRoot {
  readonly execRoot: string;
  readonly netnsDir: string;
  readonly publishDir: string | null;
  private readonly settings: Array<[string, string]>;
  private initialized = false;

  constructor(options: SandboxRootOptions) {
    this.execRoot = options.execRoot;
    this.netnsDir = path.join(options.execRoot, 'netns');
    this.publishDir = options.publishDir === undefined ? '/run/netns' : options.publishDir;
    this.settings = [...SANDBOX_SETTINGS, ...(options.settings ?? [])];
  }

  /** Create the netns directory as a shared mount point of its own (idempotent). */
  init(): void {
    if (this.initialized) return;
    mkdirSync(this.netnsDir, { recursive: true, mode: 0o755 });
    try {
      native().makeSharedMountpoint(this.netnsDir);
    } catch (error) {
      throw fromNative(`prepare ${this.netnsDir}`, error);
    }
    if (this.publishDir) mkdirSync(this.publishDir, { recursive: true, mode: 0o755 });
    this.initialized = true;
  }

  /** Path of the namespace file of a sandbox id. */
  pathOf(id: string): string {
    return path.join(this.netnsDir, id);
  }

  /**
   * Create sandboxes in one native call (one thread for all of them). All or nothing: when one fails,
   * the ones already made are removed and the first error is thrown.
   * Equivalent to: `ip netns add NAME` for each
   */
  async createMany(specs: SandboxSpec[]): Promise<Sandbox[]> {
    const results = await this.createBatch(specs);
    const failure = results.find((r): r is Error => r instanceof Error);
    const made = results.filter((r): r is Sandbox => !(r instanceof Error));
    if (failure) {
      await this.deleteMany(made).catch(() => undefined);
      throw failure;
    }
    return made;
  }

  /**
   * Create one sandbox. Creates requested while others are being made are gathered into one native
   * batch (a thread per batch, not per sandbox: a fresh thread per namespace costs about 1 ms more).
   * Equivalent to: `ip netns add NAME`
   */
  create(spec: SandboxSpec): Promise<Sandbox> {
    return new Promise((resolve, reject) => {
      this.pending.push({ spec, resolve, reject });
      this.pump();
    });
  }

  private pending: Array<{ spec: SandboxSpec; resolve(sandbox: Sandbox): void; reject(error: Error): void }> = [];
  private creating = 0;

  private pump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      while (this.creating < CREATE_BATCHES_IN_FLIGHT && this.pending.length > 0) {
        const now = this.creating === 0 && this.pending.length <= INLINE_CREATES && inlineAllowed();
        const batch = this.pending.splice(0, CREATE_BATCH_SIZE);
        this.creating++;
        this.createBatch(batch.map((item) => item.spec), now)
          .then(
            (results) => results.forEach((result, i) => (result instanceof Error ? batch[i]!.reject(result) : batch[i]!.resolve(result))),
            (error: Error) => batch.forEach((item) => item.reject(error)),
          )
          .finally(() => {
            this.creating--;
            if (this.pending.length > 0) this.pump();
          });
      }
    });
  }

  private pumpScheduled = false;

  /**
   * Create a batch; each item gets its sandbox or its own error, and a failed item leaves nothing.
   * `now`: on the JS thread (a few namespaces, nothing else under way) instead of a worker.
   */
  private async createBatch(specs: SandboxSpec[], now = false): Promise<Array<Sandbox | Error>> {
    this.init();
    const prepared = specs.map((spec, i) => {
      checkSandboxName(spec.name, specs.length > 1 ? `sandboxes[${i}].name` : 'name');
      const id = spec.id ?? randomBytes(8).toString('hex');
      checkSandboxName(id, 'id');
      const publishedPath = spec.publish === false || !this.publishDir ? undefined : path.join(this.publishDir, spec.name);
      return { spec, id, path: this.pathOf(id), publishedPath };
    });
    const names = new Set<string>();
    for (const item of prepared) {
      if (names.has(item.spec.name)) throw new ValidationError('name', `sandbox name ${JSON.stringify(item.spec.name)} is given twice`);
      names.add(item.spec.name);
    }
    const results: Array<Sandbox | Error | undefined> = prepared.map((item) =>
      item.publishedPath && exists(item.publishedPath) ? new KernelError(`create sandbox ${item.spec.name}: ${item.publishedPath} exists`, 17) : undefined,
    );
    const todo = prepared.filter((_, i) => results[i] === undefined);
    const wantSocket = todo.some((item) => item.spec.handle);
    let rows;
    try {
      const paths = todo.map((p) => p.path);
      rows = !todo.length ? [] : now ? inline(() => native().nsCreateNow(paths, wantSocket, this.settings)) : await onWorker(native().nsCreate(paths, wantSocket, this.settings));
    } catch (error) {
      throw fromNative('create sandboxes', error);
    }
    const undo: Sandbox[] = [];
    rows.forEach(([fd, errno, step], k) => {
      const item = todo[k]!;
      const at = prepared.indexOf(item);
      if (errno !== 0) {
        results[at] = new KernelError(`create sandbox ${item.spec.name}: ${step ?? 'create'}`, errno);
        return;
      }
      const sandbox: Sandbox = { id: item.id, name: item.spec.name, path: item.path };
      if (fd >= 0) {
        if (item.spec.handle) sandbox.handle = Handle.fromFd(fd, item.path);
        else Handle.fromFd(fd, item.path).close();
      }
      results[at] = sandbox;
      if (item.publishedPath) {
        try {
          symlinkSync(item.path, item.publishedPath);
          sandbox.publishedPath = item.publishedPath;
        } catch (error) {
          results[at] = new KernelError(`publish sandbox ${item.spec.name} as ${item.publishedPath}`, errnoOf(error));
          undo.push(sandbox);
        }
      }
    });
    if (undo.length) await this.deleteMany(undo.map((s) => ({ ...s, publishedPath: undefined }))).catch(() => undefined);
    return results as Array<Sandbox | Error>;
  }

  /**
   * Delete sandboxes: unpublish, close their handles, unmount and remove the namespace files, several
   * at a time. Devices inside go with the namespace. Already-gone sandboxes count as deleted.
   * Equivalent to: `ip netns del NAME` for each
   */
  async deleteMany(sandboxes: Array<Pick<Sandbox, 'id' | 'name' | 'handle' | 'publishedPath'>>): Promise<void> {
    const errors: Error[] = [];
    for (const sandbox of sandboxes) {
      sandbox.handle?.close();
      const published = sandbox.publishedPath ?? (this.publishDir ? path.join(this.publishDir, sandbox.name) : undefined);
      if (published && this.isOurs(published, sandbox.id)) {
        try {
          unlinkSync(published);
        } catch (error) {
          if (errnoOf(error) !== 2) errors.push(new KernelError(`unpublish sandbox ${sandbox.name}`, errnoOf(error)));
        }
      }
    }
    if (sandboxes.length > 0) {
      let rows: Array<[number, number]>;
      try {
        rows = await native().nsRemove(sandboxes.map((s) => this.pathOf(s.id)), REMOVE_THREADS);
      } catch (error) {
        throw fromNative('delete sandboxes', error);
      }
      rows.forEach(([umountErrno, unlinkErrno], i) => {
        const name = sandboxes[i]!.name;
        // EINVAL: not mounted (half-made or already unmounted); ENOENT: already gone.
        if (umountErrno !== 0 && umountErrno !== 22 && umountErrno !== 2) errors.push(new KernelError(`delete sandbox ${name}: unmount`, umountErrno));
        if (unlinkErrno !== 0 && unlinkErrno !== 2) errors.push(new KernelError(`delete sandbox ${name}: remove file`, unlinkErrno));
      });
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `delete sandboxes: ${errors.map((e) => e.message).join('; ')}`);
  }

  /** Delete one sandbox. Equivalent to: `ip netns del NAME` */
  delete(sandbox: Pick<Sandbox, 'id' | 'name' | 'handle' | 'publishedPath'>): Promise<void> {
    return this.deleteMany([sandbox]);
  }

  /** The sandboxes present on disk, with the names they are published under. */
  list(): Array<Pick<Sandbox, 'id' | 'name' | 'path' | 'publishedPath'>> {
    let ids: string[];
    try {
      ids = readdirSync(this.netnsDir);
    } catch (error) {
      if (errnoOf(error) === 2) return [];
      throw error;
    }
    const published = new Map<string, string>();
    if (this.publishDir) {
      let entries: string[] = [];
      try {
        entries = readdirSync(this.publishDir);
      } catch {
        entries = [];
      }
      for (const entry of entries) {
        const target = readlinkOrNull(path.join(this.publishDir, entry));
        if (target && path.dirname(target) === this.netnsDir) published.set(path.basename(target), entry);
      }
    }
    return ids.sort().map((id) => {
      const name = published.get(id);
      return { id, name: name ?? id, path: this.pathOf(id), ...(name && this.publishDir ? { publishedPath: path.join(this.publishDir, name) } : {}) };
    });
  }

  /** True when the published entry points at this root's sandbox `id`. */
  private isOurs(published: string, id: string): boolean {
    return readlinkOrNull(published) === this.pathOf(id);
  }
}

function exists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

function readlinkOrNull(file: string): string | null {
  try {
    return readlinkSync(file);
  } catch {
    return null;
  }
}

function errnoOf(error: unknown): number {
  const code = (error as NodeJS.ErrnoException)?.code;
  const errno = (error as NodeJS.ErrnoException)?.errno;
  if (typeof errno === 'number') return Math.abs(errno);
  return code === 'ENOENT' ? 2 : code === 'EEXIST' ? 17 : 5;
}

