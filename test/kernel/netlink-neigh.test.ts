/**
 * Neighbour (ARP/NDP) and bridge FDB entries against the kernel, checked with `ip -j neigh` and
 * `bridge -j fdb`. Each test has subnets of its own (10.82.N.0/24, fd82:N::/64), which exist only
 * inside the throwaway namespace and the sandboxes the test makes.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { twoSandboxesOnABridge } from '../helpers/bridge-pair.js';
import { scratch } from '../helpers/scratch.js';
import { ip, ipJson, ping } from '../helpers/ip.js';
import {
  AF_BRIDGE,
  AF_INET,
  AF_INET6,
  addrAdd,
  isExists,
  isNotFound,
  KernelError,
  linkAdd,
  linkByName,
  linkDel,
  linkSetUp,
  neighAdd,
  neighAppend,
  neighDel,
  neighList,
  neighSet,
  ValidationError,
} from '../../src/netlink/index.js';
import * as c from '../../src/netlink/constants.js';

interface IpNeigh {
  dst: string;
  lladdr?: string;
  state: string[];
}

interface FdbEntry {
  mac: string;
  dst?: string;
  vni?: number;
  flags: string[];
  master?: string;
  state?: string;
}

/** `ip -j [-6] neigh show dev LINK nud all` in a namespace (ip leaves NOARP entries out unless asked), the entries for one address. */
function neighboursOf(link: string, address: string, netns?: string): IpNeigh[] {
  const family = address.includes(':') ? '-6' : '-4';
  return ipJson<IpNeigh[]>([family, 'neigh', 'show', 'dev', link, 'nud', 'all'], netns).filter((n) => n.dst === address);
}

/** `bridge -j fdb show dev LINK` in the test namespace. */
function fdbOf(link: string): FdbEntry[] {
  return JSON.parse(execFileSync('bridge', ['-j', 'fdb', 'show', 'dev', link], { encoding: 'utf8' }) || '[]') as FdbEntry[];
}

const MAC_A = '02:82:00:00:00:0a';
const MAC_B = '02:82:00:00:00:0b';
/**
 * VNIs of VXLAN devices made in the test namespace: a VNI may be used once per UDP port in a
 * namespace, and other test files make VXLAN devices there at the same time.
 */
const VNI_FLOOD_LIST = 8207;
const VNI_KNOWN_MAC = 8208;


// ---- ARP and NDP ----

test('a permanent ARP entry steers traffic: neighAdd a wrong MAC, neighSet the right one, neighDel it', async (t) => {
  const s = await scratch(t);
  const pair = await twoSandboxesOnABridge(s, [MAC_A, MAC_B]);
  await addrAdd(pair.ha, 2, '10.82.1.2/24');
  await addrAdd(pair.hb, 2, '10.82.1.3/24');
  const wrong = '02:82:00:00:01:99';

  await neighAdd(pair.ha, { link: 2, ip: '10.82.1.3', mac: wrong });
  t.deepEqual(neighboursOf('eth0', '10.82.1.3', pair.a.name), [{ dst: '10.82.1.3', lladdr: wrong, state: ['PERMANENT'] }]);
  const listed = (await neighList(pair.ha, { family: 'inet', link: 2 })).filter((n) => n.ip === '10.82.1.3');
  t.like(listed, [{ family: AF_INET, linkIndex: 2, ip: '10.82.1.3', mac: wrong, state: c.NUD_PERMANENT }]);
  t.false(ping(pair.a.name, '10.82.1.3', 1), 'frames to a MAC nobody has go nowhere');

  const again = await t.throwsAsync(neighAdd(pair.ha, { link: 2, ip: '10.82.1.3', mac: MAC_B }));
  t.true(isExists(again), String(again));
  t.regex(again!.message, new RegExp(`^add neighbour 10\\.82\\.1\\.3 ${MAC_B} dev 2 in ${pair.a.path}: .*\\(EEXIST\\)$`));

  await neighSet(pair.ha, { link: 2, ip: '10.82.1.3', mac: MAC_B });
  t.deepEqual(neighboursOf('eth0', '10.82.1.3', pair.a.name), [{ dst: '10.82.1.3', lladdr: MAC_B, state: ['PERMANENT'] }], 'replaced, not added');
  t.true(ping(pair.a.name, '10.82.1.3'), 'with the right MAC, a reaches b');

  await neighDel(pair.ha, { link: 2, ip: '10.82.1.3' });
  t.deepEqual(neighboursOf('eth0', '10.82.1.3', pair.a.name), []);
  const gone = await t.throwsAsync(neighDel(pair.ha, { link: 2, ip: '10.82.1.3' }));
  t.true(isNotFound(gone), String(gone));
  await pair.remove();
  await s.assertClean(t);
});

