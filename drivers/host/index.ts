/**
 * The host driver: Docker's `host` network. Something on it shares the host's network namespace;
 * a sandbox has a namespace of its own, so it cannot join (containers will, by not getting one).
 * One network at most, no addresses, no kernel objects.
 */
import type { Capabilities, Driver, EndpointInterface, JoinResult } from '../../src/cnm/driver.js';
import { badRequest, forbidden } from '../../src/cnm/errors.js';

export class HostDriver implements Driver {
  readonly type = 'host';

  capabilities(): Capabilities {
    return { scope: 'local', connectivityScope: 'local', singleton: true, addresses: false };
  }

  validateNetworkOptions(options: Record<string, string>): Record<string, string> {
    const [key] = Object.keys(options);
    if (key !== undefined) throw badRequest(`options.${key}: driver host takes no options`, `options.${key}`);
    return {};
  }

  async createNetwork(): Promise<void> {}

  async deleteNetwork(): Promise<void> {}

  async createEndpoint(): Promise<EndpointInterface | undefined> {
    throw forbidden('a sandbox has a network namespace of its own: it cannot be connected to the host network');
  }

  async deleteEndpoint(): Promise<void> {}

  async join(): Promise<JoinResult> {
    throw forbidden('a sandbox has a network namespace of its own: it cannot be connected to the host network');
  }

  async leave(): Promise<void> {}

  async endpointOperInfo(): Promise<Record<string, unknown>> {
    return {};
  }
}
