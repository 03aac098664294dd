/** Reachability probe from inside a sandbox: ICMP echo on a raw socket, no `ping` process. */
import { native } from '../../native/index.js';
import { AF_INET, AF_INET6, parseIp } from '../netlink/ip.js';
import { fromNative } from '../netlink/errors.js';
import { closeFd } from '../netlink/socket.js';

const SOCK_RAW = 3;
const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;

export interface EchoOptions {
  timeoutMs?: number;
  /** Resend every this many milliseconds until a reply (default 1). */
  intervalMs?: number;
}

let nextIdent = (process.pid * 7919) & 0xffff;

/**
 * Send ICMP echo requests from inside the namespace at netnsPath to `address` until the first
 * reply; resolve with the microseconds it took, or null when none came in time.
 * Equivalent to: `ip netns exec NAME ping -c1 -W T ADDRESS`
 */
export async function icmpEcho(netnsPath: string | null, address: string, options: EchoOptions = {}): Promise<number | null> {
  const ip = parseIp(address);
  const family = ip.family;
  let fd: number;
  try {
    fd = await native().socketIn(netnsPath, family, SOCK_RAW, family === AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
  } catch (error) {
    throw fromNative(`open icmp socket in ${netnsPath ?? 'the host namespace'}`, error);
  }
  try {
    nextIdent = (nextIdent + 1) & 0xffff;
    return await native().icmpEcho(fd, family === AF_INET ? AF_INET : AF_INET6, ip.bytes, nextIdent, options.timeoutMs ?? 2000, options.intervalMs ?? 1);
  } catch (error) {
    throw fromNative(`icmp echo to ${address}`, error);
  } finally {
    closeFd(fd);
  }
}