test('a permanent NDP entry steers IPv6 traffic the same way: neighAdd, neighSet, neighDel', async (t) => {
  const s = await scratch(t);
  const pair = await twoSandboxesOnABridge(s, [MAC_A, MAC_B]);
  await addrAdd(pair.ha, 2, 'fd82:2::2/64');
  await addrAdd(pair.hb, 2, 'fd82:2::3/64');
  const wrong = '02:82:00:00:02:99';

  await neighAdd(pair.ha, { link: 'eth0', ip: 'fd82:2::3', mac: wrong });
  t.deepEqual(neighboursOf('eth0', 'fd82:2::3', pair.a.name), [{ dst: 'fd82:2::3', lladdr: wrong, state: ['PERMANENT'] }]);
  t.like((await neighList(pair.ha, { family: 'inet6', link: 'eth0' })).filter((n) => n.ip === 'fd82:2::3'), [
    { family: AF_INET6, linkIndex: 2, mac: wrong, state: c.NUD_PERMANENT },
  ]);
  t.false((await neighList(pair.ha, { family: 'inet' })).some((n) => n.ip === 'fd82:2::3'), 'not among the IPv4 entries');
  t.false(ping(pair.a.name, 'fd82:2::3', 1), 'frames to a MAC nobody has go nowhere');

  await neighSet(pair.ha, { link: 'eth0', ip: 'fd82:2::3', mac: MAC_B });
  t.deepEqual(neighboursOf('eth0', 'fd82:2::3', pair.a.name), [{ dst: 'fd82:2::3', lladdr: MAC_B, state: ['PERMANENT'] }]);
  t.true(ping(pair.a.name, 'fd82:2::3'), 'with the right MAC, a reaches b');

  await neighDel(pair.ha, { link: 'eth0', ip: 'fd82:2::3' });
  t.deepEqual(neighboursOf('eth0', 'fd82:2::3', pair.a.name), []);
  await pair.remove();
  await s.assertClean(t);
});

test('neighSet adds an entry that is missing, in the state asked for', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  await linkAdd(s.host, { kind: 'bridge', name: bridge, up: true });
  await neighSet(s.host, { link: bridge, ip: '10.82.3.5', mac: '02:82:00:00:03:05' });
  await neighSet(s.host, { link: bridge, ip: '10.82.3.6', mac: '02:82:00:00:03:06', state: 'noarp' });
  await neighSet(s.host, { link: bridge, ip: 'fd82:3::5', mac: '02:82:00:00:03:07', state: 'stale' });
  t.deepEqual(neighboursOf(bridge, '10.82.3.5'), [{ dst: '10.82.3.5', lladdr: '02:82:00:00:03:05', state: ['PERMANENT'] }]);
  t.deepEqual(neighboursOf(bridge, '10.82.3.6'), [{ dst: '10.82.3.6', lladdr: '02:82:00:00:03:06', state: ['NOARP'] }]);
  t.like(neighboursOf(bridge, 'fd82:3::5'), [{ lladdr: '02:82:00:00:03:07', state: ['STALE'] }]);
  const states = Object.fromEntries((await neighList(s.host, { link: bridge })).map((n) => [n.ip, n.state]));
  t.like(states, { '10.82.3.5': c.NUD_PERMANENT, '10.82.3.6': c.NUD_NOARP, 'fd82:3::5': c.NUD_STALE }, 'no family: both');
  await linkDel(s.host, bridge); // its entries go with it
  await s.assertClean(t);
});

// ---- bridge FDB ----

