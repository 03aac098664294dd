/** The bridge driver's firewall step, with a recording firewall: what it asks for, and what it says. */
import test from 'ava';
import { Firewall } from '../../src/firewall/firewall.js';
import type { NftCommand } from '../../src/firewall/ruleset.js';
import { UndoStack } from '../../src/cnm/undo.js';
import type { DriverContext } from '../../src/cnm/driver.js';
import type { NetworkRecord } from '../../src/cnm/model.js';
import { setupFirewall } from '../../drivers/bridge/setup-firewall.js';

class RecordingFirewall extends Firewall {
  forwardingWasOff = true;
  readonly applied: NftCommand[][] = [];
  constructor() {
    super('switchyard_test', async () => undefined);
  }
  override addNetwork(network: Parameters<Firewall['addNetwork']>[0]): Promise<void> {
    this.applied.push([{ add: network }]);
    return Promise.resolve();
  }
  override enableForwarding(): boolean {
    const was = this.forwardingWasOff;
    this.forwardingWasOff = false;
    return was;
  }
}

function network(overrides: Partial<NetworkRecord> = {}): NetworkRecord {
  return {
    id: 'f'.repeat(64), name: 'web', driver: 'bridge', scope: 'local', internal: false, attachable: false, enableIpv6: false,
    labels: {}, options: {}, ipamOptions: {}, ipamConfig: [], driverState: { bridge: 'sy-ffffffffffff' }, created: '', state: 'creating',
    pools: [{ poolId: 'p', networkId: 'f'.repeat(64), networkName: 'web', family: 4, subnet: '10.1.0.0/24', gateway: '10.1.0.1', auxAddresses: {} }],
    ...overrides,
  };
}

function context(firewall: Firewall): DriverContext {
  return { firewall, undo: new UndoStack(), fault: () => undefined, log: { debug() {}, info() {}, warn() {} } } as unknown as DriverContext;
}

test('a network that needs egress turns forwarding on when it was off, and its record says so', async (t) => {
  const firewall = new RecordingFirewall();
  const first = network();
  await setupFirewall(context(firewall), first);
  t.regex(first.driverState.warning ?? '', /^forwarding was off on this host: switchyard turned it on \(net\.ipv4\.ip_forward=1\) so that network web reaches the outside$/);
  const second = network({ name: 'db' });
  await setupFirewall(context(firewall), second);
  t.false('warning' in second.driverState, 'once on, nothing more to say');
});

test('an internal network, or one without masquerade, leaves forwarding alone', async (t) => {
  for (const record of [network({ internal: true }), network({ options: { 'com.docker.network.bridge.enable_ip_masquerade': 'false' } })]) {
    const firewall = new RecordingFirewall();
    await setupFirewall(context(firewall), record);
    t.true(firewall.forwardingWasOff, 'not turned on');
    t.false('warning' in record.driverState);
    t.is(firewall.applied.length, 1, 'the network is still added to the firewall');
  }
});

test('the firewall step pushes its undo right after it succeeds', async (t) => {
  const firewall = new RecordingFirewall();
  const ctx = context(firewall);
  await setupFirewall(ctx, network());
  t.is(ctx.undo.size, 1);
});
