#!/usr/bin/env node
// Host-wide leak check, the last step of `npm test`: fails on anything Switchyard-owned the suite
// left on the host: processes, mounts, network namespaces, links, nft tables, cgroups, data and exec roots.
// What was there before the suite started (a lab the user deployed) is the baseline, not a leak.
//   leak-check.mjs --baseline FILE   record what is there now
//   leak-check.mjs [FILE]            fail on anything not in the baseline FILE
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';

const found = [];
const self = String(process.pid);
const ancestors = new Set([self, String(process.ppid)]);

for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name) && name !== self)) {
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    continue;
  }
  if (ancestors.has(pid)) continue;
  if (/yard-nsexec|dist\/src\/cli\/main\.js daemon|switchyard-test/.test(cmdline)) found.push(`process ${pid}: ${cmdline}`);
}
for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
  const fields = line.split(' ');
  if (/switchyard/.test(fields[4] ?? '')) found.push(`mount ${fields[4]}`);
}
if (existsSync('/run/netns')) {
  for (const entry of readdirSync('/run/netns')) if (/^(sy|yard)/.test(entry)) found.push(`network namespace /run/netns/${entry}`);
}
const links = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' }) || '[]');
for (const link of links) if (/^(sy|yard)/.test(link.ifname)) found.push(`link ${link.ifname}`);
// nftables' nft by its path: under npm, node_modules/.bin (with ava's unrelated `nft`) comes first on PATH.
const nft = spawnSync('/usr/sbin/nft', ['-j', 'list', 'tables'], { encoding: 'utf8' });
if (nft.status === 0) {
  for (const item of JSON.parse(nft.stdout || '{"nftables":[]}').nftables) {
    if (item.table && /switchyard/.test(item.table.name)) found.push(`nft table ${item.table.family} ${item.table.name}`);
  }
}
// Cgroups a test's dockerd made (its --cgroup-parent is switchyard-test-dockerd-<id>), at most four
// levels below a hierarchy's root (cgroup v1 puts a relative parent under the caller's own cgroup).
const walkCgroups = (dir, depth) => {
  let entries = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  } catch {
    return;
  }
  for (const entry of entries) {
    if (/^switchyard-test/.test(entry.name)) found.push(`cgroup ${dir}/${entry.name}`);
    else if (depth < 4) walkCgroups(`${dir}/${entry.name}`, depth + 1);
  }
};
for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
  const fields = line.split(' ');
  const separator = fields.indexOf('-');
  if (separator > 0 && /^cgroup2?$/.test(fields[separator + 1] ?? '')) walkCgroups(fields[4], 0);
}
for (const dir of ['/tmp', '/run']) {
  for (const entry of existsSync(dir) ? readdirSync(dir) : []) if (/^switchyard-test/.test(entry)) found.push(`data root ${dir}/${entry}`);
}

const [mode, file] = process.argv[2] === '--baseline' ? ['baseline', process.argv[3]] : ['check', process.argv[2]];
if (mode === 'baseline') {
  // A daemon the user started before the suite (npm run lab) is theirs, as is a lab it made.
  writeFileSync(file, JSON.stringify(found));
  process.exit(0);
}
const baseline = new Set(file && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : []);
const leaks = found.filter((item) => !baseline.has(item));
if (leaks.length > 0) {
  console.error(`leak check: the suite left these on the host:\n  ${leaks.join('\n  ')}`);
  console.log('  1 test failed');
  process.exit(1);
}
console.log(`leak check: the suite left nothing of Switchyard's on the host${baseline.size ? ` (${baseline.size} items were there before it started)` : ''}`);
console.log('  1 test passed');
