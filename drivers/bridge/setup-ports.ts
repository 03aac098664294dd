/**
 * Published ports of a sandbox's gateway endpoint: each host port reserved by a bound socket in the
 * engine, then DNAT map elements to the endpoint's address. The ports are recorded on the endpoint,
 * so revoking and the firewall rebuild work from the record alone.
 */
import type { DriverContext } from '../../src/cnm/driver.js';
import type { EndpointRecord, NetworkRecord, PortSpec } from '../../src/cnm/model.js';
import { CnmError } from '../../src/cnm/errors.js';
import type { PublishedPort } from '../../src/firewall/ruleset.js';
import { reservePort, type PortReservation } from '../../src/firewall/reservation.js';
import { conntrackDeletePort } from '../../src/firewall/conntrack.js';

/** Reservations live as long as the engine process: per endpoint id. */
const reservations = new Map<string, PortReservation[]>();

/** The endpoint's published ports as the firewall wants them. */
export function publishedPorts(endpoint: EndpointRecord): PublishedPort[] {
  if (!endpoint.driverState.ports || !endpoint.ipv4) return [];
  const target = endpoint.ipv4.cidr.split('/')[0]!;
  return (JSON.parse(endpoint.driverState.ports) as PortSpec[]).map((p) => ({ proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort, target, targetPort: p.port }));
}

async function reserveAll(endpoint: EndpointRecord, ports: PortSpec[]): Promise<PortReservation[]> {
  const held: PortReservation[] = [];
  for (const port of ports) {
    try {
      held.push(await reservePort(port.proto, port.hostIp, port.hostPort));
    } catch (error) {
      await Promise.all(held.map((r) => r.release()));
      const code = (error as NodeJS.ErrnoException).code;
      const what = `publish port ${port.hostIp}:${port.hostPort}/${port.proto}`;
      if (code === 'EADDRINUSE') throw new CnmError('conflict', `${what}: the host port is already in use`, { field: 'ports' });
      if (code === 'EADDRNOTAVAIL') throw new CnmError('bad-request', `${what}: ${port.hostIp} is not an address of this host`, { field: 'ports' });
      throw new CnmError('internal', `${what}: ${(error as Error).message}`);
    }
  }
  reservations.set(endpoint.id, held);
  return held;
}

/** Reserve the host ports, then add the DNAT elements. Undo: remove them, release the ports. */
export async function setupPorts(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord, ports: PortSpec[]): Promise<void> {
  if (network.internal || !endpoint.ipv4) return;
  const held = await reserveAll(endpoint, ports);
  ctx.undo.push('release host ports', async () => {
    reservations.delete(endpoint.id);
    await Promise.all(held.map((r) => r.release()));
  });
  endpoint.driverState.ports = JSON.stringify(ports);
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
  for (const port of published) await conntrackDeletePort(port.proto, port.hostPort);
  const held = reservations.get(endpoint.id) ?? [];
  reservations.delete(endpoint.id);
  await Promise.all(held.map((r) => r.release()));
}

/** After a restart: reserve the host ports of a published endpoint again. */
export async function restorePorts(endpoint: EndpointRecord): Promise<void> {
  if (!endpoint.driverState.ports || reservations.has(endpoint.id)) return;
  await reserveAll(endpoint, JSON.parse(endpoint.driverState.ports) as PortSpec[]);
}
