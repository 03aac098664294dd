#!/usr/bin/env node
/** `yard`: Switchyard's command line. */
import { demo } from './commands/demo.js';
import { ValidationError, KernelError } from '../netlink/errors.js';

const USAGE = `Usage: yard COMMAND

Commands:
  demo [--remove]   two sandboxes on a bridge pinging each other (what npm run lab runs for now)
  help              this text

Options:
  --exec-root DIR   where sandboxes live (default /run/switchyard)`;

function option(args: string[], name: string, fallback: string): string {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const value = args[at + 1];
  if (value === undefined) throw new ValidationError(name, 'needs a value');
  args.splice(at, 2);
  return value;
}

async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  const execRoot = option(args, '--exec-root', '/run/switchyard');
  const [command, ...rest] = args;
  switch (command) {
    case 'demo':
      return demo(rest, { execRoot });
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      console.error(`yard: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`yard: ${message}`);
    process.exit(error instanceof ValidationError ? 2 : error instanceof KernelError ? 1 : 1);
  },
);
