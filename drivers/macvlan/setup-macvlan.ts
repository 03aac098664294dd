/**
 * An endpoint's macvlan interface: created on the parent directly inside the sandbox under its final
 * name (never configured in the host and then moved: a move waits for RCU), then configured in one
 * batch from inside.
 */
import { closeSync, openSync } from 'node:fs';
import { addressingSteps } from '../../src/cnm/addressing.js';
import type { DriverContext, JoinTarget } from '../../src/cnm/driver.js';
import { keys, type EndpointRecord, type NetworkRecord, type SandboxRecord } from '../../src/cnm/model.js';
import { CnmError, badRequest } from '../../src/cnm/errors.js';
import { Handle, KernelError, isNotFound, linkAdd, linkByName, linkDel, linkModify, linkSetUp, linkWaitOperUp, type Link } from '../../src/netlink/index.js';
import { macvlanOptions } from './options.js';
import { parentForJoin } from './setup-parent.js';

/** Ownership mark on an endpoint's interface (the same shape as the bridge driver's host ends). */
export function endpointAlias(owner: string, endpointId: string): string {
  return `${owner}:ep:${endpointId}`;
}

/**
 * The MAC an endpoint's interface will have in passthru mode: its parent's (the kernel gives a
 * passthru child the parent's address and ignores one asked for at creation; changing it later
 * would change the parent's). Other modes: undefined (the controller derives one from the IPv4).
 */
export async function passthruMac(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord): Promise<string | undefined> {
  if (macvlanOptions(network.options).mode !== 'passthru') return undefined;
  const parent = await parentForJoin(ctx, network);
  const mac = parent.hardwareAddr;
  if (endpoint.macAddress && mac && endpoint.macAddress !== mac) {
    throw badRequest(`macAddress: network ${network.name} is in macvlan passthru mode, where the interface carries its parent's MAC (${mac}); switchyard does not change the parent's MAC to give it ${endpoint.macAddress}`, 'macAddress');
  }
  return mac;
}

/** What a kernel refusal of the new macvlan means here, when we can tell. */
function explain(error: unknown, network: NetworkRecord, parent: Link): unknown {
  if (!(error instanceof KernelError)) return error;
  const mode = macvlanOptions(network.options).mode;
  const what = `join network ${network.name}`;
  // macvlan_common_newlink: a port in passthru mode takes exactly one macvlan, and none beside it.
  if (error.code === 'EINVAL') {
    const why = mode === 'passthru' ? `in passthru mode parent ${parent.name} takes one macvlan interface, and it already has one` : `parent ${parent.name} refuses another macvlan interface (is one in passthru mode already on it?)`;
    return new CnmError('conflict', `${what}: ${why} (${error.message})`, { cause: error });
  }
  if (error.code === 'EBUSY') {
    return new CnmError('conflict', `${what}: parent ${parent.name} is in use by another kind of device (a bridge or bond port cannot carry macvlan interfaces) (${error.message})`, { cause: error });
  }
  return error;
}

/** The sandbox's namespace file, from its record (the endpoint's own record carries no path). */
async function sandboxPathOf(ctx: DriverContext, endpoint: EndpointRecord): Promise<string | undefined> {
  return (await ctx.store.get<SandboxRecord>(keys.sandbox(endpoint.sandboxId)))?.value.path;
}

/**
 * Create and configure the endpoint's interface in four round trips: the macvlan is made from the
 * host socket (the parent is resolved there) straight into the sandbox as eth<N>, with its MAC and
 * the parent's MTU; its index is looked up inside; one batch inside sets lo up, the ownership mark
 * and per-interface settings, up, addresses and the default route via the network's gateway (the
 * LAN's router: the host holds no address on the parent); then it is waited for until it carries
 * traffic.
 * Undo: delete it inside the sandbox.
 */
