/** `yard sandbox …`: Switchyard's sandboxes (network namespaces) through the engine API. */
import os from 'node:os';
import { flag, parseSubcommand, UsageError, type FlagSpec } from '../args.js';
import type { Client } from '../client.js';
import type { Io } from '../io.js';
import { sandboxSpawn } from '../../netns/exec.js';
import { filtersParam } from './network.js';
import { inspectEach, removeEach } from '../each.js';

const CREATE: FlagSpec[] = [{ name: 'publish', short: 'p', kind: 'list', value: 'list', help: "Publish a sandbox's port(s) to the host ([hostIP:]hostPort[-end]:port[-end][/tcp|udp])" }];
const LS: FlagSpec[] = [
  { name: 'filter', short: 'f', kind: 'list', value: 'filter', help: "Provide filter values (e.g. 'name=web')" },
  { name: 'format', kind: 'string', help: 'Pretty-print sandboxes using a Go template' },
  { name: 'no-trunc', kind: 'bool', help: 'Do not truncate the output' },
  { name: 'quiet', short: 'q', kind: 'bool', help: 'Only display sandbox IDs' },
];
const INSPECT: FlagSpec[] = [{ name: 'format', short: 'f', kind: 'string', help: 'Format the output using the given Go template' }];

const COMMANDS = `Usage:  yard sandbox COMMAND

Manage sandboxes (network namespaces)

Commands:
  create      Create a sandbox
  exec        Run a command in a sandbox
  inspect     Display detailed information on one or more sandboxes
  ls          List sandboxes
  rm          Remove one or more sandboxes
`;

interface ApiSandbox {
  Id: string;
  Name: string;
  Created: string;
  SandboxKey: string;
  Networks: Record<string, { IPAddress: string; IPPrefixLen: number; Ports?: Array<{ proto: string; hostIp: string; hostPort: number; port: number }> }>;
}

function portsText(sandbox: ApiSandbox): string {
  const ports = Object.values(sandbox.Networks).flatMap((n) => n.Ports ?? []);
  return ports.map((p) => `${p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp}:${p.hostPort}->${p.port}/${p.proto}`).join(', ');
}

export async function sandbox(argv: string[], client: Client, io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const parse = (specs: FlagSpec[], line: string, about: string, min: number, max = Infinity, stopAtArgs = false) =>
    parseSubcommand(rest, `sandbox ${sub}`, specs, line, about, { min, max, stopAtArgs }, io.out);
  switch (sub) {
    case 'create': {
      const p = parse(CREATE, 'yard sandbox create [OPTIONS] NAME', 'Create a sandbox: a network namespace, published as /run/netns/NAME', 1, 1);
      if (!p) return 0;
      const created = await client.json<{ Id: string }>('POST', '/sandboxes/create', { Name: p.args[0], Ports: flag.list(p, 'publish') });
      io.out(created.Id);
      return 0;
    }
    case 'ls':
    case 'list': {
      const p = parse(LS, 'yard sandbox ls [OPTIONS]', 'List sandboxes', 0, 0);
      if (!p) return 0;
      const list = await client.json<ApiSandbox[]>('GET', `/sandboxes${filtersParam(flag.list(p, 'filter'))}`);
      const noTrunc = flag.bool(p, 'no-trunc');
      const { formatTable } = await import('../format.js');
      const text = formatTable(
        list,
        [
          { field: 'ID', header: 'SANDBOX ID', value: (s: ApiSandbox) => (noTrunc ? s.Id : s.Id.slice(0, 12)) },
          { field: 'Name', header: 'NAME', value: (s: ApiSandbox) => s.Name },
          { field: 'Networks', header: 'NETWORKS', value: (s: ApiSandbox) => Object.keys(s.Networks).sort().join(',') },
          { field: 'Ports', header: 'PORTS', value: portsText },
          { field: 'CreatedAt', header: 'CREATED AT', value: (s: ApiSandbox) => s.Created, inDefault: false },
        ],
        { format: flag.string(p, 'format'), quiet: flag.bool(p, 'quiet') },
      );
      if (text) io.out(text.replace(/\n$/, ''));
      return 0;
    }
    case 'inspect': {
      const p = parse(INSPECT, 'yard sandbox inspect [OPTIONS] SANDBOX [SANDBOX...]', 'Display detailed information on one or more sandboxes', 1);
      if (!p) return 0;
      const { found, code } = await inspectEach(client, io, 'sandbox', p.args);
      const { formatInspect } = await import('../format.js');
      const text = formatInspect(found, flag.string(p, 'format'));
      if (text) io.out(text.replace(/\n$/, ''));
      return code;
    }
    case 'exec': {
      const p = parse([], 'yard sandbox exec SANDBOX COMMAND [ARG...]', 'Run a command in a sandbox (as `ip netns exec`: its own /sys, /etc/netns/NAME)', 2, Infinity, true);
      if (!p) return 0;
      const [ref, ...command] = p.args;
      const found = await client.json<ApiSandbox>('GET', `/sandboxes/${encodeURIComponent(ref!)}`);
      const child = sandboxSpawn({ path: found.SandboxKey, name: found.Name }, command, { stdio: 'inherit' });
      return new Promise((resolve) => {
        child.once('error', (error) => {
          io.err(`yard sandbox exec: ${error.message}`);
          resolve(1);
        });
        // A command killed by a signal exits 128 + its number, as a shell reports it.
        child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0)));
      });
    }
    case 'rm':
    case 'remove': {
      const p = parse([], 'yard sandbox rm SANDBOX [SANDBOX...]', 'Remove one or more sandboxes (disconnected from their networks first)', 1);
      if (!p) return 0;
      return removeEach(client, io, 'sandbox', p.args);
    }
    case undefined:
    case '--help':
    case 'help':
      io.out(COMMANDS);
      return 0;
    default:
      throw new UsageError(`yard sandbox: unknown command ${JSON.stringify(sub)}\n\n${COMMANDS}`);
  }
}
