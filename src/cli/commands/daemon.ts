/** `yard daemon`: flags into DaemonOptions (src/api/daemon.ts does the work). */
import { existsSync } from 'node:fs';
import { flag, parseArgs, usage, UsageError, type FlagSpec } from '../args.js';
import { DEFAULT_DATA_ROOT, DEFAULT_EXEC_ROOT, DEFAULT_HOST } from '../../api/defaults.js';
import type { DaemonOptions } from '../../api/daemon.js';
import type { Io } from '../io.js';

const FLAGS: FlagSpec[] = [
  { name: 'host', short: 'H', kind: 'string', help: `Daemon socket to listen on (default "${DEFAULT_HOST}"; tcp://ADDRESS:PORT needs --tlsverify)` },
  { name: 'data-root', kind: 'string', help: `Root directory of persistent state (default "${DEFAULT_DATA_ROOT}")` },
  { name: 'exec-root', kind: 'string', help: `Root directory of execution state: sandboxes, the log (default "${DEFAULT_EXEC_ROOT}")` },
  { name: 'cgroup-parent', kind: 'string', help: 'Parent cgroup for all containers (default "switchyard")' },
  { name: 'nft-prefix', kind: 'string', help: 'Name of the nftables tables (default "switchyard")' },
  { name: 'bridge', short: 'b', kind: 'string', help: 'Bridge of the default bridge network (default "yard0")' },
  { name: 'log-level', short: 'l', kind: 'string', help: 'Set the logging level ("debug"|"info"|"warn"|"error") (default "info")' },
  { name: 'tlsverify', kind: 'bool', help: 'Use TLS and verify the remote (mutual TLS; needed for tcp://)' },
  { name: 'tlscacert', kind: 'string', help: 'Trust certs signed only by this CA' },
  { name: 'tlscert', kind: 'string', help: 'Path to TLS certificate file' },
  { name: 'tlskey', kind: 'string', help: 'Path to TLS key file' },
  { name: 'help', kind: 'bool', help: 'Print usage' },
];

export async function daemon(argv: string[], io: Io): Promise<number> {
  const p = parseArgs(argv, FLAGS);
  if (flag.bool(p, 'help')) {
    io.out(usage('yard daemon [OPTIONS]', 'Run the switchyard engine: the engine API on a unix socket', FLAGS));
    return 0;
  }
  if (p.args.length) throw new UsageError(`yard daemon takes no arguments (got ${p.args.join(' ')})`);
  const level = flag.string(p, 'log-level') ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--log-level: ${JSON.stringify(level)} is not debug, info, warn or error`);
  const cgroupParent = flag.string(p, 'cgroup-parent') ?? 'switchyard';
  if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(cgroupParent) || cgroupParent.split('/').some((part) => part === '.' || part === '..')) {
    throw new UsageError(`--cgroup-parent: ${JSON.stringify(cgroupParent)} is not a relative cgroup path (letters, digits, '_', '.', '-', separated by '/')`);
  }
  const options: DaemonOptions = {
    host: flag.string(p, 'host') ?? DEFAULT_HOST,
    dataRoot: flag.string(p, 'data-root') ?? DEFAULT_DATA_ROOT,
    execRoot: flag.string(p, 'exec-root') ?? DEFAULT_EXEC_ROOT,
    cgroupParent,
    nftPrefix: flag.string(p, 'nft-prefix') ?? 'switchyard',
    bridge: flag.string(p, 'bridge') ?? 'yard0',
    logLevel: level as DaemonOptions['logLevel'],
    publishDir: '/run/netns',
  };
  if (flag.bool(p, 'tlsverify')) {
    const files = { ca: flag.string(p, 'tlscacert'), cert: flag.string(p, 'tlscert'), key: flag.string(p, 'tlskey') };
    for (const [key, file] of Object.entries(files)) {
      if (!file) throw new UsageError(`--tlsverify needs --tls${key === 'ca' ? 'cacert' : key}`);
      if (!existsSync(file)) throw new UsageError(`--tls${key === 'ca' ? 'cacert' : key}: ${file} does not exist`);
    }
    options.tls = files as { ca: string; cert: string; key: string };
  }
  // The engine is loaded only for the daemon: other commands stay quick to start.
  const { runDaemon } = await import('../../api/daemon.js');
  return runDaemon(options);
}
