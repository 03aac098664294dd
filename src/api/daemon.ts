/**
 * `yard daemon`: one Engine on a data root, serving the engine API. docs/api.md has the shape.
 * SIGTERM and SIGINT stop it cleanly: requests in flight finish, the store (and its data-root lock)
 * is closed, and every sandbox, link and nft table stays as it is for the next daemon to adopt.
 */
import { createConnection } from 'node:net';
import http from 'node:http';
import https from 'node:https';
import { chmodSync, existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Engine } from '../cnm/engine.js';
import type { Logger } from '../cnm/driver.js';
import { CnmError } from '../cnm/errors.js';
import { registerBuiltinDrivers } from '../../drivers/index.js';
import { SqliteStore } from '../store/sqlite.js';
import { StoreIpam } from '../ipam/ipam.js';
import { createApp } from './server.js';
import { DEFAULT_BRIDGE } from '../../drivers/bridge/options.js';

export { DEFAULT_DATA_ROOT, DEFAULT_EXEC_ROOT, DEFAULT_HOST } from './defaults.js';

export interface DaemonOptions {
  host: string;
  dataRoot: string;
  execRoot: string;
  /** Parent cgroup of containers (the container runtime, a later piece, puts them there). */
  cgroupParent: string;
  nftPrefix: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Bridge of the default `bridge` network (Docker's `--bridge`; docker0 there, yard0 here). */
  bridge: string;
  /** Where sandboxes are published by name for `ip netns` (default /run/netns). */
  publishDir: string;
  tls?: { ca: string; cert: string; key: string };
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;

/** One JSON object per line on stderr. */
export function jsonLogger(level: DaemonOptions['logLevel']): Logger & { error(message: string, fields?: Record<string, unknown>): void } {
  const write = (at: keyof typeof LEVELS) => (message: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS[at] < LEVELS[level]) return;
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: at, msg: message, ...fields })}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** Whether something answers on a unix socket. */
function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Docker's default networks, made when missing: bridge (on `--bridge`), host, none. */
export async function ensureDefaultNetworks(engine: Engine, bridge: string, log: Logger): Promise<void> {
  const c = engine.controller;
  const have = new Set(c.listNetworks().map((n) => n.name));
  if (!have.has('bridge')) {
    const network = await c.createNetwork({
      name: 'bridge',
      options: { 'com.docker.network.bridge.name': bridge, [DEFAULT_BRIDGE]: 'true', 'com.docker.network.bridge.enable_icc': 'true', 'com.docker.network.bridge.enable_ip_masquerade': 'true' },
    });
    log.info('made the default bridge network', { bridge, subnet: network.pools[0]?.subnet, ...(network.driverState.warning ? { warning: network.driverState.warning } : {}) });
  }
  if (!have.has('host')) await c.createNetwork({ name: 'host', driver: 'host' });
  if (!have.has('none')) await c.createNetwork({ name: 'none', driver: 'null' });
}

/** How often the daemon checks dockerd's DOCKER-USER chain for this engine's rules. */
const DOCKER_USER_WATCH_MS = 1000;

/** Serve until SIGTERM or SIGINT; resolves with the exit code. */
export async function runDaemon(options: DaemonOptions): Promise<number> {
  const log = jsonLogger(options.logLevel);
  // Where to listen is checked before anything is opened or made.
  const tcp = /^tcp:\/\/([^:/]*|\[[^\]]+\]):(\d+)$/.exec(options.host);
  if (!options.host.startsWith('unix://') || options.host === 'unix://') {
    if (!tcp) throw new CnmError('bad-request', `--host: ${JSON.stringify(options.host)} is not unix:///PATH or tcp://ADDRESS:PORT`, { field: 'host' });
    if (!options.tls) throw new CnmError('bad-request', '--host: TCP needs mutual TLS (--tlsverify --tlscacert --tlscert --tlskey)', { field: 'host' });
  }
  let store: SqliteStore;
  try {
    store = await SqliteStore.open(options.dataRoot);
  } catch (error) {
    log.error((error as Error).message);
    return error instanceof CnmError && error.category === 'conflict' ? 4 : 1;
  }
  const engine = await Engine.open({
    store,
    ipam: new StoreIpam(store),
    register: registerBuiltinDrivers,
    execRoot: options.execRoot,
    publishDir: options.publishDir,
    nftPrefix: options.nftPrefix,
    log,
  });
  for (const error of engine.reconciled.errors) log.warn('reconcile', { error });
  await ensureDefaultNetworks(engine, options.bridge, log);
  // dockerd may start after this daemon: its FORWARD drop would cut Switchyard's networks off until
  // they have their DOCKER-USER rules, which this puts in within a second.
  engine.firewall.watchDockerUser(
    DOCKER_USER_WATCH_MS,
    (error) => log.warn('DOCKER-USER reconcile', { error: error.message }),
    (changed) => log.info("DOCKER-USER: this engine's rules put right (dockerd started, restarted or changed the chain)", { changes: changed }),
  );

  const app = createApp(engine, {
    dataRoot: path.resolve(options.dataRoot),
    ...(options.cgroupParent ? { cgroupParent: options.cgroupParent } : {}),
    ...(options.logLevel === 'debug' ? { logRequest: (fields: Record<string, unknown>) => log.debug('api request', fields) } : {}),
  });
  const server = options.tls
    ? https.createServer({ ca: readFileSync(options.tls.ca), cert: readFileSync(options.tls.cert), key: readFileSync(options.tls.key), requestCert: true, rejectUnauthorized: true }, app)
    : http.createServer(app);
  // The docker CLI keeps connections alive between requests: close idle ones at shutdown.
  server.keepAliveTimeout = 5000;
  let socketPath: string | undefined;
  if (options.host.startsWith('unix://')) {
    socketPath = options.host.slice('unix://'.length);
    mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o755 });
    if (existsSync(socketPath)) {
      if (await answers(socketPath)) {
        log.error(`another daemon answers on ${socketPath}`);
        await engine.close();
        return 4;
      }
      unlinkSync(socketPath); // left by a daemon killed with -9
    }
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, () => resolve()));
    chmodSync(socketPath, 0o660);
  } else {
    const [, address = '', port = '0'] = tcp!;
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(Number(port), address.replace(/^\[|\]$/g, '') || '127.0.0.1', () => resolve()));
  }
  const address = socketPath ?? `tcp://${(server.address() as AddressInfo).address}:${(server.address() as AddressInfo).port}`;
  log.info('daemon ready', { host: address, dataRoot: options.dataRoot, execRoot: options.execRoot, nftPrefix: options.nftPrefix, pid: process.pid });

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info('stopping', { signal });
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  await engine.close();
  if (socketPath && existsSync(socketPath)) unlinkSync(socketPath);
  log.info('stopped: sandboxes, links and nft tables left as they are');
  return 0;
}
