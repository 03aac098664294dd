/** Docker's host and none networks: one of each, no addresses; none is private, host not for sandboxes. */
import test from 'ava';
import { scratch } from '../helpers/scratch.js';
import { assertEngineEmpty, engineState, openEngine } from '../helpers/engine.js';
import { sandboxExec } from '../../src/netns/index.js';

test('none: a sandbox on it has loopback only and no other network; one none network at most', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const c = engine.controller;
  const none = await c.createNetwork({ name: s.name('none'), driver: 'null' });
  t.deepEqual(none.pools, [], 'no subnets');
  const second = await t.throwsAsync(c.createNetwork({ name: s.name('none2'), driver: 'null' }));
  t.is(second!.message, 'only one instance of "none" network is allowed');
  const a = await c.createSandbox({ name: s.name('a') });
  const endpoint = await c.connect(s.name('none'), s.name('a'));
  t.is(endpoint.ipv4, undefined, 'no address');
  const links = await sandboxExec(a, ['ip', '-j', 'link', 'show'], { timeoutMs: 5000 });
  t.deepEqual((JSON.parse(links.stdout) as Array<{ ifname: string }>).map((l) => l.ifname), ['lo'], 'loopback only');
  // Private: no second network while on none, and no none while on another.
  await c.createNetwork({ name: s.name('br'), ipam: { config: [{ subnet: '10.150.0.0/24' }] } });
  const before = await engineState(engine);
  const refused = await t.throwsAsync(c.connect(s.name('br'), s.name('a')));
  t.regex(refused!.message, /cannot be connected to multiple networks with one of the networks in private \(none\) mode/);
  t.deepEqual(await engineState(engine), before, 'the refused connect changed nothing');
  await c.disconnect(s.name('none'), s.name('a'));
  await c.connect(s.name('br'), s.name('a'));
  await t.throwsAsync(c.connect(s.name('none'), s.name('a')), { message: /private \(none\) mode/ });
  await c.deleteSandbox(s.name('a'));
  for (const network of c.listNetworks()) await c.deleteNetwork(network.id);
  await assertEngineEmpty(t, engine);
  await engine.close();
  await s.assertClean(t);
});

test('host: one network at most, no options, and a sandbox cannot join it', async (t) => {
  const s = await scratch(t);
  const engine = await openEngine(t, s);
  const c = engine.controller;
  await t.throwsAsync(c.createNetwork({ name: s.name('h'), driver: 'host', options: { mtu: '9000' } }), { message: /^options\.mtu: driver host takes no options/ });
  await t.throwsAsync(c.createNetwork({ name: s.name('h'), driver: 'host', ipam: { config: [{ subnet: '10.151.0.0/24' }] } }), { message: /^ipam\.config: driver host gives no addresses/ });
  await c.createNetwork({ name: s.name('host'), driver: 'host' });
  await t.throwsAsync(c.createNetwork({ name: s.name('host2'), driver: 'host' }), { message: 'only one instance of "host" network is allowed' });
  await c.createSandbox({ name: s.name('a') });
  const before = await engineState(engine);
  await t.throwsAsync(c.connect(s.name('host'), s.name('a')), { message: /cannot be connected to the host network/ });
  t.deepEqual(await engineState(engine), before, 'the refused connect changed nothing');
  await c.deleteSandbox(s.name('a'));
  await c.deleteNetwork(s.name('host'));
  await assertEngineEmpty(t, engine);
  await engine.close();
  await s.assertClean(t);
});
