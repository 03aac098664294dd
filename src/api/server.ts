/** The engine API as an express application (served by src/api/daemon.ts). */
import express, { type NextFunction, type Request, type Response } from 'express';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import type { Engine } from '../cnm/engine.js';
import { CnmError } from '../cnm/errors.js';
import { API_VERSION, MIN_API_VERSION, VERSION, route, sendError, sendJson, setHeaders, versionPrefix } from './http.js';
import { networksRouter } from './networks.js';
import { sandboxesRouter } from './sandboxes.js';

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };

/** What `/info` says of the daemon beyond the engine itself. */
export interface DaemonInfo {
  dataRoot: string;
  /** `--cgroup-parent`, recorded for the containers to come. */
  cgroupParent?: string;
  /** Given with `--log-level debug`: called once per answered request, as dockerd's "Calling …" lines. */
  logRequest?: (fields: { method: string; path: string; status: number; ms: number }) => void;
}

/** `PRETTY_NAME` of /etc/os-release, as Docker's `OperatingSystem`. */
function operatingSystem(): string {
  try {
    const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    return match?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

export function createApp(engine: Engine, daemon?: DaemonInfo): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Bodies arrive raw: src/api/http.ts jsonBody checks the type and parses, naming what is wrong.
  app.use(express.raw({ type: () => true, limit: '16mb' }));
  const logRequest = daemon?.logRequest;
  if (logRequest) {
    app.use((req: Request, res: Response, next: NextFunction) => {
      const start = process.hrtime.bigint();
      const { method, originalUrl } = req;
      res.once('finish', () => logRequest({ method, path: originalUrl, status: res.statusCode, ms: Number((process.hrtime.bigint() - start) / 1000n) / 1000 }));
      next();
    });
  }
  app.use(versionPrefix);

  const ping = (req: Request, res: Response) => {
    setHeaders(res);
    res.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
    res.setHeader('Pragma', 'no-cache');
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    if (req.method === 'HEAD') {
      res.setHeader('Content-Length', '0');
      res.status(200).end();
    } else res.status(200).end('OK');
  };
  app.get('/_ping', ping);
  app.head('/_ping', ping);
  app.get(
    '/version',
    route((_req, res) => {
      const details = { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: ARCH[process.arch] ?? process.arch, KernelVersion: os.release() };
      sendJson(res, 200, {
        Platform: { Name: 'Switchyard' },
        Components: [{ Name: 'Engine', Version: VERSION, Details: { ...details, GitCommit: '', GoVersion: `node${process.version}` } }],
        Version: VERSION,
        ...details,
        GitCommit: '',
        GoVersion: `node${process.version}`,
      });
    }),
  );
  // Docker's shape for what `docker info` prints; what Switchyard does not have yet (containers,
  // images, a storage driver, runtimes) reads as none.
  app.get(
    '/info',
    route((_req, res) => {
      const c = engine.controller;
      sendJson(res, 200, {
        ID: engine.owner.replace(/^switchyard:/, ''),
        Name: os.hostname(),
        ServerVersion: VERSION,
        Containers: 0,
        ContainersRunning: 0,
        ContainersPaused: 0,
        ContainersStopped: 0,
        Images: 0,
        Driver: '',
        DriverStatus: [],
        Plugins: { Volume: [], Network: engine.drivers.types().filter((type) => type !== 'remote').sort(), Authorization: null, Log: [] },
        Swarm: { LocalNodeState: 'inactive', NodeID: '', NodeAddr: '', ControlAvailable: false, Error: '', RemoteManagers: null },
        Runtimes: {},
        DefaultRuntime: '',
        KernelVersion: os.release(),
        OperatingSystem: operatingSystem(),
        OSVersion: '',
        OSType: 'linux',
        Architecture: process.arch === 'x64' ? 'x86_64' : process.arch,
        NCPU: os.cpus().length,
        MemTotal: os.totalmem(),
        DockerRootDir: daemon?.dataRoot ?? '',
        CgroupParent: daemon?.cgroupParent ?? '',
        Labels: [],
        ExperimentalBuild: false,
        SecurityOptions: [],
        Warnings: [],
        // Switchyard's own: what it holds.
        Networks: c.listNetworks().length,
        Sandboxes: c.listSandboxes().length,
      });
    }),
  );
  app.use(networksRouter(engine.controller));
  app.use(sandboxesRouter(engine.controller));
  // Docker's words first (clients match on them), then what this daemon serves instead.
  app.use((req: Request, res: Response) =>
    sendJson(res, 404, {
      message: `page not found: ${req.method} ${req.path} is not served by Switchyard, which serves networks and sandboxes (containers are not here yet)`,
    }),
  );
  // Errors express met before a route ran (a body over the limit, a bad URL encoding).
  app.use((error: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    sendError(res, error.status && error.status < 500 ? new CnmError('bad-request', error.message) : error);
  });
  return app;
}