test('an FDB entry with the master flag goes into the bridge for that port, and neighDel removes it', async (t) => {
  const s = await scratch(t);
  const [bridge, port] = [s.name('br'), s.name('v0')];
  await linkAdd(s.host, { kind: 'bridge', name: bridge, up: true });
  await linkAdd(s.host, { kind: 'veth', name: port, master: bridge, peer: { name: s.name('p0') } });
  const bridgeIndex = (await linkByName(s.host, bridge)).index;
  const mac = '02:82:00:00:04:01';

  await neighAdd(s.host, { link: port, family: 'bridge', mac, master: true });
  t.like(fdbOf(port).filter((e) => e.mac === mac), [{ mac, master: bridge, state: 'permanent' }]);
  t.false(fdbOf(port).find((e) => e.mac === mac)!.flags.includes('self'), 'not in the port device itself');
  t.like((await neighList(s.host, { family: 'bridge', link: port })).filter((n) => n.mac === mac), [{ family: AF_BRIDGE, masterIndex: bridgeIndex, state: c.NUD_PERMANENT }]);

  const again = await t.throwsAsync(neighAdd(s.host, { link: port, family: 'bridge', mac, master: true }));
  t.true(isExists(again), String(again));
  t.regex(again!.message, new RegExp(`^add fdb entry ${mac} dev ${port} in the host namespace: `));

  await neighDel(s.host, { link: port, family: 'bridge', mac, master: true });
  t.deepEqual(fdbOf(port).filter((e) => e.mac === mac), []);
  await linkDel(s.host, port);
  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

test("an FDB entry with the self flag goes into the device's own table", async (t) => {
  const s = await scratch(t);
  const [bridge, port] = [s.name('br'), s.name('v0')];
  await linkAdd(s.host, { kind: 'bridge', name: bridge, up: true });
  await linkAdd(s.host, { kind: 'veth', name: port, master: bridge, peer: { name: s.name('p0') } });
  const mac = '02:82:00:00:05:01';

  await neighAdd(s.host, { link: port, family: 'bridge', mac, self: true });
  t.like(fdbOf(port).filter((e) => e.mac === mac), [{ mac, flags: ['self'], state: 'permanent' }]);
  t.is(fdbOf(port).find((e) => e.mac === mac)!.master, undefined, 'not in the bridge');
  const listed = (await neighList(s.host, { family: 'bridge', link: port })).filter((n) => n.mac === mac);
  t.is(listed.length, 1);
  t.is(listed[0]!.flags & c.NTF_SELF, c.NTF_SELF);

  await neighDel(s.host, { link: port, family: 'bridge', mac, self: true });
  t.deepEqual(fdbOf(port).filter((e) => e.mac === mac), []);
  await linkDel(s.host, port);
  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

test('a static FDB entry on the bridge steers frames to the port it names', async (t) => {
  const s = await scratch(t);
  const pair = await twoSandboxesOnABridge(s, [MAC_A, MAC_B]);
  await addrAdd(pair.ha, 2, '10.82.6.2/24');
  await addrAdd(pair.hb, 2, '10.82.6.3/24');
  const [portA, portB] = pair.ports;
  // A static entry still roams to the port its MAC is seen on (only sticky ones stay): keep b's
  // port from learning, so b's frames cannot move the entry back.
  execFileSync('bridge', ['link', 'set', 'dev', portB, 'learning', 'off']);
  // b's MAC pinned to a's own port: the bridge never sends a frame back out of the port it came in by.
  // neighSet, not neighAdd: the bridge may already have learned b's MAC from b's first frames.
  await neighSet(s.host, { link: portA, family: 'bridge', mac: MAC_B, master: true, state: 'noarp' });
  t.like(fdbOf(portA).filter((e) => e.mac === MAC_B), [{ master: pair.bridge, state: 'static' }]);
  t.false(ping(pair.a.name, '10.82.6.3', 1), 'frames for b are held on the wrong port');

  await neighSet(s.host, { link: portB, family: 'bridge', mac: MAC_B, master: true, state: 'noarp' });
  t.deepEqual(fdbOf(portA).filter((e) => e.mac === MAC_B), [], 'moved off the first port');
  t.like(fdbOf(portB).filter((e) => e.mac === MAC_B), [{ master: pair.bridge, state: 'static' }]);
  t.true(ping(pair.a.name, '10.82.6.3'), 'frames for b go to b');

  await neighDel(s.host, { link: portB, family: 'bridge', mac: MAC_B, master: true });
  t.deepEqual(fdbOf(portB).filter((e) => e.mac === MAC_B), [], 'gone, and not learned again on a port that does not learn');
  await pair.remove();
  await s.assertClean(t);
});

// ---- VXLAN FDB ----

test('neighAppend builds a vxlan flood list: one remote per call for the all-zero MAC', async (t) => {
  const s = await scratch(t);
  const vxlan = s.name('vx');
  await linkAdd(s.host, { kind: 'vxlan', name: vxlan, vni: VNI_FLOOD_LIST, port: 4789, local: '10.82.7.1', learning: false });
  const zero = '00:00:00:00:00:00';
  await neighAppend(s.host, { link: vxlan, family: 'bridge', mac: zero, ip: '10.82.7.2', self: true });
  await neighAppend(s.host, { link: vxlan, family: 'bridge', mac: zero, ip: '10.82.7.3', self: true });
  const floodList = () =>
    fdbOf(vxlan)
      .filter((e) => e.mac === zero)
      .map((e) => [e.dst, e.flags, e.state])
      .sort();
  t.deepEqual(floodList(), [
    ['10.82.7.2', ['self'], 'permanent'],
    ['10.82.7.3', ['self'], 'permanent'],
  ]);
  const listed = (await neighList(s.host, { family: 'bridge', link: vxlan })).filter((n) => n.mac === zero);
  t.deepEqual(listed.map((n) => n.ip).sort(), ['10.82.7.2', '10.82.7.3']);
  t.true(listed.every((n) => (n.flags & c.NTF_SELF) !== 0 && n.family === AF_BRIDGE));

  await neighAppend(s.host, { link: vxlan, family: 'bridge', mac: zero, ip: '10.82.7.3', self: true });
  t.is(floodList().length, 2, 'appending a remote already listed changes nothing');
  const exclusive = await t.throwsAsync(neighAdd(s.host, { link: vxlan, family: 'bridge', mac: zero, ip: '10.82.7.4', self: true }));
  t.true(isExists(exclusive), `neighAdd does not append: ${String(exclusive)}`);
  t.is(floodList().length, 2);

  await neighDel(s.host, { link: vxlan, family: 'bridge', mac: zero, ip: '10.82.7.2', self: true });
  t.deepEqual(floodList(), [['10.82.7.3', ['self'], 'permanent']], 'neighDel with a remote removes only that remote');
  await neighDel(s.host, { link: vxlan, family: 'bridge', mac: zero, ip: '10.82.7.3', self: true });
  t.deepEqual(floodList(), []);
  await linkDel(s.host, vxlan);
  await s.assertClean(t);
});

test('neighSet points a known MAC at one remote VTEP and moves it, with its own VNI', async (t) => {
  const s = await scratch(t);
  const vxlan = s.name('vx');
  await linkAdd(s.host, { kind: 'vxlan', name: vxlan, vni: VNI_KNOWN_MAC, port: 4789, local: '10.82.8.1', learning: false });
  const mac = '02:82:00:00:08:01';
  await neighSet(s.host, { link: vxlan, family: 'bridge', mac, ip: '10.82.8.2', self: true });
  t.deepEqual(fdbOf(vxlan).filter((e) => e.mac === mac), [{ mac, dst: '10.82.8.2', flags: ['self'], state: 'permanent' }]);

  await neighSet(s.host, { link: vxlan, family: 'bridge', mac, ip: '10.82.8.3', vni: 4242, self: true });
  t.deepEqual(fdbOf(vxlan).filter((e) => e.mac === mac), [{ mac, dst: '10.82.8.3', vni: 4242, flags: ['self'], state: 'permanent' }], 'replaced, not appended');
  t.like((await neighList(s.host, { family: 'bridge', link: vxlan })).filter((n) => n.mac === mac), [{ ip: '10.82.8.3', vni: 4242 }]);

  await neighDel(s.host, { link: vxlan, family: 'bridge', mac, self: true });
  t.deepEqual(fdbOf(vxlan).filter((e) => e.mac === mac), []);
  await linkDel(s.host, vxlan);
  await s.assertClean(t);
});

test('a vxlan flood list carries traffic between two sandboxes, and none flows without it', async (t) => {
  const s = await scratch(t);
  const pair = await twoSandboxesOnABridge(s, [MAC_A, MAC_B]);
  const underlay = ['10.82.9.2', '10.82.9.3'];
  for (const [i, h] of [pair.ha, pair.hb].entries()) {
    await addrAdd(h, 2, `${underlay[i]}/24`);
    await linkAdd(h, { kind: 'vxlan', name: 'vx0', vni: 42, port: 4789, local: underlay[i]!, learning: false, up: true });
    await addrAdd(h, 'vx0', `10.82.109.${i + 2}/24`);
  }
  t.false(ping(pair.a.name, '10.82.109.3', 1), 'no remote to flood to yet');
  // Start the next ARP resolution afresh rather than wait on the retries of the one that failed.
  t.is(ip(['neigh', 'flush', 'dev', 'vx0'], pair.a.name).status, 0);
  for (const [i, h] of [pair.ha, pair.hb].entries()) {
    await neighAppend(h, { link: 'vx0', family: 'bridge', mac: '00:00:00:00:00:00', ip: underlay[1 - i]!, self: true });
  }
  t.true(ping(pair.a.name, '10.82.109.3'), 'a reaches b over the overlay');
  t.true(ping(pair.b.name, '10.82.109.2'), 'and b reaches a');
  await pair.remove();
  await s.assertClean(t);
});

// ---- failures ----

test('an entry on a link that does not exist fails as not found', async (t) => {
  const s = await scratch(t);
  const missing = s.name('no');
  const byName = await t.throwsAsync(neighAdd(s.host, { link: missing, ip: '10.82.10.5', mac: '02:82:00:00:10:05' }));
  t.true(isNotFound(byName), String(byName));
  const byIndex = await t.throwsAsync(neighAdd(s.host, { link: 999_999, ip: '10.82.10.5', mac: '02:82:00:00:10:05' }));
  t.true(byIndex instanceof KernelError && isNotFound(byIndex), String(byIndex));
  t.regex(byIndex!.message, /^add neighbour 10\.82\.10\.5 02:82:00:00:10:05 dev 999999 in the host namespace: /);
  t.false(ipJson<IpNeigh[]>(['neigh', 'show']).some((n) => n.dst === '10.82.10.5'));
  await s.assertClean(t);
});

test('bad entries are refused before the kernel with a ValidationError naming the field, and nothing changes', async (t) => {
  const s = await scratch(t);
  const sandbox = await s.sandboxes.create({ name: s.name('a'), handle: true });
  const h = sandbox.handle!;
  await linkSetUp(h, 'lo');
  const cases: Array<[string, () => Promise<unknown>, string]> = [
    ['no ip and no bridge family', () => neighAdd(h, { link: 1, mac: '02:82:00:00:11:01' }), 'ip'],
    ['ip that is no address', () => neighAdd(h, { link: 1, ip: '10.82.11', mac: '02:82:00:00:11:01' }), 'ip'],
    ['mac that is no MAC', () => neighSet(h, { link: 1, ip: '10.82.11.5', mac: '02:82:00:00:11' }), 'mac'],
    ['FDB entry without a MAC', () => neighAppend(h, { link: 1, family: 'bridge', ip: '10.82.11.5', self: true }), 'mac'],
    ['FDB entry with a bad remote', () => neighAppend(h, { link: 1, family: 'bridge', mac: '00:00:00:00:00:00', ip: 'remote', self: true }), 'ip'],
    ['delete without an ip', () => neighDel(h, { link: 1 }), 'ip'],
  ];
  // Links by index, so that no lookup reaches the kernel either.
  const requests = h.socket.stats.requests;
  for (const [what, call, field] of cases) {
    const error = await t.throwsAsync(call(), { instanceOf: ValidationError }, what);
    t.is(error?.field, field, what);
  }
  t.is(h.socket.stats.requests, requests, 'no request reached the kernel');
  t.deepEqual(ipJson(['neigh', 'show'], sandbox.name), []);
  await s.sandboxes.delete(sandbox);
  await s.assertClean(t);
});
