/**
 * A real `yard daemon` process for a kernel test, on the test's scratch space (its own socket, data
 * root, exec root, nft prefix and default bridge), driven as users drive it: the `yard` CLI, the
 * docker CLIs, and raw HTTP over the socket. Teardown stops the daemon, then removes everything it
 * made through an engine opened on the same data root (predefined networks included).
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scratch } from './scratch.js';
import { existsSync, readdirSync } from 'node:fs';
import { dataRootOf, firewallState, ownedLinks } from './engine.js';
import { Engine } from '../../src/cnm/engine.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { StoreIpam } from '../../src/ipam/ipam.js';
import { registerBuiltinDrivers } from '../../drivers/index.js';

export const YARD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json(): any;
}

export function request(socketPath: string, method: string, urlPath: string, body?: string | object, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request(
      { socketPath, method, path: urlPath, headers: { ...(payload !== undefined && typeof body === 'object' ? { 'Content-Type': 'application/json' } : {}), ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export interface Daemon {
  socket: string;
  host: string;
  process: ChildProcess;
  /** Its log so far (JSON lines). */
  log(): string;
  yard(args: string[], input?: string): Promise<Run>;
  docker(binary: string, args: string[]): Promise<Run>;
  request(method: string, urlPath: string, body?: string | object, headers?: Record<string, string>): Promise<HttpResult>;
  /**
   * What the daemon holds, as its API, iproute2, nft and the file system see it: every network as
   * inspected, every sandbox, links with its ownership mark, per-network nft state, namespace files.
   * Tests compare it before and after what must change nothing, and at their end with what it was
   * after start: nothing left behind (teardown would hide it).
   */
  holdings(): Promise<Record<string, unknown>>;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export function daemonArgs(s: Scratch, socket: string): string[] {
  return ['--host', `unix://${socket}`, '--data-root', dataRootOf(s), '--exec-root', s.execRoot, '--nft-prefix', `switchyard_${s.prefix}`, '--bridge', s.name('br0')];
}

/** Start `yard daemon` and wait until it answers. */
export async function startDaemon(t: ExecutionContext, s: Scratch, extra: string[] = []): Promise<Daemon> {
  const socket = `${s.execRoot}/yard.sock`;
  const child = spawn(process.execPath, ['--max-semi-space-size=4', YARD, 'daemon', ...daemonArgs(s, socket), ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stopped = false;
  const daemon: Daemon = {
    socket,
    host: `unix://${socket}`,
    process: child,
    log: () => log,
    yard: (args, input) => run(process.execPath, [YARD, '-H', `unix://${socket}`, ...args], { input }),
    docker: (binary, args) => run(binary, ['-H', `unix://${socket}`, ...args], { env: { ...process.env, DOCKER_CONFIG: `${s.execRoot}/docker-config` } }),
    request: (method, urlPath, body, headers) => request(socket, method, urlPath, body, headers),
    async holdings() {
      const get = async <T>(url: string) => (await request(socket, 'GET', url)).json() as T;
      const [info, list, sandboxes] = await Promise.all([get<{ ID: string }>('/info'), get<Array<{ Id: string }>>('/networks'), get<unknown[]>('/sandboxes')]);
      const networks = await Promise.all(list.map((n) => get(`/networks/${n.Id}`)));
      const netns = `${s.execRoot}/netns`;
      return {
        networks,
        sandboxes,
        links: ownedLinks(`switchyard:${info.ID}`).sort(),
        firewall: firewallState(`switchyard_${s.prefix}`),
        namespaceFiles: existsSync(netns) ? readdirSync(netns).sort() : [],
      };
    },
    async stop() {
      if (!stopped) {
        stopped = true;
        child.kill('SIGTERM');
      }
      return exited;
    },
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`yard daemon exited with ${child.exitCode}: ${log}`);
    // Ready when it says so, or (below --log-level info, where it says nothing) when its socket answers.
    if (log.includes('"msg":"daemon ready"')) break;
    if (await request(socket, 'GET', '/_ping').then((r) => r.status === 200, () => false)) break;
    if (i > 300) throw new Error(`yard daemon did not answer within 30 s: ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.teardown(async () => {
    await daemon.stop();
    await removeEverything(s);
  });
  return daemon;
}

/** What a daemon on the scratch data root made, removed through an engine on that data root. */
export async function removeEverything(s: Scratch): Promise<void> {
  const store = await SqliteStore.open(dataRootOf(s));
  const engine = await Engine.open({ store, ipam: new StoreIpam(store), register: registerBuiltinDrivers, execRoot: s.execRoot, publishDir: s.publishDir, nftPrefix: `switchyard_${s.prefix}` });
  const c = engine.controller;
  for (const sandbox of c.listSandboxes()) await c.deleteSandbox(sandbox.id).catch(() => undefined);
  for (const network of c.listNetworks()) await c.deleteNetwork(network.id).catch(() => undefined);
  await engine.firewall.removeAll();
  await engine.close();
}
