/** The macvlan driver's option check: pure, Docker's names, every refusal naming its field. */
import test from 'ava';
import { CnmError } from '../../src/cnm/errors.js';
import { macvlanOptions, validateMacvlanOptions } from '../../drivers/macvlan/options.js';
import { MacvlanDriver } from '../../drivers/macvlan/index.js';
import type { Driver } from '../../src/cnm/driver.js';

const external = { internal: false };

function refusal(options: Record<string, string>, network = external): CnmError {
  try {
    validateMacvlanOptions(options, network);
  } catch (error) {
    if (error instanceof CnmError) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(options)} was accepted`);
}

test('parent and macvlan_mode are accepted and kept as given; the mode defaults to bridge', (t) => {
  t.deepEqual(validateMacvlanOptions({ parent: 'eth0' }, external), { parent: 'eth0' });
  t.deepEqual(macvlanOptions({ parent: 'eth0' }), { parent: 'eth0', mode: 'bridge' });
  for (const mode of ['bridge', 'private', 'vepa', 'passthru'] as const) {
    t.deepEqual(validateMacvlanOptions({ parent: 'eth0.10', macvlan_mode: mode }, external), { parent: 'eth0.10', macvlan_mode: mode });
    t.is(macvlanOptions({ parent: 'eth0', macvlan_mode: mode }).mode, mode);
  }
  t.deepEqual(validateMacvlanOptions({ parent: 'eth0', 'com.docker.network.container_iface_prefix': 'lan' }, external), { parent: 'eth0', 'com.docker.network.container_iface_prefix': 'lan' });
});

test('each refusal is a bad request naming the option', (t) => {
  const cases: Array<[Record<string, string>, string, RegExp, { internal: boolean }?]> = [
    [{}, 'options.parent', /needs -o parent=IF/],
    [{ parent: 'eth0', vlan: '10' }, 'options.vlan', /^options\.vlan: unknown option for driver macvlan \(known: parent, macvlan_mode, com\.docker\.network\.container_iface_prefix\)$/],
    [{ parent: 'eth0', macvlan_mode: 'source' }, 'options.macvlan_mode', /"source" is not a macvlan mode \(bridge, private, vepa, passthru\)/],
    [{ parent: 'eth0', macvlan_mode: 'Bridge' }, 'options.macvlan_mode', /not a macvlan mode/],
    [{ parent: 'lo' }, 'options.parent', /loopback/],
    [{ parent: '' }, 'options.parent', /must not be empty/],
    [{ parent: 'a-very-long-parent' }, 'options.parent', /15/],
    [{ parent: 'eth/0' }, 'options.parent', /'\/'/],
    [{ parent: 'eth0', 'com.docker.network.container_iface_prefix': 'Eth' }, 'options.com.docker.network.container_iface_prefix', /lower-case/],
    [{ parent: 'eth0' }, 'internal', /does not make internal networks/, { internal: true }],
  ];
  for (const [options, field, message, network] of cases) {
    const error = refusal(options, network);
    t.is(error.category, 'bad-request', JSON.stringify(options));
    t.is(error.field, field, JSON.stringify(options));
    t.regex(error.message, message);
    t.regex(error.message, /^[a-z]/, 'lower case');
  }
});

test('the driver declares no firewall state and no isolated families', (t) => {
  const driver: Driver = new MacvlanDriver();
  t.is(driver.type, 'macvlan');
  t.is(driver.firewallOf, undefined);
  t.is(driver.isolatedFamilies, undefined);
  t.deepEqual(driver.capabilities(), { scope: 'local', connectivityScope: 'global' });
});
