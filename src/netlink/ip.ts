/** Address helpers for the kernel layer: text ⇄ bytes for IPv4, IPv6 and MAC, and CIDR parsing. */
import net from 'node:net';
import { ValidationError } from './errors.js';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_BRIDGE = 7;

/** An address as the kernel wants it. */
export interface IpBytes {
  family: typeof AF_INET | typeof AF_INET6;
  bytes: Buffer;
}

/** Parse an IPv4 or IPv6 address (no prefix) into bytes. */
export function parseIp(text: string, field = 'address'): IpBytes {
  if (net.isIPv4(text)) return { family: AF_INET, bytes: Buffer.from(text.split('.').map(Number)) };
  if (net.isIPv6(text)) return { family: AF_INET6, bytes: ipv6Bytes(text) };
  throw new ValidationError(field, `${JSON.stringify(text)} is not an IPv4 or IPv6 address`);
}

function ipv6Bytes(text: string): Buffer {
  let head = text;
  let tail = '';
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  const out = Buffer.alloc(16);
  if (v4) {
    Buffer.from(v4[1]!.split('.').map(Number)).copy(out, 12);
    text = text.slice(0, -v4[1]!.length) + '0:0';
  }
  [head, tail = ''] = text.includes('::') ? text.split('::') : [text, ''];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = [...headGroups, ...new Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  groups.forEach((group, i) => {
    if (v4 && i >= 6) return;
    out.writeUInt16BE(parseInt(group, 16), i * 2);
  });
  return out;
}

/** Format address bytes as text (4 bytes IPv4, 16 bytes IPv6, compressed as `ip` prints it). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) throw new Error(`formatIp: ${bytes.length} bytes is not an address`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  // An embedded IPv4 address is printed dotted, as glibc's inet_ntop (and so `ip`) does:
  // `::ffff:1.2.3.4` (v4-mapped) and `::1.2.3.4` (v4-compatible).
  if (bestStart === 0 && (bestLength === 6 || (bestLength === 5 && groups[5] === 0xffff))) {
    return `::${bestLength === 5 ? 'ffff:' : ''}${Array.from(bytes.subarray(12)).join('.')}`;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** An address with its prefix length, as in `10.0.0.2/24`. */
export interface Cidr extends IpBytes {
  address: string;
  prefixLength: number;
}

/** Parse `ADDRESS/PREFIX` (a bare address means a host prefix). */
export function parseCidr(text: string, field = 'address'): Cidr {
  const [address = '', prefixText, ...rest] = text.split('/');
  const ip = parseIp(address, field);
  const max = ip.family === AF_INET ? 32 : 128;
  const prefixLength = prefixText === undefined ? max : Number(prefixText);
  if (rest.length > 0 || !/^\d+$/.test(prefixText ?? String(max)) || prefixLength > max) {
    throw new ValidationError(field, `${JSON.stringify(text)} has an invalid prefix length (0-${max})`);
  }
  return { ...ip, address, prefixLength };
}

/** Bytes of the network with the host bits of `ip` cleared. */
export function networkBytes(ip: IpBytes, prefixLength: number): Buffer {
  const out = Buffer.from(ip.bytes);
  for (let bit = prefixLength; bit < out.length * 8; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return out;
}

/** IPv4 broadcast address of the subnet (all host bits set). */
export function broadcastBytes(ip: IpBytes, prefixLength: number): Buffer {
  const out = Buffer.from(ip.bytes);
  for (let bit = prefixLength; bit < out.length * 8; bit++) out[bit >> 3]! |= 0x80 >> (bit & 7);
  return out;
}

/** Parse a MAC address `aa:bb:cc:dd:ee:ff`. */
export function parseMac(text: string, field = 'hardwareAddr'): Buffer {
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(text)) {
    throw new ValidationError(field, `${JSON.stringify(text)} is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  }
  return Buffer.from(text.split(':').map((part) => parseInt(part, 16)));
}

/** Format MAC bytes as `aa:bb:cc:dd:ee:ff`. */
export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}
