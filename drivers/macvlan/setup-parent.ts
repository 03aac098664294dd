/**
 * A macvlan network's parent: a host interface that exists already. Switchyard never creates,
 * changes or deletes it (Docker would create a missing `eth0.10` or a dummy; we refuse instead).
 */
import type { DriverContext } from '../../src/cnm/driver.js';
import type { NetworkRecord } from '../../src/cnm/model.js';
import { badRequest, conflict, CnmError } from '../../src/cnm/errors.js';
import { linkByIndex, linkFind, type Link } from '../../src/netlink/index.js';
import { IFF_LOOPBACK } from '../../src/netlink/constants.js';
import { PARENT, macvlanOptions } from './options.js';

const FIELD = `options.${PARENT}`;


/**
 * Why a parent is missing, in words: a name like `eth0.10` is an 802.1q VLAN sub-interface, which
 * Docker would create and switchyard does not, so the message gives the command that makes it.
 */
async function missingParent(ctx: DriverContext, name: string): Promise<string> {
  const vlan = /^(.+)\.(\d+)$/.exec(name);
  if (!vlan) return `parent interface ${name} does not exist`;
  const [, base, id] = vlan as unknown as [string, string, string];
  const baseMissing = (await linkFind(ctx.host, base)) === undefined ? `; ${base} does not exist either` : '';
  return (
    `parent interface ${name} does not exist; its name is that of an 802.1q VLAN sub-interface (${base}, VLAN ${id}), ` +
    `and switchyard does not create VLAN sub-interfaces (docker would): make it first with ` +
    `\`ip link add link ${base} name ${name} type vlan id ${id}\`${baseMissing}`
  );
}

/**
 * Check the parent at network create: it exists, it is not loopback, it is no bridge or bond port
 * (the kernel gives an interface's received frames to one handler: every join on a port would fail
 * with EBUSY), and no other macvlan network uses it (one network per parent, as Docker). Records the
 * parent's name and index in driverState. Makes nothing, so there is nothing to undo.
 */
export async function checkParent(ctx: DriverContext, network: NetworkRecord, driverType: string): Promise<void> {
  const given = macvlanOptions(network.options).parent;
  const what = `create network ${network.name}`;
  const parent = await linkFind(ctx.host, given);
  if (!parent) throw badRequest(`${what}: ${await missingParent(ctx, given)}`, FIELD);
  if ((parent.flags & IFF_LOOPBACK) !== 0) throw badRequest(`${what}: parent ${parent.name} is a loopback interface, which cannot be a macvlan parent`, FIELD);
  const master = parent.masterIndex === undefined ? undefined : await linkByIndex(ctx.host, parent.masterIndex).catch(() => undefined);
  // A VRF takes no frames from its members (it only routes for them); every other master does.
  if (parent.masterIndex !== undefined && master?.kind !== 'vrf') {
    const port = master ? `a port of ${master.kind ?? 'device'} ${master.name}` : `enslaved to interface #${parent.masterIndex}`;
    throw badRequest(`${what}: parent ${parent.name} is ${port}, whose frames go to its master, so it cannot carry macvlan interfaces (give ${master?.name ?? 'the master'} itself as the parent)`, FIELD);
  }
  // The other networks' records, unfinished ones included: two concurrent creates on one parent
  // each see the other's intent (written before this step), so at most one succeeds.
  const names = new Set([given, parent.name]);
  for (const { value: other } of await ctx.store.list<NetworkRecord>('networks/')) {
    if (other.id === network.id || other.driver !== driverType) continue;
    const used = [other.options[PARENT], other.driverState.parent];
    if (used.some((name) => name !== undefined && names.has(name))) {
      throw conflict(`${what}: parent ${parent.name} is already used by macvlan network ${other.name} (one macvlan network per parent, as in docker)`, FIELD);
    }
  }
  network.driverState.parent = parent.name;
  network.driverState.parentIndex = String(parent.index);
}

/** The parent at join time, looked up afresh by name (an interface recreated since has a new index). */
export async function parentForJoin(ctx: DriverContext, network: NetworkRecord): Promise<Link> {
  const name = network.driverState.parent ?? macvlanOptions(network.options).parent;
  const parent = await linkFind(ctx.host, name);
  if (!parent) throw new CnmError('conflict', `join network ${network.name}: its parent interface ${name} does not exist any more (bring it back, or delete the network)`);
  return parent;
}
