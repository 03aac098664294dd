/** IPAM's interface with the controller (the implementation is src/ipam/ipam.ts). */

/** One subnet asked for by a network create (`--subnet`, `--ip-range`, `--gateway`, `--aux-address`). */
export interface SubnetRequest {
  /** CIDR; host bits set is an error (as in Docker). Omitted: the first free default pool (IPv4) or a ULA /64 (IPv6). */
  subnet?: string;
  /** CIDR inside the subnet: dynamic addresses come only from here. */
  ipRange?: string;
  /** Address inside the subnet; default: the first usable address. */
  gateway?: string;
  /** name → address inside the subnet, reserved and never handed out. */
  auxAddresses?: Record<string, string>;
}

/** Subnets for one network. */
export interface PoolRequest {
  networkId: string;
  /** For error messages: "subnet 10.1.0.0/16 overlaps network db (10.1.0.0/24)". */
  networkName: string;
  /** IPv4 subnets; empty: one default pool. */
  ipv4: SubnetRequest[];
  /** IPv6 subnets; undefined: no IPv6; empty: one ULA /64 derived from the network id. */
  ipv6?: SubnetRequest[];
  /** Subnets that must not be overlapped: the host's routes (default routes already left out). */
  avoid: string[];
  /**
   * Families whose subnets the host holds no address in (an isolated network): such a subnet may
   * overlap another isolated one (labs that reuse one addressing plan), never a routed one.
   */
  isolated?: { 4?: boolean; 6?: boolean };
}

/** A subnet IPAM reserved for a network. */
export interface Pool {
  /** Stable id, usable as a store key part (no '/'). */
  poolId: string;
  networkId: string;
  networkName: string;
  family: 4 | 6;
  /** Canonical CIDR: `172.18.0.0/16`. */
  subnet: string;
  ipRange?: string;
  /** Plain address: `172.18.0.1`. */
  gateway: string;
  auxAddresses: Record<string, string>;
  /** Reserved for an isolated network (PoolRequest.isolated): may overlap other isolated pools. */
  isolated?: boolean;
}

/** An address handed out. */
export interface Lease {
  poolId: string;
  /** Plain address. */
  address: string;
  /** With the subnet's prefix: `172.18.0.2/16`. */
  cidr: string;
  /** Who holds it: an endpoint id, `gateway`, or `aux:<name>`. */
  owner: string;
}

export interface Ipam {
  /**
   * Validate and reserve the subnets of a network, with its gateway and auxiliary addresses, all or
   * nothing. Errors (CnmError, category bad-request or conflict) name the field: `ipv4[0].subnet`.
   */
  requestPools(request: PoolRequest): Promise<Pool[]>;
  /** Release every pool of a network and all its addresses. Idempotent. */
  releasePools(networkId: string): Promise<void>;
  /** The pools of one network, or of all networks. */
  pools(networkId?: string): Promise<Pool[]>;
  /**
   * Hand out an address of the pool to `owner`: `address` if given (a static address; error if
   * outside the subnet or in use, naming the holder), else the lowest free address in the ip-range
   * (or subnet). Safe against concurrent callers and other engines on the same store.
   */
  requestAddress(poolId: string, owner: string, address?: string): Promise<Lease>;
  /**
   * Give an address back. Idempotent. With `owner`, only while that owner still holds it: a late
   * second release cannot take the address from whoever got it since.
   */
  releaseAddress(poolId: string, address: string, owner?: string): Promise<void>;
  /** Every address of a pool that is handed out. */
  leases(poolId: string): Promise<Lease[]>;
}
