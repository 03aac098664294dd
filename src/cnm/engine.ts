/**
 * The engine: one data root, its store, IPAM, the drivers, the sandboxes of its exec root, and the
 * controller, reconciled before it is handed out. The daemon (later) serves it; tests drive it
 * directly.
 */
import { randomBytes } from 'node:crypto';
import { Handle } from '../netlink/handle.js';
import { SandboxRoot } from '../netns/sandbox.js';
import type { Store } from '../store/store.js';
import type { Ipam } from '../ipam/types.js';
import { Controller } from './controller.js';
import { DriverRegistry, type Logger } from './driver.js';
import { UndoStack } from './undo.js';
import { reconcile, type ReconcileReport } from './reconcile.js';
import { Firewall, type NftApply } from '../firewall/firewall.js';
import { nftList, nftTransaction } from '../firewall/nft.js';
import { NetfilterSocket } from '../firewall/nftables-netlink.js';

export interface EngineOptions {
  store: Store;
  ipam: Ipam;
  /** Fills the registry: drivers/index.ts registerBuiltinDrivers, plus test drivers. */
  register: (registry: DriverRegistry) => void;
  /** Where sandboxes live (default /run/switchyard). */
  execRoot: string;
  /** Where sandboxes are published by name (default /run/netns; null: not published). */
  publishDir?: string | null;
  /** Name of Switchyard's nftables tables (default `switchyard`). */
  nftPrefix?: string;
  /** How nftables transactions run (default libnftables in-process; tests may record them). */
  nftApply?: NftApply;
  log?: Logger;
}

const quietLog: Logger = { debug() {}, info() {}, warn() {} };

export class Engine {
  readonly controller: Controller;
  readonly store: Store;
  readonly ipam: Ipam;
  readonly drivers: DriverRegistry;
  readonly sandboxes: SandboxRoot;
  readonly host: Handle;
  readonly firewall: Firewall;
  readonly owner: string;
  /** What reconcile did when this engine started. */
  readonly reconciled: ReconcileReport;

  private constructor(parts: Omit<Engine, "close" | "drain">) {
    this.controller = parts.controller;
    this.store = parts.store;
    this.ipam = parts.ipam;
    this.drivers = parts.drivers;
    this.sandboxes = parts.sandboxes;
    this.host = parts.host;
    this.firewall = parts.firewall;
    this.owner = parts.owner;
    this.reconciled = parts.reconciled;
  }

  /** Open an engine: identify its data root, load the records, reconcile, and hand it out. */
  static async open(options: EngineOptions): Promise<Engine> {
    const log = options.log ?? quietLog;
    const drivers = new DriverRegistry();
    options.register(drivers);
    // The engine id marks this data root's kernel objects, so two engines never touch each other's.
    const existing = await options.store.get<{ id: string }>('meta/engine');
    let engineId = existing?.value.id;
    if (!engineId) {
      engineId = randomBytes(4).toString('hex');
      const created = await options.store.txn([{ key: 'meta/engine', absent: true }], [{ kind: 'put', key: 'meta/engine', value: { id: engineId } }]);
      if (!created.ok) engineId = (await options.store.get<{ id: string }>('meta/engine'))!.value.id;
    }
    const owner = `switchyard:${engineId}`;
    const sandboxes = new SandboxRoot({ execRoot: options.execRoot, publishDir: options.publishDir });
    sandboxes.init();
    const host = await Handle.open();
    const firewall = new Firewall(options.nftPrefix ?? 'switchyard', options.nftApply ?? nftTransaction, nftList, new NetfilterSocket());
    const controller = new Controller({ store: options.store, ipam: options.ipam, drivers, host, sandboxes, owner, firewall, log });
    await controller.load();
    // The tables as the records say, unfinished records included, so that reconcile's teardowns find
    // what they remove (after a reboot the tables are gone), and nothing stale survives a crash.
    const { networks, endpoints } = controller.records();
    const state = networks.flatMap((network) => {
      const part = drivers.get(network.driver)?.firewallOf?.(network, endpoints.filter((e) => e.networkId === network.id));
      return part ? [part] : [];
    });
    await firewall.rebuild(
      state.flatMap((s) => (s.network ? [s.network] : [])),
      state.flatMap((s) => s.endpoints),
      state.flatMap((s) => s.ports ?? []),
    );
    const reconciled = await reconcile(controller, options.ipam, drivers, sandboxes, () => controller.context(new UndoStack()), log);
    // What lived only in the old engine process (host port reservations) is taken back.
    const after = controller.records();
    for (const endpoint of after.endpoints) {
      const network = after.networks.find((n) => n.id === endpoint.networkId);
      const driver = network && drivers.get(network.driver);
      if (network && driver?.restoreEndpoint) {
        await driver.restoreEndpoint(controller.context(new UndoStack()), network, endpoint).catch((error: Error) => {
          reconciled.errors.push(`restore endpoint ${endpoint.id.slice(0, 12)}: ${error.message}`);
        });
      }
    }
    return new Engine({ controller, store: options.store, ipam: options.ipam, drivers, sandboxes, host, firewall, owner, reconciled });
  }

  /** Stop: close the host socket and the store (which releases the data-root lock). Sandboxes stay. */
  /** Wait for what drivers finish in the background (veths deleted after a disconnect returned). */
  async drain(): Promise<void> {
    for (const type of this.drivers.types()) await this.drivers.get(type)!.drain?.();
  }

  async close(): Promise<void> {
    await this.drain();
    this.firewall.close();
    this.host.close();
    await this.store.close();
  }
}
