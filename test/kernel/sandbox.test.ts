import test from 'ava';
import { openSync, closeSync, writeFileSync, mkdirSync, rmSync, statfsSync, existsSync } from 'node:fs';
import { scratch } from '../helpers/scratch.js';
import { ipJson, ping } from '../helpers/ip.js';
import { linkAdd, linkByName, linkSetUp, addrAdd, routeAdd, linkList, ValidationError, KernelError } from '../../src/netlink/index.js';
import { sandboxExec, icmpEcho } from '../../src/netns/index.js';

const NSFS_MAGIC = 0x6e736673;

test('a sandbox is an nsfs mount under the exec root, published by name for ip netns', async (t) => {
  const s = await scratch(t);
  const sandbox = await s.sandboxes.create({ name: s.name('a') });
  t.is(sandbox.path, `${s.execRoot}/netns/${sandbox.id}`);
  t.is(statfsSync(sandbox.path).type, NSFS_MAGIC);
  const names = ipJson<Array<{ name: string }>>(['netns', 'list']).map((n) => n.name);
  t.true(names.includes(s.name('a')));
  // ip netns exec works on the published name, and sees the sandbox's own loopback only.
  const links = ipJson<Array<{ ifname: string }>>(['link', 'show'], s.name('a'));
  t.deepEqual(links.map((l) => l.ifname), ['lo']);
  t.deepEqual(s.sandboxes.list().map((x) => [x.id, x.name]), [[sandbox.id, s.name('a')]]);
  await s.sandboxes.delete(sandbox);
  t.false(existsSync(sandbox.path));
  await s.assertClean(t);
});

test('the exec root netns directory is a shared mount point of its own', async (t) => {
  const s = await scratch(t);
  s.sandboxes.init();
  const { readFileSync } = await import('node:fs');
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === `${s.execRoot}/netns`);
  t.truthy(line, 'netns dir is a mount point');
  t.regex(line!, / shared:\d+/);
  s.sandboxes.init(); // idempotent
  await s.assertClean(t);
});

test('two sandboxes on a bridge reach each other and the gateway', async (t) => {
  const s = await scratch(t);
  const bridge = await linkAdd(s.host, { kind: 'bridge', name: s.name('br'), up: true });
  await addrAdd(s.host, bridge!, '10.77.0.1/24');
  const [a, b] = await s.sandboxes.createMany([
    { name: s.name('a'), handle: true },
    { name: s.name('b'), handle: true },
  ]);
  for (const [i, sandbox] of [a!, b!].entries()) {
    const fd = openSync(sandbox.path, 'r');
    await linkAdd(s.host, { kind: 'veth', name: s.name(`v${i}`), master: bridge!, up: true, peer: { name: 'eth0', netnsFd: fd, hardwareAddr: `02:42:0a:4d:00:0${i + 2}` } });
    closeSync(fd);
    const h = sandbox.handle!;
    const eth0 = (await linkByName(h, 'eth0')).index;
    // One pipelined batch: requests by index keep their order, so the route follows its address.
    await Promise.all([linkSetUp(h, 'lo'), linkSetUp(h, eth0), addrAdd(h, eth0, `10.77.0.${i + 2}/24`), routeAdd(h, { dst: 'default', gateway: '10.77.0.1' })]);
    h.close();
  }
  t.true(ping(s.name('a'), '10.77.0.3'), 'a pings b');
  t.true(ping(s.name('b'), '10.77.0.1'), 'b pings the gateway');
  const rtt = await icmpEcho(a!.path, '10.77.0.3', { timeoutMs: 2000 });
  t.not(rtt, null, 'the native probe gets a reply');
  const eth0 = ipJson<Array<{ address: string; link_index?: number }>>(['link', 'show', 'eth0'], s.name('a'))[0]!;
  t.is(eth0.address, '02:42:0a:4d:00:02');
  await s.sandboxes.deleteMany([a!, b!]);
  const { linkDel } = await import('../../src/netlink/index.js');
  await linkDel(s.host, s.name('br'));
  await s.assertClean(t);
});

