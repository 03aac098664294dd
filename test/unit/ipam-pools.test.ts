import test from 'ava';
import { StoreIpam } from '../../src/ipam/ipam.js';
import { ulaSubnet } from '../../src/ipam/default-pools.js';
import { MemoryStore } from '../../src/store/memory.js';
import { poolRequest, rejects, snapshot } from './ipam-helpers.js';

function fresh() {
  const store = new MemoryStore();
  return { store, ipam: new StoreIpam(store) };
}

test('a network without subnets gets 172.17.0.0/16 with the gateway 172.17.0.1 reserved', async (t) => {
  const { ipam } = fresh();
  const [pool, ...rest] = await ipam.requestPools(poolRequest('web'));
  t.is(rest.length, 0);
  t.like(pool, { networkId: 'id-web', networkName: 'web', family: 4, subnet: '172.17.0.0/16', gateway: '172.17.0.1', auxAddresses: {} });
  t.is(pool!.ipRange, undefined);
  t.false(pool!.poolId.includes('/'));
  t.deepEqual(await ipam.leases(pool!.poolId), [{ poolId: pool!.poolId, address: '172.17.0.1', cidr: '172.17.0.1/16', owner: 'gateway' }]);
});

test('default pools are taken in order, skipping those other networks use', async (t) => {
  const { ipam } = fresh();
  const subnets: string[] = [];
  for (const name of ['a', 'b', 'c']) subnets.push((await ipam.requestPools(poolRequest(name)))[0]!.subnet);
  t.deepEqual(subnets, ['172.17.0.0/16', '172.18.0.0/16', '172.19.0.0/16']);
  await ipam.releasePools('id-b');
  t.is((await ipam.requestPools(poolRequest('d')))[0]!.subnet, '172.18.0.0/16');
});

test('a host route on 172.17.0.0/16 makes the first network take 172.18.0.0/16', async (t) => {
  const { ipam } = fresh();
  const [pool] = await ipam.requestPools(poolRequest('web', { avoid: ['172.17.0.0/16'] }));
  t.is(pool!.subnet, '172.18.0.0/16');
  t.is(pool!.gateway, '172.18.0.1');
});

test('default pools skip any overlap: a host route inside one, a covering route, a smaller subnet of another network', async (t) => {
  const { ipam } = fresh();
  t.is((await ipam.requestPools(poolRequest('a', { avoid: ['172.17.3.0/24', '10.0.0.0/8'] })))[0]!.subnet, '172.18.0.0/16');
  t.is((await ipam.requestPools(poolRequest('b', { avoid: ['172.16.0.0/12'] })))[0]!.subnet, '192.168.0.0/20');
  await ipam.requestPools(poolRequest('c', { ipv4: [{ subnet: '172.17.128.0/17' }] }));
  t.is((await ipam.requestPools(poolRequest('d')))[0]!.subnet, '172.19.0.0/16');
  // A default route overlaps everything and is not a reason to skip.
  t.is((await ipam.requestPools(poolRequest('e', { avoid: ['0.0.0.0/0', '::/0'] })))[0]!.subnet, '172.20.0.0/16');
});

test('when every default pool is taken the create fails with a conflict', async (t) => {
  const { ipam } = fresh();
  for (let index = 0; index < 31; index++) await ipam.requestPools(poolRequest(`n${index}`));
  t.is((await ipam.pools()).length, 31);
  t.true((await ipam.pools()).some((pool) => pool.subnet === '192.168.240.0/20'));
  await rejects(t, ipam.requestPools(poolRequest('one-too-many')), 'conflict', 'ipv4[0].subnet', /no free default address pool/);
});

test('concurrent creates in one engine and in two engines never share a default pool', async (t) => {
  const store = new MemoryStore();
  const engines = [new StoreIpam(store), new StoreIpam(store)];
  const created = await Promise.all(Array.from({ length: 12 }, (_, index) => engines[index % 2]!.requestPools(poolRequest(`n${index}`))));
  const subnets = created.map((pools) => pools[0]!.subnet).sort();
  t.is(new Set(subnets).size, 12);
  t.deepEqual(new Set(subnets), new Set(Array.from({ length: 12 }, (_, index) => `172.${17 + index}.0.0/16`)));
  t.is((await engines[1]!.pools()).length, 12);
});

