/**
 * `yard demo`: what `npm run lab` runs until labs exist. Through the daemon, as a user would with
 * the CLI: a bridge network, two sandboxes on it pinging each other; it says what it made, how to
 * get a shell and how to remove it. Running it again rebuilds it.
 */
import { icmpEcho } from '../../netns/index.js';
import { ApiError, type Client } from '../client.js';
import type { Io } from '../io.js';

const NETWORK = 'yard-demo';
const NODES = ['yard-demo-a', 'yard-demo-b'];

interface ApiSandbox {
  Id: string;
  Name: string;
  SandboxKey: string;
  Networks: Record<string, { IPAddress: string; IPPrefixLen: number; MacAddress: string; InterfaceName: string }>;
}

/** Remove what an earlier demo made; gone counts as done. */
async function remove(client: Client): Promise<string[]> {
  const removed: string[] = [];
  const gone = (error: unknown) => {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
  };
  for (const name of NODES) {
    await client.request('DELETE', `/sandboxes/${name}`).then(() => removed.push(`sandbox ${name}`), gone);
  }
  await client.request('DELETE', `/networks/${NETWORK}`).then(() => removed.push(`network ${NETWORK}`), gone);
  return removed;
}

export async function demo(args: string[], client: Client, io: Io): Promise<number> {
  const removed = await remove(client);
  if (args.includes('--remove')) {
    io.out(removed.length ? `removed: ${removed.join(', ')}` : 'nothing to remove: the demo is not running');
    return 0;
  }
  const network = await client.json<{ Id: string; Warning: string }>('POST', '/networks/create', { Name: NETWORK, Driver: 'bridge', Labels: { 'switchyard.demo': 'true' } });
  for (const name of NODES) {
    await client.request('POST', '/sandboxes/create', { Name: name });
    await client.request('POST', `/networks/${NETWORK}/connect`, { Container: name });
  }
  const [a, b] = await Promise.all(NODES.map((name) => client.json<ApiSandbox>('GET', `/sandboxes/${name}`)));
  const at = (s: ApiSandbox) => s.Networks[NETWORK]!;
  const there = await icmpEcho(a!.SandboxKey, at(b!).IPAddress, { timeoutMs: 3000 });
  const back = await icmpEcho(b!.SandboxKey, at(a!).IPAddress, { timeoutMs: 3000 });
  const ms = (us: number | null) => (us === null ? 'no reply' : `reply in ${(us / 1000).toFixed(2)} ms`);
  const info = await client.json<{ IPAM: { Config: Array<{ Subnet: string; Gateway: string }> }; Options: Record<string, string> }>('GET', `/networks/${NETWORK}`);
  const line = (s: ApiSandbox) => `${s.Name}  ${at(s).InterfaceName} ${at(s).IPAddress}/${at(s).IPPrefixLen}  ${at(s).MacAddress}`;
  io.out(`Switchyard demo: two sandboxes on one bridge network, made through the switchyard daemon.

  network   ${NETWORK} (${network.Id.slice(0, 12)})  subnet ${info.IPAM.Config[0]?.Subnet}  gateway ${info.IPAM.Config[0]?.Gateway}
  sandbox   ${line(a!)}
  sandbox   ${line(b!)}
  ping      ${a!.Name} -> ${at(b!).IPAddress}: ${ms(there)}
  ping      ${b!.Name} -> ${at(a!).IPAddress}: ${ms(back)}
${network.Warning ? `\n  note      ${network.Warning}\n` : ''}
Get a shell in a sandbox:   yard sandbox exec ${a!.Name} sh     (or: ip netns exec ${a!.Name} sh)
Look around:                yard network inspect ${NETWORK}; yard sandbox ls; yard network ls
Remove it all:              yard demo --remove`);
  return there !== null && back !== null ? 0 : 1;
}
