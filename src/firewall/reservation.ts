/**
 * Host ports of published ports are reserved by holding a bound socket in the engine: a host
 * process that later tries the port gets EADDRINUSE instead of silently losing its traffic to the
 * DNAT, and a port a host process already holds is refused here ("in use", both ways).
 */
import net from 'node:net';
import dgram from 'node:dgram';

export interface PortReservation {
  /** The port bound (the kernel's pick when 0 was asked for). */
  port: number;
  release(): Promise<void>;
}

/**
 * Bind hostIp:hostPort (TCP: listen, never accept, since DNAT takes the traffic first; UDP: bind).
 * `0.0.0.0` and `::` are every address of one family (`::` is IPv6 only); port 0 lets the kernel pick.
 */
export async function reservePort(proto: 'tcp' | 'udp', hostIp: string, hostPort: number): Promise<PortReservation> {
  const ipv6 = net.isIPv6(hostIp);
  if (proto === 'tcp') {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: hostIp, port: hostPort, exclusive: true, ipv6Only: ipv6 }, () => resolve());
    });
    server.unref();
    return { port: (server.address() as net.AddressInfo).port, release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }
  const socket = dgram.createSocket({ type: ipv6 ? 'udp6' : 'udp4', reuseAddr: false, ipv6Only: ipv6 });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: hostIp, port: hostPort, exclusive: true }, () => resolve());
  });
  socket.unref();
  return { port: socket.address().port, release: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}
