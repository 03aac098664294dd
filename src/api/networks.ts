/** `/networks…` of the engine API in Docker's JSON shapes (libnetwork-api.md §5.4-5.10). */
import { Router } from 'express';
import type { Controller, NetworkCreate } from '../cnm/controller.js';
import { CnmError, forbidden, notFound } from '../cnm/errors.js';
import type { NetworkRecord } from '../cnm/model.js';
import type { SubnetRequest } from '../ipam/types.js';
import { Fields, jsonBody, parseFilters, route, sendJson } from './http.js';

/** The networks every daemon has, as Docker's: they cannot be made or removed through the API. */
export const PREDEFINED = ['bridge', 'host', 'none'];
const RESERVED_NAMES = [...PREDEFINED, 'default'];

export function isPredefined(network: NetworkRecord): boolean {
  return PREDEFINED.includes(network.name);
}

/** A network as `GET /networks/{id}` shows it; `detailed` fills Containers (the list leaves it empty). */
export function apiNetwork(c: Controller, network: NetworkRecord, detailed = true): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  if (detailed) {
    const sandboxes = new Map(c.records().sandboxes.map((s) => [s.id, s]));
    for (const endpoint of c.listEndpoints({ networkId: network.id })) {
      if (endpoint.state !== 'ready') continue;
      const sandbox = sandboxes.get(endpoint.sandboxId);
      containers[endpoint.sandboxId] = {
        Name: sandbox?.name ?? '',
        EndpointID: endpoint.id,
        MacAddress: endpoint.macAddress,
        IPv4Address: endpoint.ipv4?.cidr ?? '',
        IPv6Address: endpoint.ipv6?.cidr ?? '',
      };
    }
  }
  return {
    Name: network.name,
    Id: network.id,
    Created: network.created,
    Scope: network.scope,
    Driver: network.driver,
    // Newer engines' field (API 1.48), which newer docker CLIs print as IPV4; older ones ignore it.
    // Every Switchyard network is IPv4 (or, for host and none, addressless, which Docker shows as true).
    EnableIPv4: true,
    EnableIPv6: network.enableIpv6,
    IPAM: {
      Driver: 'default',
      Options: network.ipamOptions,
      Config: network.pools.map((pool) => ({
        Subnet: pool.subnet,
        ...(pool.ipRange ? { IPRange: pool.ipRange } : {}),
        Gateway: pool.gateway,
        ...(Object.keys(pool.auxAddresses).length ? { AuxiliaryAddresses: pool.auxAddresses } : {}),
      })),
    },
    Internal: network.internal,
    Attachable: network.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: network.options,
    Labels: network.labels,
  };
}

/** Go's regexp.MatchString as Docker's id and name filters use it (a plain value matches as a substring). */
function goMatch(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern).test(value);
  } catch {
    return pattern === value;
  }
}

function labelsMatch(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((w) => {
    const at = w.indexOf('=');
    return at < 0 ? w in labels : labels[w.slice(0, at)] === w.slice(at + 1);
  });
}

/** The list filters of `GET /networks` (§5.5). */
function filterNetworks(c: Controller, networks: NetworkRecord[], filters: Map<string, string[]>): NetworkRecord[] {
  const inUse = (n: NetworkRecord) => c.listEndpoints({ networkId: n.id }).length > 0;
  return networks.filter((n) => {
    for (const [key, values] of filters) {
      if (values.length === 0) continue;
      if (key === 'driver' && !values.includes(n.driver)) return false;
      if (key === 'id' && !values.some((v) => goMatch(v, n.id))) return false;
      if (key === 'name' && !values.some((v) => goMatch(v, n.name))) return false;
      if (key === 'label' && !labelsMatch(n.labels, values)) return false;
      if (key === 'scope' && !values.includes(n.scope)) return false;
      if (key === 'type') {
        for (const v of values) if (v !== 'custom' && v !== 'builtin') throw new CnmError('bad-request', `invalid filter: 'type'='${v}'`);
        if (!values.includes(isPredefined(n) ? 'builtin' : 'custom')) return false;
      }
      if (key === 'dangling') {
        if (values.length > 1 || !['true', '1', 'false', '0'].includes(values[0]!)) throw new CnmError('bad-request', `invalid filter 'dangling=${values.join(',')}'`);
        const dangling = !isPredefined(n) && !inUse(n);
        if (dangling !== (values[0] === 'true' || values[0] === '1')) return false;
      }
    }
    return true;
  });
}

