/**
 * nftables through libnftables in the native addon (src/firewall/nft.ts). The `nft` CLI is the
 * independent checker. Every table is named `switchyard_<test prefix>…`, removed at the end of its
 * test (and by teardown when a test fails), and the test asserts none is left.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { native } from '../../native/index.js';
import { FirewallError, nftDeleteTable, nftList, nftTransaction, type NftCommand } from '../../src/firewall/index.js';
import { scratch } from '../helpers/scratch.js';
import { NetfilterSocket } from '../../src/firewall/nftables-netlink.js';
import { NetlinkSocket } from '../../src/netlink/socket.js';
import { setInlineKernelCalls } from '../../src/netlink/inline.js';
import { performance } from 'node:perf_hooks';
import { baseCommands, dropCommands, type EndpointElement } from '../../src/firewall/ruleset.js';

/**
 * The nftables CLI by absolute path: under `npm test`, PATH starts with node_modules/.bin, where
 * `nft` is @vercel/nft (ava's file tracer), not nftables.
 */
const NFT = '/usr/sbin/nft';

function nftCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(NFT, args, { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `nft -j list …` parsed, without the metainfo; null when nft fails (e.g. no such table). */
function nftJson(args: string[]): Array<Record<string, any>> | null {
  const result = nftCli(['-j', 'list', ...args]);
  if (result.status !== 0) return null;
  return (JSON.parse(result.stdout).nftables as Array<Record<string, any>>).filter((item) => !item.metainfo);
}

/** Names of the tables (any family) whose name starts with `start`, as the CLI lists them. */
function tablesStartingWith(start: string): string[] {
  return (nftJson(['tables']) ?? []).filter((item) => item.table?.name.startsWith(start)).map((item) => `${item.table.family} ${item.table.name}`);
}

/** A unique table name for this test, and the teardown that removes what a failed test left. */
async function tableFor(t: ExecutionContext): Promise<{ name: string; assertNoTables(): void }> {
  const s = await scratch(t);
  const name = `switchyard_${s.prefix}`;
  t.teardown(() => {
    for (const table of tablesStartingWith(name)) nftCli(['delete', 'table', ...table.split(' ')]);
  });
  return {
    name,
    assertNoTables() {
      t.deepEqual(tablesStartingWith(name), [], 'no table of this test is left');
    },
  };
}

const inetTable = (name: string): NftCommand => ({ add: { table: { family: 'inet', name } } });

function elements(list: Array<Record<string, any>> | null, set: string): unknown[] {
  return list?.find((item) => item.set?.name === set)?.set.elem ?? [];
}

test('a transaction adds a table, a chain, a rule and a named set with elements, as nft lists them', async (t) => {
  const { name, assertNoTables } = await tableFor(t);
  const at = { family: 'inet', table: name };
  await nftTransaction([
    inetTable(name),
    { add: { chain: { ...at, name: 'forward', type: 'filter', hook: 'forward', prio: 0, policy: 'accept' } } },
    { add: { set: { ...at, name: 'blocked', type: 'ipv4_addr' } } },
    { add: { element: { ...at, name: 'blocked', elem: ['192.0.2.1', '192.0.2.2'] } } },
    { add: { rule: { ...at, chain: 'forward', comment: 'switchyard test', expr: [{ match: { op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: '@blocked' } }, { drop: null }] } } },
  ]);
  const listed = nftJson(['table', 'inet', name]);
  t.truthy(listed, 'nft lists the table');
  t.truthy(listed!.find((item) => item.table?.name === name));
  const chain = listed!.find((item) => item.chain?.name === 'forward')?.chain;
  t.like(chain, { type: 'filter', hook: 'forward', prio: 0, policy: 'accept' });
  t.deepEqual(elements(listed, 'blocked').sort(), ['192.0.2.1', '192.0.2.2']);
  const rules = listed!.filter((item) => item.rule).map((item) => item.rule);
  t.is(rules.length, 1);
  t.is(rules[0].comment, 'switchyard test');
  t.deepEqual(rules[0].expr, [{ match: { op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: '@blocked' } }, { drop: null }]);
  await nftDeleteTable('inet', name);
  assertNoTables();
});

test('a transaction with one bad command changes nothing, and the next one works', async (t) => {
  const { name, assertNoTables } = await tableFor(t);
  const at = { family: 'inet', table: name };
  const good = [inetTable(name), { add: { chain: { ...at, name: 'c' } } }, { add: { set: { ...at, name: 's', type: 'ipv4_addr' } } }];

  // Refused by the kernel, after libnftables sent the whole batch: a set of size 1 given two
  // elements (libnftables does not check sizes; the kernel says ENFILE).
  const kernel = await t.throwsAsync(
    nftTransaction([...good, { add: { set: { ...at, name: 'small', type: 'ipv4_addr', size: 1 } } }, { add: { element: { ...at, name: 'small', elem: ['192.0.2.1', '192.0.2.2'] } } }]),
    { instanceOf: FirewallError },
  );
  t.is(kernel!.message, 'nft transaction: Could not process rule: Too many open files in system');
  t.is(kernel!.errno, 23, 'ENFILE');
  t.deepEqual(tablesStartingWith(name), [], 'no table: the whole batch was refused');

  // A jump to a chain that does not exist: refused by libnftables (when its cache knows the chains)
  // or by the kernel, ENOENT either way.
  const jump = await t.throwsAsync(nftTransaction([...good, { add: { rule: { ...at, chain: 'c', expr: [{ jump: { target: 'missing' } }] } } }]), { instanceOf: FirewallError });
  t.regex(jump!.message, /^nft transaction: .*No such file or directory/);
  t.is(jump!.errno, 2, 'ENOENT');
  t.deepEqual(tablesStartingWith(name), []);

  // Refused by libnftables before anything is sent: a field ip does not have.
  const parse = await t.throwsAsync(nftTransaction([...good, { add: { rule: { ...at, chain: 'c', expr: [{ match: { op: '==', left: { payload: { protocol: 'ip', field: 'bogus' } }, right: 1 } }] } } }]), { instanceOf: FirewallError });
  t.regex(parse!.message, /^nft transaction: Unknown ip field 'bogus'/);
  t.regex(parse!.message, /Parsing command array at index 4 failed/, 'libnftables names the command (index 0 is the metainfo)');
  t.is(parse!.errno, undefined, 'a parse error names no errno');
  t.deepEqual(tablesStartingWith(name), []);

  // A command libnftables does not know.
  const unknown = await t.throwsAsync(nftTransaction([{ frobnicate: { table: { family: 'inet', name } } }]), { instanceOf: FirewallError });
  t.regex(unknown!.message, /^nft transaction: .*frobnicate|^nft transaction: Unknown/);

  // The context dropped after a failure is replaced: the same commands without the bad one apply.
  await nftTransaction(good);
  t.truthy(nftJson(['table', 'inet', name]));
  await nftDeleteTable('inet', name);
  assertNoTables();
});

test('the error says what was being done and carries libnftables text; the addon rejects with errno', async (t) => {
  const { name, assertNoTables } = await tableFor(t);
  // Deleting a table that does not exist: ENOENT in libnftables' words ("Could not process rule: No
  // such file or directory" from the kernel, or "No such file or directory; did you mean table …"
  // when libnftables' cache already knows the tables).
  const error = await t.throwsAsync(nftTransaction([{ delete: { table: { family: 'inet', name } } }]), { instanceOf: FirewallError });
  t.regex(error!.message, /^nft transaction: (Could not process rule: )?No such file or directory/);
  t.is(error!.errno, 2);
  // The addon itself: the raw text (location prefix and all) and errno.
  const raw = await t.throwsAsync(native().nftRun(JSON.stringify({ nftables: [{ delete: { table: { family: 'inet', name } } }] })));
  t.regex(raw!.message, /^internal:0:0-0: Error: (Could not process rule: )?No such file or directory/);
  t.is((raw as Error & { errno?: number }).errno, 2);
  // Not JSON: refused, never run as nft syntax.
  const text = await t.throwsAsync(native().nftRun(`add table inet ${name}`));
  t.regex(text!.message, /not a JSON document/);
  // Listing a table that does not exist.
  const list = await t.throwsAsync(nftList({ list: { table: { family: 'inet', name } } }), { instanceOf: FirewallError });
  t.regex(list!.message, /^nft list: .*No such file or directory/);
  t.is(list!.errno, 2);
  assertNoTables();
});

test('nftList returns the table and its objects, with handles', async (t) => {
  const { name, assertNoTables } = await tableFor(t);
  const at = { family: 'inet', table: name };
  await nftTransaction([
    inetTable(name),
    { add: { chain: { ...at, name: 'c' } } },
    { add: { map: { ...at, name: 'm', type: 'ifname', map: 'verdict' } } },
    { add: { element: { ...at, name: 'm', elem: [['syv1', { accept: null }]] } } },
    { add: { rule: { ...at, chain: 'c', expr: [{ accept: null }] } } },
  ]);
  const listed = await nftList({ list: { table: { family: 'inet', name } } });
  t.false(listed.some((item) => 'metainfo' in item));
  const kinds = listed.map((item) => Object.keys(item)[0]).sort();
  t.deepEqual(kinds, ['chain', 'map', 'rule', 'table']);
  for (const item of listed) t.is(typeof (Object.values(item)[0] as { handle?: unknown }).handle, 'number', 'output carries handles');
  t.deepEqual((listed.find((item) => item.map)!.map as { elem: unknown }).elem, [['syv1', { accept: null }]]);
  // The same as the CLI sees it (apart from key order).
  t.deepEqual(listed, nftJson(['table', 'inet', name]));
  await nftDeleteTable('inet', name);
  assertNoTables();
});

test('deleting a table is idempotent: it works on a table that exists, and again when it is gone', async (t) => {
  const { name, assertNoTables } = await tableFor(t);
  await nftTransaction([inetTable(name), { add: { chain: { family: 'inet', table: name, name: 'c' } } }, { add: { table: { family: 'bridge', name } } }]);
  t.deepEqual(tablesStartingWith(name).sort(), [`bridge ${name}`, `inet ${name}`]);
  await nftDeleteTable('inet', name);
  t.deepEqual(tablesStartingWith(name), [`bridge ${name}`], 'only the inet table went');
  await nftDeleteTable('inet', name);
  await nftDeleteTable('bridge', name);
  await nftDeleteTable('bridge', name);
  assertNoTables();
});

test('1000 set elements in one transaction', async (t) => {
  const { name, assertNoTables } = await tableFor(t);
  const at = { family: 'inet', table: name };
  const addresses = Array.from({ length: 1000 }, (_, i) => `10.${i >> 8}.${i & 255}.1`);
  await nftTransaction([inetTable(name), { add: { set: { ...at, name: 's', type: 'ipv4_addr' } } }, { add: { element: { ...at, name: 's', elem: addresses } } }]);
  const listed = elements(nftJson(['set', 'inet', name, 's']), 's');
  t.is(listed.length, 1000);
  t.deepEqual(new Set(listed), new Set(addresses));
  await nftDeleteTable('inet', name);
  assertNoTables();
});

test('50 concurrent transactions all apply, through the queue and straight through the addon', async (t) => {
  const { name, assertNoTables } = await tableFor(t);
  const at = { family: 'inet', table: name };
  await nftTransaction([inetTable(name), { add: { set: { ...at, name: 's', type: 'ipv4_addr' } } }]);
  const element = (address: string): NftCommand => ({ add: { element: { ...at, name: 's', elem: [address] } } });
  await Promise.all(Array.from({ length: 50 }, (_, i) => nftTransaction([element(`10.1.0.${i + 1}`)])));
  // Straight through the addon: up to four libuv workers at once, serialised by the mutex.
  await Promise.all(Array.from({ length: 50 }, (_, i) => native().nftRun(JSON.stringify({ nftables: [element(`10.2.0.${i + 1}`)] }))));
  const listed = elements(nftJson(['set', 'inet', name, 's']), 's');
  t.is(listed.length, 100);
  // Concurrent failures and successes: each call gets its own result.
  const mixed = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => nftTransaction([i % 2 ? element(`10.3.0.${i}`) : { delete: { element: { ...at, name: 's', elem: [`10.9.0.${i}`] } } }])));
  t.deepEqual(mixed.map((result) => result.status), Array.from({ length: 20 }, (_, i) => (i % 2 ? 'fulfilled' : 'rejected')));
  t.is(elements(nftJson(['set', 'inet', name, 's']), 's').length, 110);
  await nftDeleteTable('inet', name);
  assertNoTables();
});

