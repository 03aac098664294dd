/** Where subnets come from when a network asks for none: Docker's local default pools and a ULA /64. */
import { createHash } from 'node:crypto';
import { formatAddress } from './cidr.js';

/**
 * Docker's predefined local pools, in the order they are tried: 172.17.0.0/16 … 172.31.0.0/16, then
 * 192.168.0.0/16 in /20 steps (moby ipamutils: 31 pools).
 */
export const defaultIpv4Pools: readonly string[] = [
  ...Array.from({ length: 15 }, (_, index) => `172.${17 + index}.0.0/16`),
  ...Array.from({ length: 16 }, (_, index) => `192.168.${index * 16}.0/20`),
];

/** How many /64 subnet ids a ULA /48 has. */
export const ulaSubnetCount = 0x10000;

/**
 * A unique local /64 for a network: fd00::/8, a 40-bit global id from a hash of the network id (so
 * the same network always gets the same prefix, RFC 4193 §3.2), then the 16-bit subnet id.
 */
export function ulaSubnet(networkId: string, subnetId = 0): string {
  if (!Number.isInteger(subnetId) || subnetId < 0 || subnetId >= ulaSubnetCount) throw new RangeError(`ipam: ula subnet id ${subnetId} is out of range`);
  const digest = createHash('sha256').update(networkId).digest();
  let globalId = 0n;
  for (const byte of digest.subarray(0, 5)) globalId = (globalId << 8n) | BigInt(byte);
  const network = (0xfdn << 120n) | (globalId << 80n) | (BigInt(subnetId) << 64n);
  return `${formatAddress(6, network)}/64`;
}
