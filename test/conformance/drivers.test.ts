/**
 * Driver conformance: every driver, the built-in bridge and macvlan and a remote plugin (an in-process
 * fake speaking libnetwork's wire protocol, joining host-side style), goes through the same cases,
 * driven through the controller as users do, checked with iproute2 and traffic.
 */
import test, { type ExecutionContext } from 'ava';
import type { Driver, DriverContext, JoinTarget } from '../../src/cnm/driver.js';
import type { EndpointRecord, NetworkRecord } from '../../src/cnm/model.js';
import { UndoStack } from '../../src/cnm/undo.js';
import { RemoteDriver } from '../../drivers/remote/index.js';
import { BridgeDriver } from '../../drivers/bridge/index.js';
import { MacvlanDriver } from '../../drivers/macvlan/index.js';
import { icmpEcho } from '../../src/netns/index.js';
import { scratch, type Scratch } from '../helpers/scratch.js';
import { ipJson } from '../helpers/ip.js';
import { assertEngineEmpty, openEngine } from '../helpers/engine.js';
import { fakePlugin } from '../fixtures/fake-plugin.js';
import type { Engine } from '../../src/cnm/engine.js';
import type { NetworkCreate } from '../../src/cnm/controller.js';
import { outsideLan, type Lan } from '../helpers/lan.js';

interface Subject {
  name: string;
  /** The driver type networks are created with, extra drivers to register, and what the driver needs of the world. */
  setup(t: ExecutionContext, s: Scratch): Promise<SubjectSetup>;
}

interface SubjectSetup {
  type: string;
  drivers: Driver[];
  /** Options for each network a case creates (a macvlan network needs a parent of its own). */
  networkOptions?(): Promise<Record<string, string>>;
  /** Called once a network exists: e.g. the LAN's router takes the gateway address of a macvlan network. */
  networkCreated?(network: NetworkRecord): Promise<void>;
  /** Remove what setup made, before the scratch space is checked. */
  cleanup?(): Promise<void>;
}

/** Wraps a driver so join fails after the driver did its work: the controller must unwind it all. */
class FailingJoin implements Driver {
  readonly type: string;
  constructor(private readonly inner: Driver) {
    this.type = `${inner.type}-failing`;
  }
  capabilities() { return this.inner.capabilities(); }
  validateNetworkOptions(o: Record<string, string>, n: Pick<NetworkRecord, 'name' | 'internal' | 'enableIpv6'>) { return this.inner.validateNetworkOptions(o, n); }
  createNetwork(c: DriverContext, n: NetworkRecord) { return this.inner.createNetwork(c, n); }
  deleteNetwork(c: DriverContext, n: NetworkRecord) { return this.inner.deleteNetwork(c, n); }
  createEndpoint(c: DriverContext, n: NetworkRecord, e: EndpointRecord) { return this.inner.createEndpoint(c, n, e); }
  deleteEndpoint(c: DriverContext, n: NetworkRecord, e: EndpointRecord) { return this.inner.deleteEndpoint(c, n, e); }
  async join(c: DriverContext, n: NetworkRecord, e: EndpointRecord, target: JoinTarget): Promise<never> {
    const joined = await this.inner.join(c, n, e, target);
    // Undo what join made, as the controller would if the failure came after it.
    c.undo.push('failing join', () => this.inner.leave(c, n, e));
    void joined;
    throw new Error('injected failure after join');
  }
  leave(c: DriverContext, n: NetworkRecord, e: EndpointRecord) { return this.inner.leave(c, n, e); }
  endpointOperInfo(c: DriverContext, n: NetworkRecord, e: EndpointRecord) { return this.inner.endpointOperInfo(c, n, e); }
}

const subjects: Subject[] = [
  {
    name: 'bridge',
    async setup() {
      return { type: 'bridge', drivers: [new FailingJoin(new BridgeDriver())] };
    },
  },
  {
    name: 'macvlan',
    async setup(t, s) {
      // Each network gets a LAN of its own (one macvlan network per parent, as in Docker), whose
      // outside end holds the network's gateway address, as the LAN's router would.
      const lans: Lan[] = [];
      return {
        type: 'macvlan',
        drivers: [new FailingJoin(new MacvlanDriver())],
        async networkOptions() {
          const lan = await outsideLan(t, s, `p${lans.length}`);
          lans.push(lan);
          return { parent: lan.parent };
        },
        async networkCreated(network) {
          const lan = lans.find((l) => l.parent === network.options.parent)!;
          for (const pool of network.pools) await lan.addAddress(`${pool.gateway}/${pool.subnet.split('/')[1]}`);
        },
        async cleanup() {
          for (const lan of lans) await lan.remove();
        },
      };
    },
  },
  {
    name: 'remote plugin',
    async setup(t, s) {
      const plugin = await fakePlugin(s.prefix);
      t.teardown(() => plugin.close());
      const driver = await RemoteDriver.connect('fake', plugin.transport);
      return { type: 'fake', drivers: [driver, new FailingJoin(driver)] };
    },
  },
];