/** Until filter of prune: an RFC 3339 time, a Unix timestamp, or a Go duration before now. */
function untilOf(value: string): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const duration = /^(\d+(?:\.\d+)?)(h|m|s|ms)$/.exec(value);
  if (duration) return Date.now() - Number(duration[1]) * { h: 3600e3, m: 60e3, s: 1e3, ms: 1 }[duration[2] as 'h']!;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new CnmError('bad-request', `invalid filter 'until=${value}': not a timestamp or a duration`);
  return time;
}

/** A create request (`NetworkCreateRequest`) read field by field. */
function createSpec(body: unknown): NetworkCreate {
  const f = new Fields(body);
  const name = f.string('Name');
  if (!name || name.trim() === '') throw new CnmError('bad-request', 'Name: a network needs a name', { field: 'Name' });
  if (RESERVED_NAMES.includes(name)) throw forbidden(`operation is not permitted on predefined ${name} network`);
  if (f.bool('Ingress')) throw new CnmError('bad-request', 'Ingress: ingress networks need swarm, which switchyard does not run', { field: 'Ingress' });
  if (f.bool('ConfigOnly') || new Fields(f.raw('ConfigFrom') ?? {}, 'ConfigFrom').string('Network')) {
    throw new CnmError('bad-request', 'ConfigOnly: config-only networks are not supported', { field: 'ConfigOnly' });
  }
  const scope = f.string('Scope');
  if (scope && scope !== 'local') throw new CnmError('bad-request', `Scope: ${JSON.stringify(scope)} is not supported (local)`, { field: 'Scope' });
  const ipam = f.object_('IPAM');
  const config = (ipam.list('Config') ?? []).map((entry, i): SubnetRequest => {
    const e = new Fields(entry, `IPAM.Config[${i}]`);
    const aux = e.stringMap('AuxiliaryAddresses') ?? e.stringMap('AuxAddress');
    const request: SubnetRequest = {};
    const subnet = e.string('Subnet');
    const ipRange = e.string('IPRange');
    const gateway = e.string('Gateway');
    if (subnet) request.subnet = subnet;
    if (ipRange) request.ipRange = ipRange;
    if (gateway) request.gateway = gateway;
    if (aux && Object.keys(aux).length) request.auxAddresses = aux;
    return request;
  });
  const spec: NetworkCreate = { name };
  const driver = f.string('Driver');
  if (driver) spec.driver = driver;
  const flags = { internal: f.bool('Internal'), attachable: f.bool('Attachable'), enableIpv6: f.bool('EnableIPv6') };
  for (const [key, value] of Object.entries(flags)) if (value !== undefined) (spec as unknown as Record<string, unknown>)[key] = value;
  const labels = f.stringMap('Labels');
  const options = f.stringMap('Options');
  if (labels) spec.labels = labels;
  if (options) spec.options = options;
  const ipamDriver = ipam.string('Driver');
  const ipamOptions = ipam.stringMap('Options');
  spec.ipam = { config, ...(ipamDriver ? { driver: ipamDriver } : {}), ...(ipamOptions ? { options: ipamOptions } : {}) };
  return spec;
}

const FIELD_NAMES: Record<string, string> = { subnet: 'Subnet', ipRange: 'IPRange', gateway: 'Gateway', auxAddresses: 'AuxiliaryAddresses' };

/**
 * IPAM names a subnet by family and position (`ipv4[1].gateway`); the API caller wrote
 * `IPAM.Config[2].Gateway`. The message is said in the caller's terms.
 */
function apiField(error: unknown, spec: NetworkCreate): unknown {
  if (!(error instanceof CnmError)) return error;
  const match = /^ipv(4|6)\[(\d+)\](?:\.(\w+))?/.exec(error.message);
  if (!match) return error;
  const [, family, index, key] = match;
  const positions = (spec.ipam?.config ?? []).flatMap((entry, i) => ((entry.subnet?.includes(':') ? '6' : '4') === family ? [i] : []));
  const position = positions[Number(index)];
  if (position === undefined) return error;
  const field = `IPAM.Config[${position}]${key ? `.${FIELD_NAMES[key] ?? key}` : ''}`;
  const renamed = new CnmError(error.category, field + error.message.slice(match[0].length), { field, cause: error });
  return renamed;
}

