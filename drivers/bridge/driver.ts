/** The bridge driver: a Linux bridge per network, a veth per endpoint (layer 2 and 3; firewall in src/firewall, later). */
import type { Capabilities, Driver, DriverContext, EndpointInterface, JoinResult, JoinTarget } from '../../src/cnm/driver.js';
import type { EndpointRecord, NetworkRecord, PortSpec } from '../../src/cnm/model.js';
import { publishedPorts, restorePorts, setupPorts, teardownPorts } from './setup-ports.js';
import { macFromIpv4 } from '../../src/cnm/mac.js';
import { bridgeOptions, validateBridgeOptions } from './options.js';
import { bridgeNameOf, bridgePresent, setupBridge, teardownBridge } from './setup-bridge.js';
import { drainVeths, hostEndOf, setupVeth, teardownVeth } from './setup-veth.js';
import { firewallEndpoint, firewallNetwork, setupEndpointFirewall, setupFirewall, teardownEndpointFirewall, teardownFirewall } from './setup-firewall.js';

export class BridgeDriver implements Driver {
  readonly type = 'bridge';

  capabilities(): Capabilities {
    return { scope: 'local', connectivityScope: 'local' };
  }

  validateNetworkOptions(options: Record<string, string>, network: { internal: boolean }): Record<string, string> {
    return validateBridgeOptions(options, network);
  }

  isolatedFamilies(network: Pick<NetworkRecord, 'options'>): { 4: boolean; 6: boolean } {
    return bridgeOptions(network.options).isolated;
  }

  async createNetwork(ctx: DriverContext, network: NetworkRecord): Promise<void> {
    await setupBridge(ctx, network);
    await setupFirewall(ctx, network);
  }

  async deleteNetwork(ctx: DriverContext, network: NetworkRecord): Promise<void> {
    await teardownFirewall(ctx, network);
    await teardownBridge(ctx, network);
  }

  async createEndpoint(_ctx: DriverContext, _network: NetworkRecord, endpoint: EndpointRecord): Promise<EndpointInterface | undefined> {
    // Don't echo what was given; decide the MAC from the IPv4 address when none was.
    if (endpoint.macAddress || !endpoint.ipv4) return undefined;
    return { macAddress: macFromIpv4(endpoint.ipv4.cidr) };
  }

  async deleteEndpoint(): Promise<void> {
    // The veth belongs to the join; nothing is left to remove here.
  }

  async join(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord, target: JoinTarget): Promise<JoinResult> {
    // The endpoint's firewall elements are added while the pair is made; the host end comes up
    // only once they are in (setupVeth waits for them), so the port never carries an unchecked frame.
    const firewall = setupEndpointFirewall(ctx, network, endpoint);
    try {
      await setupVeth(ctx, network, endpoint, target, firewall);
    } catch (error) {
      await firewall.catch(() => undefined); // its undo is registered before the caller unwinds
      throw error;
    }
    return { kind: 'configured', interfaceName: target.interfaceName };
  }

  async leave(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord): Promise<void> {
    await teardownEndpointFirewall(ctx, network, endpoint);
    await teardownVeth(ctx, endpoint);
  }

  drain(): Promise<void> {
    return drainVeths();
  }

  async endpointOperInfo(_ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord): Promise<Record<string, unknown>> {
    return { bridge: bridgeNameOf(network), hostInterface: hostEndOf(endpoint), macAddress: endpoint.macAddress };
  }

  programExternalConnectivity(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord, ports: PortSpec[]): Promise<void> {
    return setupPorts(ctx, network, endpoint, ports);
  }

  revokeExternalConnectivity(ctx: DriverContext, _network: NetworkRecord, endpoint: EndpointRecord): Promise<void> {
    return teardownPorts(ctx, endpoint);
  }

  async restoreEndpoint(_ctx: DriverContext, _network: NetworkRecord, endpoint: EndpointRecord): Promise<void> {
    await restorePorts(endpoint);
  }

  networkPresent(ctx: DriverContext, network: NetworkRecord): Promise<boolean> {
    return bridgePresent(ctx, network);
  }

  restoreNetwork(ctx: DriverContext, network: NetworkRecord): Promise<void> {
    // The firewall is rebuilt from the records at engine start; only the bridge needs remaking.
    return setupBridge(ctx, network);
  }

  firewallOf(network: NetworkRecord, endpoints: EndpointRecord[]) {
    return {
      network: firewallNetwork(network),
      endpoints: endpoints.map((endpoint) => firewallEndpoint(network, endpoint)),
      ports: endpoints.flatMap((endpoint) => publishedPorts(endpoint)),
    };
  }
}
