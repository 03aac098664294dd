/**
 * An engine for a kernel test: its own data root and exec root under the test's scratch space, the
 * built-in drivers plus any the test adds, and a check that the engine left nothing behind.
 */
import type { ExecutionContext } from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { Engine } from '../../src/cnm/engine.js';
import type { Driver, DriverRegistry } from '../../src/cnm/driver.js';
import { registerBuiltinDrivers } from '../../drivers/index.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { StoreIpam } from '../../src/ipam/ipam.js';
import type { Scratch } from './scratch.js';
import { Firewall } from '../../src/firewall/firewall.js';
import { BASE_CHAINS } from '../../src/firewall/ruleset.js';
import { nftTransaction } from '../../src/firewall/nft.js';
import { spawnSync } from 'node:child_process';
import { ipJson, nftTableJson } from './ip.js';

export interface EngineOptions {
  drivers?: Driver[];
  /** Data root; default `<execRoot>/data`. */
  dataRoot?: string;
}

export function dataRootOf(s: Scratch): string {
  return `${s.execRoot}/data`;
}

/** Open an engine on the scratch space; closed at teardown. */
export async function openEngine(t: ExecutionContext, s: Scratch, options: EngineOptions = {}): Promise<Engine> {
  const store = await SqliteStore.open(options.dataRoot ?? dataRootOf(s));
  const engine = await Engine.open({
    store,
    ipam: new StoreIpam(store),
    register: (registry: DriverRegistry) => {
      registerBuiltinDrivers(registry);
      for (const driver of options.drivers ?? []) registry.register(driver);
    },
    execRoot: s.execRoot,
    publishDir: s.publishDir,
    nftPrefix: `switchyard_${s.prefix}`,
  });
  let closed = false;
  const close = engine.close.bind(engine);
  engine.close = async () => {
    if (closed) return;
    closed = true;
    await close();
  };
  t.teardown(async () => {
    // A test that failed midway leaves the engine's bridges and veths: they carry its mark.
    for (const link of ownedLinks(engine)) spawnSync('ip', ['link', 'del', link], { stdio: 'ignore' });
    await engine.close();
    // Tables stay while an engine is down (traffic keeps flowing); a test's go with the test.
    await new Firewall(engine.firewall.prefix, nftTransaction).removeAll().catch(() => undefined);
  });
  return engine;
}

/** Links carrying this engine's ownership mark (an engine, or its owner string), as iproute2 sees them. */
export function ownedLinks(engine: Engine | string): string[] {
  const owner = typeof engine === 'string' ? engine : engine.owner;
  return ipJson<Array<{ ifname: string; ifalias?: string }>>(['link', 'show'])
    .filter((link) => link.ifalias?.startsWith(`${owner}:`))
    .map((link) => link.ifname);
}

/** The per-network and per-endpoint nftables state of an engine or an nft prefix (base chains and empty sets aside), as nft shows it. */
export function firewallState(engine: Engine | string): string[] {
  const prefix = typeof engine === 'string' ? engine : engine.firewall.prefix;
  const found: string[] = [];
  for (const family of ['inet', 'bridge']) {
    for (const item of nftTableJson(family, prefix)) {
      if (item.chain && !BASE_CHAINS.includes(item.chain.name)) found.push(`${family} chain ${item.chain.name}`);
      for (const kind of ['set', 'map']) if (item[kind]?.elem) found.push(`${family} ${kind} ${item[kind].name}: ${item[kind].elem.length}`);
    }
  }
  return found.sort();
}

/** Everything an engine holds: records, leases, owned links, namespace files, firewall state. */
export async function engineState(engine: Engine): Promise<{ records: string[]; leases: string[]; links: string[]; namespaceFiles: string[]; firewall: string[] }> {
  await engine.drain();
  const records = (await engine.store.list('')).map((entry) => entry.key).filter((key) => !key.startsWith('meta/') && key !== 'ipam/pools-version');
  const leases: string[] = [];
  for (const pool of await engine.ipam.pools()) for (const lease of await engine.ipam.leases(pool.poolId)) leases.push(`${lease.address} ${lease.owner}`);
  const dir = engine.sandboxes.netnsDir;
  return { records, leases, links: ownedLinks(engine), namespaceFiles: existsSync(dir) ? readdirSync(dir) : [], firewall: firewallState(engine) };
}

/** Assert the engine holds nothing: no records, no leases, no owned links, no namespace files. */
export async function assertEngineEmpty(t: ExecutionContext, engine: Engine): Promise<void> {
  t.deepEqual(await engineState(engine), { records: [], leases: [], links: [], namespaceFiles: [], firewall: [] }, 'the engine holds nothing');
}

/** A test's end: the engine holds nothing, it closes, and nothing of the test is left in the namespace. */
export async function closeEmpty(t: ExecutionContext, engine: Engine, s: Scratch): Promise<void> {
  await assertEngineEmpty(t, engine);
  await engine.close();
  await s.assertClean(t);
}
