#!/usr/bin/env node
// `npm run bench` (after set-up): every benchmark runs inside a throwaway network + mount namespace,
// with its reference measured in the same run. Each prints JSON lines
// {"bench","n","value","unit","reference","ratio","target","ok"} on stdout; progress goes to stderr.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// The engine's runtime flags (the daemon will start with the same): a young generation of at most
// 3 x 4 MB instead of V8's default 3 x 16 MB, which a busy engine grows into and keeps
// (heapTotal 51 MB with 8 MB in use at 1000 endpoints). docs/benchmarks.md has the figures.
const ENGINE_NODE_FLAGS = ['--max-semi-space-size=4'];
const benches = ['kernel-attach', 'cnm-attach', 'firewall', 'api'];
const only = process.argv.slice(2);
let failed = 0;
for (const name of benches) {
  if (only.length && !only.includes(name)) continue;
  const result = spawnSync('unshare', ['--net', '--mount', '--propagation', 'private', '--', process.execPath, path.join(root, 'test', 'throwaway.mjs'), process.execPath, '--expose-gc', ...ENGINE_NODE_FLAGS, path.join(root, 'dist', 'test', 'bench', `${name}.js`)], { stdio: 'inherit', cwd: root });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
