/**
 * The macvlan driver, as Docker's: sandboxes join an existing LAN through a parent interface of the
 * host, each with a macvlan interface of its own MAC. Nothing per network in the kernel (the parent is
 * only checked), no firewall state, no address on the host: the network's gateway is the LAN's router.
 */
import type { Capabilities, Driver, DriverContext, EndpointInterface, JoinResult, JoinTarget } from '../../src/cnm/driver.js';
import type { EndpointRecord, NetworkRecord } from '../../src/cnm/model.js';
import { macFromIpv4 } from '../../src/cnm/mac.js';
import { macvlanOptions, validateMacvlanOptions } from './options.js';
import { checkParent } from './setup-parent.js';
import { passthruMac, setupMacvlan, teardownMacvlan } from './setup-macvlan.js';

export class MacvlanDriver implements Driver {
  readonly type = 'macvlan';

  capabilities(): Capabilities {
    return { scope: 'local', connectivityScope: 'global' };
  }

  validateNetworkOptions(options: Record<string, string>, network: { internal: boolean }): Record<string, string> {
    return validateMacvlanOptions(options, network);
  }

  async createNetwork(ctx: DriverContext, network: NetworkRecord): Promise<void> {
    ctx.fault('macvlan.check-parent');
    await checkParent(ctx, network, this.type);
  }

  async deleteNetwork(): Promise<void> {
    // createNetwork made nothing; the parent is the user's and stays as it is.
  }

  async createEndpoint(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord): Promise<EndpointInterface | undefined> {
    const passthru = await passthruMac(ctx, network, endpoint);
    // Don't echo what was given; otherwise the MAC follows the IPv4 address, as on the bridge driver.
    if (endpoint.macAddress) return undefined;
    if (passthru) return { macAddress: passthru };
    if (!endpoint.ipv4) return undefined;
    return { macAddress: macFromIpv4(endpoint.ipv4.cidr) };
  }

  async deleteEndpoint(): Promise<void> {
    // The interface belongs to the join; nothing is left to remove here.
  }

  async join(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord, target: JoinTarget): Promise<JoinResult> {
    await setupMacvlan(ctx, network, endpoint, target);
    return { kind: 'configured', interfaceName: target.interfaceName };
  }

  async leave(ctx: DriverContext, _network: NetworkRecord, endpoint: EndpointRecord): Promise<void> {
    await teardownMacvlan(ctx, endpoint);
  }

  async endpointOperInfo(_ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord): Promise<Record<string, unknown>> {
    const options = macvlanOptions(network.options);
    return { parent: network.driverState.parent ?? options.parent, macvlanMode: options.mode, macAddress: endpoint.macAddress };
  }
}
