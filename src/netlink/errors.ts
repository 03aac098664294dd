/** Errors from the kernel layer: every one says what was being done, to what, and the errno. */
import os from 'node:os';

const errnoNames = new Map<number, string>([
  ...Object.entries(os.constants.errno).map(([name, value]) => [value, name] as [number, string]),
  // Linux errnos Node's table lacks, and the kernel's names where Node lists an alias last
  // (EWOULDBLOCK for 11, ENOTSUP for 95): later entries win.
  [54, 'EXFULL'],
  [11, 'EAGAIN'],
  [95, 'EOPNOTSUPP'],
]);

const descriptions: Record<string, string> = {
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ESRCH: 'no such process',
  EINTR: 'interrupted',
  EIO: 'input/output error',
  EBADF: 'bad file descriptor',
  EAGAIN: 'resource temporarily unavailable',
  ENOMEM: 'out of memory',
  EACCES: 'permission denied',
  EBUSY: 'device or resource busy',
  EEXIST: 'file exists',
  EXDEV: 'invalid cross-device link',
  ENODEV: 'no such device',
  ENOTDIR: 'not a directory',
  EINVAL: 'invalid argument',
  ENFILE: 'too many open files in system',
  EMFILE: 'too many open files',
  ENOSPC: 'no space left on device',
  ERANGE: 'numerical result out of range',
  ENAMETOOLONG: 'file name too long',
  ENOTEMPTY: 'directory not empty',
  EMSGSIZE: 'message too long',
  EPROTONOSUPPORT: 'protocol not supported',
  EOPNOTSUPP: 'operation not supported',
  EAFNOSUPPORT: 'address family not supported by protocol',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'cannot assign requested address',
  ENETDOWN: 'network is down',
  ENETUNREACH: 'network is unreachable',
  ENOBUFS: 'no buffer space available',
  ETIMEDOUT: 'timed out',
  ETIME: 'timer expired',
  EHOSTUNREACH: 'no route to host',
  ENOTSUP: 'operation not supported',
  EXFULL: 'exchange full (a bridge takes at most 1023 ports)',
};

/** Symbolic name of an errno (17 → EEXIST). */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** Short lower-case description of an errno. */
export function errnoText(errno: number): string {
  return descriptions[errnoName(errno)] ?? `error ${errno}`;
}

/** A failed kernel call: `op` says what was being done ("add link syv1"), errno why it failed. */
export class KernelError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly op: string;
  /** The kernel's own explanation (netlink extended ack), when it gave one. */
  readonly kernelMessage: string | undefined;

  constructor(op: string, errno: number, kernelMessage?: string) {
    const reason = kernelMessage ? kernelMessage.replace(/\.$/, '').toLowerCase() : errnoText(errno);
    super(`${op}: ${reason} (${errnoName(errno)})`);
    this.name = 'KernelError';
    this.errno = errno;
    this.code = errnoName(errno);
    this.op = op;
    this.kernelMessage = kernelMessage;
  }
}

/** A netlink request the kernel refused. */
export class NetlinkError extends KernelError {
  constructor(op: string, errno: number, kernelMessage?: string) {
    super(op, errno, kernelMessage);
    this.name = 'NetlinkError';
  }
}

/** Bad input caught before any kernel call (names, addresses). */
export class ValidationError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ValidationError';
    this.field = field;
  }
}

/** True when the error means the object does not exist (a link, an address, a route, a namespace). */
export function isNotFound(error: unknown): boolean {
  return error instanceof KernelError && ['ENODEV', 'ENOENT', 'ESRCH', 'EADDRNOTAVAIL'].includes(error.code);
}

/** True when the error means the object already exists. */
export function isExists(error: unknown): boolean {
  return error instanceof KernelError && error.code === 'EEXIST';
}

/** True when the kernel lacks the feature (an absent link kind or option). */
export function isNotSupported(error: unknown): boolean {
  return error instanceof KernelError && ['EOPNOTSUPP', 'ENOTSUP', 'EPROTONOSUPPORT', 'EAFNOSUPPORT'].includes(error.code);
}

/** Wrap a rejection from the native addon in a KernelError that names the operation. */
export function fromNative(op: string, error: unknown): Error {
  const native = error as { errno?: unknown; step?: unknown; message?: unknown };
  if (typeof native?.errno === 'number') {
    const step = typeof native.step === 'string' ? `: ${native.step}` : '';
    return new KernelError(`${op}${step}`, native.errno);
  }
  return error instanceof Error ? error : new Error(String(error));
}
