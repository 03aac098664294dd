/**
 * `yard demo`: what `npm run lab` runs until labs exist. Two sandboxes on a bridge, pinging each
 * other, built through the kernel layer alone; it says what it made and how to remove it. The
 * bridge carries no address, so the host's own routing is not touched. Running it again rebuilds it.
 */
import { openSync, closeSync } from 'node:fs';
import { Handle, linkAdd, linkByName, linkDel, linkSetUp, addrAdd, isNotFound } from '../../netlink/index.js';
import { SandboxRoot, icmpEcho } from '../../netns/index.js';

const BRIDGE = 'sy-demo';
const OWNER = 'switchyard:demo';
const NODES = [
  { name: 'yard-demo-a', veth: 'syv-demo-a', mac: '02:42:0a:63:00:02', address: '10.99.0.2' },
  { name: 'yard-demo-b', veth: 'syv-demo-b', mac: '02:42:0a:63:00:03', address: '10.99.0.3' },
];

async function remove(host: Handle, sandboxes: SandboxRoot): Promise<string[]> {
  const removed: string[] = [];
  const ours = sandboxes.list().filter((s) => NODES.some((n) => n.name === s.name));
  await sandboxes.deleteMany(ours);
  removed.push(...ours.map((s) => `sandbox ${s.name}`));
  try {
    const bridge = await linkByName(host, BRIDGE);
    if (bridge.alias !== OWNER) throw new Error(`${BRIDGE} exists but was not made by yard demo (alias ${JSON.stringify(bridge.alias ?? '')}); leaving it alone`);
    await linkDel(host, bridge.index);
    removed.push(`bridge ${BRIDGE}`);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  return removed;
}

/** Run the demo, or remove it with `--remove`. */
export async function demo(args: string[], options: { execRoot: string }): Promise<number> {
  const host = await Handle.open();
  const sandboxes = new SandboxRoot({ execRoot: options.execRoot });
  try {
    const removed = await remove(host, sandboxes);
    if (args.includes('--remove')) {
      console.log(removed.length ? `removed: ${removed.join(', ')}` : 'nothing to remove: the demo is not running');
      return 0;
    }
    const bridge = (await linkAdd(host, { kind: 'bridge', name: BRIDGE, up: true, alias: OWNER, stp: false }))!;
    const made = await sandboxes.createMany(NODES.map((node) => ({ name: node.name, handle: true })));
    for (const [i, node] of NODES.entries()) {
      const sandbox = made[i]!;
      const fd = openSync(sandbox.path, 'r');
      try {
        await linkAdd(host, { kind: 'veth', name: node.veth, master: bridge, up: true, alias: OWNER, peer: { name: 'eth0', netnsFd: fd, hardwareAddr: node.mac } });
      } finally {
        closeSync(fd);
      }
      const inside = sandbox.handle!;
      const eth0 = await linkByName(inside, 'eth0');
      await Promise.all([linkSetUp(inside, 'lo'), linkSetUp(inside, eth0.index), addrAdd(inside, eth0.index, `${node.address}/24`)]);
      inside.close();
    }
    const [a, b] = NODES;
    const there = await icmpEcho(made[0]!.path, b!.address, { timeoutMs: 3000 });
    const back = await icmpEcho(made[1]!.path, a!.address, { timeoutMs: 3000 });
    const ms = (us: number | null) => (us === null ? 'no reply' : `reply in ${(us / 1000).toFixed(2)} ms`);
    console.log(`Switchyard demo: two sandboxes on one bridge, built over rtnetlink by Switchyard's kernel layer.

  bridge    ${BRIDGE} (layer 2 only: no address on the host, host routing untouched)
  sandbox   ${a!.name}  eth0 ${a!.address}/24  ${a!.mac}   (namespace file ${made[0]!.path})
  sandbox   ${b!.name}  eth0 ${b!.address}/24  ${b!.mac}
  ping      ${a!.name} -> ${b!.address}: ${ms(there)}
  ping      ${b!.name} -> ${a!.address}: ${ms(back)}

Get a shell in a sandbox:   ip netns exec ${a!.name} sh
Look around:                ip -n ${a!.name} addr; bridge link show master ${BRIDGE}
Remove it all:              yard demo --remove`);
    return there !== null && back !== null ? 0 : 1;
  } finally {
    host.close();
  }
}
