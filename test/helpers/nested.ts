/**
 * Scenarios that change namespace-wide state (dockerd turns ip_forward on, sets the FORWARD policy to
 * drop, turns bridge-nf-call-iptables on) cannot share the test namespace with the tests that run
 * beside them. Such a scenario is a script of its own, run by `runNested` in a network + mount
 * namespace nested in the test namespace, that reports JSON on its last line of stdout:
 *
 *   // test/fixtures/my-scenario.ts (the script)
 *   await runScenario(async (scenario) => {
 *     await scenario.step('something happens', async () => ...);
 *   });
 *
 *   // test/kernel/my.test.ts (the ava side)
 *   const { report } = await runNested(path_to_compiled_script, [], { timeoutMs: 60_000 });
 *
 * Everything the script writes besides the report goes to stderr.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** One named step of a scenario: whether it passed, how long it took, what it found. */
export interface StepReport {
  name: string;
  ok: boolean;
  ms: number;
  value?: unknown;
  error?: string;
}

/** What a scenario script prints as its last line. */
export interface ScenarioReport {
  steps: StepReport[];
  /** Named facts the scenario recorded (timings, rulesets, paths). */
  facts: Record<string, unknown>;
  /** What was left in the nested namespace after the scenario: links other than lo, namespaces, processes, new mounts. */
  leftovers: string[];
  ms: number;
}

export interface NestedResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  /** The report, or undefined when the script printed none (it crashed or was killed). */
  report: ScenarioReport | undefined;
  stderr: string;
  ms: number;
}

// ---------------------------------------------------------------------------------------------
// The ava side

/**
 * Run a compiled scenario script with `unshare --net --mount --propagation private -- node SCRIPT
 * ARGS`. On timeout the script gets SIGTERM (it cleans up and still reports), then SIGKILL after a
 * grace period.
 */
export function runNested(script: string, args: string[], options: { timeoutMs: number; graceMs?: number }): Promise<NestedResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['--net', '--mount', '--propagation', 'private', '--', process.execPath, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let killTimer: NodeJS.Timeout | undefined;
    const termTimer = setTimeout(() => {
      stderr += `\nrunNested: ${script} still running after ${options.timeoutMs} ms: SIGTERM\n`;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), options.graceMs ?? 30_000);
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(termTimer);
      reject(new Error(`run ${script} in a nested namespace: ${error.message}`));
    });
    child.on('close', (status, signal) => {
      clearTimeout(termTimer);
      if (killTimer) clearTimeout(killTimer);
      const last = stdout.trim().split('\n').pop() ?? '';
      let report: ScenarioReport | undefined;
      try {
        report = last ? (JSON.parse(last) as ScenarioReport) : undefined;
      } catch {
        stderr += `\nrunNested: last line of stdout is not a report: ${last.slice(0, 200)}\n`;
      }
      resolve({ status, signal, report, stderr, ms: Math.round(performance.now() - started) });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The script side

function namespaceOf(pid: number | 'self', kind: 'net' | 'mnt'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return undefined;
  }
}

/** The parent of a process, from /proc/PID/stat; undefined when it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/**
 * Refuse to go on unless this process has a network and a mount namespace of its own, distinct from
 * its parent's (the test namespace) and from those of every ancestor it may read (the host's): what
 * the scenario does must never reach any of them. (PID 1's namespaces may not be readable.)
 */
export function assertNestedNamespace(): void {
  for (const kind of ['net', 'mnt'] as const) {
    const own = namespaceOf('self', kind);
    if (own === undefined) throw new Error(`refusing to run: cannot read this process's ${kind} namespace`);
    if (namespaceOf(process.ppid, kind) === undefined) throw new Error(`refusing to run: cannot read the ${kind} namespace of the parent, pid ${process.ppid}`);
    for (let pid: number | undefined = process.ppid; pid !== undefined && pid > 0; pid = parentOf(pid)) {
      if (namespaceOf(pid, kind) === own) {
        throw new Error(`refusing to run: this process shares its ${kind} namespace with pid ${pid} (run it with runNested, under unshare --net --mount)`);
      }
    }
  }
}

/** Processes other than this one in this network or mount namespace (a scenario's leftovers). */
export function otherProcessesInNamespace(): Array<{ pid: number; cmdline: string }> {
  const net = namespaceOf('self', 'net');
  const mnt = namespaceOf('self', 'mnt');
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const pid = Number(entry);
    if (namespaceOf(pid, 'net') !== net && namespaceOf(pid, 'mnt') !== mnt) continue;
    if (isZombie(pid)) continue;
    found.push({ pid, cmdline: cmdlineOf(pid) });
  }
  return found;
}

export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

/** A zombie has left its namespaces and cgroups already; only its parent's wait is missing. */
export function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

