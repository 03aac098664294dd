/**
 * Published ports: Docker's `-p` syntax parsed into PortSpecs, and PortSpecs checked (field named,
 * rule stated) before anything is made.
 */
import net from 'node:net';
import { badRequest } from './errors.js';
import type { PortSpec } from './model.js';

function portNumber(text: string, what: string, field: string, allowZero = false): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535) throw badRequest(`${field}: ${what} ${JSON.stringify(text)} is not a port (1-65535)`, field);
  return n;
}

function portRange(text: string, what: string, field: string): [number, number] {
  const [start = '', end, extra] = text.split('-');
  if (extra !== undefined) throw badRequest(`${field}: ${what} ${JSON.stringify(text)} is not a port or a range START-END`, field);
  const first = portNumber(start, what, field);
  const last = end === undefined ? first : portNumber(end, what, field);
  if (last < first) throw badRequest(`${field}: ${what} range ${JSON.stringify(text)} ends before it starts`, field);
  return [first, last];
}

/**
 * Parse one `-p` value: `[hostIp:][hostPort[-end]:]port[-end][/tcp|udp]`, an IPv6 host address in
 * brackets (`[::1]:8080:80`). A range of container ports maps one to one onto a host range of the
 * same length (or onto ports the kernel picks); one container port with a host range takes the first
 * free host port of it. Equivalent to docker's nat.ParsePortSpec.
 */
export function parsePublish(text: string, field = 'publish'): PortSpec[] {
  let rest = text;
  let proto: 'tcp' | 'udp' = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const name = rest.slice(slash + 1).toLowerCase();
    if (name !== 'tcp' && name !== 'udp') throw badRequest(`${field}: protocol ${JSON.stringify(name)} in ${JSON.stringify(text)} is not tcp or udp`, field);
    proto = name;
    rest = rest.slice(0, slash);
  }
  let hostIp = '';
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0 || rest[close + 1] !== ':') throw badRequest(`${field}: ${JSON.stringify(text)}: an IPv6 host address is written [ADDRESS]:HOSTPORT:PORT`, field);
    hostIp = rest.slice(1, close);
    if (!net.isIPv6(hostIp)) throw badRequest(`${field}: ${JSON.stringify(hostIp)} is not an IPv6 address`, field);
    rest = rest.slice(close + 2);
    if (!rest.includes(':')) rest = `:${rest}`;
  }
  const parts = rest.split(':');
  if (parts.length > 3 || (hostIp && parts.length !== 2)) {
    throw badRequest(`${field}: ${JSON.stringify(text)} is not [HOSTIP:][HOSTPORT:]PORT[/PROTO] (an IPv6 host address goes in brackets)`, field);
  }
  const container = parts.pop()!;
  const host = parts.pop() ?? '';
  if (parts.length) {
    hostIp = parts.pop()!;
    if (!net.isIP(hostIp)) throw badRequest(`${field}: ${JSON.stringify(hostIp)} is not an IP address`, field);
  }
  const [first, last] = portRange(container, 'container port', field);
  if (host === '') {
    const specs: PortSpec[] = [];
    for (let port = first; port <= last; port++) specs.push({ proto, hostIp, hostPort: 0, port });
    return specs;
  }
  const [hostFirst, hostLast] = portRange(host, 'host port', field);
  if (first === last) return [{ proto, hostIp, hostPort: hostFirst, ...(hostLast !== hostFirst ? { hostPortEnd: hostLast } : {}), port: first }];
  if (hostLast - hostFirst !== last - first) {
    throw badRequest(`${field}: ${JSON.stringify(text)}: the host range (${hostLast - hostFirst + 1} ports) and the container range (${last - first + 1} ports) differ in length`, field);
  }
  const specs: PortSpec[] = [];
  for (let i = 0; i <= last - first; i++) specs.push({ proto, hostIp, hostPort: hostFirst + i, port: first + i });
  return specs;
}

/**
 * Check published ports as given to the controller (API shapes, so any type may arrive): protocol,
 * host address of either family, port numbers and ranges, no host port published twice.
 */
export function checkPorts(ports: unknown): PortSpec[] {
  if (!Array.isArray(ports)) throw badRequest('ports: must be a list', 'ports');
  const seen = new Map<string, Array<{ address: string; field: string }>>();
  return ports.map((value, i) => {
    const field = `ports[${i}]`;
    if (typeof value !== 'object' || value === null) throw badRequest(`${field}: must be an object {proto, hostIp, hostPort, port}`, field);
    const port = value as Partial<Record<keyof PortSpec, unknown>>;
    const proto = port.proto ?? 'tcp';
    if (proto !== 'tcp' && proto !== 'udp') throw badRequest(`${field}.proto: ${JSON.stringify(proto)} is not tcp or udp`, `${field}.proto`);
    const hostIp = port.hostIp ?? '';
    if (typeof hostIp !== 'string' || (hostIp !== '' && !net.isIP(hostIp))) throw badRequest(`${field}.hostIp: ${JSON.stringify(hostIp)} is not an IP address`, `${field}.hostIp`);
    const number = (key: 'hostPort' | 'hostPortEnd' | 'port', min: number) => {
      const n = port[key];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > 65535) throw badRequest(`${field}.${key}: ${JSON.stringify(n)} is not a port (${min}-65535)`, `${field}.${key}`);
      return n;
    };
    const hostPort = port.hostPort === undefined ? 0 : number('hostPort', 0);
    const hostPortEnd = port.hostPortEnd === undefined ? undefined : number('hostPortEnd', 1);
    if (hostPortEnd !== undefined && (hostPort === 0 || hostPortEnd < hostPort)) {
      throw badRequest(`${field}.hostPortEnd: ${hostPortEnd} must not be below hostPort (${hostPort}), which must be given`, `${field}.hostPortEnd`);
    }
    const inner = number('port', 1);
    // A fixed host port may be published once per address; every address (`''`, 0.0.0.0, ::)
    // overlaps each single one of its family. (Ranges are left to the reservation: it takes a free
    // port of each.)
    if (hostPort !== 0 && hostPortEnd === undefined) {
      const families = hostIp === '' ? [4, 6] : [net.isIPv4(hostIp) ? 4 : 6];
      const address = hostIp === '' || hostIp === '0.0.0.0' || hostIp === '::' ? 'any' : hostIp;
      for (const family of families) {
        const key = `${family} ${hostPort}/${proto}`;
        const earlier = seen.get(key) ?? [];
        const clash = earlier.find((e) => e.address === 'any' || address === 'any' || e.address === address);
        if (clash) throw badRequest(`${field}: host port ${hostPort}/${proto} is already published by ${clash.field}`, field);
        seen.set(key, [...earlier, { address, field }]);
      }
    }
    return { proto, hostIp, hostPort, ...(hostPortEnd !== undefined && hostPortEnd !== hostPort ? { hostPortEnd } : {}), port: inner };
  });
}
