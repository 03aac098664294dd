/**
 * The Docker Engine API's network object, and the Go types the docker CLI decodes it into: the shape
 * a template sees in `docker network inspect --format`. The Go types are those of the docker 28
 * client (github.com/docker/docker/api/types/network, Inspect and IPAM), field for field in
 * declaration order, because `{{.IPAM}}` or `{{json .}}` print every field in that order.
 *
 * Differences with other clients (kept out on purpose, documented here): docker 20.10's
 * types.NetworkResource has no EnableIPv4; docker 29 (moby/moby/api) embeds a Network struct and
 * types Subnet, IPRange, Gateway and the endpoint addresses as netip values, so `{{.IPAM.Config}}`
 * prints `invalid Prefix` for an unset IPRange there.
 */
import {
  boolType,
  intType,
  mapOf,
  sliceOf,
  stringMapType,
  stringSliceType,
  stringType,
  timeType,
} from './template-values.js';
import type { StructType } from './template-values.js';

/** An endpoint in a network's `Containers`, as the Engine API writes it. */
export interface ApiEndpointResource {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  IPv4Address: string;
  IPv6Address: string;
}

export interface ApiIpamConfig {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

/** A network as `GET /networks` and `GET /networks/{id}` return it (Docker Engine API). */
export interface ApiNetwork {
  Name: string;
  Id: string;
  /** RFC 3339 with nanoseconds, e.g. `2024-01-02T03:04:05.123456789Z`. */
  Created: string;
  Scope: string;
  Driver: string;
  EnableIPv4?: boolean;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: ApiIpamConfig[] | null };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, ApiEndpointResource>;
  Options: Record<string, string> | null;
  Labels: Record<string, string> | null;
  Peers?: Array<{ Name: string; IP: string }>;
  Services?: Record<string, unknown>;
}

const struct = (name: string, fields: StructType['fields']): StructType => ({ kind: 'struct', name, fields });

/** network.IPAMConfig */
export const ipamConfigType = struct('network.IPAMConfig', [
  { name: 'Subnet', type: stringType, omitEmpty: true },
  { name: 'IPRange', type: stringType, omitEmpty: true },
  { name: 'Gateway', type: stringType, omitEmpty: true },
  { name: 'AuxAddress', type: stringMapType, json: 'AuxiliaryAddresses', omitEmpty: true },
]);

/** network.IPAM */
export const ipamType = struct('network.IPAM', [
  { name: 'Driver', type: stringType },
  { name: 'Options', type: stringMapType },
  { name: 'Config', type: sliceOf(ipamConfigType) },
]);

/** network.ConfigReference */
export const configReferenceType = struct('network.ConfigReference', [{ name: 'Network', type: stringType }]);

/** network.EndpointResource */
export const endpointResourceType = struct('network.EndpointResource', [
  { name: 'Name', type: stringType },
  { name: 'EndpointID', type: stringType },
  { name: 'MacAddress', type: stringType },
  { name: 'IPv4Address', type: stringType },
  { name: 'IPv6Address', type: stringType },
]);

/** network.PeerInfo */
export const peerInfoType = struct('network.PeerInfo', [
  { name: 'Name', type: stringType },
  { name: 'IP', type: stringType },
]);

/** network.Task */
export const taskType = struct('network.Task', [
  { name: 'Name', type: stringType },
  { name: 'EndpointID', type: stringType },
  { name: 'EndpointIP', type: stringType },
  { name: 'Info', type: stringMapType },
]);

/** network.ServiceInfo */
export const serviceInfoType = struct('network.ServiceInfo', [
  { name: 'VIP', type: stringType },
  { name: 'Ports', type: stringSliceType },
  { name: 'LocalLBIndex', type: intType },
  { name: 'Tasks', type: sliceOf(taskType) },
]);

/** network.Inspect (docker 28; network.Summary is the same type). */
export const networkInspectType = struct('network.Inspect', [
  { name: 'Name', type: stringType },
  { name: 'ID', type: stringType, json: 'Id' },
  { name: 'Created', type: timeType },
  { name: 'Scope', type: stringType },
  { name: 'Driver', type: stringType },
  { name: 'EnableIPv4', type: boolType },
  { name: 'EnableIPv6', type: boolType },
  { name: 'IPAM', type: ipamType },
  { name: 'Internal', type: boolType },
  { name: 'Attachable', type: boolType },
  { name: 'Ingress', type: boolType },
  { name: 'ConfigFrom', type: configReferenceType },
  { name: 'ConfigOnly', type: boolType },
  { name: 'Containers', type: mapOf(endpointResourceType) },
  { name: 'Options', type: stringMapType },
  { name: 'Labels', type: stringMapType },
  { name: 'Peers', type: sliceOf(peerInfoType), omitEmpty: true },
  { name: 'Services', type: mapOf(serviceInfoType), omitEmpty: true },
]);
