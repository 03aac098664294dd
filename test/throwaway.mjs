#!/usr/bin/env node
// Runs inside `unshare --net --mount --propagation private` (test/run.mjs, test/bench/run.mjs):
// gives the throwaway namespaces a private /run (so /run/netns and exec roots vanish with them),
// brings loopback up, runs the given command, then fails if anything of Switchyard's is left in
// this namespace: links other than loopback, published namespaces, nsfs mounts, exec-root files,
// nftables tables named switchyard*.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

function must(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`throwaway: ${command} ${args.join(' ')} failed`);
    process.exit(1);
  }
}

// nsfs mounts the host had when this namespace was made (a lab the user runs) are copied into it
// with the mount table: they are not this run's.
const nsfsMounts = () =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .flatMap((line) => {
      const fields = line.split(' ');
      const separator = fields.indexOf('-');
      return separator > 0 && fields[separator + 1] === 'nsfs' ? [`${fields[0]} ${fields[4]}`] : [];
    });
const inheritedNsfs = new Set(nsfsMounts());
must('mount', ['-t', 'tmpfs', '-o', 'mode=755', 'switchyard-test-run', '/run']);
must('ip', ['link', 'set', 'lo', 'up']);
process.env.SWITCHYARD_THROWAWAY = '1';

const [command, ...args] = process.argv.slice(2);
const result = spawnSync(command, args, { stdio: 'inherit', env: process.env });
let status = result.status ?? 1;

const leftovers = [];
const links = JSON.parse(spawnSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' }).stdout || '[]');
for (const link of links) if (link.ifname !== 'lo') leftovers.push(`link ${link.ifname}`);
if (existsSync('/run/netns')) for (const entry of readdirSync('/run/netns')) leftovers.push(`/run/netns/${entry}`);
for (const mount of nsfsMounts()) if (!inheritedNsfs.has(mount)) leftovers.push(`nsfs mount ${mount.split(' ')[1]}`);
// nftables by absolute path: under `npm test` PATH starts with node_modules/.bin, whose `nft` is
// @vercel/nft (ava's file tracer), which exits 0 printing nothing.
const tables = spawnSync('/usr/sbin/nft', ['-j', 'list', 'tables'], { encoding: 'utf8' });
if (tables.status === 0) {
  for (const item of JSON.parse(tables.stdout || '{"nftables":[]}').nftables) {
    if (item.table && /^switchyard/.test(item.table.name)) leftovers.push(`nft table ${item.table.family} ${item.table.name}`);
  }
} else {
  leftovers.push(`(cannot list nft tables: ${(tables.stderr || String(tables.error)).trim()})`);
}
const testRoot = '/run/switchyard-test';
if (existsSync(testRoot)) {
  for (const entry of readdirSync(testRoot)) {
    const netns = `${testRoot}/${entry}/netns`;
    if (existsSync(netns)) for (const file of readdirSync(netns)) leftovers.push(`sandbox file ${netns}/${file}`);
  }
}
if (leftovers.length > 0) {
  console.error(`throwaway: left behind in the test namespace:\n  ${leftovers.join('\n  ')}`);
  console.log('  1 test failed');
  status = status || 1;
}
process.exit(status);
