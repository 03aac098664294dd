/** The one explicit list of built-in drivers (nothing registers itself on import). */
import type { DriverRegistry } from '../src/cnm/driver.js';
import { BridgeDriver } from './bridge/index.js';
import { HostDriver } from './host/index.js';
import { MacvlanDriver } from './macvlan/index.js';
import { NullDriver } from './null/index.js';

export function registerBuiltinDrivers(registry: DriverRegistry): void {
  registry.register(new BridgeDriver());
  registry.register(new HostDriver());
  registry.register(new NullDriver());
  registry.register(new MacvlanDriver());
}
