/**
 * Addresses and routes against the kernel. Each test has subnets of its own (10.81.N.0/24,
 * fd81:N::/64), which exist only inside the throwaway namespace and the sandboxes the test makes.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { twoSandboxesOnABridge } from '../helpers/bridge-pair.js';
import { scratch } from '../helpers/scratch.js';
import { ip, ipJson, ping } from '../helpers/ip.js';
import {
  AF_INET,
  AF_INET6,
  addrAdd,
  addrDel,
  addrList,
  addrReplace,
  isExists,
  isNotFound,
  KernelError,
  linkAdd,
  linkByName,
  linkDel,
  linkSetUp,
  routeAdd,
  routeDel,
  routeList,
  routeReplace,
  ValidationError,
} from '../../src/netlink/index.js';
import * as c from '../../src/netlink/constants.js';

interface AddrInfo {
  family: string;
  local: string;
  prefixlen: number;
  broadcast?: string;
  label?: string;
  tentative?: boolean;
  nodad?: boolean;
}

interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  scope?: string;
  metric?: number;
  prefsrc?: string;
  table?: string;
  metrics?: Array<{ mtu?: number }>;
}

/** The addresses of one link as `ip -j addr show dev LINK` reports them. */
function addressesOf(link: string, netns?: string, family?: '-4' | '-6'): AddrInfo[] {
  return ipJson<Array<{ addr_info?: AddrInfo[] }>>([...(family ? [family] : []), 'addr', 'show', 'dev', link], netns)[0]?.addr_info ?? [];
}

/** `ip -j [-6] route show ARGS` in a namespace. */
function routes(args: string[], netns: string, family: '-4' | '-6' = '-4'): IpRoute[] {
  return ipJson<IpRoute[]>([family, 'route', 'show', ...args], netns);
}


/** What `ip` shows of a namespace's addresses and routes, leaving out what changes by itself (lifetimes, DAD). */
function snapshot(netns: string): unknown {
  const addresses = ipJson<Array<{ ifname: string; addr_info: AddrInfo[] }>>(['addr', 'show'], netns).flatMap((link) =>
    link.addr_info.map((a) => `${link.ifname} ${a.local}/${a.prefixlen} ${a.broadcast ?? ''} ${a.label ?? ''}`),
  );
  // The local route of a link-local address appears only once its DAD is done: leave those out.
  const routeLines = (family: '-4' | '-6') =>
    routes(['table', 'all'], netns, family)
      .filter((r) => !r.dst.startsWith('fe80:'))
      .map((r) => `${r.dst} ${r.gateway ?? ''} ${r.dev ?? ''} ${r.table ?? ''} ${r.metric ?? ''}`);
  return { addresses, v4: routeLines('-4'), v6: routeLines('-6') };
}

function assertKernelError(t: ExecutionContext, error: unknown, code: string): asserts error is KernelError {
  t.true(error instanceof KernelError, `a KernelError, not ${String(error)}`);
  t.is((error as KernelError).code, code);
}

// ---- IPv4 addresses ----

