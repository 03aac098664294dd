#!/usr/bin/env -S node --max-semi-space-size=4
/** `yard`: Switchyard's command line, a client of the engine API (and, as `yard daemon`, the engine). */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { UsageError, flag, parseArgs, type FlagSpec } from './args.js';
import { ApiError, Client } from './client.js';
import { stdio, type Io } from './io.js';
import { DEFAULT_HOST, VERSION } from '../api/defaults.js';
import { exitCodeOf } from './exit.js';

const GLOBAL: FlagSpec[] = [
  { name: 'host', short: 'H', kind: 'string', help: `Daemon socket to connect to (default "${DEFAULT_HOST}", or $YARD_HOST)` },
  { name: 'data-root', kind: 'string', help: 'Data root of a daemon this command starts (none answering on the default socket)' },
  { name: 'exec-root', kind: 'string', help: 'Exec root of a daemon this command starts; also where `demo` puts its sandboxes' },
  { name: 'nft-prefix', kind: 'string', help: 'nftables prefix of a daemon this command starts' },
  { name: 'bridge', kind: 'string', help: 'Default bridge of a daemon this command starts' },
  { name: 'version', short: 'v', kind: 'bool', help: 'Print version information and quit' },
  { name: 'help', kind: 'bool', help: 'Print usage' },
];

const USAGE = `Usage:  yard [OPTIONS] COMMAND

Switchyard: virtual network labs and a Container Network Model engine for Linux

Options:
  -H, --host string       Daemon socket to connect to (default "${DEFAULT_HOST}", or $YARD_HOST)
      --data-root string  Data root of a daemon this command starts (none answering on the default socket)
      --exec-root string  Exec root of a daemon this command starts
      --nft-prefix string nftables prefix of a daemon this command starts
      --bridge string     Default bridge of a daemon this command starts
  -v, --version           Print version information and quit

Commands:
  daemon      Run the engine (the CLI starts one when none answers on the default socket)
  network     Manage networks
  sandbox     Manage sandboxes (network namespaces)
  demo        Two sandboxes on a bridge pinging each other, through the daemon
  version     Show the client and daemon versions

Exit codes: 0 done, 1 failed, 2 bad input (usage or a request the daemon refused as invalid),
3 not found, 4 conflict (exists, in use), 5 not allowed (predefined networks), 6 daemon unavailable.

Run 'yard COMMAND --help' for more information on a command.`;

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  // Global options come before the command, as docker's.
  const first = argv.findIndex((arg, i) => !arg.startsWith('-') && !(i > 0 && /^(-H|--host|--data-root|--exec-root|--nft-prefix|--bridge)$/.test(argv[i - 1]!)));
  const globals = parseArgs(first < 0 ? argv : argv.slice(0, first), GLOBAL);
  const [command, ...rest] = first < 0 ? [] : argv.slice(first);
  if (flag.bool(globals, 'version')) {
    io.out(`Switchyard version ${VERSION}`);
    return 0;
  }
  const host = flag.string(globals, 'host') ?? process.env.YARD_HOST ?? DEFAULT_HOST;
  const client = () =>
    new Client(host, {
      dataRoot: flag.string(globals, 'data-root'),
      execRoot: flag.string(globals, 'exec-root'),
      nftPrefix: flag.string(globals, 'nft-prefix'),
      bridge: flag.string(globals, 'bridge'),
    });
  switch (command) {
    // Each command's module is loaded when it runs: a yard process starts only what it uses.
    case 'daemon':
      return (await import('./commands/daemon.js')).daemon(rest, io);
    case 'network':
      return (await import('./commands/network.js')).network(rest, client(), io);
    case 'sandbox':
      return (await import('./commands/sandbox.js')).sandbox(rest, client(), io);
    case 'demo':
      return (await import('./commands/demo.js')).demo(rest, client(), io);
    case 'version': {
      const server = await client().json<{ Version: string; ApiVersion: string; KernelVersion: string }>('GET', '/version');
      io.out(`Client:\n Version:     ${VERSION}\n API version: 1.41\n\nServer: Switchyard\n Version:     ${server.Version}\n API version: ${server.ApiVersion}\n Kernel:      ${server.KernelVersion}`);
      return 0;
    }
    case undefined:
    case 'help':
      io.out(USAGE);
      return 0;
    default:
      throw new UsageError(`yard: unknown command ${JSON.stringify(command)}\nSee 'yard --help'.`);
  }
}

/** How a failure is told: docker's wording for daemon errors, and an exit code by category. */
export function report(error: unknown, io: Io): number {
  // A --format that failed: what was printed before it goes out, then docker's message and code.
  if (error instanceof Error && error.name === 'FormatError') {
    const failed = error as Error & { output: string; exitCode: number };
    if (failed.output) process.stdout.write(failed.output);
    io.err(failed.message);
    return failed.exitCode;
  }
  if (error instanceof ApiError) io.err(`Error response from daemon: ${error.message}`);
  else if (error instanceof UsageError) io.err(error.message);
  else io.err(`yard: ${error instanceof Error ? error.message : String(error)}`);
  return exitCodeOf(error);
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => process.exit(report(error, stdio)),
  );
}