export function networksRouter(c: Controller): Router {
  const router = Router();

  router.get(
    '/networks',
    route((req, res) => {
      const filters = parseFilters(req.query.filters, ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type']);
      sendJson(res, 200, filterNetworks(c, c.listNetworks(), filters).map((n) => apiNetwork(c, n, false)));
    }),
  );

  router.get(
    '/networks/:id',
    route((req, res) => {
      const scope = req.query.scope;
      const network = c.network(String(req.params.id));
      if (scope && scope !== network.scope) throw notFound(`network ${req.params.id} not found`);
      sendJson(res, 200, apiNetwork(c, network));
    }),
  );

  router.post(
    '/networks/create',
    route(async (req, res) => {
      const spec = createSpec(jsonBody(req, true));
      let network: NetworkRecord;
      try {
        network = await c.createNetwork(spec);
      } catch (error) {
        throw apiField(error, spec);
      }
      sendJson(res, 201, { Id: network.id, Warning: network.driverState.warning ?? '' });
    }),
  );

  router.post(
    '/networks/:id/connect',
    route(async (req, res) => {
      const f = new Fields(jsonBody(req, true));
      const container = f.string('Container');
      if (!container) throw new CnmError('bad-request', 'Container: a sandbox name or id is needed', { field: 'Container' });
      const settings = f.object_('EndpointConfig');
      const ipam = settings.object_('IPAMConfig');
      const ipv4Address = ipam.string('IPv4Address');
      const ipv6Address = ipam.string('IPv6Address');
      const macAddress = settings.string('MacAddress');
      const aliases = settings.stringList('Aliases');
      await c.connect(String(req.params.id), container, {
        ...(ipv4Address ? { ipv4Address } : {}),
        ...(ipv6Address ? { ipv6Address } : {}),
        ...(macAddress ? { macAddress } : {}),
        ...(aliases?.length ? { aliases } : {}),
      });
      res.status(200).end();
    }),
  );

  router.post(
    '/networks/:id/disconnect',
    route(async (req, res) => {
      const f = new Fields(jsonBody(req, true));
      const container = f.string('Container');
      if (!container) throw new CnmError('bad-request', 'Container: a sandbox name or id is needed', { field: 'Container' });
      await c.disconnect(String(req.params.id), container, { force: f.bool('Force') ?? false });
      res.status(200).end();
    }),
  );

  router.delete(
    '/networks/:id',
    route(async (req, res) => {
      const network = c.network(String(req.params.id));
      if (isPredefined(network)) throw forbidden(`${network.name} is a pre-defined network and cannot be removed`);
      if (c.listEndpoints({ networkId: network.id }).length > 0) {
        throw forbidden(`error while removing network: network ${network.name} id ${network.id} has active endpoints`);
      }
      await c.deleteNetwork(network.id);
      res.status(204).end();
    }),
  );

  router.post(
    '/networks/prune',
    route(async (req, res) => {
      const filters = parseFilters(req.query.filters, ['until', 'label', 'label!']);
      const until = filters.get('until')?.map(untilOf);
      const deleted: string[] = [];
      for (const network of c.listNetworks()) {
        if (isPredefined(network) || c.listEndpoints({ networkId: network.id }).length > 0) continue;
        if (until && !until.every((time) => Date.parse(network.created) < time)) continue;
        if (filters.get('label')?.length && !labelsMatch(network.labels, filters.get('label')!)) continue;
        const not = filters.get('label!') ?? [];
        if (not.length && not.some((l) => labelsMatch(network.labels, [l]))) continue;
        try {
          await c.deleteNetwork(network.id);
          deleted.push(network.name);
        } catch (error) {
          // In use by now (a connect raced the prune): left alone, as Docker does.
          if (!(error instanceof CnmError)) throw error;
        }
      }
      sendJson(res, 200, { NetworksDeleted: deleted.length ? deleted : null });
    }),
  );

  return router;
}