test('addrAdd gives an IPv4 address the subnet broadcast, as ip addr add brd +, and a label', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  await linkAdd(s.host, { kind: 'bridge', name: bridge });
  await addrAdd(s.host, bridge, '10.81.1.5/24', { label: `${bridge}:web` });
  await addrAdd(s.host, bridge, '10.81.33.1/20');
  const shown = addressesOf(bridge);
  t.like(shown.find((a) => a.local === '10.81.1.5'), { family: 'inet', prefixlen: 24, broadcast: '10.81.1.255', label: `${bridge}:web` });
  t.like(shown.find((a) => a.local === '10.81.33.1'), { prefixlen: 20, broadcast: '10.81.47.255', label: bridge });
  const listed = await addrList(s.host, { link: bridge });
  t.like(listed.find((a) => a.address === '10.81.1.5'), { family: AF_INET, cidr: '10.81.1.5/24', prefixLength: 24, broadcast: '10.81.1.255', label: `${bridge}:web` });
  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

test('addrAdd sets no broadcast on /31 and /32 addresses, nor when asked for none, and the one given', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  await linkAdd(s.host, { kind: 'bridge', name: bridge });
  await addrAdd(s.host, bridge, '10.81.2.0/31');
  await addrAdd(s.host, bridge, '10.81.3.1/32');
  await addrAdd(s.host, bridge, '10.81.5.1/24', { broadcast: null });
  await addrAdd(s.host, bridge, '10.81.6.1/24', { broadcast: '10.81.6.127' });
  const shown = addressesOf(bridge);
  t.deepEqual(
    shown.map((a) => [`${a.local}/${a.prefixlen}`, a.broadcast]),
    [
      ['10.81.2.0/31', undefined],
      ['10.81.3.1/32', undefined],
      ['10.81.5.1/24', undefined],
      ['10.81.6.1/24', '10.81.6.127'],
    ],
  );
  const listed = await addrList(s.host, { link: bridge, family: AF_INET });
  t.deepEqual(listed.map((a) => [a.cidr, a.broadcast]), shown.map((a) => [`${a.local}/${a.prefixlen}`, a.broadcast]));
  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

test('adding an address that is already there fails with EEXIST and leaves one copy', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  await linkAdd(s.host, { kind: 'bridge', name: bridge });
  await addrAdd(s.host, bridge, '10.81.7.1/24');
  await addrAdd(s.host, bridge, 'fd81:7::1/64');
  for (const cidr of ['10.81.7.1/24', 'fd81:7::1/64']) {
    const error = await t.throwsAsync(addrAdd(s.host, bridge, cidr));
    assertKernelError(t, error, 'EEXIST');
    t.true(isExists(error));
    // The kernel says why in its own words ("ipv4: Address already assigned").
    t.true(error.message.startsWith(`add address ${cidr} to ${bridge} in the host namespace: `), error.message);
    t.regex(error.message, /already assigned \(EEXIST\)$|file exists \(EEXIST\)$/);
  }
  t.deepEqual(addressesOf(bridge).map((a) => `${a.local}/${a.prefixlen}`), ['10.81.7.1/24', 'fd81:7::1/64']);
  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

test('addrReplace adds a missing address and accepts one already there without a copy', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  await linkAdd(s.host, { kind: 'bridge', name: bridge });
  await addrReplace(s.host, bridge, '10.81.8.1/24');
  t.like(addressesOf(bridge), [{ local: '10.81.8.1', prefixlen: 24, broadcast: '10.81.8.255' }]);
  await addrReplace(s.host, bridge, '10.81.8.1/24');
  await addrReplace(s.host, bridge, 'fd81:8::1/64');
  await addrReplace(s.host, bridge, 'fd81:8::1/64');
  t.deepEqual(addressesOf(bridge).map((a) => `${a.local}/${a.prefixlen}`), ['10.81.8.1/24', 'fd81:8::1/64']);
  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

test('addrDel removes only the address it names, and deleting it again is not found', async (t) => {
  const s = await scratch(t);
  const bridge = s.name('br');
  await linkAdd(s.host, { kind: 'bridge', name: bridge });
  for (const cidr of ['10.81.9.1/24', '10.81.9.2/24', 'fd81:9::1/64', 'fd81:9::2/64']) await addrAdd(s.host, bridge, cidr);
  await addrDel(s.host, bridge, '10.81.9.2/24');
  await addrDel(s.host, bridge, 'fd81:9::1/64');
  t.deepEqual(addressesOf(bridge).map((a) => `${a.local}/${a.prefixlen}`), ['10.81.9.1/24', 'fd81:9::2/64']);
  for (const cidr of ['10.81.9.2/24', 'fd81:9::1/64']) {
    const error = await t.throwsAsync(addrDel(s.host, bridge, cidr));
    t.true(isNotFound(error), String(error));
    t.regex(error!.message, new RegExp(`^delete address ${cidr} from ${bridge} in the host namespace: `));
  }
  await linkDel(s.host, bridge);
  await s.assertClean(t);
});

test('addrList lists the addresses of one link as ip shows them, optionally of one family', async (t) => {
  const s = await scratch(t);
  const [one, other] = [s.name('br'), s.name('bq')];
  await linkAdd(s.host, { kind: 'bridge', name: one });
  await linkAdd(s.host, { kind: 'bridge', name: other });
  await addrAdd(s.host, one, '10.81.10.1/24');
  await addrAdd(s.host, one, '10.81.11.1/24');
  await addrAdd(s.host, one, 'fd81:10::1/64');
  await addrAdd(s.host, other, '10.81.12.1/24');
  const index = (await linkByName(s.host, one)).index;
  const listed = await addrList(s.host, { link: one });
  t.deepEqual(
    listed.map((a) => `${a.cidr} ${a.index}`),
    addressesOf(one).map((a) => `${a.local}/${a.prefixlen} ${index}`),
  );
  t.deepEqual(listed.map((a) => a.cidr), ['10.81.10.1/24', '10.81.11.1/24', 'fd81:10::1/64']);
  t.deepEqual((await addrList(s.host, { link: one, family: AF_INET6 })).map((a) => [a.cidr, a.family]), [['fd81:10::1/64', AF_INET6]]);
  t.deepEqual((await addrList(s.host, { link: other })).map((a) => a.cidr), ['10.81.12.1/24']);
  const everywhere = (await addrList(s.host)).map((a) => a.cidr);
  t.true(['10.81.10.1/24', '10.81.12.1/24', '127.0.0.1/8'].every((cidr) => everywhere.includes(cidr)), 'without a link: every link');
  await linkDel(s.host, one);
  await linkDel(s.host, other);
  await s.assertClean(t);
});

// ---- IPv6 addresses ----

// Serial: the DAD check reads the flag within DAD's second, and the other tests of this file block
// the process now and then (spawnSync of ip and ping), long enough for DAD to have finished.
test.serial('an IPv6 address is usable at once: not tentative, and a second sandbox pings it', async (t) => {
  const s = await scratch(t);
  const pair = await twoSandboxesOnABridge(s);
  await addrAdd(pair.ha, 2, 'fd81:13::2/64');
  await addrAdd(pair.hb, 2, 'fd81:13::3/64');
  // Read before anything else happens: DAD would keep the address tentative for about a second.
  const shown = addressesOf('eth0', pair.na, '-6').find((a) => a.local === 'fd81:13::2');
  t.truthy(shown);
  t.is(shown!.tentative, undefined, 'not tentative');
  t.true(shown!.nodad);
  const listed = (await addrList(pair.ha, { link: 2, family: AF_INET6 })).find((a) => a.address === 'fd81:13::2')!;
  t.is(listed.flags & c.IFA_F_NODAD, c.IFA_F_NODAD);
  t.is(listed.flags & 0x40 /* IFA_F_TENTATIVE */, 0);
  t.true(ping(pair.nb, 'fd81:13::2'), 'b pings a right away');
  // With dad: true the kernel does run duplicate address detection.
  await addrAdd(pair.ha, 2, 'fd81:13::12/64', { dad: true });
  // Read at once over netlink; then `ip` shows DAD finishing, which it only does when it ran.
  const withDad = (await addrList(pair.ha, { link: 2, family: AF_INET6 })).find((a) => a.address === 'fd81:13::12')!;
  t.is(withDad.flags & 0x40 /* IFA_F_TENTATIVE */, 0x40, 'with DAD: tentative at first');
  t.is(withDad.flags & c.IFA_F_NODAD, 0);
  let settled = false;
  for (let i = 0; i < 50 && !settled; i++) {
    const shownWithDad = addressesOf('eth0', pair.na, '-6').find((a) => a.local === 'fd81:13::12');
    settled = shownWithDad !== undefined && !shownWithDad.tentative;
    if (!settled) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.true(settled, 'DAD ran and finished: ip shows the address no longer tentative');
  await pair.remove();
  await s.assertClean(t);
});

// ---- routes ----

test('a default route via a gateway carries traffic, and routeDel takes it away', async (t) => {
  const s = await scratch(t);
  const pair = await twoSandboxesOnABridge(s);
  await addrAdd(pair.ha, 2, '10.81.14.2/24');
  await addrAdd(pair.hb, 2, '10.81.14.3/24');
  await addrAdd(pair.hb, 'lo', '10.81.114.3/32'); // beyond a's subnet: reachable only through a route
  t.false(ping(pair.na, '10.81.114.3', 1), 'no route yet');

  await routeAdd(pair.ha, { dst: 'default', gateway: '10.81.14.3' });
  t.like(routes(['default'], pair.na), [{ dst: 'default', gateway: '10.81.14.3', dev: 'eth0' }]);
  const listed = (await routeList(pair.ha)).filter((r) => r.dst === 'default');
  t.like(listed, [{ family: AF_INET, gateway: '10.81.14.3', linkIndex: 2, table: c.RT_TABLE_MAIN, scope: c.RT_SCOPE_UNIVERSE, protocol: c.RTPROT_BOOT }]);
  t.true(ping(pair.na, '10.81.114.3'), 'a reaches b through the gateway');

  await routeDel(pair.ha, { dst: 'default', gateway: '10.81.14.3' });
  t.deepEqual(routes(['default'], pair.na), []);
  t.false(ping(pair.na, '10.81.114.3', 1), 'route gone, traffic gone');
  await pair.remove();
  await s.assertClean(t);
});

test('a device route has scope link, reaches a neighbour without a gateway, and routeDel removes it', async (t) => {
  const s = await scratch(t);
  const pair = await twoSandboxesOnABridge(s);
  await addrAdd(pair.ha, 2, '10.81.15.2/24');
  await addrAdd(pair.hb, 2, '10.81.15.3/24');
  await addrAdd(pair.hb, 'lo', '10.81.115.3/32'); // b answers ARP for it on eth0 (arp_ignore 0)

  await routeAdd(pair.ha, { dst: '10.81.115.0/24', link: 'eth0' });
  t.like(routes(['10.81.115.0/24'], pair.na), [{ dst: '10.81.115.0/24', dev: 'eth0', scope: 'link' }]);
  t.is(routes(['10.81.115.0/24'], pair.na)[0]!.gateway, undefined);
  t.like((await routeList(pair.ha, { link: 2 })).find((r) => r.dst === '10.81.115.0/24'), { linkIndex: 2, scope: c.RT_SCOPE_LINK });
  t.true(ping(pair.na, '10.81.115.3'), 'a reaches b on the link');

  await routeDel(pair.ha, { dst: '10.81.115.0/24', link: 'eth0' });
  t.deepEqual(routes(['10.81.115.0/24'], pair.na), []);
  await pair.remove();
  await s.assertClean(t);
});

test('the metric keeps two routes to one destination apart, the lower one wins, and routeDel by metric removes only it', async (t) => {
  const s = await scratch(t);
  const pair = await twoSandboxesOnABridge(s);
  await addrAdd(pair.ha, 2, '10.81.16.2/24');
  await addrAdd(pair.hb, 2, '10.81.16.3/24');
  await addrAdd(pair.hb, 'lo', '10.81.116.3/32');
  await routeAdd(pair.ha, { dst: '10.81.116.0/24', gateway: '10.81.16.9', metric: 200 }); // nobody has .9
  await routeAdd(pair.ha, { dst: '10.81.116.0/24', gateway: '10.81.16.3', metric: 100 });
  t.deepEqual(
    routes(['10.81.116.0/24'], pair.na).map((r) => [r.gateway, r.metric]),
    [
      ['10.81.16.3', 100],
      ['10.81.16.9', 200],
    ],
  );
  t.deepEqual((await routeList(pair.ha)).filter((r) => r.dst === '10.81.116.0/24').map((r) => [r.gateway, r.metric]), [
    ['10.81.16.3', 100],
    ['10.81.16.9', 200],
  ]);
  t.true(ping(pair.na, '10.81.116.3'), 'traffic takes the metric 100 route');
  await routeDel(pair.ha, { dst: '10.81.116.0/24', gateway: '10.81.16.3', metric: 100 });
  t.deepEqual(routes(['10.81.116.0/24'], pair.na).map((r) => [r.gateway, r.metric]), [['10.81.16.9', 200]]);
  await routeDel(pair.ha, { dst: '10.81.116.0/24', metric: 200 });
  t.deepEqual(routes(['10.81.116.0/24'], pair.na), []);
  await pair.remove();
  await s.assertClean(t);
});

test('a route in another table lives there only, for table numbers below and above 255', async (t) => {
  const s = await scratch(t);
  const pair = await twoSandboxesOnABridge(s);
  await addrAdd(pair.ha, 2, '10.81.17.2/24');
  await addrAdd(pair.hb, 2, '10.81.17.3/24');
  await addrAdd(pair.hb, 'lo', '10.81.117.3/32');
  await routeAdd(pair.ha, { dst: '10.81.117.0/24', gateway: '10.81.17.3', table: 100 });
  await routeAdd(pair.ha, { dst: '10.81.118.0/24', gateway: '10.81.17.3', table: 1000 });
  t.like(routes(['table', '100'], pair.na), [{ dst: '10.81.117.0/24', gateway: '10.81.17.3' }]);
  t.like(routes(['table', '1000'], pair.na), [{ dst: '10.81.118.0/24', gateway: '10.81.17.3' }]);
  t.deepEqual(routes(['table', 'main'], pair.na).map((r) => r.dst), ['10.81.17.0/24'], 'main has the subnet only');
  t.like(await routeList(pair.ha, { table: 100 }), [{ dst: '10.81.117.0/24', table: 100 }]);
  t.like(await routeList(pair.ha, { table: 1000 }), [{ dst: '10.81.118.0/24', table: 1000 }]);
  t.deepEqual((await routeList(pair.ha)).map((r) => r.dst), ['10.81.17.0/24']);
  t.true((await routeList(pair.ha, { table: 'all' })).some((r) => r.table === c.RT_TABLE_LOCAL), "'all' includes the local table");

  t.false(ping(pair.na, '10.81.117.3', 1), 'table 100 is not consulted without a rule');
  t.is(ip(['rule', 'add', 'to', '10.81.117.0/24', 'lookup', '100'], pair.na).status, 0);
  t.true(ping(pair.na, '10.81.117.3'), 'with a rule, traffic follows table 100');

  await routeDel(pair.ha, { dst: '10.81.117.0/24', gateway: '10.81.17.3', table: 100 });
  await routeDel(pair.ha, { dst: '10.81.118.0/24', table: 1000 });
  t.deepEqual(routes(['table', '100'], pair.na), []);
  t.deepEqual(routes(['table', '1000'], pair.na), []);
  await pair.remove();
  await s.assertClean(t);
});

test('routeReplace changes the gateway of a route in place, and adds a route that is missing', async (t) => {
  const s = await scratch(t);
  const pair = await twoSandboxesOnABridge(s);
  await addrAdd(pair.ha, 2, '10.81.18.2/24');
  await addrAdd(pair.hb, 2, '10.81.18.3/24');
  await addrAdd(pair.hb, 'lo', '10.81.128.3/32');
  await routeAdd(pair.ha, { dst: '10.81.128.0/24', gateway: '10.81.18.9' }); // nobody has .9
  t.false(ping(pair.na, '10.81.128.3', 1), 'via a gateway that is not there');
  await routeReplace(pair.ha, { dst: '10.81.128.0/24', gateway: '10.81.18.3' });
  t.deepEqual(routes(['10.81.128.0/24'], pair.na).map((r) => r.gateway), ['10.81.18.3'], 'one route, new gateway');
  t.true(ping(pair.na, '10.81.128.3'), 'via the new gateway');
  await routeReplace(pair.ha, { dst: '10.81.129.0/24', gateway: '10.81.18.3' });
  t.deepEqual(routes(['10.81.129.0/24'], pair.na).map((r) => r.gateway), ['10.81.18.3']);
  await pair.remove();
  await s.assertClean(t);
});

test('a route carries its mtu and preferred source, and traffic uses them', async (t) => {
  const s = await scratch(t);
  const pair = await twoSandboxesOnABridge(s);
  await addrAdd(pair.ha, 2, '10.81.19.2/24');
  await addrAdd(pair.ha, 2, '10.81.20.2/24');
  await addrAdd(pair.hb, 2, '10.81.19.3/24');
  await addrAdd(pair.hb, 'lo', '10.81.119.3/32');
  await routeAdd(pair.hb, { dst: '10.81.20.0/24', link: 2 }); // b's way back to the preferred source

  await routeAdd(pair.ha, { dst: '10.81.119.0/24', gateway: '10.81.19.3', mtu: 1400, src: '10.81.20.2' });
  t.like(routes(['10.81.119.0/24'], pair.na), [{ gateway: '10.81.19.3', prefsrc: '10.81.20.2', metrics: [{ mtu: 1400 }] }]);
  t.like((await routeList(pair.ha)).find((r) => r.dst === '10.81.119.0/24'), { gateway: '10.81.19.3', src: '10.81.20.2' });
  const chosen = ipJson<Array<{ prefsrc?: string; gateway?: string; metrics?: Array<{ mtu?: number }> }>>(['route', 'get', '10.81.119.3'], pair.na)[0];
  t.like(chosen, { gateway: '10.81.19.3', prefsrc: '10.81.20.2', metrics: [{ mtu: 1400 }] });
  t.true(ping(pair.na, '10.81.119.3'), 'b answers the preferred source');
  // 1372 bytes of payload + 28 of headers fill the mtu exactly; one byte more does not fit with DF set.
  const dontFragment = (size: number) => spawnSync('ip', ['netns', 'exec', pair.na, 'ping', '-4', '-c', '1', '-W', '2', '-M', 'do', '-s', String(size), '10.81.119.3'], { encoding: 'utf8' });
  t.is(dontFragment(1372).status, 0, 'a packet of exactly the mtu gets through');
  const tooBig = dontFragment(1373);
  t.not(tooBig.status, 0);
  t.regex(`${tooBig.stdout}${tooBig.stderr}`, /mtu=1400|message too long/i, 'refused locally for the route mtu');
  await routeDel(pair.ha, { dst: '10.81.119.0/24' });
  t.deepEqual(routes(['10.81.119.0/24'], pair.na), []);
  await pair.remove();
  await s.assertClean(t);
});

test('an IPv6 default route via a gateway carries traffic, and routeDel takes it away', async (t) => {
  const s = await scratch(t);
  const pair = await twoSandboxesOnABridge(s);
  await addrAdd(pair.ha, 2, 'fd81:21::2/64');
  await addrAdd(pair.hb, 2, 'fd81:21::3/64');
  await addrAdd(pair.hb, 'lo', 'fd81:121::3/128');
  t.false(ping(pair.na, 'fd81:121::3', 1), 'no route yet');

  await routeAdd(pair.ha, { dst: 'default', gateway: 'fd81:21::3' });
  t.like(routes(['default'], pair.na, '-6'), [{ dst: 'default', gateway: 'fd81:21::3', dev: 'eth0' }]);
  t.like((await routeList(pair.ha, { family: AF_INET6 })).filter((r) => r.dst === 'default'), [{ family: AF_INET6, gateway: 'fd81:21::3', linkIndex: 2, table: c.RT_TABLE_MAIN }]);
  t.true(ping(pair.na, 'fd81:121::3'), 'a reaches b through the gateway');

  await routeDel(pair.ha, { dst: 'default', gateway: 'fd81:21::3' });
  t.deepEqual(routes(['default'], pair.na, '-6'), []);
  await routeAdd(pair.ha, { dst: '::/0', gateway: 'fd81:21::3', metric: 50 });
  t.like(routes(['default'], pair.na, '-6'), [{ gateway: 'fd81:21::3', metric: 50 }], '::/0 is the default route too');
  await routeDel(pair.ha, { dst: '::/0', gateway: 'fd81:21::3', metric: 50 });
  t.deepEqual(routes(['default'], pair.na, '-6'), []);
  await pair.remove();
  await s.assertClean(t);
});

// ---- failures ----

test('adding an address to a link that does not exist fails as not found and adds nothing', async (t) => {
  const s = await scratch(t);
  const missing = s.name('no');
  const byName = await t.throwsAsync(addrAdd(s.host, missing, '10.81.22.1/24'));
  t.true(isNotFound(byName), String(byName));
  t.regex(byName!.message, new RegExp(missing));
  const byIndex = await t.throwsAsync(addrAdd(s.host, 999_999, '10.81.22.1/24'));
  assertKernelError(t, byIndex, 'ENODEV');
  t.true(isNotFound(byIndex));
  t.regex(byIndex.message, /^add address 10\.81\.22\.1\/24 to 999999 in the host namespace: /);
  const everywhere = ipJson<Array<{ addr_info: AddrInfo[] }>>(['addr', 'show']).flatMap((link) => link.addr_info.map((a) => a.local));
  t.false(everywhere.includes('10.81.22.1'));
  await s.assertClean(t);
});

test("a route via a gateway on no link fails with the kernel's own reason and adds nothing", async (t) => {
  const s = await scratch(t);
  const pair = await twoSandboxesOnABridge(s);
  await addrAdd(pair.ha, 2, '10.81.23.2/24');
  const before = snapshot(pair.na);
  const error = await t.throwsAsync(routeAdd(pair.ha, { dst: 'default', gateway: '10.81.99.1' }));
  assertKernelError(t, error, 'ENETUNREACH');
  t.is(error.kernelMessage, 'Nexthop has invalid gateway');
  t.is(error.message, `add route default via 10.81.99.1 in ${pair.a.path}: nexthop has invalid gateway (ENETUNREACH)`);
  const onLink = await t.throwsAsync(routeAdd(pair.ha, { dst: '10.81.123.0/24', gateway: '10.81.99.1', link: 'eth0' }));
  assertKernelError(t, onLink, 'ENETUNREACH');
  t.regex(onLink.message, /^add route 10\.81\.123\.0\/24 via 10\.81\.99\.1 dev eth0 in .*: nexthop has invalid gateway \(ENETUNREACH\)$/);
  t.deepEqual(snapshot(pair.na), before);
  await pair.remove();
  await s.assertClean(t);
});

test('bad addresses and routes are refused before the kernel with a ValidationError naming the field, and nothing changes', async (t) => {
  const s = await scratch(t);
  const sandbox = await s.sandboxes.create({ name: s.name('a'), handle: true });
  const h = sandbox.handle!;
  await linkSetUp(h, 'lo');
  await addrAdd(h, 'lo', '10.81.24.1/24');
  const before = snapshot(sandbox.name);
  const cases: Array<[string, () => Promise<unknown>, string]> = [
    ['address that is no address', () => addrAdd(h, 1, 'not-an-ip/24'), 'address'],
    ['IPv4 prefix too long', () => addrAdd(h, 1, '10.81.24.2/33'), 'address'],
    ['IPv6 prefix too long', () => addrAdd(h, 1, 'fd81:24::2/129'), 'address'],
    ['prefix not a number', () => addrAdd(h, 1, '10.81.24.2/abc'), 'address'],
    ['two prefixes', () => addrAdd(h, 1, '10.81.24.2/24/8'), 'address'],
    ['bad broadcast', () => addrAdd(h, 1, '10.81.24.2/24', { broadcast: '10.81.24' }), 'broadcast'],
    ['replace with a bad address', () => addrReplace(h, 1, '10.81.24.256/24'), 'address'],
    ['delete a bad address', () => addrDel(h, 1, '10.81.24.1/99'), 'address'],
    ['route to no address', () => routeAdd(h, { dst: 'nowhere', link: 1 }), 'dst'],
    ['route prefix too long', () => routeAdd(h, { dst: '10.81.124.0/33', gateway: '10.81.24.9' }), 'dst'],
    ['IPv6 gateway for an IPv4 destination', () => routeAdd(h, { dst: '10.81.124.0/24', gateway: 'fd81:24::9' }), 'gateway'],
    ['IPv4 gateway for an IPv6 destination', () => routeAdd(h, { dst: 'fd81:124::/64', gateway: '10.81.24.9' }), 'gateway'],
    ['gateway that is no address', () => routeAdd(h, { dst: '10.81.124.0/24', gateway: '10.81.24.300' }), 'gateway'],
    ['default route with no family', () => routeAdd(h, { dst: 'default', link: 1 }), 'dst'],
    ['bad preferred source', () => routeAdd(h, { dst: '10.81.124.0/24', link: 1, src: 'me' }), 'src'],
    ['replace with the other family', () => routeReplace(h, { dst: '10.81.124.0/24', gateway: 'fd81:24::9' }), 'gateway'],
    ['delete with a bad destination', () => routeDel(h, { dst: '10.81.124.0/40' }), 'dst'],
  ];
  // Links by index (lo is 1), so that no lookup reaches the kernel either.
  const requests = h.socket.stats.requests;
  for (const [what, call, field] of cases) {
    const error = await t.throwsAsync(call(), { instanceOf: ValidationError }, what);
    t.is(error?.field, field, what);
    t.true(error!.message.startsWith(`${field}: `), what);
  }
  t.deepEqual(snapshot(sandbox.name), before, 'ip shows the same addresses and routes');
  t.is(h.socket.stats.requests, requests, 'no request reached the kernel');
  await s.sandboxes.delete(sandbox);
  await s.assertClean(t);
});