test('changes made by another process between calls are seen (the shared context re-reads the ruleset)', async (t) => {
  const { name, assertNoTables } = await tableFor(t);
  const at = { family: 'inet', table: name };
  await nftTransaction([inetTable(name), { add: { set: { ...at, name: 's', type: 'ipv4_addr' } } }, { add: { chain: { ...at, name: 'c' } } }]);
  await nftTransaction([{ add: { element: { ...at, name: 's', elem: ['192.0.2.1'] } } }]);
  // The CLI replaces the set with one of another type behind the context's back.
  t.is(nftCli(['delete', 'set', 'inet', name, 's']).status, 0);
  t.is(nftCli(['add', 'set', 'inet', name, 's', '{ type ipv6_addr; }']).status, 0);
  await nftTransaction([
    { add: { element: { ...at, name: 's', elem: ['2001:db8::1'] } } },
    { add: { rule: { ...at, chain: 'c', expr: [{ match: { op: '==', left: { payload: { protocol: 'ip6', field: 'saddr' } }, right: '@s' } }, { accept: null }] } } },
  ]);
  t.deepEqual(elements(nftJson(['set', 'inet', name, 's']), 's'), ['2001:db8::1']);
  // And a table the CLI deleted is gone for the context too.
  t.is(nftCli(['delete', 'table', 'inet', name]).status, 0);
  await t.throwsAsync(nftTransaction([{ add: { element: { ...at, name: 's', elem: ['2001:db8::2'] } } }]), { instanceOf: FirewallError });
  await nftDeleteTable('inet', name);
  assertNoTables();
});

