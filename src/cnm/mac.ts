/** Docker's MAC scheme: 02:42 then the IPv4 address, so one address always has one MAC. */
export function macFromIpv4(cidr: string): string {
  const address = cidr.split('/')[0]!;
  return ['02', '42', ...address.split('.').map((part) => Number(part).toString(16).padStart(2, '0'))].join(':');
}
