/**
 * Run a command inside a sandbox as `ip netns exec` does: the sandbox's network, a private mount
 * namespace with a sysfs that shows the sandbox's devices, and /etc/netns/NAME over /etc. The work
 * happens in native/src/nsexec.c (a process may not setns into a mount namespace while it has
 * threads, and Node always has), which then execs the command.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { nsexecPath } from '../../native/index.js';
import type { Sandbox } from './sandbox.js';

/** Start a command inside the sandbox. Equivalent to: `ip netns exec NAME CMD ARGS...` */
export function sandboxSpawn(sandbox: Pick<Sandbox, 'path' | 'name'>, argv: string[], options: SpawnOptions = {}): ChildProcess {
  if (argv.length === 0) throw new Error(`exec in sandbox ${sandbox.name}: no command given`);
  return spawn(nsexecPath, [sandbox.path, sandbox.name, ...argv], options);
}

/** What a finished command left. */
export interface ExecResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run a command inside the sandbox to completion and collect its output. */
export function sandboxExec(sandbox: Pick<Sandbox, 'path' | 'name'>, argv: string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = sandboxSpawn(sandbox, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.on('error', (error) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`exec ${argv[0]} in sandbox ${sandbox.name}: ${error.message}`));
    });
    child.on('close', (exitCode, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ exitCode, signal, stdout, stderr });
    });
    // A command that exits at once (or never reads) closes its stdin: EPIPE here is not an error.
    child.stdin!.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') reject(new Error(`exec ${argv[0]} in sandbox ${sandbox.name}: write input: ${error.message}`));
    });
    child.stdin!.end(options.input ?? '');
  });
}
