import test from 'ava';
import { performance } from 'node:perf_hooks';
import { StoreIpam } from '../../src/ipam/ipam.js';
import type { Pool } from '../../src/ipam/types.js';
import { MemoryStore } from '../../src/store/memory.js';
import { poolRequest, rejects } from './ipam-helpers.js';

async function withPool(subnet: Partial<{ subnet: string; ipRange: string; gateway: string }> = { subnet: '10.1.0.0/24' }, family: 4 | 6 = 4) {
  const store = new MemoryStore();
  const ipam = new StoreIpam(store);
  const pools = await ipam.requestPools(poolRequest('web', family === 4 ? { ipv4: [subnet] } : { ipv6: [subnet] }));
  const pool = pools.find((one) => one.family === family) as Pool;
  return { store, ipam, pool };
}

test('dynamic addresses are handed out lowest first, after the gateway, with the subnet prefix', async (t) => {
  const { ipam, pool } = await withPool();
  const first = await ipam.requestAddress(pool.poolId, 'endpoint-1');
  t.deepEqual(first, { poolId: pool.poolId, address: '10.1.0.2', cidr: '10.1.0.2/24', owner: 'endpoint-1' });
  t.is((await ipam.requestAddress(pool.poolId, 'endpoint-2')).address, '10.1.0.3');
  t.deepEqual(
    (await ipam.leases(pool.poolId)).map((lease) => `${lease.address} ${lease.owner}`),
    ['10.1.0.1 gateway', '10.1.0.2 endpoint-1', '10.1.0.3 endpoint-2'],
  );
});

test('release then allocate gives the same address back (the lowest free one)', async (t) => {
  const { ipam, pool } = await withPool();
  for (let index = 0; index < 10; index++) await ipam.requestAddress(pool.poolId, `endpoint-${index}`);
  await ipam.releaseAddress(pool.poolId, '10.1.0.7');
  await ipam.releaseAddress(pool.poolId, '10.1.0.5');
  t.is((await ipam.requestAddress(pool.poolId, 'again')).address, '10.1.0.5');
  t.is((await ipam.requestAddress(pool.poolId, 'again')).address, '10.1.0.7');
  t.is((await ipam.requestAddress(pool.poolId, 'again')).address, '10.1.0.12');
});

test('releasing is idempotent, also for addresses never handed out and pools that are gone', async (t) => {
  const { ipam, pool } = await withPool();
  const lease = await ipam.requestAddress(pool.poolId, 'endpoint-1');
  await ipam.releaseAddress(pool.poolId, lease.address);
  await ipam.releaseAddress(pool.poolId, lease.address);
  await ipam.releaseAddress(pool.poolId, '10.1.0.200');
  await ipam.releaseAddress('no-such-pool', '10.1.0.2');
  t.deepEqual(
    (await ipam.leases(pool.poolId)).map((one) => one.owner),
    ['gateway'],
  );
  await rejects(t, ipam.releaseAddress(pool.poolId, 'bogus'), 'bad-request', 'address', /"bogus" is not an ip address/);
});

test('a /30 has exactly one dynamic address after the gateway', async (t) => {
  const { ipam, pool } = await withPool({ subnet: '10.1.0.0/30' });
  t.is((await ipam.requestAddress(pool.poolId, 'endpoint-1')).address, '10.1.0.2');
  await rejects(t, ipam.requestAddress(pool.poolId, 'endpoint-2'), 'conflict', undefined, /^no free address in pool 10\.1\.0\.0\/30 of network web$/);
  await ipam.releaseAddress(pool.poolId, '10.1.0.2');
  t.is((await ipam.requestAddress(pool.poolId, 'endpoint-3')).address, '10.1.0.2');
});

test('an ip-range restricts dynamic allocation, while static addresses may lie outside it', async (t) => {
  const { ipam, pool } = await withPool({ subnet: '10.1.0.0/16', ipRange: '10.1.4.0/30' });
  const dynamic: string[] = [];
  for (let index = 0; index < 4; index++) dynamic.push((await ipam.requestAddress(pool.poolId, `endpoint-${index}`)).address);
  t.deepEqual(dynamic, ['10.1.4.0', '10.1.4.1', '10.1.4.2', '10.1.4.3']);
  await rejects(t, ipam.requestAddress(pool.poolId, 'endpoint-5'), 'conflict', undefined, /no free address in pool 10\.1\.0\.0\/16 \(ip-range 10\.1\.4\.0\/30\)/);
  t.is((await ipam.requestAddress(pool.poolId, 'static', '10.1.9.9')).address, '10.1.9.9');
});

test('an ip-range at the start of an IPv4 subnet skips its network address', async (t) => {
  const { ipam, pool } = await withPool({ subnet: '10.1.0.0/24', ipRange: '10.1.0.0/29', gateway: '10.1.0.100' });
  t.is((await ipam.requestAddress(pool.poolId, 'endpoint-1')).address, '10.1.0.1');
});

