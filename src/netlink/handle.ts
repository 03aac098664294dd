/** A handle on one network namespace's rtnetlink: every typed operation takes one. */
import { NetlinkSocket } from './socket.js';

const NETLINK_ROUTE = 0;

/** Where a handle's socket lives. */
export interface HandleOptions {
  /** Path of a network namespace file (a sandbox's nsfs mount, /proc/PID/ns/net); omitted: this process's namespace. */
  netnsPath?: string | null;
}

/** rtnetlink in one namespace. The socket is opened inside that namespace on a throwaway thread. */
export class Handle {
  readonly socket: NetlinkSocket;
  /** The namespace this handle talks to (null: the process's own). */
  readonly netnsPath: string | null;

  private constructor(socket: NetlinkSocket, netnsPath: string | null) {
    this.socket = socket;
    this.netnsPath = netnsPath;
  }

  /** Open a handle in the given namespace. */
  static async open(options: HandleOptions = {}): Promise<Handle> {
    const netnsPath = options.netnsPath ?? null;
    return new Handle(await NetlinkSocket.open(netnsPath, NETLINK_ROUTE, 'netlink'), netnsPath);
  }

  /** Adopt a NETLINK_ROUTE socket fd opened by the native layer (e.g. with a new sandbox). */
  static fromFd(fd: number, netnsPath: string | null): Handle {
    return new Handle(new NetlinkSocket(fd), netnsPath);
  }

  /** Close the socket once outstanding requests are answered. */
  close(): void {
    this.socket.close();
  }

  /** Where this handle points, for error messages. */
  describe(): string {
    return this.netnsPath ?? 'the host namespace';
  }
}