test('concurrent creates of the same explicit subnet: exactly one wins, the other is told who has it', async (t) => {
  const store = new MemoryStore();
  const engines = [new StoreIpam(store), new StoreIpam(store)];
  const results = await Promise.allSettled([
    engines[0]!.requestPools(poolRequest('a', { ipv4: [{ subnet: '10.5.0.0/16' }] })),
    engines[1]!.requestPools(poolRequest('b', { ipv4: [{ subnet: '10.5.0.0/24' }] })),
  ]);
  t.is(results.filter((result) => result.status === 'fulfilled').length, 1);
  const failure = results.find((result) => result.status === 'rejected');
  t.regex(String((failure as PromiseRejectedResult).reason.message), /overlaps network (a|b) \(10\.5\.0\.0\/(16|24)\)/);
});

test('a requested subnet must be a cidr of its family, without host bits, big enough', async (t) => {
  const { ipam } = fresh();
  const ask = (subnet: string) => ipam.requestPools(poolRequest('web', { ipv4: [{ subnet }] }));
  await rejects(t, ask('10.1.0.0'), 'bad-request', 'ipv4[0].subnet', /"10\.1\.0\.0" is not a cidr/);
  await rejects(t, ask('10.1.0.300/16'), 'bad-request', 'ipv4[0].subnet', /is not a cidr/);
  await rejects(t, ask('10.1.0.0/40'), 'bad-request', 'ipv4[0].subnet', /is not a cidr/);
  await rejects(t, ask('bogus'), 'bad-request', 'ipv4[0].subnet', /is not a cidr/);
  await rejects(t, ask('fd00::/64'), 'bad-request', 'ipv4[0].subnet', /is not an ipv4 subnet/);
  await rejects(t, ask('172.18.0.5/16'), 'bad-request', 'ipv4[0].subnet', /^ipv4\[0\]\.subnet: 172\.18\.0\.5\/16 has host bits set; did you mean 172\.18\.0\.0\/16$/);
  await rejects(t, ask('10.1.0.0/31'), 'bad-request', 'ipv4[0].subnet', /too small/);
  await rejects(
    t,
    ipam.requestPools(poolRequest('web', { ipv4: [{ subnet: '10.0.0.0/24' }], ipv6: [{ subnet: '2001:db8::1/64' }] })),
    'bad-request',
    'ipv6[0].subnet',
    /2001:db8::1\/64 has host bits set; did you mean 2001:db8::\/64/,
  );
  t.is((await ipam.pools()).length, 0);
});

test('a requested subnet may not overlap another network, and the error names that network and its subnet', async (t) => {
  const { ipam } = fresh();
  await ipam.requestPools(poolRequest('db', { ipv4: [{ subnet: '10.1.0.0/24' }] }));
  await rejects(
    t,
    ipam.requestPools(poolRequest('web', { ipv4: [{ subnet: '10.1.0.0/16' }] })),
    'conflict',
    'ipv4[0].subnet',
    /^ipv4\[0\]\.subnet: subnet 10\.1\.0\.0\/16 overlaps network db \(10\.1\.0\.0\/24\)$/,
  );
});

test('the subnets of one request may not overlap each other', async (t) => {
  const { ipam } = fresh();
  await rejects(
    t,
    ipam.requestPools(poolRequest('web', { ipv4: [{ subnet: '10.1.0.0/16' }, { subnet: '10.1.2.0/24' }] })),
    'bad-request',
    'ipv4[1].subnet',
    /subnet 10\.1\.2\.0\/24 overlaps ipv4\[0\]\.subnet \(10\.1\.0\.0\/16\)/,
  );
  // A default pool for a second entry steers clear of the first entry's subnet.
  const pools = await ipam.requestPools(poolRequest('web', { ipv4: [{ subnet: '172.17.0.0/16' }, {}] }));
  t.deepEqual(
    pools.map((pool) => pool.subnet),
    ['172.17.0.0/16', '172.18.0.0/16'],
  );
});

test('an explicit subnet may overlap a host route (only default pools avoid them)', async (t) => {
  const { ipam } = fresh();
  const [pool] = await ipam.requestPools(poolRequest('web', { ipv4: [{ subnet: '172.17.0.0/16' }], avoid: ['172.17.0.0/16'] }));
  t.is(pool!.subnet, '172.17.0.0/16');
});

