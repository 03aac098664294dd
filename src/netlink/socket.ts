/**
 * The netlink transport: requests carry sequence numbers, many can be outstanding, and replies come
 * back through the event loop. Requests made while a batch is with the kernel are queued and sent
 * together as the next batch (one datagram, one thread hop), so callers that issue work in parallel
 * get pipelining for free while each request keeps its own result.
 */
import { closeSync } from 'node:fs';
import { native } from '../../native/index.js';
import { KernelError, NetlinkError, fromNative } from './errors.js';
import { INLINE_MAX_BATCH, inline, inlineAllowed, onWorker } from './inline.js';
import { nfgenmsg } from './codec.js';
import {
  NLMSGERR_ATTR_MSG,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLM_F_ACK,
  NLM_F_ACK_TLVS,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
} from './constants.js';

const HEADER = 16;
const RTM_DELLINK = 17;
const NFNL_MSG_BATCH_BEGIN = 0x10;
const NFNL_MSG_BATCH_END = 0x11;
const AF_NETLINK = 16;
const SOCK_RAW = 3;
const MAX_BATCH_MESSAGES = 256;
const MAX_BATCH_BYTES = 256 * 1024;
const DUMP_RETRIES = 5;

/** One reply message: its type and payload (after the netlink header). */
export interface Reply {
  type: number;
  flags: number;
  payload: Buffer;
}

interface Pending {
  /** The sequence number of its (first) acknowledged message. */
  seq: number;
  message: Buffer;
  /** Acknowledged messages in it: 1, or an nfnetlink batch's parts (seq .. seq + finals - 1). */
  finals: number;
  /**
   * An nfnetlink batch's own begin and end: never acknowledged, but the kernel answers a batch it
   * refuses as a whole (its commit failed, say) with an error of the begin's sequence number, before
   * the parts' acknowledgements.
   */
  guards?: number[];
  dump: boolean;
  op: string;
  blocking: boolean;
  replies: Reply[];
  interrupted: boolean;
  settled: boolean;
  resolve(replies: Reply[]): void;
  reject(error: Error): void;
}

/** Options of one request. */
export interface RequestOptions {
  /** What is being done, for errors: "add link syv1". */
  op: string;
  /** Extra NLM_F_* flags (REQUEST and ACK are always set; DUMP for dumps). */
  flags?: number;
  /**
   * The kernel may wait inside this request (for RCU, on a delete, a move to another namespace, a
   * link going down): it never runs on the JS thread (inline.ts). Link deletes count as blocking
   * whether marked or not.
   */
  blocking?: boolean;
}

/** A netlink socket (rtnetlink, ctnetlink, …) owned by Switchyard's native binding. */
export class NetlinkSocket {
  readonly fd: number;
  private seq: number;
  private queue: Pending[] = [];
  private inFlight = false;
  private closed = false;
  private closeWhenIdle = false;
  private flushScheduled = false;
  /** Requests sent, batches used, and batches sent from the JS thread (inline.ts), for benchmarks and tests. */
  readonly stats = { requests: 0, batches: 0, inline: 0 };

  constructor(fd: number) {
    this.fd = fd;
    // Start each socket at a different point so a stray reply can never match another socket's.
    this.seq = (Math.random() * 0x3fffffff) >>> 0;
  }

  /**
   * Open a netlink socket of `protocol` (NETLINK_ROUTE, NETLINK_NETFILTER, …) inside a namespace
   * (null: this process's own), on a throwaway thread. `what` names it in errors.
   */
  static async open(netnsPath: string | null, protocol: number, what: string): Promise<NetlinkSocket> {
    try {
      // Entering a namespace and opening a socket does not wait in the kernel: on the JS thread
      // (which returns to its own namespace within the call) unless workers are busy.
      if (inlineAllowed()) return new NetlinkSocket(inline(() => native().socketInNow(netnsPath, AF_NETLINK, SOCK_RAW, protocol)));
      return new NetlinkSocket(await onWorker(native().socketIn(netnsPath, AF_NETLINK, SOCK_RAW, protocol)));
    } catch (error) {
      throw fromNative(`open ${what} socket in ${netnsPath ?? 'the host namespace'}`, error);
    }
  }

  /** Send one request and resolve with its reply messages once the kernel acked it. */
  request(type: number, payload: Buffer, options: RequestOptions): Promise<Reply[]> {
    return this.enqueue(type, payload, options, false);
  }

