/**
 * The CLI's side of the engine API: HTTP/1.1 over the daemon's unix socket, and starting a daemon
 * when none answers on the default socket (under a lock, a stale socket replaced, detached, logging
 * to a file).
 */
import http from 'node:http';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { native } from '../../native/index.js';
import { CnmError, type ErrorCategory } from '../cnm/errors.js';
import { DEFAULT_HOST } from '../api/defaults.js';

/** An error the daemon answered with (Docker's "Error response from daemon: …"). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get category(): ErrorCategory {
    return ({ 400: 'bad-request', 403: 'forbidden', 404: 'not-found', 409: 'conflict', 503: 'unavailable' } as Record<number, ErrorCategory>)[this.status] ?? 'internal';
  }
}

export interface Response {
  status: number;
  body: string;
}

/** Options for a daemon the CLI starts itself. */
export interface StartOptions {
  dataRoot?: string;
  execRoot?: string;
  nftPrefix?: string;
  bridge?: string;
}

export class Client {
  readonly socketPath: string;

  constructor(
    readonly host: string,
    private readonly start: StartOptions = {},
  ) {
    if (!host.startsWith('unix://')) throw new CnmError('bad-request', `--host: ${JSON.stringify(host)}: the yard CLI speaks to a unix socket (unix:///PATH)`, { field: 'host' });
    this.socketPath = host.slice('unix://'.length);
  }

  private send(method: string, urlPath: string, body?: unknown): Promise<Response> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const request = http.request(
        { socketPath: this.socketPath, method, path: `/v1.41${urlPath}`, headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {} },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
        },
      );
      request.on('error', reject);
      request.end(payload);
    });
  }

  /** One request; a non-2xx answer throws ApiError with the daemon's message. */
  async request(method: string, urlPath: string, body?: unknown): Promise<Response> {
    let response: Response;
    try {
      response = await this.send(method, urlPath, body);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'ECONNREFUSED') && this.host === DEFAULT_HOST) {
        await this.startDaemon();
        response = await this.send(method, urlPath, body);
      } else {
        throw new CnmError('unavailable', `cannot connect to the switchyard daemon at ${this.host}: ${(error as Error).message}. Is the daemon running?`);
      }
    }
    if (response.status >= 200 && response.status < 300) return response;
    let message = response.body.trim();
    try {
      message = (JSON.parse(response.body) as { message: string }).message;
    } catch {
      // not JSON: the raw text, as docker prints it
    }
    throw new ApiError(response.status, message);
  }

  async json<T>(method: string, urlPath: string, body?: unknown): Promise<T> {
    return JSON.parse((await this.request(method, urlPath, body)).body) as T;
  }

  private async ping(): Promise<boolean> {
    try {
      return (await this.send('GET', '/_ping')).status === 200;
    } catch {
      return false;
    }
  }

  /**
   * Start a daemon for the default socket: under a lock next to the socket (a second CLI waits for
   * the first one's daemon), a socket nobody answers on removed, the daemon detached in a session
   * of its own with its output in `<exec-root>/yard.log`; then wait until it answers.
   */
  private async startDaemon(): Promise<void> {
    const dir = path.dirname(this.socketPath);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const deadline = Date.now() + 30_000;
    let lockFd: number | undefined;
    while (lockFd === undefined) {
      try {
        lockFd = native().lockFile(`${this.socketPath}.lock`);
      } catch {
        if (await this.ping()) return; // another CLI started it
        if (Date.now() > deadline) throw new CnmError('unavailable', `another yard is starting the daemon at ${this.host} and it does not answer`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    try {
      if (await this.ping()) return;
      if (existsSync(this.socketPath)) unlinkSync(this.socketPath);
      const execRoot = this.start.execRoot ?? '/run/switchyard';
      mkdirSync(execRoot, { recursive: true, mode: 0o755 });
      const logPath = path.join(execRoot, 'yard.log');
      const log = openSync(logPath, 'a');
      const main = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.js');
      const args = ['--max-semi-space-size=4', main, 'daemon', '--host', this.host, '--exec-root', execRoot];
      if (this.start.dataRoot) args.push('--data-root', this.start.dataRoot);
      if (this.start.nftPrefix) args.push('--nft-prefix', this.start.nftPrefix);
      if (this.start.bridge) args.push('--bridge', this.start.bridge);
      const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log] });
      closeSync(log);
      let exited: number | null = null;
      child.once('exit', (code) => (exited = code ?? 1));
      child.unref();
      while (!(await this.ping())) {
        if (exited !== null) throw new CnmError('unavailable', `the switchyard daemon exited (${exited}) while starting; see ${logPath}`);
        if (Date.now() > deadline) throw new CnmError('unavailable', `the switchyard daemon did not answer on ${this.host} within 30 s; see ${logPath}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      closeSync(lockFd);
    }
  }
}