test('an ip-range must be a cidr inside the subnet', async (t) => {
  const { ipam } = fresh();
  const ask = (ipRange: string) => ipam.requestPools(poolRequest('web', { ipv4: [{ subnet: '10.1.0.0/16', ipRange }] }));
  await rejects(t, ask('10.2.0.0/24'), 'bad-request', 'ipv4[0].ipRange', /ip-range 10\.2\.0\.0\/24 is not inside subnet 10\.1\.0\.0\/16/);
  await rejects(t, ask('10.0.0.0/8'), 'bad-request', 'ipv4[0].ipRange', /is not inside subnet/);
  await rejects(t, ask('10.1.0.5/24'), 'bad-request', 'ipv4[0].ipRange', /has host bits set; did you mean 10\.1\.0\.0\/24/);
  await rejects(t, ask('nonsense'), 'bad-request', 'ipv4[0].ipRange', /is not a cidr/);
  const [pool] = await ask('10.1.4.0/24');
  t.is(pool!.ipRange, '10.1.4.0/24');
  t.is(pool!.gateway, '10.1.0.1', 'the gateway defaults to the first usable address of the subnet');
});

test('a gateway must be an address inside the subnet, neither its network nor its broadcast address', async (t) => {
  const { ipam } = fresh();
  const ask = (gateway: string) => ipam.requestPools(poolRequest('web', { ipv4: [{ subnet: '10.1.0.0/24', gateway }] }));
  await rejects(t, ask('10.2.0.1'), 'bad-request', 'ipv4[0].gateway', /gateway 10\.2\.0\.1 is not inside subnet 10\.1\.0\.0\/24/);
  await rejects(t, ask('10.1.0.0'), 'bad-request', 'ipv4[0].gateway', /gateway 10\.1\.0\.0 is the network address of 10\.1\.0\.0\/24/);
  await rejects(t, ask('10.1.0.255'), 'bad-request', 'ipv4[0].gateway', /gateway 10\.1\.0\.255 is the broadcast address/);
  await rejects(t, ask('10.1.0.1/24'), 'bad-request', 'ipv4[0].gateway', /is not an ip address/);
  await rejects(t, ask('fd00::1'), 'bad-request', 'ipv4[0].gateway', /is not inside subnet/);
  const [pool] = await ask('10.1.0.254');
  t.is(pool!.gateway, '10.1.0.254');
  t.deepEqual((await ipam.leases(pool!.poolId)).map((lease) => [lease.address, lease.owner]), [['10.1.0.254', 'gateway']]);
});

test('auxiliary addresses must lie inside the subnet, apart from the gateway and each other, and are reserved', async (t) => {
  const { ipam } = fresh();
  const ask = (auxAddresses: Record<string, string>) => ipam.requestPools(poolRequest('web', { ipv4: [{ subnet: '10.1.0.0/24', auxAddresses }] }));
  await rejects(t, ask({ router: '10.9.0.1' }), 'bad-request', 'ipv4[0].auxAddresses.router', /auxiliary address 10\.9\.0\.1 is not inside subnet 10\.1\.0\.0\/24/);
  await rejects(t, ask({ router: '10.1.0.0' }), 'bad-request', 'ipv4[0].auxAddresses.router', /is the network address/);
  await rejects(t, ask({ router: '10.1.0.255' }), 'bad-request', 'ipv4[0].auxAddresses.router', /is the broadcast address/);
  await rejects(t, ask({ router: 'x' }), 'bad-request', 'ipv4[0].auxAddresses.router', /"x" is not an ip address/);
  await rejects(t, ask({ router: '10.1.0.1' }), 'bad-request', 'ipv4[0].auxAddresses.router', /10\.1\.0\.1 is already the gateway/);
  await rejects(t, ask({ a: '10.1.0.7', b: '10.1.0.7' }), 'bad-request', 'ipv4[0].auxAddresses.b', /already auxiliary address a/);
  const [pool] = await ask({ router: '10.1.0.2', printer: '10.1.0.3' });
  t.deepEqual(pool!.auxAddresses, { router: '10.1.0.2', printer: '10.1.0.3' });
  t.deepEqual(
    (await ipam.leases(pool!.poolId)).map((lease) => [lease.address, lease.owner]),
    [
      ['10.1.0.1', 'gateway'],
      ['10.1.0.2', 'aux:router'],
      ['10.1.0.3', 'aux:printer'],
    ],
  );
  t.is((await ipam.requestAddress(pool!.poolId, 'endpoint-1')).address, '10.1.0.4');
});