/** CPU time of this process's waited-for children (utime + stime, clock ticks): grows with every process it runs. */
function childrenCpuTicks(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
  // After the command name: state is field 3, so cutime (16) and cstime (17) are at 13 and 14.
  return Number(fields[13]) + Number(fields[14]);
}

test.serial('1000 transactions in a loop start no process', async (t) => {
  const { name, assertNoTables } = await tableFor(t);
  const at = { family: 'inet', table: name };
  await nftTransaction([inetTable(name), { add: { set: { ...at, name: 's', type: 'ipv4_addr' } } }]);
  const ticks = childrenCpuTicks();
  const children = readFileSync(`/proc/self/task/${process.pid}/children`, 'utf8');
  for (let i = 0; i < 1000; i++) {
    await nftTransaction([{ add: { element: { ...at, name: 's', elem: [`10.${i >> 8}.${i & 255}.7`] } } }]);
    if (i % 100 === 0) {
      const handles = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles();
      t.false(handles.some((handle) => handle.constructor.name === 'ChildProcess'), 'no child process handle');
    }
  }
  // One `nft` process costs 2.5 ms or more of CPU: 1000 of them would add hundreds of ticks.
  t.is(childrenCpuTicks(), ticks, 'no child ran (and was waited for) during the loop');
  t.is(readFileSync(`/proc/self/task/${process.pid}/children`, 'utf8'), children, 'no child is running');
  t.is(elements(nftJson(['set', 'inet', name, 's']), 's').length, 1000);
  await nftDeleteTable('inet', name);
  assertNoTables();
});

