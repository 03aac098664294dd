/**
 * Command-line flags the way docker's CLI (pflag) reads them: `--name value`, `--name=value`, `-n
 * value`, `-nVALUE`, grouped short booleans (`-qf`), repeatable flags, `--` ends flags. Flags may
 * come before, between and after positional arguments. A mistake is a UsageError naming the flag.
 */

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface FlagSpec {
  /** Long name without dashes: `subnet`. */
  name: string;
  short?: string;
  /** bool flags take no value (`--internal`, or `--internal=false`). */
  kind: 'bool' | 'string' | 'list';
  help: string;
  /** Shown in usage: `--subnet strings`. */
  value?: string;
}

export interface Parsed {
  flags: Map<string, string[]>;
  args: string[];
}

const TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

export function parseArgs(argv: string[], specs: FlagSpec[]): Parsed {
  const flags = new Map<string, string[]>();
  const args: string[] = [];
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const put = (spec: FlagSpec, value: string) => {
    if (spec.kind === 'bool' && !TRUE.includes(value) && !FALSE.includes(value)) throw new UsageError(`invalid argument "${value}" for "--${spec.name}" flag: not a boolean`);
    const values = spec.kind === 'list' ? [...(flags.get(spec.name) ?? []), value] : [value];
    flags.set(spec.name, values);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const spec = byLong.get(name);
      if (!spec) throw new UsageError(`unknown flag: --${name}`);
      if (eq >= 0) put(spec, arg.slice(eq + 1));
      else if (spec.kind === 'bool') put(spec, 'true');
      else {
        if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: --${name}`);
        put(spec, argv[++i]!);
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j]!;
        const spec = byShort.get(letter);
        if (!spec) throw new UsageError(`unknown shorthand flag: '${letter}' in ${arg}`);
        if (spec.kind === 'bool') {
          put(spec, 'true');
          continue;
        }
        const rest = arg.slice(j + 1);
        if (rest) put(spec, rest.startsWith('=') ? rest.slice(1) : rest);
        else {
          if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: '${letter}' in ${arg}`);
          put(spec, argv[++i]!);
        }
        break;
      }
      continue;
    }
    args.push(arg);
  }
  return { flags, args };
}

export const flag = {
  string: (p: Parsed, name: string): string | undefined => p.flags.get(name)?.[0],
  bool: (p: Parsed, name: string): boolean => TRUE.includes(p.flags.get(name)?.[0] ?? 'false'),
  list: (p: Parsed, name: string): string[] => p.flags.get(name) ?? [],
  /** `key=value` pairs of a repeatable flag (`--label`, `--opt`); a bare key has an empty value. */
  map: (p: Parsed, name: string): Record<string, string> =>
    Object.fromEntries(
      (p.flags.get(name) ?? []).map((item) => {
        const eq = item.indexOf('=');
        return eq < 0 ? [item, ''] : [item.slice(0, eq), item.slice(eq + 1)];
      }),
    ),
};

/** Usage text of a command: its line, what it does, and its flags. */
export function usage(line: string, about: string, specs: FlagSpec[]): string {
  const rows = specs.map((s) => [`${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.value ? ` ${s.value}` : s.kind === 'bool' ? '' : ' string'}`, s.help]);
  const width = Math.max(0, ...rows.map(([left]) => left!.length));
  return `Usage:  ${line}\n\n${about}\n${rows.length ? `\nOptions:\n${rows.map(([left, right]) => `  ${left!.padEnd(width)}   ${right}`).join('\n')}\n` : ''}`;
}

/**
 * Parse a subcommand's arguments (`yard network create …`): its flags and `--help`, then its count
 * of positional arguments. Undefined when help was printed. With `stopAtArgs`, flags end at the
 * first positional argument (`sandbox exec NAME CMD -x`: the command's own flags follow).
 */
export function parseSubcommand(
  argv: string[],
  command: string,
  specs: FlagSpec[],
  line: string,
  about: string,
  count: { min: number; max?: number; stopAtArgs?: boolean },
  print: (text: string) => void,
): Parsed | undefined {
  const { min, max = Infinity } = count;
  const split = count.stopAtArgs ? argv.findIndex((a) => !a.startsWith('-')) : -1;
  const p = parseArgs(split >= 0 ? [...argv.slice(0, split), '--', ...argv.slice(split)] : argv, [...specs, { name: 'help', kind: 'bool', help: 'Print usage' }]);
  if (flag.bool(p, 'help')) {
    print(usage(line, about, specs));
    return undefined;
  }
  if (p.args.length < min || p.args.length > max) {
    const plural = (n: number) => `${n} argument${n === 1 ? '' : 's'}`;
    const wanted = min === max ? `exactly ${plural(min)}` : max === Infinity ? `at least ${plural(min)}` : `${min} to ${max} arguments`;
    throw new UsageError(`"yard ${command}" requires ${wanted}.\nSee 'yard ${command} --help'.\n\n${usage(line, about, specs)}`);
  }
  return p;
}
