/**
 * What every engine API route shares, as Docker's API server does it: versioned paths, the headers
 * every routed response carries, JSON bodies read strictly, and errors as `{"message": …}` with a
 * status by category (libnetwork-api.md §5.1).
 */
import type { NextFunction, Request, Response } from 'express';
import { CnmError, categoryOf, type ErrorCategory } from '../cnm/errors.js';

export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.24';
export { VERSION } from './defaults.js';
import { VERSION } from './defaults.js';

const STATUS: Record<ErrorCategory, number> = {
  'bad-request': 400,
  'not-found': 404,
  conflict: 409,
  forbidden: 403,
  unavailable: 503,
  internal: 500,
};

function compareVersions(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am - bm || an - bn;
}

/** `/v1.41/networks` → `/networks`, refusing versions this API does not speak. */
export function versionPrefix(req: Request, res: Response, next: NextFunction): void {
  const match = /^\/v(\d+\.\d+)(\/.*)$/.exec(req.url);
  if (match) {
    const version = match[1]!;
    setHeaders(res);
    if (compareVersions(version, API_VERSION) > 0) return sendError(res, new CnmError('bad-request', `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`));
    if (compareVersions(version, MIN_API_VERSION) < 0) return sendError(res, new CnmError('bad-request', `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`));
    req.url = match[2]!;
  }
  next();
}

export function setHeaders(res: Response): void {
  res.setHeader('API-Version', API_VERSION);
  res.setHeader('OSType', 'linux');
  res.setHeader('Server', `Switchyard/${VERSION} (linux)`);
  res.setHeader('Docker-Experimental', 'false');
}

/** JSON as Docker writes it: no HTML escaping, a trailing newline. */
export function sendJson(res: Response, status: number, value: unknown): void {
  res.status(status).setHeader('Content-Type', 'application/json');
  res.end(`${JSON.stringify(value)}\n`);
}

export function sendError(res: Response, error: unknown): void {
  const category = categoryOf(error);
  const message = error instanceof Error ? error.message : String(error);
  sendJson(res, STATUS[category], { message });
}

/**
 * The request's JSON body: Content-Type must be application/json when there is one; an empty body
 * is refused where one is needed. The body arrives raw (express.raw), so nothing is guessed.
 */
export function jsonBody(req: Request, required: boolean): unknown {
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  if (raw.length === 0) {
    if (required) throw new CnmError('bad-request', 'got EOF while reading request body');
    return {};
  }
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json(\s*;.*)?$/i.test(type)) throw new CnmError('bad-request', `Content-Type specified (${type}) must be 'application/json'`);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new CnmError('bad-request', `invalid JSON in request body: ${(error as Error).message}`);
  }
}

/** Read typed fields of a JSON object, naming the field and the rule on a wrong type. */
export class Fields {
  private readonly object: Record<string, unknown>;

  constructor(
    value: unknown,
    private readonly path = '',
  ) {
    if (value === null || value === undefined) value = {};
    if (typeof value !== 'object' || Array.isArray(value)) throw new CnmError('bad-request', `${path || 'body'}: must be a JSON object`, { field: path || 'body' });
    this.object = value as Record<string, unknown>;
  }

  private name(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  private wrong(key: string, what: string): never {
    throw new CnmError('bad-request', `${this.name(key)}: ${JSON.stringify(this.object[key])} is not ${what}`, { field: this.name(key) });
  }

  string(key: string): string | undefined {
    const value = this.object[key];
    if (value === undefined || value === null) return undefined;
    return typeof value === 'string' ? value : this.wrong(key, 'a string');
  }

  bool(key: string): boolean | undefined {
    const value = this.object[key];
    if (value === undefined || value === null) return undefined;
    return typeof value === 'boolean' ? value : this.wrong(key, 'a boolean');
  }

  /** A JSON object of strings (Labels, Options); null is empty. */
  stringMap(key: string): Record<string, string> | undefined {
    const value = this.object[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) this.wrong(key, 'an object of strings');
    for (const [k, v] of Object.entries(value as object)) {
      if (typeof v !== 'string') throw new CnmError('bad-request', `${this.name(key)}.${k}: ${JSON.stringify(v)} is not a string`, { field: `${this.name(key)}.${k}` });
    }
    return { ...(value as Record<string, string>) };
  }

  stringList(key: string): string[] | undefined {
    const value = this.object[key];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) this.wrong(key, 'a list of strings');
    (value as unknown[]).forEach((v, i) => {
      if (typeof v !== 'string') throw new CnmError('bad-request', `${this.name(key)}[${i}]: ${JSON.stringify(v)} is not a string`, { field: `${this.name(key)}[${i}]` });
    });
    return [...(value as string[])];
  }

  list(key: string): unknown[] | undefined {
    const value = this.object[key];
    if (value === undefined || value === null) return undefined;
    return Array.isArray(value) ? value : this.wrong(key, 'a list');
  }

  object_(key: string): Fields {
    return new Fields(this.object[key], this.name(key));
  }

  raw(key: string): unknown {
    return this.object[key];
  }
}

/**
 * `filters` of a list or prune: JSON of map[string]map[string]bool, or the legacy
 * map[string][]string; only the keys given are accepted.
 */
export function parseFilters(text: unknown, accepted: string[]): Map<string, string[]> {
  const filters = new Map<string, string[]>();
  if (text === undefined || text === '') return filters;
  if (typeof text !== 'string') throw new CnmError('bad-request', 'filters: must be given once, as JSON');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CnmError('bad-request', `invalid filter: ${JSON.stringify(text)} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CnmError('bad-request', 'invalid filter: must be a JSON object');
  for (const [key, value] of Object.entries(parsed)) {
    if (!accepted.includes(key)) throw new CnmError('bad-request', `invalid filter '${key}'`);
    let values: string[];
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) values = value as string[];
    else if (typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'boolean')) {
      values = Object.entries(value as Record<string, boolean>).filter(([, on]) => on).map(([k]) => k);
    } else throw new CnmError('bad-request', `invalid filter '${key}': values must be a list of strings or an object of booleans`);
    filters.set(key, values);
  }
  return filters;
}

/** Wrap an async route so a thrown error becomes Docker's error response. */
export function route(handler: (req: Request, res: Response) => Promise<void> | void) {
  return async (req: Request, res: Response) => {
    setHeaders(res);
    try {
      await handler(req, res);
    } catch (error) {
      sendError(res, error);
    }
  };
}