async function start(t: ExecutionContext, subject: Subject) {
  const s = await scratch(t);
  const setup = await subject.setup(t, s);
  const engine = await openEngine(t, s, { drivers: setup.drivers });
  const c = engine.controller;
  /** Create a network as the case asks, with the options and world the subject's driver needs. */
  const createNetwork = async (spec: NetworkCreate): Promise<NetworkRecord> => {
    const options = { ...(await setup.networkOptions?.()), ...spec.options };
    const network = await c.createNetwork({ ...spec, options });
    await setup.networkCreated?.(network);
    return network;
  };
  return { s, type: setup.type, engine, c, createNetwork, cleanup: setup.cleanup };
}

async function finish(t: ExecutionContext, s: Scratch, engine: Engine, cleanup?: () => Promise<void>) {
  await assertEngineEmpty(t, engine);
  await engine.close();
  await cleanup?.();
  await s.assertClean(t);
}

function addresses(netns: string, ifname: string): string[] {
  return ipJson<Array<{ addr_info: Array<{ local: string; prefixlen: number; family: string }> }>>(['addr', 'show', 'dev', ifname], netns)[0]!
    .addr_info.filter((a) => a.family === 'inet')
    .map((a) => `${a.local}/${a.prefixlen}`);
}

for (const [index, subject] of subjects.entries()) {
  // Subjects run at once in one namespace: each gets subnets of its own (10.9N.X -> 10.9N.X+10i),
  // or two bridges holding one gateway address would answer for each other.
  const ip = (text: string) => text.replace(/^(10\.9\d\.)(\d+)/, (_, start: string, third: string) => `${start}${Number(third) + 10 * index}`);
  test(`${subject.name}: a network is created and deleted, and deleting again at the driver is harmless`, async (t) => {
    const { s, type, engine, c, createNetwork, cleanup } = await start(t, subject);
    const network = await createNetwork({ name: s.name('n'), driver: type, ipam: { config: [{ subnet: ip('10.91.0.0/24') }] } });
    t.is(network.state, 'ready');
    t.deepEqual(c.listNetworks().map((n) => n.name), [s.name('n')]);
    await c.deleteNetwork(s.name('n'));
    await t.notThrowsAsync(engine.drivers.get(type)!.deleteNetwork(c.context(new UndoStack()), network));
    await finish(t, s, engine, cleanup);
  });

  test(`${subject.name}: connect gives the sandbox eth0 with its address, MAC and default route, and traffic flows`, async (t) => {
    const { s, type, engine, c, createNetwork, cleanup } = await start(t, subject);
    await createNetwork({ name: s.name('n'), driver: type, ipam: { config: [{ subnet: ip('10.92.0.0/24'), gateway: ip('10.92.0.1') }] } });
    const a = await c.createSandbox({ name: s.name('a') });
    const b = await c.createSandbox({ name: s.name('b') });
    const ea = await c.connect(s.name('n'), s.name('a'));
    await c.connect(s.name('n'), s.name('b'), { ipv4Address: ip('10.92.0.77') });
    t.is(ea.interfaceName, 'eth0');
    t.deepEqual(addresses(s.name('a'), 'eth0'), [ea.ipv4!.cidr]);
    t.deepEqual(addresses(s.name('b'), 'eth0'), [ip('10.92.0.77/24')]);
    const link = ipJson<Array<{ address: string; operstate: string }>>(['link', 'show', 'eth0'], s.name('a'))[0]!;
    t.is(link.address, ea.macAddress);
    t.is(link.operstate, 'UP');
    const routes = ipJson<Array<{ dst: string; gateway?: string }>>(['route', 'show'], s.name('a'));
    t.deepEqual(routes.filter((r) => r.dst === 'default').map((r) => r.gateway), [ip('10.92.0.1')]);
    t.not(await icmpEcho(a.path, ip('10.92.0.1'), { timeoutMs: 2000 }), null, 'a reaches the gateway');
    t.not(await icmpEcho(a.path, ip('10.92.0.77'), { timeoutMs: 2000 }), null, 'a reaches b');
    t.truthy(await engine.drivers.get(type)!.endpointOperInfo(c.context(new UndoStack()), c.network(s.name('n')), ea));
    await c.deleteSandbox(s.name('a'));
    await c.deleteSandbox(s.name('b'));
    await c.deleteNetwork(s.name('n'));
    void b;
    await finish(t, s, engine, cleanup);
  });

  test(`${subject.name}: disconnect removes the interface and frees the address, and the next connect gets it back`, async (t) => {
    const { s, type, engine, c, createNetwork, cleanup } = await start(t, subject);
    await createNetwork({ name: s.name('n'), driver: type, ipam: { config: [{ subnet: ip('10.93.0.0/24') }] } });
    await c.createSandbox({ name: s.name('a') });
    const first = await c.connect(s.name('n'), s.name('a'));
    await c.disconnect(s.name('n'), s.name('a'));
    // On return the interface's name is free and it carries nothing (a driver may delete it later,
    // as the kernel takes ~15 ms per veth); once the engine has drained, it is gone.
    const left = ipJson<Array<{ ifname: string; flags: string[] }>>(['link', 'show'], s.name('a')).filter((l) => l.ifname !== 'lo');
    t.deepEqual(left.filter((l) => l.ifname === first.interfaceName || l.flags.includes('UP')), [], 'no interface of that name, nothing up');
    await engine.drain();
    t.deepEqual(ipJson<Array<{ ifname: string }>>(['link', 'show'], s.name('a')).map((l) => l.ifname), ['lo']);
    await t.throwsAsync(c.disconnect(s.name('n'), s.name('a')), { message: /is not connected/ });
    const again = await c.connect(s.name('n'), s.name('a'));
    t.is(again.ipv4!.cidr, first.ipv4!.cidr, 'deterministic reuse');
    await c.deleteSandbox(s.name('a'));
    await c.deleteNetwork(s.name('n'));
    await finish(t, s, engine, cleanup);
  });

  test(`${subject.name}: a sandbox on two networks gets eth0 and eth1 and one default route`, async (t) => {
    const { s, type, engine, c, createNetwork, cleanup } = await start(t, subject);
    await createNetwork({ name: s.name('n1'), driver: type, ipam: { config: [{ subnet: ip('10.94.1.0/24') }] } });
    await createNetwork({ name: s.name('n2'), driver: type, ipam: { config: [{ subnet: ip('10.94.2.0/24') }] } });
    await c.createSandbox({ name: s.name('a') });
    const e1 = await c.connect(s.name('n1'), s.name('a'));
    const e2 = await c.connect(s.name('n2'), s.name('a'));
    t.deepEqual([e1.interfaceName, e2.interfaceName], ['eth0', 'eth1']);
    const defaults = ipJson<Array<{ dst: string; gateway?: string }>>(['route', 'show'], s.name('a')).filter((r) => r.dst === 'default');
    t.deepEqual(defaults.map((r) => r.gateway), [ip('10.94.1.1')]);
    await c.deleteSandbox(s.name('a'));
    await c.deleteNetwork(s.name('n1'));
    await c.deleteNetwork(s.name('n2'));
    await finish(t, s, engine, cleanup);
  });

  test(`${subject.name}: a failure after join unwinds everything: no interface, no address, no record`, async (t) => {
    const { s, type, engine, c, createNetwork, cleanup } = await start(t, subject);
    await createNetwork({ name: s.name('n'), driver: `${type}-failing`, ipam: { config: [{ subnet: ip('10.95.0.0/24') }] } });
    await c.createSandbox({ name: s.name('a') });
    // This test's links: named with its prefix (the plugin's) or carrying its engine's mark (the bridge driver's).
    const ours = () =>
      ipJson<Array<{ ifname: string; ifalias?: string }>>(['link', 'show'])
        .filter((l) => l.ifname.startsWith(s.prefix) || l.ifalias?.startsWith(`${engine.owner}:`))
        .map((l) => l.ifname)
        .sort();
    const before = ours();
    await t.throwsAsync(c.connect(s.name('n'), s.name('a')), { message: /injected failure after join/ });
    t.deepEqual(ipJson<Array<{ ifname: string }>>(['link', 'show'], s.name('a')).map((l) => l.ifname), ['lo'], 'nothing in the sandbox');
    t.deepEqual(ours(), before, 'nothing new on the host');
    t.deepEqual(c.listEndpoints(), []);
    const pool = (await engine.ipam.pools())[0]!;
    t.deepEqual((await engine.ipam.leases(pool.poolId)).map((l) => l.owner), ['gateway'], 'the address went back');
    await c.deleteSandbox(s.name('a'));
    await c.deleteNetwork(s.name('n'));
    await finish(t, s, engine, cleanup);
  });

  test(`${subject.name}: leave and deleteEndpoint are idempotent`, async (t) => {
    const { s, type, engine, c, createNetwork, cleanup } = await start(t, subject);
    const network = await createNetwork({ name: s.name('n'), driver: type, ipam: { config: [{ subnet: ip('10.96.0.0/24') }] } });
    await c.createSandbox({ name: s.name('a') });
    const endpoint = await c.connect(s.name('n'), s.name('a'));
    await c.disconnect(s.name('n'), s.name('a'));
    const driver = engine.drivers.get(type)!;
    const ctx = c.context(new UndoStack());
    await t.notThrowsAsync(driver.leave(ctx, network, endpoint));
    await t.notThrowsAsync(driver.deleteEndpoint(ctx, network, endpoint));
    await c.deleteSandbox(s.name('a'));
    await c.deleteNetwork(s.name('n'));
    await finish(t, s, engine, cleanup);
  });
}
