import test from 'ava';
import fc from 'fast-check';
import { formatAddress, formatSubnet, parseAddress, parsePrefixed, subnetCovers, subnetOf, subnetsOverlap } from '../../src/ipam/cidr.js';
import { defaultIpv4Pools, ulaSubnet } from '../../src/ipam/default-pools.js';
import { Bitmap, TakenRuns } from '../../src/ipam/taken-set.js';
import type { TakenSet } from '../../src/ipam/taken-set.js';

test('addresses parse to numbers and format back canonically', (t) => {
  t.deepEqual(parseAddress('172.18.0.1'), { family: 4, value: 0xac120001n });
  t.deepEqual(parseAddress('fd00::1'), { family: 6, value: (0xfdn << 120n) | 1n });
  t.is(formatAddress(4, 0xac120001n), '172.18.0.1');
  t.is(formatAddress(6, parseAddress('FD00:0:0:0::0001')!.value), 'fd00::1');
  t.is(parseAddress('172.18.0.256'), undefined);
  t.is(parseAddress('fe80::1%eth0'), undefined);
  t.is(parseAddress('172.18.0.0/16'), undefined);
  t.is(parseAddress(''), undefined);
});

test('a prefixed address needs its prefix length, within the family width', (t) => {
  t.deepEqual(parsePrefixed('172.18.0.5/16'), { family: 4, value: 0xac120005n, prefixLength: 16 });
  t.is(parsePrefixed('172.18.0.0'), undefined);
  t.is(parsePrefixed('172.18.0.0/33'), undefined);
  t.is(parsePrefixed('172.18.0.0/'), undefined);
  t.is(parsePrefixed('172.18.0.0/16/1'), undefined);
  t.truthy(parsePrefixed('2001:db8::/128'));
  t.is(parsePrefixed('2001:db8::/129'), undefined);
  t.is(formatSubnet(subnetOf(parsePrefixed('172.18.0.5/16')!)), '172.18.0.0/16');
  t.is(formatSubnet(subnetOf(parsePrefixed('2001:db8::1/64')!)), '2001:db8::/64');
});

test('subnets overlap when they share an address, and never across families', (t) => {
  const subnet = (text: string) => subnetOf(parsePrefixed(text)!);
  t.true(subnetsOverlap(subnet('10.0.0.0/8'), subnet('10.1.0.0/16')));
  t.true(subnetsOverlap(subnet('10.1.0.0/16'), subnet('10.0.0.0/8')));
  t.false(subnetsOverlap(subnet('10.0.0.0/16'), subnet('10.1.0.0/16')));
  t.false(subnetsOverlap(subnet('0.0.0.0/0'), subnet('::/0')));
  t.true(subnetCovers(subnet('10.0.0.0/8'), subnet('10.1.0.0/16')));
  t.false(subnetCovers(subnet('10.1.0.0/16'), subnet('10.0.0.0/8')));
});

test('the default IPv4 pools are 172.17-31.0.0/16 then 192.168.0.0/16 in /20 steps, 31 in all', (t) => {
  t.is(defaultIpv4Pools.length, 31);
  t.deepEqual(defaultIpv4Pools.slice(0, 3), ['172.17.0.0/16', '172.18.0.0/16', '172.19.0.0/16']);
  t.is(defaultIpv4Pools[14], '172.31.0.0/16');
  t.deepEqual(defaultIpv4Pools.slice(15, 17), ['192.168.0.0/20', '192.168.16.0/20']);
  t.is(defaultIpv4Pools[30], '192.168.240.0/20');
});

test('the ULA /64 of a network is fd00::/8 plus 40 bits of its id hash, stable per network id', (t) => {
  const first = ulaSubnet('network-a');
  t.regex(first, /^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/64$/);
  t.is(ulaSubnet('network-a'), first);
  t.not(ulaSubnet('network-b'), first);
  const next = subnetOf(parsePrefixed(ulaSubnet('network-a', 1))!);
  const zero = subnetOf(parsePrefixed(first)!);
  t.is(next.network - zero.network, 1n << 64n);
});

/** Command sequences applied to a taken set and to a plain Set, compared after every step. */
const takenSetCommands = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('add' as const), offset: fc.integer({ min: 0, max: 199 }) }),
    fc.record({ kind: fc.constant('delete' as const), offset: fc.integer({ min: 0, max: 199 }) }),
    fc.record({ kind: fc.constant('lowest' as const), first: fc.integer({ min: 0, max: 199 }), length: fc.integer({ min: 0, max: 80 }) }),
  ),
  { maxLength: 300 },
);

function checkAgainstModel(t: import('ava').ExecutionContext, create: () => TakenSet): void {
  fc.assert(
    fc.property(takenSetCommands, (commands) => {
      const set = create();
      const model = new Set<number>();
      for (const command of commands) {
        if (command.kind === 'add') {
          set.add(BigInt(command.offset));
          model.add(command.offset);
        } else if (command.kind === 'delete') {
          set.delete(BigInt(command.offset));
          model.delete(command.offset);
        } else {
          const last = Math.min(command.first + command.length, 199);
          let expected: number | undefined;
          for (let offset = command.first; offset <= last; offset++) {
            if (!model.has(offset)) {
              expected = offset;
              break;
            }
          }
          const actual = set.lowestFree(BigInt(command.first), BigInt(last));
          if (actual !== (expected === undefined ? undefined : BigInt(expected))) return false;
        }
        if (set.size !== model.size) return false;
      }
      for (let offset = 0; offset < 200; offset++) if (set.has(BigInt(offset)) !== model.has(offset)) return false;
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass();
}

test('the bitmap finds the lowest free offset of a range as a plain set would', (t) => {
  checkAgainstModel(t, () => new Bitmap(200));
});

test('the taken runs find the lowest free offset of a range as a plain set would', (t) => {
  checkAgainstModel(t, () => new TakenRuns());
});

test('taken runs stay one run for consecutive offsets, whatever their size', (t) => {
  const runs = new TakenRuns();
  const base = 1n << 60n;
  for (let index = 0n; index < 5000n; index++) runs.add(base + index);
  t.is(runs.size, 5000);
  t.is(runs.runs, 1);
  t.is(runs.lowestFree(base, base + (1n << 63n)), base + 5000n);
  runs.delete(base + 10n);
  t.is(runs.runs, 2);
  t.is(runs.lowestFree(base, base + 100n), base + 10n);
});
