/** libnetwork's remote NetworkDriver protocol, with the wire's own (PascalCase) names. */

export interface IPAMData {
  AddressSpace: string;
  Pool: string;
  Gateway?: string;
  AuxAddresses?: Record<string, string>;
}

export interface EndpointInterface {
  Address: string;
  AddressIPv6: string;
  MacAddress: string;
}

export interface StaticRoute {
  Destination: string;
  RouteType: number;
  NextHop?: string;
}

export interface CapabilitiesResponse {
  Scope: 'local' | 'global';
  ConnectivityScope?: 'local' | 'global';
}

export interface CreateNetworkRequest {
  NetworkID: string;
  Options: Record<string, unknown>;
  IPv4Data: IPAMData[];
  IPv6Data: IPAMData[];
}

export interface NetworkRequest {
  NetworkID: string;
}

export interface CreateEndpointRequest {
  NetworkID: string;
  EndpointID: string;
  Interface: EndpointInterface;
  Options: Record<string, unknown>;
}

export interface CreateEndpointResponse {
  Interface?: Partial<EndpointInterface> | null;
}

export interface EndpointRequest {
  NetworkID: string;
  EndpointID: string;
}

export interface JoinRequest {
  NetworkID: string;
  EndpointID: string;
  SandboxKey: string;
  Options: Record<string, unknown>;
}

export interface JoinResponse {
  InterfaceName?: { SrcName: string; DstPrefix: string } | null;
  Gateway?: string;
  GatewayIPv6?: string;
  StaticRoutes?: StaticRoute[] | null;
  DisableGatewayService?: boolean;
}

export interface EndpointOperInfoResponse {
  Value: Record<string, unknown>;
}

/** Error body of any call: `{"Err": "..."}`. */
export interface ErrorResponse {
  Err: string;
}

/** Sends one call (`/NetworkDriver.Join`) and returns the decoded answer; throws RemoteError on `{"Err"}`. */
export type Transport = (method: string, body: unknown) => Promise<unknown>;

/** A plugin's `{"Err": …}` answer. */
export class RemoteError extends Error {
  readonly method: string;
  constructor(method: string, message: string) {
    super(`${method}: ${message}`);
    this.name = 'RemoteError';
    this.method = method;
  }
}
