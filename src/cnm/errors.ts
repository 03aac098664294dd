/**
 * User-facing error categories. The engine API maps each to an HTTP status, the CLI to an exit code.
 * Messages are lower case, say what was being done and why: `create network web: subnet 10.0.0.0/8
 * overlaps network db (10.1.0.0/16)`.
 */

export type ErrorCategory = 'bad-request' | 'not-found' | 'conflict' | 'forbidden' | 'unavailable' | 'internal';

/** An error whose category tells the caller what kind of failure it is. */
export class CnmError extends Error {
  readonly category: ErrorCategory;
  /** The input field the error is about, when there is one (`subnet`, `ipam.config[0].gateway`). */
  readonly field: string | undefined;
  /** Errors met while undoing the steps done before this failure. */
  undoErrors: Error[] = [];

  constructor(category: ErrorCategory, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CnmError';
    this.category = category;
    this.field = options.field;
  }
}

export const badRequest = (message: string, field?: string) => new CnmError('bad-request', message, { field });
export const notFound = (message: string) => new CnmError('not-found', message);
export const conflict = (message: string, field?: string) => new CnmError('conflict', message, { field });
export const forbidden = (message: string) => new CnmError('forbidden', message);

/** The category of any error (kernel and unknown errors are internal; validation errors are bad requests). */
export function categoryOf(error: unknown): ErrorCategory {
  if (error instanceof CnmError) return error.category;
  if (error instanceof Error && error.name === 'ValidationError') return 'bad-request';
  return 'internal';
}
