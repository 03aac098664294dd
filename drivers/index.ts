/** The one explicit list of built-in drivers (nothing registers itself on import). */
import type { DriverRegistry } from '../src/cnm/driver.js';
import { BridgeDriver } from './bridge/index.js';
import { MacvlanDriver } from './macvlan/index.js';

export function registerBuiltinDrivers(registry: DriverRegistry): void {
  registry.register(new BridgeDriver());
  registry.register(new MacvlanDriver());
}