  /**
   * An nfnetlink batch in one send: BATCH_BEGIN for subsystem `resId`, the parts (each acknowledged),
   * BATCH_END. The kernel applies the parts all or none; this resolves once every part is
   * acknowledged and rejects with the first error, a part's or the batch's own (answered with the
   * begin's sequence number). The kernel answers the whole batch inside the send, so nothing is
   * waited for: a batch refused before any part is read (no CAP_NET_ADMIN, an unknown subsystem)
   * gets no acknowledgement of its parts and fails at once with the kernel's error for the begin.
   */
  nfBatch(resId: number, parts: Array<{ type: number; flags: number; payload: Buffer }>, options: RequestOptions): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${options.op}: netlink socket is closed`));
    if (parts.length === 0) return Promise.resolve();
    const next = () => {
      this.seq = (this.seq + 1) >>> 0;
      if (this.seq === 0) this.seq = 1;
      return this.seq;
    };
    const nfgen = nfgenmsg(0, resId);
    const begin = header(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, next(), nfgen);
    const first = (this.seq + 1) >>> 0 || 1;
    const messages = parts.map((part) => header(part.type, NLM_F_REQUEST | NLM_F_ACK | part.flags, next(), part.payload));
    const end = header(NFNL_MSG_BATCH_END, NLM_F_REQUEST, next(), nfgen);
    this.stats.requests += parts.length;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({
        seq: first,
        message: Buffer.concat([begin, ...messages, end]),
        finals: parts.length,
        guards: [begin.readUInt32LE(8), end.readUInt32LE(8)],
        dump: false,
        op: options.op,
        blocking: options.blocking === true,
        replies: [],
        interrupted: false,
        settled: false,
        resolve: () => resolve(),
        reject,
      });
      this.schedule();
    });
  }

  /** Dump a table (links, addresses, routes, neighbours); retried when the kernel reports it changed mid-dump. */
  async dump(type: number, payload: Buffer, options: RequestOptions): Promise<Reply[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.enqueue(type, payload, options, true);
      } catch (error) {
        if (!(error instanceof KernelError) || error.code !== 'EINTR' || attempt >= DUMP_RETRIES) throw error;
      }
    }
  }

  /**
   * Close the socket once the requests already made are answered. Requests issued later in the
   * same turn of the event loop (by async helpers that first await a lookup) still go out.
   */
  close(): void {
    if (this.closed || this.closeWhenIdle) return;
    this.closeWhenIdle = true;
    this.closeIfIdle();
  }

  private closeIfIdle(): void {
    setImmediate(() => {
      if (!this.closed && !this.inFlight && !this.flushScheduled && this.queue.length === 0) this.closeNow();
    });
  }

  /** True once the file descriptor is closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  private closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    closeFd(this.fd);
  }

  private enqueue(type: number, payload: Buffer, options: RequestOptions, dump: boolean): Promise<Reply[]> {
    if (this.closed) return Promise.reject(new Error(`${options.op}: netlink socket is closed`));
    this.seq = (this.seq + 1) >>> 0;
    if (this.seq === 0) this.seq = 1;
    const seq = this.seq;
    const flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK) | (options.flags ?? 0);
    const message = header(type, flags, seq, payload);
    this.stats.requests++;
    return new Promise<Reply[]>((resolve, reject) => {
      const blocking = options.blocking === true || type === RTM_DELLINK;
      this.queue.push({ seq, message, finals: 1, dump, op: options.op, blocking, replies: [], interrupted: false, settled: false, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.inFlight || this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private takeBatch(): Pending[] {
    const first = this.queue[0];
    if (!first) return [];
    // A dump goes alone: its parts arrive as the reader drains them, and the kernel runs one dump at
    // a time. So does an nfnetlink batch (its own begin and end around its parts).
    if (first.dump || first.guards) return this.queue.splice(0, 1);
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && count < MAX_BATCH_MESSAGES) {
      const next = this.queue[count]!;
      if (next.dump || next.guards || bytes + next.message.length > MAX_BATCH_BYTES) break;
      // Sequence numbers of one batch must be consecutive: the native side counts finals in a range.
      if (count > 0 && next.seq !== ((this.queue[count - 1]!.seq + 1) >>> 0)) break;
      bytes += next.message.length;
      count++;
    }
    return this.queue.splice(0, Math.max(count, 1));
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.closed) return;
    const batch = this.takeBatch();
    if (batch.length === 0) {
      if (this.closeWhenIdle) this.closeIfIdle();
      return;
    }
    this.inFlight = true;
    this.stats.batches++;
    const request = batch.length === 1 ? batch[0]!.message : Buffer.concat(batch.map((p) => p.message));
    // An nfnetlink batch is answered inside its send or never (refused as a whole): no wait at all.
    const timeout = batch[0]!.guards ? ANSWERED_IN_SEND : 30_000;
    try {
      const finals = batch.reduce((sum, p) => sum + p.finals, 0);
      const inlined = !batch[0]!.dump && finals <= INLINE_MAX_BATCH && submissions.length === 0 && inlineAllowed() && !batch.some((p) => p.blocking);
      if (inlined) this.stats.inline++;
      const guards = batch[0]!.guards;
      const refused = guards && ((partial: Buffer) => guards.some((seq) => errorFor(partial, seq)));
      const data = inlined ? await transactNow(this.fd, request, batch[0]!.seq, finals, timeout, refused) : await transact(this.fd, request, batch[0]!.seq, finals, timeout);
      this.dispatch(batch, data);
    } catch (error) {
      for (const pending of batch) if (!pending.settled) pending.reject(fromNative(pending.op, error));
    } finally {
      this.inFlight = false;
      for (const pending of batch) {
        if (!pending.settled) pending.reject(new Error(`${pending.op}: no reply from the kernel`));
      }
      if (this.queue.length > 0) void this.flush();
      else if (this.closeWhenIdle) this.closeIfIdle();
    }
  }

  private dispatch(batch: Pending[], data: Buffer): void {
    // Each acknowledged sequence number to its request (an nfnetlink batch has several, and its
    // begin and end as guards), and how many finals each still waits for.
    const bySeq = new Map<number, Pending>();
    const guarded = new Map<number, Pending>();
    const remaining = new Map<Pending, number>();
    for (const pending of batch) {
      for (let i = 0; i < pending.finals; i++) bySeq.set((pending.seq + i) >>> 0, pending);
      for (const seq of pending.guards ?? []) guarded.set(seq, pending);
      remaining.set(pending, pending.finals);
    }
    forEachMessage(data, (type, flags, seq, payload) => {
      const guard = guarded.get(seq);
      if (guard && !guard.settled && type === NLMSG_ERROR && errnoOf(payload) !== 0) {
        guard.settled = true;
        guard.reject(new NetlinkError(guard.op, errnoOf(payload), extAckMessage(payload, flags)));
        return;
      }
      const pending = bySeq.get(seq);
      if (!pending || pending.settled) return;
      if (flags & NLM_F_DUMP_INTR) pending.interrupted = true;
      if (type === NLMSG_ERROR || type === NLMSG_DONE) {
        const errno = errnoOf(payload);
        const left = remaining.get(pending)! - 1;
        remaining.set(pending, left);
        if (errno === 0 && left > 0) return;
        pending.settled = true;
        if (errno !== 0) pending.reject(new NetlinkError(pending.op, errno, type === NLMSG_ERROR ? extAckMessage(payload, flags) : undefined));
        else if (pending.interrupted) pending.reject(new NetlinkError(pending.op, 4 /* EINTR: dump changed */));
        else pending.resolve(pending.replies);
        return;
      }
      pending.replies.push({ type, flags, payload });
    });
  }
}

/**
 * Each whole message in `data`, in order, with its header fields and payload; `visit` returning true
 * stops the walk.
 */
function forEachMessage(data: Buffer, visit: (type: number, flags: number, seq: number, payload: Buffer) => boolean | void): void {
  for (let offset = 0; offset + HEADER <= data.length; ) {
    const length = data.readUInt32LE(offset);
    if (length < HEADER || offset + length > data.length) return;
    if (visit(data.readUInt16LE(offset + 4), data.readUInt16LE(offset + 6), data.readUInt32LE(offset + 8), data.subarray(offset + HEADER, offset + length))) return;
    offset += (length + 3) & ~3;
  }
}

/** The errno an NLMSG_ERROR or NLMSG_DONE carries (0: an acknowledgement). */
function errnoOf(payload: Buffer): number {
  return payload.length >= 4 ? -payload.readInt32LE(0) : 0;
}

/** Whether `data` holds an error (not an acknowledgement) for sequence number `seq`. */
function errorFor(data: Buffer, seq: number): boolean {
  let found = false;
  forEachMessage(data, (type, _flags, messageSeq, payload) => (found = type === NLMSG_ERROR && messageSeq === seq && errnoOf(payload) !== 0));
  return found;
}

/** One netlink message: header (length, type, flags, seq, port id 0), then the payload. */
function header(type: number, flags: number, seq: number, payload: Buffer): Buffer {
  const message = Buffer.alloc(HEADER + payload.length);
  message.writeUInt32LE(message.length, 0);
  message.writeUInt16LE(type, 4);
  message.writeUInt16LE(flags, 6);
  message.writeUInt32LE(seq, 8);
  message.writeUInt32LE(0, 12);
  payload.copy(message, HEADER);
  return message;
}

/**
 * Batches that sockets hand over in the same turn of the event loop go to the kernel in one worker
 * job (one thread hop for many sandboxes' sockets), at most two jobs at a time (one per core here),
 * unless they run on the JS thread (inline.ts).
 */
interface Submission {
  fd: number;
  request: Buffer;
  firstSeq: number;
  count: number;
  /** How long the worker waits for the replies; ANSWERED_IN_SEND: not at all. */
  timeoutMs: number;
  resolve(data: Buffer): void;
  reject(error: unknown): void;
}

const MAX_SOCKETS_PER_JOB = 64;
/** A worker timeout of 0: the kernel answers inside the send or never; take what came (nlsock.c). */
const ANSWERED_IN_SEND = 0;
const MAX_JOBS_IN_FLIGHT = 2;
const submissions: Submission[] = [];
let submitScheduled = false;
let jobsInFlight = 0;

function transact(fd: number, request: Buffer, firstSeq: number, count: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    submissions.push({ fd, request, firstSeq, count, timeoutMs, resolve, reject });
    scheduleSubmit();
  });
}

const NOTHING = Buffer.alloc(0);

/**
 * The same on the JS thread: the kernel answers rtnetlink requests inside sendmsg, so the replies
 * are there when it returns; any still missing (none expected) are collected on a worker.
 */
async function transactNow(fd: number, request: Buffer, firstSeq: number, count: number, timeoutMs: number, complete?: (partial: Buffer) => boolean): Promise<Buffer> {
  const result = inline(() => native().nlTransactNow(fd, request, firstSeq, count));
  if (Buffer.isBuffer(result)) return result;
  const [first, finals] = result;
  // What arrived already says the rest never will (an nfnetlink batch refused as a whole).
  if (complete?.(first)) return first;
  const rest = await transact(fd, NOTHING, (firstSeq + finals) >>> 0, count - finals, timeoutMs);
  return Buffer.concat([first, rest]);
}

function scheduleSubmit(): void {
  if (submitScheduled) return;
  submitScheduled = true;
  setImmediate(() => {
    submitScheduled = false;
    while (submissions.length > 0 && jobsInFlight < MAX_JOBS_IN_FLIGHT) {
      const job = submissions.splice(0, MAX_SOCKETS_PER_JOB);
      jobsInFlight++;
      const done = job.length === 1
        ? native().nlTransact(job[0]!.fd, job[0]!.request, job[0]!.firstSeq, job[0]!.count, job[0]!.timeoutMs).then(
            (data) => job[0]!.resolve(data),
            (error) => job[0]!.reject(error),
          )
        : native().nlTransactMany(job.map((s) => [s.fd, s.request, s.firstSeq, s.count, s.timeoutMs])).then(
            (results) => results.forEach((result, i) => (typeof result === 'number' ? job[i]!.reject({ errno: result, step: 'netlink transaction' }) : job[i]!.resolve(result))),
            (error) => job.forEach((s) => s.reject(error)),
          );
      void onWorker(done).finally(() => {
        jobsInFlight--;
        if (submissions.length > 0) scheduleSubmit();
      });
    }
  });
}

/** The kernel's text from an extended ack (NLMSGERR_ATTR_MSG), if any. */
function extAckMessage(payload: Buffer, flags: number): string | undefined {
  if (!(flags & NLM_F_ACK_TLVS)) return undefined;
  // struct nlmsgerr: int error + the request's header (capped acks: header only).
  const requestLength = 4 + HEADER;
  for (let offset = requestLength; offset + 4 <= payload.length; ) {
    const length = payload.readUInt16LE(offset);
    const type = payload.readUInt16LE(offset + 2) & 0x3fff;
    if (length < 4) break;
    if (type === NLMSGERR_ATTR_MSG) return payload.subarray(offset + 4, offset + length).toString('utf8').replace(/\0+$/, '');
    offset += (length + 3) & ~3;
  }
  return undefined;
}


/** Close a file descriptor the native side handed over. */
export function closeFd(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed: nothing to release
  }
}
