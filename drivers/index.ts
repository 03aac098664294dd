/** The one explicit list of built-in drivers (nothing registers itself on import). */
import type { DriverRegistry } from '../src/cnm/driver.js';
import { BridgeDriver } from './bridge/index.js';

export function registerBuiltinDrivers(registry: DriverRegistry): void {
  registry.register(new BridgeDriver());
}
