/**
 * Host ports of published ports are reserved by holding a bound socket in the engine: a host
 * process that later tries the port gets EADDRINUSE instead of silently losing its traffic to the
 * DNAT, and a port a host process already holds is refused here ("in use", both ways).
 */
import net from 'node:net';
import dgram from 'node:dgram';

export interface PortReservation {
  release(): Promise<void>;
}

/** Bind hostIp:hostPort (TCP: listen, never accept, since DNAT takes the traffic first; UDP: bind). */
export async function reservePort(proto: 'tcp' | 'udp', hostIp: string, hostPort: number): Promise<PortReservation> {
  if (proto === 'tcp') {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: hostIp, port: hostPort, exclusive: true }, () => resolve());
    });
    server.unref();
    return { release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: hostIp, port: hostPort, exclusive: true }, () => resolve());
  });
  socket.unref();
  return { release: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}
