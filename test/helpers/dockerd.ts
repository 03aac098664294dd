/**
 * A real dockerd (Debian's docker.io, 20.10) for tests that show Switchyard coexists with Docker. It
 * runs only inside a nested namespace (test/helpers/nested.ts, `runScenario`): dockerd turns on
 * ip_forward and bridge-nf-call-iptables and sets the FORWARD policy to drop for its whole network
 * namespace, which must not be the one other tests share.
 *
 *   await withDockerd(async (d) => {
 *     await d.docker(['run', '--rm', d.image, 'ping', '-c1', '-W2', d.outside.address]);
 *     await d.docker(['run', '-d', '-p', '8080:80', d.image, 'httpd', '-f', '-p', '80', '-h', '/srv']);
 *     const page = await d.outside.httpGet(`http://${d.outside.hostAddress}:8080/`);
 *   });
 *
 * withDockerd makes, in this (nested) namespace:
 *  - an outside host: namespace `outside`, eth0 192.0.2.2/24, behind the veth `outside0`
 *    192.0.2.1/24 that carries this namespace's default route, so nothing can reach a real network;
 *  - a root <tmpdir>/switchyard-test-dockerd-<id> on a private tmpfs holding dockerd's data root, exec
 *    root, pid file, socket and log (and so its managed containerd's state);
 *  - tmpfs over /etc/docker and /opt, where dockerd (key.json) and containerd (/opt/containerd)
 *    write whatever their flags say;
 *  - dockerd with vfs storage and cgroup parent switchyard-test-dockerd-<id>, and the image
 *    `switchyard-test/busybox` imported from /bin/busybox (busybox-static): nothing is pulled.
 *    Its wget is left out: bookworm's static busybox wget segfaults here, even on a numeric URL; in
 *    a container use nc, from the outside host `outside.httpGet` (node).
 * Afterwards, however the body ended, it removes the containers, stops dockerd (SIGTERM, SIGKILL
 * after a timeout) and kills what it left (containerd, shims, container processes, proxies), then
 * unmounts, deletes docker0, Docker's other bridges, the outside namespace and its veth, the cgroups
 * and the root. It throws when any of that failed or left something.
 *
 * For rules put into DOCKER-USER from outside Docker: the chain is iptables-nft's (table ip filter),
 * and iptables-nft 1.8.9 lists an nft rule it cannot translate (a set lookup, say) as a bare
 * `-j DROP`, which an iptables-save/restore round trip would make real; keep such rules to what
 * iptables can express (interfaces, addresses, verdicts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { assertNestedNamespace, cmdlineOf, describe, isZombie, runNested } from './nested.js';

/** Debian's dockerd, containerd and client, by path: /usr/local/bin/docker (a 28.x client) comes first on PATH. */
export const DOCKERD = '/usr/sbin/dockerd';
export const DOCKER = '/usr/bin/docker';
const IP = '/usr/sbin/ip';
const BUSYBOX = '/bin/busybox';
/** dockerd finds containerd, runc, docker-proxy and iptables (Debian's iptables-nft) on this PATH. */
const DOCKERD_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const REQUIRED: Array<[string, string]> = [
  [DOCKERD, 'docker.io'],
  [DOCKER, 'docker.io'],
  ['/usr/bin/containerd', 'containerd'],
  ['/usr/sbin/runc', 'runc'],
  ['/usr/sbin/iptables', 'iptables'],
  [BUSYBOX, 'busybox-static'],
  [IP, 'iproute2'],
];

export const IMAGE = 'switchyard-test/busybox';
/** What the image's busybox httpd serves from /srv (`httpd -f -p 80 -h /srv`). */
export const IMAGE_PAGE = 'switchyard dockerd harness\n';
const APPLETS = ['sh', 'ping', 'nc', 'httpd', 'cat', 'echo', 'ls', 'sleep', 'ip', 'ifconfig', 'route', 'hostname', 'true', 'false', 'env', 'ps', 'kill', 'printf', 'grep', 'mkdir', 'rm', 'test', 'timeout'];

