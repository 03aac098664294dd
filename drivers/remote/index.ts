/** drivers/remote: libnetwork remote-driver plugins. */
export { RemoteDriver } from './driver.js';
export * from './wire.js';
