/** drivers/macvlan: sandboxes on the host's LAN through a parent interface. */
export { MacvlanDriver } from './driver.js';