test('the direct nfnetlink reads list the tables and a chain’s rules (handles, comments) as nft does', async (t) => {
  const { name, assertNoTables } = await tableFor(t);
  const reader = new NetfilterSocket();
  t.teardown(() => reader.close());
  for (const family of ['ip', 'ip6', 'bridge']) {
    t.is(nftCli(['add', 'table', family, name]).status, 0);
  }
  t.is(nftCli(['add', 'chain', 'ip', name, 'USER']).status, 0);
  t.is(nftCli(['add', 'rule', 'ip', name, 'USER', 'iifname', 'x0', 'counter', 'accept', 'comment', '"first rule"']).status, 0);
  t.is(nftCli(['add', 'rule', 'ip', name, 'USER', 'counter']).status, 0);
  t.is(nftCli(['add', 'rule', 'ip', name, 'USER', 'oifname', 'x1', 'accept', 'comment', '"a comment of forty-odd characters, with spaces"']).status, 0);

  // Other tests of this file make tables meanwhile: compare this test's own.
  const mine = (tables: Array<{ family: string; name: string }>) => tables.filter((table) => table.name === name);
  const expected = mine((nftJson(['tables']) ?? []).map((item) => ({ family: item.table.family, name: item.table.name })));
  t.is(expected.length, 3);
  t.deepEqual(mine(await reader.tables()), expected);

  const listed = (JSON.parse(nftCli(['-j', '-a', 'list', 'chain', 'ip', name, 'USER']).stdout).nftables as Array<Record<string, any>>).flatMap((item) => (item.rule ? [{ handle: item.rule.handle, ...(item.rule.comment ? { comment: item.rule.comment } : {}) }] : []));
  t.is(listed.length, 3);
  t.deepEqual(await reader.chainRules('ip', name, 'USER'), listed);
  t.deepEqual(await reader.chainRules('ip6', name, 'USER'), null, 'no such chain');
  t.deepEqual(await reader.chainRules('ip', `${name}x`, 'USER'), null, 'no such table');
  t.is(nftCli(['add', 'chain', 'ip6', name, 'USER']).status, 0);
  t.deepEqual(await reader.chainRules('ip6', name, 'USER'), [], 'an empty chain');

  for (const family of ['ip', 'ip6', 'bridge']) nftCli(['delete', 'table', family, name]);
  assertNoTables();
});