test('an ip-range, gateway or auxiliary address without a subnet is refused', async (t) => {
  const { ipam } = fresh();
  await rejects(t, ipam.requestPools(poolRequest('web', { ipv4: [{ ipRange: '172.17.1.0/24' }] })), 'bad-request', 'ipv4[0].ipRange', /needs a subnet/);
  await rejects(t, ipam.requestPools(poolRequest('web', { ipv4: [{ gateway: '172.17.0.1' }] })), 'bad-request', 'ipv4[0].gateway', /needs a subnet/);
  await rejects(t, ipam.requestPools(poolRequest('web', { ipv4: [{ auxAddresses: { a: '172.17.0.9' } }] })), 'bad-request', 'ipv4[0].auxAddresses', /need a subnet/);
});

test('ipv6: [] gives one unique local /64 derived from the network id, with ::1 as gateway', async (t) => {
  const { ipam } = fresh();
  const pools = await ipam.requestPools(poolRequest('web', { ipv6: [] }));
  t.deepEqual(
    pools.map((pool) => pool.family),
    [4, 6],
  );
  const ipv6 = pools[1]!;
  t.is(ipv6.subnet, ulaSubnet('id-web'));
  t.regex(ipv6.subnet, /^fd[0-9a-f:]+::\/64$/);
  t.is(ipv6.gateway, ipv6.subnet.replace('::/64', '::1'));
  // The same network id, created again, gets the same prefix.
  await ipam.releasePools('id-web');
  t.is((await ipam.requestPools(poolRequest('web', { ipv6: [] })))[1]!.subnet, ipv6.subnet);
  t.not((await ipam.requestPools(poolRequest('other', { ipv6: [] })))[1]!.subnet, ipv6.subnet);
});

test('no ipv6 unless asked for', async (t) => {
  const { ipam } = fresh();
  t.deepEqual(
    (await ipam.requestPools(poolRequest('web'))).map((pool) => pool.family),
    [4],
  );
});

test('an explicit ipv6 subnet follows the same rules', async (t) => {
  const { ipam } = fresh();
  const ask = (name: string, ipv6: Array<{ subnet?: string; gateway?: string; ipRange?: string }>) => ipam.requestPools(poolRequest(name, { ipv6 }));
  await rejects(t, ask('a', [{ subnet: '2001:db8::/64', gateway: '2001:db9::1' }]), 'bad-request', 'ipv6[0].gateway', /not inside subnet 2001:db8::\/64/);
  await rejects(t, ask('a', [{ subnet: '2001:db8::/64', gateway: '2001:db8::' }]), 'bad-request', 'ipv6[0].gateway', /network address/);
  await rejects(t, ask('a', [{ subnet: '172.30.0.0/16' }]), 'bad-request', 'ipv6[0].subnet', /is not an ipv6 subnet/);
  await rejects(t, ask('a', [{ subnet: '2001:db8::/127' }]), 'bad-request', 'ipv6[0].subnet', /too small/);
  const [, pool] = await ask('a', [{ subnet: '2001:DB8:0:0::/64', ipRange: '2001:db8::100/120' }]);
  t.like(pool, { family: 6, subnet: '2001:db8::/64', ipRange: '2001:db8::100/120', gateway: '2001:db8::1' });
  // The last address of an IPv6 subnet is an ordinary address (there is no broadcast).
  await ask('b', [{ subnet: '2001:db9::/120', gateway: '2001:db9::ff' }]);
  await rejects(t, ask('c', [{ subnet: '2001:db8:0:0:8000::/65' }]), 'conflict', 'ipv6[0].subnet', /overlaps network a \(2001:db8::\/64\)/);
});

test('a failed create leaves nothing in the store', async (t) => {
  const { store, ipam } = fresh();
  await ipam.requestPools(poolRequest('db', { ipv4: [{ subnet: '10.1.0.0/24' }] }));
  const before = await snapshot(store);
  // Valid first entries, then a bad one: nothing of the first entries may remain.
  const badIpv6 = poolRequest('web', { ipv4: [{}, { subnet: '10.2.0.0/16' }], ipv6: [{ subnet: 'fd00::5/64' }] });
  await rejects(t, ipam.requestPools(badIpv6), 'bad-request', 'ipv6[0].subnet', /host bits/);
  const overlapping = poolRequest('web', { ipv4: [{ subnet: '10.2.0.0/16', auxAddresses: { a: '10.2.0.9' } }, { subnet: '10.1.0.0/16' }] });
  await rejects(t, ipam.requestPools(overlapping), 'conflict', 'ipv4[1].subnet', /overlaps network db/);
  // Host routes leave one default pool free (192.168.240.0/20): the first entry gets it, the second none.
  const routes = ['172.16.0.0/12', '192.168.0.0/17', '192.168.128.0/18', '192.168.192.0/19', '192.168.224.0/20'];
  await rejects(t, ipam.requestPools(poolRequest('web', { ipv4: [{}, {}], avoid: routes })), 'conflict', 'ipv4[1].subnet', /no free default address pool/);
  t.deepEqual(await snapshot(store), before);
  const empty = fresh();
  await rejects(t, empty.ipam.requestPools(poolRequest('web', { ipv4: [{}], ipv6: [{ subnet: 'nope' }] })), 'bad-request', 'ipv6[0].subnet', /not a cidr/);
  t.deepEqual(await snapshot(empty.store), {});
});