test('deleting a sandbox removes its devices with it', async (t) => {
  const s = await scratch(t);
  const sandbox = await s.sandboxes.create({ name: s.name('a') });
  const fd = openSync(sandbox.path, 'r');
  await linkAdd(s.host, { kind: 'veth', name: s.name('v'), peer: { name: 'eth0', netnsFd: fd } });
  closeSync(fd);
  t.true((await linkList(s.host)).some((l) => l.name === s.name('v')));
  await s.sandboxes.delete(sandbox);
  await s.assertClean(t); // waits for the kernel's namespace cleanup to take the host end away
});

test('sandboxExec runs a command with the sandbox network, its own /sys and /etc/netns/NAME', async (t) => {
  const s = await scratch(t);
  const sandbox = await s.sandboxes.create({ name: s.name('a') });
  const etc = `/etc/netns/${s.name('a')}`;
  mkdirSync(etc, { recursive: true });
  t.teardown(() => rmSync(etc, { recursive: true, force: true }));
  writeFileSync(`${etc}/hosts`, '10.9.9.9 only-in-the-sandbox\n');
  const links = await sandboxExec(sandbox, ['ls', '/sys/class/net']);
  t.is(links.exitCode, 0);
  t.deepEqual(links.stdout.trim().split(/\s+/), ['lo']);
  const hosts = await sandboxExec(sandbox, ['cat', '/etc/hosts']);
  t.is(hosts.stdout, '10.9.9.9 only-in-the-sandbox\n');
  const missing = await sandboxExec(sandbox, ['no-such-command-here']);
  t.is(missing.exitCode, 127);
  t.regex(missing.stderr, /no-such-command-here/);
  await s.sandboxes.delete(sandbox);
  rmSync(etc, { recursive: true, force: true });
  await s.assertClean(t);
});

test('a sandbox name is checked before anything is made', async (t) => {
  const s = await scratch(t);
  for (const bad of ['', '.', '..', 'a/b', 'a:b', 'a b', '-x', 'x'.repeat(65)]) {
    await t.throwsAsync(s.sandboxes.create({ name: bad }), { instanceOf: ValidationError }, JSON.stringify(bad));
  }
  await t.throwsAsync(s.sandboxes.createMany([{ name: s.name('a') }, { name: s.name('a') }]), { message: /given twice/ });
  await s.assertClean(t);
});

test('creating a sandbox whose name is taken fails and leaves the first one alone', async (t) => {
  const s = await scratch(t);
  const first = await s.sandboxes.create({ name: s.name('a') });
  const error = await t.throwsAsync(s.sandboxes.create({ name: s.name('a') }), { instanceOf: KernelError });
  t.regex(error!.message, /exists/);
  t.is(s.sandboxes.list().length, 1);
  await s.sandboxes.delete(first);
  await s.assertClean(t);
});

test('a failed batch create removes the sandboxes it had made', async (t) => {
  const s = await scratch(t);
  const first = await s.sandboxes.create({ name: s.name('a'), id: 'fixedid1' });
  // Same id as an existing sandbox: its namespace file exists, so the second item fails.
  await t.throwsAsync(s.sandboxes.createMany([{ name: s.name('b') }, { name: s.name('c'), id: 'fixedid1' }]), { instanceOf: KernelError });
  t.deepEqual(s.sandboxes.list().map((x) => x.name), [s.name('a')]);
  await s.sandboxes.delete(first);
  await s.assertClean(t);
});

test('deleting is idempotent', async (t) => {
  const s = await scratch(t);
  const sandbox = await s.sandboxes.create({ name: s.name('a') });
  await s.sandboxes.delete(sandbox);
  await t.notThrowsAsync(s.sandboxes.delete(sandbox));
  await s.assertClean(t);
});

test.serial('a sandbox holds no open socket after delete', async (t) => {
  const s = await scratch(t);
  const { readdirSync, readlinkSync } = await import('node:fs');
  const sockets = () => readdirSync('/proc/self/fd').filter((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:'); } catch { return false; } }).length;
  const before = sockets();
  const sandboxes = await s.sandboxes.createMany(Array.from({ length: 20 }, (_, i) => ({ name: s.name(`n${i}`), handle: true })));
  t.is(sockets(), before + 20);
  await s.sandboxes.deleteMany(sandboxes);
  t.is(sockets(), before);
  await s.assertClean(t);
});
