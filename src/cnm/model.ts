/** The records the controller keeps in the store: networks, endpoints, sandboxes. */
import type { Pool } from '../ipam/types.js';

/** Life of a record: intent written before kernel work, marked ready after it. */
export type RecordState = 'creating' | 'ready' | 'deleting';

export interface NetworkRecord {
  id: string;
  name: string;
  driver: string;
  scope: 'local' | 'global';
  internal: boolean;
  attachable: boolean;
  enableIpv6: boolean;
  labels: Record<string, string>;
  /** Driver options as given (`-o k=v`). */
  options: Record<string, string>;
  ipamOptions: Record<string, string>;
  /** What the user asked IPAM for, for inspect. */
  ipamConfig: Array<{ subnet?: string; ipRange?: string; gateway?: string; auxAddresses?: Record<string, string> }>;
  pools: Pool[];
  /** What the driver wants to remember (bridge name, whether it created the bridge). */
  driverState: Record<string, string>;
  created: string;
  state: RecordState;
}

export interface EndpointRecord {
  id: string;
  networkId: string;
  sandboxId: string;
  /** Name of the interface inside the sandbox (`eth0`). */
  interfaceName: string;
  macAddress: string;
  /** `172.18.0.2/16`, with the pool it came from. */
  ipv4?: { poolId: string; cidr: string };
  ipv6?: { poolId: string; cidr: string };
  aliases: string[];
  /** Asked-for static addresses, for inspect (IPAMConfig). */
  requested: { ipv4?: string; ipv6?: string };
  driverState: Record<string, string>;
  state: RecordState;
}

/**
 * A port published by a sandbox (Docker's `-p [hostIp:][hostPort[-end]:]port[/proto]`), as asked for.
 * src/cnm/ports.ts parses and checks it; the driver decides the host port and records what it bound.
 */
export interface PortSpec {
  proto: 'tcp' | 'udp';
  /**
   * Host address. Empty: every address of both families (IPv6 only when the endpoint has an IPv6
   * address, as Docker does); `0.0.0.0`: every IPv4 address; `::`: every IPv6 address.
   */
  hostIp: string;
  /** Host port; 0: any free port the kernel picks. With hostPortEnd, the first free one of the range. */
  hostPort: number;
  hostPortEnd?: number;
  /** The port inside the sandbox. */
  port: number;
}

/** A published port as bound: one family, one host port (recorded on the endpoint). */
export interface PortBinding {
  proto: 'tcp' | 'udp';
  /** `0.0.0.0`, `::` or one host address. */
  hostIp: string;
  hostPort: number;
  port: number;
}

export interface SandboxRecord {
  id: string;
  name: string;
  /** Published on the sandbox's gateway endpoint (the one that gives it its default route). */
  ports?: PortSpec[];
  /** The namespace file (SandboxKey). */
  path: string;
  created: string;
  state: RecordState;
}

export const keys = {
  network: (id: string) => `networks/${id}`,
  networkName: (name: string) => `names/networks/${name}`,
  endpoint: (networkId: string, endpointId: string) => `endpoints/${networkId}/${endpointId}`,
  endpoints: (networkId?: string) => (networkId ? `endpoints/${networkId}/` : 'endpoints/'),
  sandbox: (id: string) => `sandboxes/${id}`,
  sandboxName: (name: string) => `names/sandboxes/${name}`,
} as const;
