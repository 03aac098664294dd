#!/usr/bin/env node
// The whole suite, as `npm test` runs it after set-up:
//  1. unit tests (no root, no kernel state);
//  2. kernel tests, inside a throwaway network + mount namespace (test/throwaway.mjs), which ends
//     with a check that nothing of Switchyard's is left in that namespace;
//  3. a host-wide leak check (test/leak-check.mjs): processes, mounts, links, namespaces, data roots.
// Prints one closing line "N passed, N failed" and exits non-zero on any failure.
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ava = path.join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs');

function runCounting(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FORCE_COLOR: '0' } });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    child.on('close', (code, signal) => {
      const count = (pattern) => [...output.matchAll(pattern)].reduce((sum, match) => sum + Number(match[1]), 0);
      // ava prints no "N tests passed" line when some failed: count the ticks and crosses instead.
      const ticks = (output.match(/^\s*✔/gm) ?? []).length;
      const crosses = (output.match(/^\s*✘/gm) ?? []).length;
      const passed = Math.max(ticks, count(/^\s*(\d+) tests? passed/gm));
      const failed = Math.max(crosses, count(/^\s*(\d+) tests? failed/gm)) + count(/^\s*(\d+) uncaught exceptions?/gm) + count(/^\s*(\d+) unhandled rejections?/gm);
      const skipped = count(/^\s*(\d+) tests? skipped/gm) + count(/^\s*(\d+) tests? todo/gm);
      resolve({ code: code ?? 1, signal, passed, failed, skipped });
    });
  });
}

const baseline = path.join(os.tmpdir(), `switchyard-leak-baseline-${process.pid}.json`);
spawnSync(process.execPath, [path.join(root, 'test', 'leak-check.mjs'), '--baseline', baseline], { stdio: 'inherit' });
const results = [];
console.log('== unit tests');
results.push(await runCounting(process.execPath, [ava, 'dist/test/unit/**/*.test.js']));
console.log('== kernel tests (throwaway network + mount namespace)');
results.push(await runCounting('unshare', ['--net', '--mount', '--propagation', 'private', '--', process.execPath, path.join(root, 'test', 'throwaway.mjs'), process.execPath, ava, 'dist/test/kernel/**/*.test.js', 'dist/test/conformance/**/*.test.js']));
console.log('== host leak check');
results.push(await runCounting(process.execPath, [path.join(root, 'test', 'leak-check.mjs'), baseline]));
rmSync(baseline, { force: true });

const passed = results.reduce((sum, r) => sum + r.passed, 0);
let failed = results.reduce((sum, r) => sum + r.failed, 0);
const skipped = results.reduce((sum, r) => sum + r.skipped, 0);
const exitFailures = results.filter((r) => r.code !== 0).length;
if (failed === 0 && exitFailures > 0) failed = exitFailures;
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(exitFailures > 0 || failed > 0 ? 1 : 0);
