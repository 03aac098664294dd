/**
 * A client of a libnetwork remote NetworkDriver plugin: each contract verb is one wire call, records
 * are mapped to the plugin's JSON at this edge. Join answers in the host-side style (the plugin
 * leaves an interface in the host namespace; the controller moves and configures it), as dockerd
 * expects of plugins. The transport is HTTP over a unix socket for real plugins, or a function for
 * the in-process fake the conformance suite uses.
 */
import type { Capabilities, Driver, DriverContext, EndpointInterface, JoinResult, JoinTarget } from '../../src/cnm/driver.js';
import type { EndpointRecord, NetworkRecord } from '../../src/cnm/model.js';
import { CnmError } from '../../src/cnm/errors.js';
import { RemoteError, type CapabilitiesResponse, type CreateEndpointResponse, type EndpointOperInfoResponse, type JoinResponse, type Transport } from './wire.js';

function ipamData(network: NetworkRecord, family: 4 | 6) {
  return network.pools
    .filter((pool) => pool.family === family)
    .map((pool) => {
      const prefix = pool.subnet.split('/')[1];
      const aux = Object.entries(pool.auxAddresses);
      return {
        AddressSpace: 'LocalDefault',
        Pool: pool.subnet,
        Gateway: `${pool.gateway}/${prefix}`,
        ...(aux.length ? { AuxAddresses: Object.fromEntries(aux.map(([name, address]) => [name, `${address}/${prefix}`])) } : {}),
      };
    });
}

export class RemoteDriver implements Driver {
  readonly type: string;
  private readonly transport: Transport;
  private readonly caps: Capabilities;

  private constructor(type: string, transport: Transport, caps: Capabilities) {
    this.type = type;
    this.transport = transport;
    this.caps = caps;
  }

  /** Ask the plugin for its capabilities and wrap it. */
  static async connect(type: string, transport: Transport): Promise<RemoteDriver> {
    const answer = (await transport('/NetworkDriver.GetCapabilities', {})) as CapabilitiesResponse;
    if (answer.Scope !== 'local' && answer.Scope !== 'global') throw new Error(`plugin ${type}: invalid scope ${JSON.stringify(answer.Scope)}`);
    return new RemoteDriver(type, transport, { scope: answer.Scope, connectivityScope: answer.ConnectivityScope ?? answer.Scope });
  }

  private async call<T>(method: string, body: unknown): Promise<T> {
    try {
      return (await this.transport(`/NetworkDriver.${method}`, body)) as T;
    } catch (error) {
      if (error instanceof RemoteError) throw new CnmError('internal', `plugin ${this.type}: ${error.message}`, { cause: error });
      throw error;
    }
  }

  capabilities(): Capabilities {
    return this.caps;
  }

  validateNetworkOptions(options: Record<string, string>): Record<string, string> {
    return { ...options }; // the plugin judges its own options at CreateNetwork
  }

  async createNetwork(_ctx: DriverContext, network: NetworkRecord): Promise<void> {
    await this.call('CreateNetwork', {
      NetworkID: network.id,
      Options: {
        'com.docker.network.generic': network.options,
        'com.docker.network.enable_ipv6': network.enableIpv6,
        ...(network.internal ? { 'com.docker.network.internal': true } : {}),
      },
      IPv4Data: ipamData(network, 4),
      IPv6Data: ipamData(network, 6),
    });
  }

  async deleteNetwork(_ctx: DriverContext, network: NetworkRecord): Promise<void> {
    await this.call('DeleteNetwork', { NetworkID: network.id });
  }

  async createEndpoint(_ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord): Promise<EndpointInterface | undefined> {
    const given = { Address: endpoint.ipv4?.cidr ?? '', AddressIPv6: endpoint.ipv6?.cidr ?? '', MacAddress: endpoint.macAddress };
    const answer = await this.call<CreateEndpointResponse>('CreateEndpoint', { NetworkID: network.id, EndpointID: endpoint.id, Interface: given, Options: {} });
    const changed = answer?.Interface ?? undefined;
    if (!changed) return undefined;
    // libnetwork's rule: a plugin may only fill what was empty.
    for (const field of ['Address', 'AddressIPv6', 'MacAddress'] as const) {
      if (changed[field] && given[field]) {
        throw new CnmError('internal', `plugin ${this.type}: driver modified interface ${field}: present (${given[field]}), cannot be modified with (${changed[field]})`);
      }
    }
    return { ...(changed.MacAddress ? { macAddress: changed.MacAddress } : {}) };
  }

  async deleteEndpoint(_ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord): Promise<void> {
    await this.call('DeleteEndpoint', { NetworkID: network.id, EndpointID: endpoint.id });
  }

  async join(_ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord, target: JoinTarget): Promise<JoinResult> {
    const answer = await this.call<JoinResponse>('Join', { NetworkID: network.id, EndpointID: endpoint.id, SandboxKey: target.sandbox.path, Options: {} });
    if (!answer?.InterfaceName?.SrcName) throw new CnmError('internal', `plugin ${this.type}: join returned no interface`);
    return {
      kind: 'move',
      srcName: answer.InterfaceName.SrcName,
      dstPrefix: answer.InterfaceName.DstPrefix || 'eth',
      ...(answer.Gateway ? { gateway: answer.Gateway } : {}),
      ...(answer.GatewayIPv6 ? { gatewayIpv6: answer.GatewayIPv6 } : {}),
      staticRoutes: (answer.StaticRoutes ?? []).map((route) => ({ destination: route.Destination, routeType: route.RouteType === 1 ? 1 : 0, ...(route.NextHop ? { nextHop: route.NextHop } : {}) })),
      ...(answer.DisableGatewayService ? { disableGatewayService: true } : {}),
    };
  }

  async leave(_ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord): Promise<void> {
    await this.call('Leave', { NetworkID: network.id, EndpointID: endpoint.id });
  }

  async endpointOperInfo(_ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord): Promise<Record<string, unknown>> {
    const answer = await this.call<EndpointOperInfoResponse>('EndpointOperInfo', { NetworkID: network.id, EndpointID: endpoint.id });
    return answer?.Value ?? {};
  }
}
