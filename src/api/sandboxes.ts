/**
 * `/sandboxes…`: Switchyard's own part of the engine API (a sandbox plays the part a container plays
 * in Docker's `/networks` JSON). Shapes follow Docker's container JSON where they overlap.
 */
import { Router } from 'express';
import type { Controller } from '../cnm/controller.js';
import { CnmError } from '../cnm/errors.js';
import type { EndpointRecord, PortSpec, SandboxRecord } from '../cnm/model.js';
import { gatewayOf } from '../cnm/addressing.js';
import { parsePublish } from '../cnm/ports.js';
import { Fields, jsonBody, parseFilters, route, sendJson } from './http.js';

export function apiSandbox(c: Controller, sandbox: SandboxRecord): Record<string, unknown> {
  const networks: Record<string, unknown> = {};
  const byId = new Map(c.records().networks.map((n) => [n.id, n]));
  for (const endpoint of c.listEndpoints({ sandboxId: sandbox.id })) {
    if (endpoint.state !== 'ready') continue;
    const network = byId.get(endpoint.networkId);
    if (!network) continue;
    const [ip4 = '', len4 = '0'] = endpoint.ipv4?.cidr.split('/') ?? [];
    const [ip6 = '', len6 = '0'] = endpoint.ipv6?.cidr.split('/') ?? [];
    // Shown when this endpoint gives the sandbox its default route.
    const gateway = (lease: EndpointRecord['ipv4']) => (endpoint.driverState.defaultRoute === 'true' ? (gatewayOf(network, lease) ?? '') : '');
    networks[network.name] = {
      NetworkID: network.id,
      EndpointID: endpoint.id,
      InterfaceName: endpoint.interfaceName,
      MacAddress: endpoint.macAddress,
      IPAddress: ip4,
      IPPrefixLen: Number(len4),
      Gateway: gateway(endpoint.ipv4),
      GlobalIPv6Address: ip6,
      GlobalIPv6PrefixLen: Number(len6),
      IPv6Gateway: gateway(endpoint.ipv6),
      Aliases: endpoint.aliases.length ? endpoint.aliases : null,
      ...(endpoint.driverState.ports ? { Ports: JSON.parse(endpoint.driverState.ports) } : {}),
    };
  }
  return { Id: sandbox.id, Name: sandbox.name, Created: sandbox.created, SandboxKey: sandbox.path, Ports: sandbox.ports ?? [], Networks: networks };
}

/** Ports as the API takes them: `-p` strings, or objects as the controller takes them. */
function portsOf(list: unknown[] | undefined): PortSpec[] {
  return (list ?? []).flatMap((entry, i) => (typeof entry === 'string' ? parsePublish(entry, `Ports[${i}]`) : [entry as PortSpec]));
}

export function sandboxesRouter(c: Controller): Router {
  const router = Router();

  router.get(
    '/sandboxes',
    route((req, res) => {
      const filters = parseFilters(req.query.filters, ['name', 'id']);
      const list = c.listSandboxes().filter((s) => {
        const names = filters.get('name') ?? [];
        const ids = filters.get('id') ?? [];
        return (names.length === 0 || names.some((n) => s.name.includes(n))) && (ids.length === 0 || ids.some((id) => s.id.startsWith(id)));
      });
      sendJson(res, 200, list.map((s) => apiSandbox(c, s)));
    }),
  );

  router.get(
    '/sandboxes/:id',
    route((req, res) => sendJson(res, 200, apiSandbox(c, c.sandbox(String(req.params.id))))),
  );

  router.post(
    '/sandboxes/create',
    route(async (req, res) => {
      const f = new Fields(jsonBody(req, true));
      const name = f.string('Name');
      if (!name) throw new CnmError('bad-request', 'Name: a sandbox needs a name', { field: 'Name' });
      const sandbox = await c.createSandbox({ name, ports: portsOf(f.list('Ports')) });
      sendJson(res, 201, { Id: sandbox.id, Warnings: [] });
    }),
  );

  router.delete(
    '/sandboxes/:id',
    route(async (req, res) => {
      await c.deleteSandbox(String(req.params.id));
      res.status(204).end();
    }),
  );

  return router;
}
