/**
 * Published ports of a sandbox's gateway endpoint: each host port reserved by a bound socket in the
 * engine, then DNAT map elements to the endpoint's address. The ports are recorded on the endpoint,
 * so revoking and the firewall rebuild work from the record alone.
 */
import type { DriverContext } from '../../src/cnm/driver.js';
import net from 'node:net';
import type { EndpointRecord, NetworkRecord, PortBinding, PortSpec } from '../../src/cnm/model.js';
import { CnmError } from '../../src/cnm/errors.js';
import type { PublishedPort } from '../../src/firewall/ruleset.js';
import { reservePort, type PortReservation } from '../../src/firewall/reservation.js';

/** Reservations live as long as the engine process: per endpoint id. */
const reservations = new Map<string, PortReservation[]>();

/** The endpoint's published ports as the firewall wants them. */
export function publishedPorts(endpoint: EndpointRecord): PublishedPort[] {
  if (!endpoint.driverState.ports) return [];
  const targets = { 4: endpoint.ipv4?.cidr.split('/')[0], 6: endpoint.ipv6?.cidr.split('/')[0] };
  return (JSON.parse(endpoint.driverState.ports) as PortBinding[]).flatMap((p) => {
    const target = targets[net.isIPv6(p.hostIp) ? 6 : 4];
    return target ? [{ proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort, target, targetPort: p.port }] : [];
  });
}

/** The host addresses one spec binds: every address means both families the endpoint has. */
function addressesOf(endpoint: EndpointRecord, spec: PortSpec, what: string): string[] {
  if (spec.hostIp === '') return [...(endpoint.ipv4 ? ['0.0.0.0'] : []), ...(endpoint.ipv6 ? ['::'] : [])];
  const ipv6 = net.isIPv6(spec.hostIp);
  if (ipv6 && !endpoint.ipv6) throw new CnmError('bad-request', `${what}: ${spec.hostIp} is IPv6 but the endpoint has no IPv6 address (create the network with --ipv6)`, { field: 'ports' });
  if (!ipv6 && !endpoint.ipv4) throw new CnmError('bad-request', `${what}: ${spec.hostIp} is IPv4 but the endpoint has no IPv4 address`, { field: 'ports' });
  return [spec.hostIp];
}

function reservationError(error: unknown, what: string, hostIp: string): CnmError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new CnmError('conflict', `${what}: the host port is already in use`, { field: 'ports' });
  if (code === 'EADDRNOTAVAIL') return new CnmError('bad-request', `${what}: ${hostIp} is not an address of this host`, { field: 'ports' });
  return new CnmError('internal', `${what}: ${(error as Error).message}`);
}

/**
 * Bind one spec on each of its addresses, on one host port: the fixed one, the first free one of a
 * range, or the kernel's pick (taken again on the other family's address).
 */
async function bindSpec(endpoint: EndpointRecord, spec: PortSpec): Promise<{ bindings: PortBinding[]; held: PortReservation[] }> {
  const range = spec.hostPortEnd ? `${spec.hostPort}-${spec.hostPortEnd}` : String(spec.hostPort || '');
  const what = `publish port ${spec.hostIp.includes(':') ? `[${spec.hostIp}]` : spec.hostIp}:${range}:${spec.port}/${spec.proto}`;
  const addresses = addressesOf(endpoint, spec, what);
  const candidates: number[] = [];
  for (let port = spec.hostPort; port <= (spec.hostPortEnd ?? spec.hostPort); port++) candidates.push(port);
  if (spec.hostPort === 0) candidates.push(0, 0, 0, 0); // the kernel's pick may be taken on the other family
  let last: unknown;
  for (const candidate of candidates) {
    const held: PortReservation[] = [];
    try {
      for (const address of addresses) held.push(await reservePort(spec.proto, address, held[0]?.port ?? candidate));
      return { bindings: addresses.map((hostIp) => ({ proto: spec.proto, hostIp, hostPort: held[0]!.port, port: spec.port })), held };
    } catch (error) {
      await Promise.all(held.map((r) => r.release()));
      last = error;
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
    }
  }
  const error = reservationError(last, what, addresses.find((a) => a !== '0.0.0.0' && a !== '::') ?? addresses[0]!);
  if (spec.hostPortEnd && (last as NodeJS.ErrnoException).code === 'EADDRINUSE') error.message = `${what}: every host port of the range is in use`;
  throw error;
}

async function reserveAll(endpoint: EndpointRecord, specs: PortSpec[]): Promise<PortBinding[]> {
  const held: PortReservation[] = [];
  const bindings: PortBinding[] = [];
  try {
    for (const spec of specs) {
      const bound = await bindSpec(endpoint, spec);
      held.push(...bound.held);
      bindings.push(...bound.bindings);
    }
  } catch (error) {
    await Promise.all(held.map((r) => r.release()));
    throw error;
  }
  reservations.set(endpoint.id, held);
  return bindings;
}

/** Reserve the host ports, then add the DNAT elements. Undo: remove them, release the ports. */
export async function setupPorts(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord, ports: PortSpec[]): Promise<void> {
  if (network.internal || (!endpoint.ipv4 && !endpoint.ipv6)) return;
  const bindings = await reserveAll(endpoint, ports);
  ctx.undo.push('release host ports', () => releaseAll(endpoint));
  endpoint.driverState.ports = JSON.stringify(bindings);
  const published = publishedPorts(endpoint);
  await ctx.firewall.addPorts(published);
  ctx.undo.push('unpublish ports', () => ctx.firewall.removePorts(published));
}

/**
 * Remove the DNAT elements, forget the flows they translated (a UDP flow would otherwise keep going
 * to this endpoint until its conntrack entry times out, even after another endpoint publishes the
 * port), and release the host ports; gone counts as done.
 */
export async function teardownPorts(ctx: DriverContext, endpoint: EndpointRecord): Promise<void> {
  const published = publishedPorts(endpoint);
  await ctx.firewall.removePorts(published);
  await ctx.firewall.forgetFlows(published);
  await releaseAll(endpoint);
}

async function releaseAll(endpoint: EndpointRecord): Promise<void> {
  const held = reservations.get(endpoint.id) ?? [];
  reservations.delete(endpoint.id);
  await Promise.all(held.map((r) => r.release()));
}

/** After a restart: reserve the host ports of a published endpoint again. */
export async function restorePorts(endpoint: EndpointRecord): Promise<void> {
  if (!endpoint.driverState.ports || reservations.has(endpoint.id)) return;
  // The bindings as recorded: the same host ports as before the restart.
  await reserveAll(endpoint, JSON.parse(endpoint.driverState.ports) as PortBinding[]);
}
