/** src/firewall: Switchyard's nftables tables. */
export { Firewall, type NftApply, type NftReader } from './firewall.js';
export { nftTransaction, nftList, nftDeleteTable, FirewallError, type NftCommand } from './nft.js';
export * from './ruleset.js';
