/** src/firewall: Switchyard's nftables tables. */
export { Firewall, type NftApply, type NftDirect } from './firewall.js';
export { nftTransaction, nftList, nftDeleteTable, FirewallError, type NftCommand } from './nft.js';
export * from './ruleset.js';