function must(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${(result.stderr || String(result.error ?? result.signal)).trim()}`);
}

/** Mount ids and mount points, from mountinfo. */
function mounts(): Array<{ id: string; mountPoint: string; type: string }> {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const fields = line.split(' ');
      return { id: fields[0]!, mountPoint: fields[4]!, type: fields[fields.indexOf('-') + 1] ?? '' };
    });
}

/** Leftovers of the nested namespace as iproute2, /proc and mountinfo see them; `before`: mount ids to ignore. */
function nestedLeftovers(before: Set<string>): string[] {
  const found: string[] = [];
  const links = JSON.parse(spawnSync('/usr/sbin/ip', ['-j', 'link', 'show'], { encoding: 'utf8' }).stdout || '[]') as Array<{ ifname: string }>;
  for (const link of links) if (link.ifname !== 'lo') found.push(`link ${link.ifname}`);
  if (existsSync('/run/netns')) for (const entry of readdirSync('/run/netns')) found.push(`/run/netns/${entry}`);
  for (const { id, mountPoint, type } of mounts()) {
    // (`ip netns add` leaves /run/netns bound on itself: that one is iproute2's, and harmless.)
    if (!before.has(id) && !(mountPoint === '/run/netns' && type !== 'nsfs')) found.push(`${type} mount ${mountPoint}`);
  }
  for (const { pid, cmdline } of otherProcessesInNamespace()) found.push(`process ${pid}: ${cmdline}`);
  return found;
}

/** The report being built by a scenario script, and its steps. */
export class Scenario {
  readonly steps: StepReport[] = [];
  readonly facts: Record<string, unknown> = {};
  private readonly abort = new AbortController();

  /** Aborted when the script gets SIGTERM or SIGINT: long waits should give up, cleanup still runs. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** True once a step failed: the steps after it are not run. */
  get failed(): boolean {
    return this.steps.some((step) => !step.ok);
  }

  /**
   * Run one named step and record it; its resolved value (JSON-able) goes into the report. A failed
   * step is recorded with its error and skips every later step, but does not throw, so the cleanup
   * around the steps runs as usual.
   */
  async step<T>(name: string, body: () => Promise<T>): Promise<T | undefined> {
    if (this.failed) return undefined;
    if (this.signal.aborted) {
      this.steps.push({ name, ok: false, ms: 0, error: 'not run: the scenario was interrupted' });
      return undefined;
    }
    const started = performance.now();
    try {
      const value = await body();
      this.steps.push({ name, ok: true, ms: Math.round(performance.now() - started), ...(value === undefined ? {} : { value }) });
      return value;
    } catch (error) {
      this.steps.push({ name, ok: false, ms: Math.round(performance.now() - started), error: describe(error) });
      return undefined;
    }
  }

  /** @internal */
  interrupt(): void {
    this.abort.abort(new Error('interrupted'));
  }
}

/** An error's message, with the errors attached to it (`cause`, AggregateError's `errors`). */
export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  let text = error.message;
  const attached = error instanceof AggregateError ? error.errors : [];
  if (attached.length > 0) text += `; then: ${attached.map(describe).join('; ')}`;
  if (error.cause !== undefined) text += `; cause: ${describe(error.cause)}`;
  return text;
}

/**
 * The main of a scenario script: checks it runs in a nested namespace, gives it a private /run (so
 * /run/netns and every exec root vanish with it) and loopback, runs `body`, lists what was left in
 * the namespace, and prints the report as the last line of stdout. Exits 0 whenever it printed a
 * report; the ava side judges the report.
 */
export async function runScenario(body: (scenario: Scenario) => Promise<void>): Promise<never> {
  const started = performance.now();
  const scenario = new Scenario();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => scenario.interrupt());
  let leftovers: string[] = [];
  let before = new Set(mounts().map((mount) => mount.id));
  try {
    assertNestedNamespace();
    must('mount', ['-t', 'tmpfs', '-o', 'mode=755', 'switchyard-nested-run', '/run']);
    before = new Set(mounts().map((mount) => mount.id));
    must('/usr/sbin/ip', ['link', 'set', 'lo', 'up']);
    await body(scenario);
  } catch (error) {
    scenario.steps.push({ name: 'scenario', ok: false, ms: 0, error: describe(error) });
  }
  try {
    leftovers = nestedLeftovers(before);
  } catch (error) {
    leftovers = [`(cannot list leftovers: ${describe(error)})`];
  }
  const report: ScenarioReport = { steps: scenario.steps, facts: scenario.facts, leftovers, ms: Math.round(performance.now() - started) };
  process.stdout.write(`\n${JSON.stringify(report)}\n`, () => process.exit(0));
  return new Promise<never>(() => undefined);
}