/** Helpers dockerd starts that may outlive it; found by their executable in this namespace. */
const DOCKER_HELPERS = /\/(docker-proxy|docker-init|containerd|containerd-shim[\w-]*|runc)$/;

export interface CommandResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/** Run a command to its end (SIGKILL after `timeoutMs`, default 30 s); never throws for its exit status. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const kill = () => child.kill('SIGKILL');
    const timer = setTimeout(() => {
      stderr += `(killed after ${options.timeoutMs ?? 30_000} ms)`;
      kill();
    }, options.timeoutMs ?? 30_000);
    if (options.signal?.aborted) kill();
    else options.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (error) => {
      stderr += error.message;
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', kill);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** `result` when it exited 0; else an error saying what was being done and how it failed. */
export function ok(result: CommandResult, what: string): CommandResult {
  if (result.status === 0) return result;
  const how = result.status === null ? `was killed by ${result.signal}` : `exited with ${result.status}`;
  throw new Error(`${what}: ${how}: ${(result.stderr || result.stdout).trim().slice(-2000)}`);
}

function ipSync(args: string[]): void {
  const result = spawnSync(IP, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(result.stderr || String(result.error)).trim()}`);
}

/** The outside host: one more namespace, reached through this namespace's default route. */
export interface Outside {
  /** Its name under /run/netns (of the nested namespace). */
  netns: string;
  /** Its address, on its eth0. */
  address: string;
  /** This namespace's address on the veth towards it: the "host" address it sees and connects to. */
  hostAddress: string;
  /** This namespace's end of the veth. */
  hostLink: string;
  /** Run a command in the outside namespace (`ip netns exec`); never throws for its exit status. */
  exec(args: string[], options?: RunOptions): Promise<CommandResult>;
  /** GET `url` from the outside namespace (with node), retried until it answers 200 or `timeoutMs` passed; the body. */
  httpGet(url: string, options?: { timeoutMs?: number }): Promise<string>;
}

export interface Dockerd {
  id: string;
  /** The private tmpfs holding everything of this dockerd's. */
  root: string;
  /** dockerd's API socket (`-H unix://<socket>`). */
  socket: string;
  pid: number;
  /** `--cgroup-parent`: relative, so under this process's own cgroup in every hierarchy. */
  cgroupParent: string;
  /** A busybox image (applets: sh, ping, nc, httpd, ip, ...), present locally. */
  image: string;
  outside: Outside;
  /** `docker ARGS` with Debian's client against this dockerd; its stdout, or an error on a non-zero exit. */
  docker(args: string[], options?: RunOptions): Promise<string>;
  /** `docker ARGS`, whatever its exit status. */
  tryDocker(args: string[], options?: RunOptions): Promise<CommandResult>;
  /** dockerd's log so far (with its managed containerd's). */
  log(): string;
}

export interface DockerdOptions {
  /** Part of every name of this dockerd's (root, cgroup parent); random by default. */
  id?: string;
  /** Abort: commands under way are killed, the body's next docker call fails, cleanup runs. */
  signal?: AbortSignal;
  /** More dockerd flags (e.g. `--userland-proxy=false`). */
  dockerdArgs?: string[];
  startTimeoutMs?: number;
  /** How long dockerd gets after SIGTERM before SIGKILL. */
  stopTimeoutMs?: number;
  /**
   * Filled in: milliseconds to dockerdReady, image, body, dockerdStop, cleanup; dockerdKilled = 1 when
   * SIGTERM was not enough; processesKilled, how many it left running.
   */
  timings?: Record<string, number>;
}

export function dockerdRoot(id: string): string {
  return path.join(os.tmpdir(), `switchyard-test-dockerd-${id}`);
}

export function dockerdCgroupParent(id: string): string {
  return `switchyard-test-dockerd-${id}`;
}

export const OUTSIDE = { netns: 'outside', address: '192.0.2.2', hostAddress: '192.0.2.1', hostLink: 'outside0', prefixLength: 24 } as const;