export async function setupMacvlan(ctx: DriverContext, network: NetworkRecord, endpoint: EndpointRecord, target: JoinTarget): Promise<void> {
  const { mode } = macvlanOptions(network.options);
  const name = target.interfaceName;
  const ipv6 = network.enableIpv6;
  const opening = Handle.open({ netnsPath: target.sandbox.path });
  let parent: Link;
  try {
    parent = await parentForJoin(ctx, network);
  } catch (error) {
    opening.then((handle) => handle.close(), () => undefined);
    throw error;
  }
  const inside = await opening;
  try {
    const sandboxNamespace = openSync(target.sandbox.path, 'r');
    try {
      ctx.fault('macvlan.create-link');
      await linkAdd(ctx.host, {
        kind: 'macvlan',
        name,
        parent: parent.index,
        mode,
        mtu: parent.mtu,
        // In passthru mode the kernel gives the child the parent's MAC whatever is asked.
        ...(endpoint.macAddress && mode !== 'passthru' ? { hardwareAddr: endpoint.macAddress } : {}),
        netnsFd: sandboxNamespace,
      });
    } catch (error) {
      throw explain(error, network, parent);
    } finally {
      closeSync(sandboxNamespace);
    }
    const sandboxPath = target.sandbox.path;
    ctx.undo.push(`delete macvlan ${name} in sandbox ${target.sandbox.name}`, () => deleteInside(sandboxPath, name));
    ctx.fault('macvlan.after-link');

    // A link made into another namespace is not echoed back: its index comes from one lookup, which
    // the batch needs (an address names its link by index, and the default route needs the address's
    // subnet route first, so the address must not wait on a lookup of its own).
    const eth = (await linkByName(inside, name)).index;
    const steps: Array<Promise<unknown>> = [
      linkSetUp(inside, 'lo'),
      // As on the bridge driver's veths: an IPv4-only network's interface makes no IPv6 link-local
      // address, so it sends no DAD or MLD onto the LAN.
      linkModify(inside, eth, { alias: endpointAlias(ctx.owner, endpoint.id), ip4Conf: { arpNotify: true }, ...(ipv6 ? {} : { ip6AddrGenMode: 'none' as const }) }),
      linkSetUp(inside, eth),
    ];
    steps.push(...addressingSteps(inside, eth, network, endpoint, target.defaultRoute));
    await Promise.all(steps);
    ctx.fault('macvlan.after-configure');
    // A macvlan follows its parent's carrier: with the parent down (a cable out) the sandbox still
    // joins, as with Docker, and its interface comes up when the parent does.
    if (parent.operState === 'up') await linkWaitOperUp(inside, eth);
  } finally {
    inside.close();
  }
}

/** Delete a link inside a namespace by name; gone (or gone with its namespace) counts as done. */
async function deleteInside(netnsPath: string, ref: string | number): Promise<void> {
  let inside: Handle;
  try {
    inside = await Handle.open({ netnsPath });
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  try {
    await linkDel(inside, ref);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  } finally {
    inside.close();
  }
}

/**
 * Delete the endpoint's interface; gone, or gone with its sandbox or its parent (the kernel removes a
 * parent's macvlans with it), counts as done. The interface is the endpoint's when it carries the
 * endpoint's mark, or carries none and is a macvlan under the endpoint's name: a join interrupted
 * (kill -9) between creating it and marking it, since the controller never gives one name in a
 * sandbox to two endpoints. Anything else under that name is left alone.
 */
export async function teardownMacvlan(ctx: DriverContext, endpoint: EndpointRecord): Promise<void> {
  const sandboxPath = await sandboxPathOf(ctx, endpoint);
  if (!sandboxPath) return;
  let inside: Handle;
  try {
    inside = await Handle.open({ netnsPath: sandboxPath });
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  try {
    let link: Link;
    try {
      link = await linkByName(inside, endpoint.interfaceName);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    const ours = link.alias === endpointAlias(ctx.owner, endpoint.id) || (link.alias === undefined && link.kind === 'macvlan');
    if (!ours) return;
    await linkDel(inside, link.index).catch((error) => (isNotFound(error) ? undefined : Promise.reject(error)));
  } finally {
    inside.close();
  }
}