test('a static address must be inside the subnet, not its network or broadcast address, and free', async (t) => {
  const { ipam, pool } = await withPool({ subnet: '172.22.16.0/24' });
  await rejects(t, ipam.requestAddress(pool.poolId, 'db', '172.22.17.5'), 'bad-request', 'address', /^address: 172\.22\.17\.5 is outside subnet 172\.22\.16\.0\/24$/);
  await rejects(t, ipam.requestAddress(pool.poolId, 'db', 'fd00::5'), 'bad-request', 'address', /is outside subnet/);
  await rejects(t, ipam.requestAddress(pool.poolId, 'db', '172.22.16.0'), 'bad-request', 'address', /is the network address/);
  await rejects(t, ipam.requestAddress(pool.poolId, 'db', '172.22.16.255'), 'bad-request', 'address', /is the broadcast address/);
  await rejects(t, ipam.requestAddress(pool.poolId, 'db', '172.22.16.5/24'), 'bad-request', 'address', /is not an ip address/);
  t.is((await ipam.requestAddress(pool.poolId, 'db', '172.22.16.5')).address, '172.22.16.5');
  await rejects(t, ipam.requestAddress(pool.poolId, 'web', '172.22.16.5'), 'conflict', 'address', /^address 172\.22\.16\.5 is already in use by db$/);
  await rejects(t, ipam.requestAddress(pool.poolId, 'web', '172.22.16.1'), 'conflict', 'address', /already in use by gateway/);
  // Dynamic allocation steps over the static address.
  for (let index = 2; index <= 6; index++) await ipam.requestAddress(pool.poolId, `endpoint-${index}`);
  t.deepEqual(
    (await ipam.leases(pool.poolId)).map((lease) => lease.address),
    ['172.22.16.1', '172.22.16.2', '172.22.16.3', '172.22.16.4', '172.22.16.5', '172.22.16.6', '172.22.16.7'],
  );
});

test('a static address held by another engine is refused, naming its holder', async (t) => {
  const { store, ipam, pool } = await withPool();
  const other = new StoreIpam(store);
  // Load this engine's cache first, so the other engine's address is unknown to it.
  await ipam.requestAddress(pool.poolId, 'endpoint-1');
  await other.requestAddress(pool.poolId, 'db', '10.1.0.9');
  await rejects(t, ipam.requestAddress(pool.poolId, 'web', '10.1.0.9'), 'conflict', 'address', /in use by db/);
  // And an address the other engine holds is skipped by dynamic allocation here.
  await other.requestAddress(pool.poolId, 'db2', '10.1.0.3');
  t.is((await ipam.requestAddress(pool.poolId, 'endpoint-2')).address, '10.1.0.4');
});

test('an address request names a known pool and an owner', async (t) => {
  const { ipam, pool } = await withPool();
  await rejects(t, ipam.requestAddress('nope', 'endpoint-1'), 'not-found', undefined, /address pool nope not found/);
  await rejects(t, ipam.requestAddress(pool.poolId, ''), 'bad-request', 'owner', /needs an owner/);
  await rejects(t, ipam.leases('nope'), 'not-found', undefined, /not found/);
});

test('a pool released by another engine refuses further addresses here', async (t) => {
  const { store, ipam, pool } = await withPool();
  await ipam.requestAddress(pool.poolId, 'endpoint-1');
  await new StoreIpam(store).releasePools('id-web');
  await rejects(t, ipam.requestAddress(pool.poolId, 'endpoint-2'), 'not-found', undefined, /no longer exists/);
  t.deepEqual(await store.list('ipam/addresses/'), []);
});

test('one key per handed-out address, also in a /64 with thousands of leases', async (t) => {
  const { store, ipam, pool } = await withPool({ subnet: '2001:db8:1::/64' }, 6);
  const count = 3000;
  for (let index = 0; index < count; index++) await ipam.requestAddress(pool.poolId, `endpoint-${index}`);
  const leases = await ipam.leases(pool.poolId);
  t.is(leases.length, count + 1);
  t.is((await store.list(`ipam/addresses/${pool.poolId}/`)).length, leases.length);
  t.is(leases[1]!.address, '2001:db8:1::2');
  t.is(leases[1]!.cidr, '2001:db8:1::2/64');
  t.is(leases.at(-1)!.address, `2001:db8:1::${(count + 1).toString(16)}`);
  // The last address of the /64 is usable and static addresses far apart stay two keys.
  await ipam.requestAddress(pool.poolId, 'far', '2001:db8:1:0:ffff:ffff:ffff:ffff');
  await ipam.requestAddress(pool.poolId, 'middle', '2001:db8:1:0:8000::');
  t.is((await store.list(`ipam/addresses/${pool.poolId}/`)).length, count + 3);
  await ipam.releaseAddress(pool.poolId, '2001:db8:1::10');
  t.is((await ipam.requestAddress(pool.poolId, 'again')).address, '2001:db8:1::10');
});