/** Start dockerd in this nested namespace, run `body` with it, and clean up everything, always. */
export async function withDockerd<T>(body: (dockerd: Dockerd) => Promise<T>, options: DockerdOptions = {}): Promise<T> {
  assertNestedNamespace();
  for (const [file, pkg] of REQUIRED) {
    if (!existsSync(file)) throw new Error(`start dockerd: ${file} is missing (Debian package ${pkg}; npm run setup installs it)`);
  }
  const id = options.id ?? randomBytes(4).toString('hex');
  const timings = options.timings ?? {};
  const state: TeardownState = { id, root: dockerdRoot(id), cgroupParent: dockerdCgroupParent(id), mounted: [], stopTimeoutMs: options.stopTimeoutMs ?? 20_000, timings };
  // Without `recursive`, mkdir fails when the root exists: another run's, never ours to reuse or remove.
  mkdirSync(state.root, { mode: 0o711 });
  let result: T;
  try {
    const dockerd = await start(state, options);
    const started = performance.now();
    try {
      result = await body(dockerd);
    } finally {
      timings.body = Math.round(performance.now() - started);
    }
  } catch (error) {
    const errors = await teardown(state);
    // The body's (or start's) error first, what cleaning up met attached.
    if (errors.length > 0) throw new AggregateError(errors, describe(error));
    throw error;
  }
  const errors = await teardown(state);
  if (errors.length > 0) throw new AggregateError(errors, `clean up after dockerd ${id}`);
  return result;
}

interface TeardownState {
  id: string;
  root: string;
  cgroupParent: string;
  /** Mount points this harness made, in order. */
  mounted: string[];
  child?: ChildProcess;
  exited?: Promise<void>;
  socket?: string;
  env?: NodeJS.ProcessEnv;
  stopTimeoutMs: number;
  timings: Record<string, number>;
}

async function start(state: TeardownState, options: DockerdOptions): Promise<Dockerd> {
  const started = performance.now();
  const { root, cgroupParent } = state;
  mountTmpfs(state, root, 'mode=711');
  mountTmpfs(state, '/etc/docker', 'mode=755');
  mountTmpfs(state, '/opt', 'mode=755');

  const outside = makeOutside();
  makeRootfs(root);
  writeFileSync(path.join(root, 'daemon.json'), '{}\n');

  const socket = path.join(root, 'docker.sock');
  const logFile = path.join(root, 'dockerd.log');
  const logFd = openSync(logFile, 'a');
  const env = { PATH: DOCKERD_PATH, HOME: root, DOCKER_CONFIG: path.join(root, 'client') };
  state.env = env;
  state.socket = socket;
  const args = [
    '--config-file', path.join(root, 'daemon.json'),
    '--data-root', path.join(root, 'data'),
    '--exec-root', path.join(root, 'exec'),
    '--pidfile', path.join(root, 'dockerd.pid'),
    '-H', `unix://${socket}`,
    // overlay2 over the test's file systems may fail; vfs copies layers, and ours is one busybox.
    '--storage-driver', 'vfs',
    '--cgroup-parent', cgroupParent,
    ...(options.dockerdArgs ?? []),
  ];
  const child = spawn(DOCKERD, args, { stdio: ['ignore', logFd, logFd], env });
  closeSync(logFd);
  state.child = child;
  state.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  // What says why it failed: warnings, errors and the last words, not gRPC's info chatter.
  const why = () => log().trim().split('\n').filter((line) => !/level=(info|debug)/.test(line)).slice(-8).join('\n');

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  while (!(await apiPing(socket))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`start dockerd: it exited with ${child.exitCode ?? child.signalCode}: ${why()}`);
    }
    if (Date.now() > deadline) throw new Error(`start dockerd: its API did not answer within ${options.startTimeoutMs ?? 30_000} ms: ${why()}`);
    if (options.signal?.aborted) throw new Error('start dockerd: interrupted');
    await sleep(50);
  }
  state.timings.dockerdReady = Math.round(performance.now() - started);

  const tryDocker = (dockerArgs: string[], runOptions: RunOptions = {}) => run(DOCKER, ['-H', `unix://${socket}`, ...dockerArgs], { env, ...(options.signal ? { signal: options.signal } : {}), ...runOptions });
  const docker = async (dockerArgs: string[], runOptions: RunOptions = {}) => {
    if (options.signal?.aborted) throw new Error(`docker ${dockerArgs.join(' ')}: interrupted`);
    return ok(await tryDocker(dockerArgs, runOptions), `docker ${dockerArgs.join(' ')}`).stdout;
  };
  const imported = performance.now();
  await docker(['import', '--change', 'CMD ["/bin/sh"]', path.join(root, 'rootfs.tar'), IMAGE]);
  state.timings.image = Math.round(performance.now() - imported);

  return { id: state.id, root, socket, pid: child.pid!, cgroupParent, image: IMAGE, outside, docker, tryDocker, log };
}

