/** src/netlink: typed rtnetlink over Switchyard's native socket binding. */
export { Handle, type HandleOptions } from './handle.js';
export { NetlinkSocket, type Reply } from './socket.js';
export { setInlineKernelCalls } from './inline.js';
export * from './link.js';
export * from './addr.js';
export * from './route.js';
export * from './neigh.js';
export * from './errors.js';
export { checkInterfaceName, MAX_INTERFACE_NAME_BYTES } from './names.js';
export { AF_INET, AF_INET6, AF_BRIDGE, parseIp, formatIp, parseCidr, parseMac, formatMac } from './ip.js';