test('an IPv6 ip-range restricts dynamic allocation', async (t) => {
  const { ipam, pool } = await withPool({ subnet: '2001:db8::/64', ipRange: '2001:db8::ff00/126' }, 6);
  const addresses: string[] = [];
  for (let index = 0; index < 4; index++) addresses.push((await ipam.requestAddress(pool.poolId, `endpoint-${index}`)).address);
  t.deepEqual(addresses, ['2001:db8::ff00', '2001:db8::ff01', '2001:db8::ff02', '2001:db8::ff03']);
  await rejects(t, ipam.requestAddress(pool.poolId, 'endpoint-5'), 'conflict', undefined, /no free address/);
});

test('an IPv4 subnet larger than a /8 is kept sparse too, up to its broadcast address', async (t) => {
  const { ipam, pool } = await withPool({ subnet: '16.0.0.0/4' });
  t.is((await ipam.requestAddress(pool.poolId, 'endpoint-1')).address, '16.0.0.2');
  t.is((await ipam.requestAddress(pool.poolId, 'far', '31.255.255.254')).cidr, '31.255.255.254/4');
  await rejects(t, ipam.requestAddress(pool.poolId, 'far', '31.255.255.255'), 'bad-request', 'address', /broadcast address/);
});

test('the ULA pool of ipv6: [] hands out addresses after its gateway', async (t) => {
  const store = new MemoryStore();
  const ipam = new StoreIpam(store);
  const [, pool] = await ipam.requestPools(poolRequest('web', { ipv6: [] }));
  const lease = await ipam.requestAddress(pool!.poolId, 'endpoint-1');
  t.is(lease.address, pool!.subnet.replace('::/64', '::2'));
  t.is(lease.cidr, `${lease.address}/64`);
});

test('a fresh engine on the same store continues where the last one stopped', async (t) => {
  const { store, ipam, pool } = await withPool();
  for (let index = 0; index < 5; index++) await ipam.requestAddress(pool.poolId, `endpoint-${index}`);
  await ipam.releaseAddress(pool.poolId, '10.1.0.4');
  const restarted = new StoreIpam(store);
  t.is((await restarted.requestAddress(pool.poolId, 'again')).address, '10.1.0.4');
  t.is((await restarted.requestAddress(pool.poolId, 'again')).address, '10.1.0.7');
});

test('an engine whose cache is stale finds addresses the other engine released once its view is full', async (t) => {
  const { store, ipam, pool } = await withPool({ subnet: '10.1.0.0/29' });
  const other = new StoreIpam(store);
  for (let index = 0; index < 5; index++) await ipam.requestAddress(pool.poolId, `endpoint-${index}`);
  await other.releaseAddress(pool.poolId, '10.1.0.3');
  t.is((await ipam.requestAddress(pool.poolId, 'again')).address, '10.1.0.3');
});

test('1000 sequential allocations in a /16 take well under a second', async (t) => {
  const { ipam, pool } = await withPool({ subnet: '10.8.0.0/16' });
  const started = performance.now();
  for (let index = 0; index < 1000; index++) await ipam.requestAddress(pool.poolId, `endpoint-${index}`);
  const elapsed = performance.now() - started;
  t.log(`1000 allocations: ${elapsed.toFixed(1)} ms`);
  t.true(elapsed < 1000, `${elapsed} ms`);
  t.is((await ipam.requestAddress(pool.poolId, 'next')).address, '10.8.3.234');
});

test('1000 concurrent allocations in a /16 hand out 1000 distinct addresses quickly', async (t) => {
  const { ipam, pool } = await withPool({ subnet: '10.8.0.0/16' });
  const started = performance.now();
  const leases = await Promise.all(Array.from({ length: 1000 }, (_, index) => ipam.requestAddress(pool.poolId, `endpoint-${index}`)));
  const elapsed = performance.now() - started;
  t.log(`1000 concurrent allocations: ${elapsed.toFixed(1)} ms`);
  t.is(new Set(leases.map((lease) => lease.address)).size, 1000);
  t.true(elapsed < 1000, `${elapsed} ms`);
});

test('a release naming its owner does not take the address from a newer holder', async (t) => {
  const store = new MemoryStore();
  const ipam = new StoreIpam(store);
  const [pool] = await ipam.requestPools({ networkId: 'n'.repeat(64), networkName: 'n', ipv4: [{ subnet: '10.55.0.0/24' }], avoid: [] });
  const first = await ipam.requestAddress(pool!.poolId, 'endpoint-a');
  await ipam.releaseAddress(pool!.poolId, first.address, 'endpoint-a');
  const second = await ipam.requestAddress(pool!.poolId, 'endpoint-b');
  t.is(second.address, first.address, 'the same address went to the next holder');
  await ipam.releaseAddress(pool!.poolId, first.address, 'endpoint-a'); // late, repeated release
  t.deepEqual((await ipam.leases(pool!.poolId)).map((l) => `${l.address} ${l.owner}`), ['10.55.0.1 gateway', `${first.address} endpoint-b`]);
});