test('endpoint set elements over nfnetlink: added and deleted in one transaction, as nft lists them; all or none', async (t) => {
  const { name, assertNoTables } = await tableFor(t);
  await nftTransaction(baseCommands(name));
  const direct = new NetfilterSocket();
  t.teardown(() => direct.close());
  const elements: EndpointElement[] = [
    { set: 'ports', key: ['syv0123456789a'] },
    { set: 'port_mac', key: ['syv0123456789a', '02:42:0a:00:00:02'] },
    { set: 'port_ip4', key: ['syv0123456789a', '10.0.0.2'] },
    { set: 'port_ip6', key: ['syv0123456789a', 'fd00::2'] },
    { set: 'icc_off_ports', key: ['syv0123456789a'] },
    { set: 'ports', key: ['syvb'] },
  ];
  await direct.setElements(name, elements.map((element) => ({ op: 'add', element })));
  const listed = (set: string) => (nftJson(['set', 'bridge', name, set])?.[0]?.set.elem ?? []) as unknown[];
  t.deepEqual((listed('ports') as string[]).sort(), ['syv0123456789a', 'syvb']);
  t.deepEqual(listed('port_mac'), [{ concat: ['syv0123456789a', '02:42:0a:00:00:02'] }]);
  t.deepEqual(listed('port_ip4'), [{ concat: ['syv0123456789a', '10.0.0.2'] }]);
  t.deepEqual(listed('port_ip6'), [{ concat: ['syv0123456789a', 'fd00::2'] }]);
  t.deepEqual(listed('icc_off_ports'), ['syv0123456789a']);

  // A delete of an element that is not there counts as done.
  await direct.setElements(name, [...elements.slice(0, 5), { set: 'port_ip4', key: ['syvnone', '10.9.9.9'] } as EndpointElement].map((element) => ({ op: 'delete' as const, element })));
  t.deepEqual(listed('ports'), ['syvb']);
  for (const set of ['port_mac', 'port_ip4', 'port_ip6', 'icc_off_ports']) t.deepEqual(listed(set), [], set);

  // One transaction: a change the kernel refuses (a table with a `ports` set and no `port_mac`) takes
  // the others back.
  const partial = `${name}p`;
  t.is(nftCli(['add', 'table', 'bridge', partial]).status, 0);
  t.is(nftCli(['add', 'set', 'bridge', partial, 'ports', '{ type ifname; }']).status, 0);
  const error = await t.throwsAsync(direct.setElements(partial, [{ op: 'add', element: { set: 'ports', key: ['syvc'] } }, { op: 'add', element: { set: 'port_mac', key: ['syvc', '02:00:00:00:00:01'] } }]));
  t.regex(error!.message, /update the endpoint sets of bridge table .*: .*\(ENOENT\)/);
  t.deepEqual(nftJson(['set', 'bridge', partial, 'ports'])?.[0]?.set.elem ?? [], [], 'nothing of the refused transaction stayed');
  await direct.setElements(partial, [{ op: 'add', element: { set: 'ports', key: ['syvc'] } }]);
  t.deepEqual(nftJson(['set', 'bridge', partial, 'ports'])?.[0]?.set.elem, ['syvc'], 'and the socket still works');
  nftCli(['delete', 'table', 'bridge', partial]);
  await t.throwsAsync(direct.setElements(name, [{ op: 'add', element: { set: 'nosuch' as 'ports', key: ['syvc'] } }]), { message: /no set nosuch/ });
  // Bad keys are refused before anything is sent.
  await t.throwsAsync(direct.setElements(name, [{ op: 'add', element: { set: 'port_mac', key: ['syvc', 'not-a-mac'] } }]), { message: /not a MAC address/ });
  await t.throwsAsync(direct.setElements(name, [{ op: 'add', element: { set: 'ports', key: ['an-interface-name-too-long'] } }]), { message: /1-15 bytes/ });

  await nftTransaction(dropCommands(name));
  assertNoTables();
});