function mountTmpfs(state: TeardownState, target: string, options: string): void {
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', options, `switchyard-dockerd-${state.id}`, target], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`mount a tmpfs on ${target}: ${result.stderr.trim()}`);
  state.mounted.push(target);
}

/** The outside namespace and the veth to it; this namespace's default route goes there. */
function makeOutside(): Outside {
  const { netns, address, hostAddress, hostLink, prefixLength } = OUTSIDE;
  ipSync(['netns', 'add', netns]);
  ipSync(['link', 'add', hostLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
  ipSync(['addr', 'add', `${hostAddress}/${prefixLength}`, 'dev', hostLink]);
  ipSync(['link', 'set', hostLink, 'up']);
  ipSync(['-n', netns, 'link', 'set', 'lo', 'up']);
  ipSync(['-n', netns, 'addr', 'add', `${address}/${prefixLength}`, 'dev', 'eth0']);
  ipSync(['-n', netns, 'link', 'set', 'eth0', 'up']);
  // Every address but the test's own leads to the outside host, which forwards nothing: no packet
  // of dockerd's or a container's can reach a real network.
  ipSync(['route', 'add', 'default', 'via', address]);
  const exec = (args: string[], options: RunOptions = {}) => run(IP, ['netns', 'exec', netns, ...args], options);
  const httpGet = async (url: string, options: { timeoutMs?: number } = {}) => {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    // One GET with a 2 s limit; exit 0 and the body on status 200.
    const client = `const r = require('http').get(process.argv[1], { timeout: 2000 }, (res) => { let body = ''; res.setEncoding('utf8').on('data', (c) => (body += c)).on('end', () => { process.stdout.write(body); process.exit(res.statusCode === 200 ? 0 : 2); }); }); r.on('timeout', () => r.destroy(new Error('timed out'))); r.on('error', (e) => { process.stderr.write(e.message); process.exit(3); });`;
    for (;;) {
      const result = await exec([process.execPath, '-e', client, url], { timeoutMs: 5000 });
      if (result.status === 0) return result.stdout;
      if (Date.now() > deadline) throw new Error(`GET ${url} from the outside host: ${(result.stderr || `exit ${result.status ?? result.signal}`).trim()}`);
      await sleep(100);
    }
  };
  return { netns, address, hostAddress, hostLink, exec, httpGet };
}

/** A root file system of one static busybox and its applets, as the tarball `docker import` reads. */
function makeRootfs(root: string): void {
  const rootfs = path.join(root, 'rootfs');
  for (const dir of ['bin', 'srv', 'tmp', 'etc']) mkdirSync(path.join(rootfs, dir), { recursive: true });
  copyFileSync(BUSYBOX, path.join(rootfs, 'bin', 'busybox'));
  for (const applet of APPLETS) symlinkSync('busybox', path.join(rootfs, 'bin', applet));
  writeFileSync(path.join(rootfs, 'srv', 'index.html'), IMAGE_PAGE);
  const tar = spawnSync('tar', ['-C', rootfs, '-cf', path.join(root, 'rootfs.tar'), '.'], { encoding: 'utf8' });
  if (tar.status !== 0) throw new Error(`make the busybox image's tarball: ${tar.stderr.trim()}`);
}

/** GET /_ping on dockerd's socket: true once the API answers. */
function apiPing(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (!existsSync(socket)) return resolve(false);
    const request = http.get({ socketPath: socket, path: '/_ping', timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('error', () => resolve(false));
    request.on('timeout', () => {
      request.destroy();
      resolve(false);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// Teardown: recomputed from what is there, best effort, every error reported.

/** Cgroup directories named `name` (at any depth up to 4 below a hierarchy's root), children first. */
export function cgroupsNamed(name: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number, inside: boolean) => {
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    } catch {
      return;
    }
    for (const entry of entries) {
      const child = path.join(dir, entry);
      const match = inside || entry === name;
      if (match || depth < 4) walk(child, depth + 1, match);
      if (match) found.push(child);
    }
  };
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-');
    if (separator > 0 && /^cgroup2?$/.test(fields[separator + 1] ?? '')) walk(fields[4]!, 0, false);
  }
  return found.sort((a, b) => b.split('/').length - a.split('/').length);
}

/** Processes of one dockerd's: its root in their command line, or in its cgroups. */
export function dockerdProcesses(id: string): Array<{ pid: number; cmdline: string }> {
  const root = dockerdRoot(id);
  const pids = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    if (cmdlineOf(Number(entry)).includes(root)) pids.add(Number(entry));
  }
  for (const dir of cgroupsNamed(dockerdCgroupParent(id))) {
    try {
      for (const pid of readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) pids.add(Number(pid));
    } catch {
      // removed meanwhile
    }
  }
  return [...pids].filter((pid) => pid !== process.pid && !isZombie(pid)).map((pid) => ({ pid, cmdline: cmdlineOf(pid) }));
}

/** Helpers of dockerd's (docker-proxy, shims, runc) in this network namespace, whatever their command line. */
function helpersInNamespace(): Array<{ pid: number; cmdline: string }> {
  const own = readlinkSync('/proc/self/ns/net');
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/net`) !== own || !DOCKER_HELPERS.test(readlinkSync(`/proc/${entry}/exe`))) continue;
    } catch {
      continue;
    }
    if (!isZombie(Number(entry))) found.push({ pid: Number(entry), cmdline: cmdlineOf(Number(entry)) });
  }
  return found;
}

/**
 * What of one dockerd's is visible from any namespace of the host: processes, cgroups, its root
 * directory. The ava side checks this after the nested scenario ended.
 */
export function dockerdLeftovers(id: string): string[] {
  const found: string[] = [];
  for (const { pid, cmdline } of dockerdProcesses(id)) found.push(`process ${pid}: ${cmdline}`);
  for (const dir of cgroupsNamed(dockerdCgroupParent(id))) found.push(`cgroup ${dir}`);
  if (existsSync(dockerdRoot(id))) found.push(`directory ${dockerdRoot(id)}`);
  return found;
}

/** Kill processes, SIGKILL, and wait until they are gone; the pids still there after `timeoutMs`. */
async function killAndWait(pids: number[], timeoutMs: number): Promise<number[]> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter((pid) => !isZombie(pid));
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(50);
    alive = alive.filter((pid) => !isZombie(pid));
  }
  return alive;
}

/**
 * Remove cgroup directories, children first. A cgroup stays busy for a moment after its last
 * process exited, so each rmdir is retried for a while.
 */
async function removeCgroups(dirs: string[], errors: Error[]): Promise<void> {
  for (const dir of dirs) {
    const deadline = Date.now() + 3000;
    for (;;) {
      try {
        rmdirSync(dir);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (Date.now() > deadline) {
          errors.push(new Error(`remove cgroup ${dir}: ${(error as Error).message}`));
          break;
        }
        await sleep(50);
      }
    }
  }
}

/** Kill whatever of one dockerd's is still running and remove its cgroups and root; for the ava side, after the scenario. */
export async function rescueDockerd(id: string): Promise<string[]> {
  const errors: Error[] = [];
  const survivors = await killAndWait(dockerdProcesses(id).map((p) => p.pid), 5000);
  for (const pid of survivors) errors.push(new Error(`process ${pid} survived SIGKILL: ${cmdlineOf(pid)}`));
  await removeCgroups(cgroupsNamed(dockerdCgroupParent(id)), errors);
  try {
    // Outside the nested mount namespace the root is a plain directory: its tmpfs went with it.
    rmSync(dockerdRoot(id), { recursive: true, force: true });
  } catch (error) {
    errors.push(new Error(`remove ${dockerdRoot(id)}: ${(error as Error).message}`));
  }
  return errors.map((error) => error.message);
}

function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\040/g, ' '))
    .filter(Boolean);
}

function linkNames(args: string[] = []): string[] {
  const result = spawnSync(IP, ['-j', 'link', 'show', ...args], { encoding: 'utf8' });
  if (result.status !== 0) return [];
  return (JSON.parse(result.stdout || '[]') as Array<{ ifname: string }>).map((link) => link.ifname);
}

async function teardown(state: TeardownState): Promise<Error[]> {
  const started = performance.now();
  const errors: Error[] = [];
  const { root, child, socket, env } = state;
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  // 1. Containers, through dockerd while it runs: it takes down their veths, NAT rules and proxies.
  if (alive() && socket && env && (await apiPing(socket))) {
    const docker = (args: string[], timeoutMs: number) => run(DOCKER, ['-H', `unix://${socket}`, ...args], { env, timeoutMs });
    const listed = await docker(['ps', '-aq'], 10_000);
    const ids = listed.stdout.split('\n').filter(Boolean);
    if (listed.status !== 0) errors.push(new Error(`list containers: ${listed.stderr.trim()}`));
    else if (ids.length > 0) {
      const removed = await docker(['rm', '-f', ...ids], 30_000);
      if (removed.status !== 0) errors.push(new Error(`remove containers ${ids.join(' ')}: ${removed.stderr.trim()}`));
    }
  }

  // 2. dockerd: SIGTERM (it stops its managed containerd), SIGKILL after the timeout.
  if (alive()) {
    const stopping = performance.now();
    child!.kill('SIGTERM');
    const stopped = await Promise.race([state.exited!.then(() => true), sleep(state.stopTimeoutMs).then(() => false)]);
    if (!stopped) {
      state.timings.dockerdKilled = 1;
      child!.kill('SIGKILL');
      await Promise.race([state.exited!, sleep(5000)]);
      if (alive()) errors.push(new Error(`dockerd ${child!.pid} survived SIGKILL`));
    }
    state.timings.dockerdStop = Math.round(performance.now() - stopping);
  }

  // 3. What it left running: containerd, shims, container processes, proxies.
  const left = [...dockerdProcesses(state.id), ...helpersInNamespace()];
  if (left.length > 0) {
    state.timings.processesKilled = left.length;
    for (const pid of await killAndWait(left.map((p) => p.pid), 5000)) errors.push(new Error(`process ${pid} survived SIGKILL: ${cmdlineOf(pid)}`));
  }

  // 4. Mounts under the root and under dockerd's and containerd's fixed /run paths (data root bound
  //    on itself, sandbox namespaces, shm), deepest first; then the harness's own tmpfs.
  const own = new Set(state.mounted);
  const under = (mountPoint: string) => [`${root}/`, '/run/docker/', '/run/containerd/'].some((prefix) => mountPoint.startsWith(prefix));
  for (const mountPoint of mountPoints().filter(under).reverse()) unmount(mountPoint, errors);
  for (const mountPoint of [...own].reverse()) unmount(mountPoint, errors);

  // 5. Links: veths on Docker's bridges, docker0 and br-<network id>, the outside namespace (its
  //    eth0 takes outside0 with it) and outside0 should it still be there.
  const bridges = linkNames().filter((name) => name === 'docker0' || /^br-[0-9a-f]{12}$/.test(name));
  for (const bridge of bridges) for (const port of linkNames(['master', bridge])) deleteLink(port, errors);
  for (const bridge of bridges) deleteLink(bridge, errors);
  if (existsSync(`/run/netns/${OUTSIDE.netns}`)) {
    const result = spawnSync(IP, ['netns', 'del', OUTSIDE.netns], { encoding: 'utf8' });
    if (result.status !== 0) errors.push(new Error(`delete namespace ${OUTSIDE.netns}: ${result.stderr.trim()}`));
  }
  // A veth whose peer's namespace went is deleted by the kernel's cleanup work, shortly after.
  for (let i = 0; i < 100 && linkNames().includes(OUTSIDE.hostLink); i++) await sleep(20);
  if (linkNames().includes(OUTSIDE.hostLink)) deleteLink(OUTSIDE.hostLink, errors);

  // 6. Cgroups, then the root directory (its tmpfs is gone: it is empty).
  await removeCgroups(cgroupsNamed(state.cgroupParent), errors);
  if (existsSync(root) && !mountPoints().includes(root)) {
    try {
      rmSync(root, { recursive: true, force: true });
    } catch (error) {
      errors.push(new Error(`remove ${root}: ${(error as Error).message}`));
    }
  }

  // 7. Nothing may be left.
  const leftovers = [
    ...dockerdLeftovers(state.id),
    ...helpersInNamespace().map(({ pid, cmdline }) => `process ${pid}: ${cmdline}`),
    ...mountPoints().filter((mountPoint) => under(mountPoint) || own.has(mountPoint)).map((mountPoint) => `mount ${mountPoint}`),
    ...linkNames().filter((name) => name === 'docker0' || name === OUTSIDE.hostLink || /^br-[0-9a-f]{12}$/.test(name)).map((name) => `link ${name}`),
    ...(existsSync(`/run/netns/${OUTSIDE.netns}`) ? [`namespace ${OUTSIDE.netns}`] : []),
  ];
  if (leftovers.length > 0) errors.push(new Error(`left behind: ${leftovers.join(', ')}`));
  state.timings.cleanup = Math.round(performance.now() - started);
  return errors;
}

function unmount(mountPoint: string, errors: Error[]): void {
  if (spawnSync('umount', [mountPoint], { stdio: 'ignore' }).status === 0) return;
  // Busy (a process we could not kill holds it): detach it, and say so.
  const lazy = spawnSync('umount', ['--lazy', mountPoint], { encoding: 'utf8' });
  errors.push(new Error(lazy.status === 0 ? `unmount ${mountPoint}: busy, detached lazily` : `unmount ${mountPoint}: ${lazy.stderr.trim()}`));
}

function deleteLink(name: string, errors: Error[]): void {
  const result = spawnSync(IP, ['link', 'del', name], { encoding: 'utf8' });
  if (result.status !== 0 && !/Cannot find device/.test(result.stderr)) errors.push(new Error(`delete link ${name}: ${result.stderr.trim()}`));
}

/**
 * Run a dockerd scenario script (test/fixtures/*-scenario.js) in a namespace of its own for an ava
 * test: a fresh id, the rescue of whatever a dead scenario left at teardown, and its report (or a
 * failure saying why there is none).
 */
export async function runDockerdScenario(t: import('ava').ExecutionContext, script: string): Promise<{ report: import('./nested.js').ScenarioReport; stderr: string; ms: number; id: string } | undefined> {
  t.timeout(240_000);
  const id = randomBytes(4).toString('hex');
  t.teardown(async () => {
    // Only does something when the scenario died before its own cleanup.
    for (const error of await rescueDockerd(id)) t.log(`rescue: ${error}`);
  });
  const result = await runNested(script, [id], { timeoutMs: 180_000 });
  if (!result.report) {
    t.fail(`the scenario printed no report (exit ${result.status ?? result.signal}):\n${result.stderr}`);
    return undefined;
  }
  return { report: result.report, stderr: result.stderr, ms: result.ms, id };
}
