/**
 * The null driver: Docker's `none` network. A sandbox on it has loopback only, and no other
 * network ("private" mode). One network at most, no addresses, no kernel objects.
 */
import type { Capabilities, Driver, EndpointInterface, JoinResult, JoinTarget } from '../../src/cnm/driver.js';
import { badRequest } from '../../src/cnm/errors.js';

export class NullDriver implements Driver {
  readonly type = 'null';

  capabilities(): Capabilities {
    return { scope: 'local', connectivityScope: 'local', singleton: true, addresses: false, exclusive: true };
  }

  validateNetworkOptions(options: Record<string, string>): Record<string, string> {
    const [key] = Object.keys(options);
    if (key !== undefined) throw badRequest(`options.${key}: driver null takes no options`, `options.${key}`);
    return {};
  }

  async createNetwork(): Promise<void> {}

  async deleteNetwork(): Promise<void> {}

  async createEndpoint(): Promise<EndpointInterface | undefined> {
    return undefined;
  }

  async deleteEndpoint(): Promise<void> {}

  /** Nothing to make: loopback is there already. */
  async join(_ctx: unknown, _network: unknown, _endpoint: unknown, target: JoinTarget): Promise<JoinResult> {
    return { kind: 'configured', interfaceName: target.interfaceName };
  }

  async leave(): Promise<void> {}

  async endpointOperInfo(): Promise<Record<string, unknown>> {
    return {};
  }
}