test('a network gets its pools once; asking again is a conflict', async (t) => {
  const { ipam } = fresh();
  await ipam.requestPools(poolRequest('web'));
  await rejects(t, ipam.requestPools(poolRequest('web')), 'conflict', undefined, /network web already has address pools \(172\.17\.0\.0\/16\)/);
});

test('releasing pools removes every key of the network, is idempotent, and frees the subnet', async (t) => {
  const { store, ipam } = fresh();
  await ipam.requestPools(poolRequest('db'));
  const dbKeys = await snapshot(store);
  const pools = await ipam.requestPools(poolRequest('web', { ipv4: [{ subnet: '10.1.0.0/24', auxAddresses: { a: '10.1.0.9' } }], ipv6: [] }));
  for (const pool of pools) for (let index = 0; index < 5; index++) await ipam.requestAddress(pool.poolId, `endpoint-${index}`);
  await ipam.releasePools('id-web');
  const after = await snapshot(store);
  delete after['ipam/pools-version'];
  delete dbKeys['ipam/pools-version'];
  t.deepEqual(after, dbKeys);
  await ipam.releasePools('id-web');
  await ipam.releasePools('id-never-existed');
  await rejects(t, ipam.requestAddress(pools[0]!.poolId, 'late'), 'not-found', undefined, /not found/);
  t.is((await ipam.requestPools(poolRequest('web2', { ipv4: [{ subnet: '10.1.0.0/24' }] })))[0]!.subnet, '10.1.0.0/24');
});

test('a release interrupted after the pool keys sweeps the orphaned addresses when run again', async (t) => {
  const { store, ipam } = fresh();
  const [pool] = await ipam.requestPools(poolRequest('web'));
  await ipam.requestAddress(pool!.poolId, 'endpoint-1');
  // As if an engine died between the two steps of a release: the pool key is gone, addresses remain.
  await store.txn([], [{ kind: 'delete', key: `ipam/pools/${pool!.poolId}` }]);
  t.is((await store.list(`ipam/addresses/${pool!.poolId}/`)).length, 2);
  await ipam.releasePools('id-web');
  t.deepEqual(await store.list('ipam/addresses/'), []);
});

test('a release sweeps only its own network, not one whose id it prefixes', async (t) => {
  const { store, ipam } = fresh();
  await ipam.requestPools(poolRequest('web'));
  await ipam.requestPools({ networkId: 'id-web-1', networkName: 'web-1', ipv4: [], avoid: [] });
  await ipam.releasePools('id-web');
  t.is((await store.list('ipam/addresses/')).length, 1);
  t.deepEqual(
    (await ipam.pools()).map((pool) => pool.networkName),
    ['web-1'],
  );
});

test('pools lists one network or all, in the order asked for', async (t) => {
  const { ipam } = fresh();
  const asked = Array.from({ length: 12 }, (_, index) => ({ subnet: `10.${index}.0.0/16` }));
  await ipam.requestPools(poolRequest('a', { ipv4: asked, ipv6: [{ subnet: 'fd01::/64' }, { subnet: 'fd02::/64' }] }));
  await ipam.requestPools(poolRequest('b'));
  t.deepEqual(
    (await ipam.pools('id-a')).map((pool) => pool.subnet),
    [...asked.map((one) => one.subnet), 'fd01::/64', 'fd02::/64'],
  );
  t.is((await ipam.pools()).length, 15);
  t.deepEqual(await ipam.pools('id-none'), []);
});

test('a network id must be usable in a key', async (t) => {
  const { ipam } = fresh();
  await rejects(t, ipam.requestPools({ networkId: 'a/b', networkName: 'x', ipv4: [], avoid: [] }), 'bad-request', 'networkId', /is not a network id/);
  await rejects(t, ipam.requestPools({ networkId: '', networkName: 'x', ipv4: [], avoid: [] }), 'bad-request', 'networkId', /is not a network id/);
});
