/** The engine API as an express application (served by src/api/daemon.ts). */
import express, { type NextFunction, type Request, type Response } from 'express';
import os from 'node:os';
import type { Engine } from '../cnm/engine.js';
import { CnmError } from '../cnm/errors.js';
import { API_VERSION, MIN_API_VERSION, VERSION, route, sendError, sendJson, setHeaders, versionPrefix } from './http.js';
import { networksRouter } from './networks.js';
import { sandboxesRouter } from './sandboxes.js';

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };

export function createApp(engine: Engine): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Bodies arrive raw: src/api/http.ts jsonBody checks the type and parses, naming what is wrong.
  app.use(express.raw({ type: () => true, limit: '16mb' }));
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
  app.use(networksRouter(engine.controller));
  app.use(sandboxesRouter(engine.controller));
  app.use((_req: Request, res: Response) => sendJson(res, 404, { message: 'page not found' }));
  // Errors express met before a route ran (a body over the limit, a bad URL encoding).
  app.use((error: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    sendError(res, error.status && error.status < 500 ? new CnmError('bad-request', error.message) : error);
  });
  return app;
}
