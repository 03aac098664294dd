/** Address arithmetic for IPAM: addresses and subnets as BigInt, parsed from and written as text. */
import net from 'node:net';
import { formatIp, parseIp } from '../netlink/ip.js';

export type Family = 4 | 6;

/** A plain address as a number. */
export interface Address {
  family: Family;
  value: bigint;
}

/** An address with a prefix length, as written (`172.18.0.5/16`): host bits may be set. */
export interface Prefixed extends Address {
  prefixLength: number;
}

/** A subnet: `network` has no host bits set. */
export interface Subnet {
  family: Family;
  network: bigint;
  prefixLength: number;
}

/** Address width of a family in bits. */
export function bitsOf(family: Family): number {
  return family === 4 ? 32 : 128;
}

/** A plain IPv4 or IPv6 address, or undefined when the text is not one (zone ids are not addresses here). */
export function parseAddress(text: string): Address | undefined {
  let family: Family;
  if (net.isIPv4(text)) family = 4;
  else if (net.isIPv6(text) && !text.includes('%')) family = 6;
  else return undefined;
  let value = 0n;
  for (const byte of parseIp(text).bytes) value = (value << 8n) | BigInt(byte);
  return { family, value };
}

/** `ADDRESS/PREFIX` (the prefix is required), or undefined when the text is not one. */
export function parsePrefixed(text: string): Prefixed | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!match) return undefined;
  const address = parseAddress(match[1]!);
  const prefixLength = Number(match[2]);
  if (!address || prefixLength > bitsOf(address.family)) return undefined;
  return { ...address, prefixLength };
}

/** The address with its host bits (beyond prefixLength) cleared. */
export function maskAddress(family: Family, value: bigint, prefixLength: number): bigint {
  const hostBits = BigInt(bitsOf(family) - prefixLength);
  return (value >> hostBits) << hostBits;
}

/** The subnet a prefixed address lies in. */
export function subnetOf(prefixed: Prefixed): Subnet {
  return { family: prefixed.family, network: maskAddress(prefixed.family, prefixed.value, prefixed.prefixLength), prefixLength: prefixed.prefixLength };
}

/** Number of addresses in the subnet. */
export function subnetSize(subnet: Subnet): bigint {
  return 1n << BigInt(bitsOf(subnet.family) - subnet.prefixLength);
}

/** The highest address of the subnet (the IPv4 broadcast address). */
export function lastAddress(subnet: Subnet): bigint {
  return subnet.network + subnetSize(subnet) - 1n;
}

/** Whether the address lies in the subnet. */
export function subnetContains(subnet: Subnet, address: Address): boolean {
  return address.family === subnet.family && address.value >= subnet.network && address.value <= lastAddress(subnet);
}

/** Whether `inner` lies wholly inside `outer`. */
export function subnetCovers(outer: Subnet, inner: Subnet): boolean {
  return inner.family === outer.family && inner.prefixLength >= outer.prefixLength && subnetContains(outer, { family: inner.family, value: inner.network });
}

/** Whether two subnets share an address (subnets of different families never do). */
export function subnetsOverlap(a: Subnet, b: Subnet): boolean {
  return a.family === b.family && a.network <= lastAddress(b) && b.network <= lastAddress(a);
}

/** Text of an address: dotted IPv4, compressed lower-case IPv6 (as `ip` prints it). */
export function formatAddress(family: Family, value: bigint): string {
  const bytes = Buffer.alloc(family === 4 ? 4 : 16);
  let rest = value;
  for (let i = bytes.length - 1; i >= 0; i--) {
    bytes[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return formatIp(bytes);
}

/** Canonical text of a subnet: `172.18.0.0/16`. */
export function formatSubnet(subnet: Subnet): string {
  return `${formatAddress(subnet.family, subnet.network)}/${subnet.prefixLength}`;
}

/** A canonical subnet text parsed back (for values this module wrote). */
export function parseSubnet(text: string): Subnet {
  const prefixed = parsePrefixed(text);
  if (!prefixed) throw new Error(`ipam: ${JSON.stringify(text)} is not a subnet`);
  return subnetOf(prefixed);
}