/** NFT_MSG_NEWTABLE's payload for an inet table: nfgenmsg, then NFTA_TABLE_NAME. */
function newTable(name: string): Buffer {
  const value = Buffer.from(`${name}\0`);
  const attr = Buffer.alloc(4 + ((value.length + 3) & ~3));
  attr.writeUInt16LE(4 + value.length, 0);
  attr.writeUInt16LE(1 /* NFTA_TABLE_NAME */, 2);
  value.copy(attr, 4);
  return Buffer.concat([Buffer.from([1 /* NFPROTO_INET */, 0, 0, 0]), attr]);
}

// The kernel answers an nfnetlink batch inside the send, or never: neither path waits for a timeout.
// On the JS thread (serial, so that no other test's worker job is under way) and on a worker.
for (const path of ['the JS thread', 'a worker'] as const) {
  test.serial(`an nfnetlink batch the kernel refuses as a whole fails at once with its error, on ${path}`, async (t) => {
    setInlineKernelCalls(path === 'the JS thread');
    t.teardown(() => setInlineKernelCalls(true));
    const socket = await NetlinkSocket.open(null, 12 /* NETLINK_NETFILTER */, 'nfnetlink');
    t.teardown(() => socket.close());
    const before = socket.stats.inline;
    const t0 = performance.now();
    // Subsystem 99 does not exist: the kernel answers the batch's begin with EINVAL and reads no part.
    const error = await t.throwsAsync(socket.nfBatch(99, [{ type: (10 << 8) | 12, flags: 0, payload: Buffer.alloc(4) }], { op: 'a batch for no subsystem' }));
    t.regex(error!.message, /^a batch for no subsystem: .*\(EINVAL\)$/);
    t.true(performance.now() - t0 < 1000, `answered in ${(performance.now() - t0).toFixed(1)} ms`);
    t.is(socket.stats.inline - before, path === 'the JS thread' ? 1 : 0, `sent on ${path}`);
    // The socket still serves the next request, and a batch the kernel takes is acknowledged whole
    // (every part's acknowledgement is there when the send returns).
    t.true(Array.isArray(await socket.dump((10 << 8) | 1, Buffer.alloc(4), { op: 'list tables' })));
    const base = `switchyard_nb${randomBytes(3).toString('hex')}`;
    const tables = [`${base}a`, `${base}b`];
    t.teardown(() => tables.forEach((table) => nftCli(['delete', 'table', 'inet', table])));
    await socket.nfBatch(10, tables.map((table) => ({ type: (10 << 8) | 0 /* NFT_MSG_NEWTABLE */, flags: 0x400 /* NLM_F_CREATE */, payload: newTable(table) })), { op: 'add two tables' });
    t.deepEqual(tables.map((table) => nftCli(['list', 'table', 'inet', table]).status), [0, 0]);
  });
}
