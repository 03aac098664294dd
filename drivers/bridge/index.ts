/** drivers/bridge: the default driver. */
export { BridgeDriver } from './driver.js';
