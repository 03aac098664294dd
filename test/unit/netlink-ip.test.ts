import test from 'ava';
import { AF_INET, AF_INET6, broadcastBytes, formatIp, formatMac, networkBytes, parseCidr, parseIp, parseMac } from '../../src/netlink/ip.js';
import { ValidationError } from '../../src/netlink/errors.js';

test('parseIp reads dotted IPv4 into four bytes and formatIp writes it back', (t) => {
  const ip = parseIp('10.81.0.255');
  t.is(ip.family, AF_INET);
  t.deepEqual([...ip.bytes], [10, 81, 0, 255]);
  t.is(formatIp(ip.bytes), '10.81.0.255');
  t.is(formatIp(parseIp('0.0.0.0').bytes), '0.0.0.0');
});

test('parseIp reads IPv6 into sixteen bytes, expanding ::', (t) => {
  const loopback = parseIp('::1');
  t.is(loopback.family, AF_INET6);
  t.deepEqual([...loopback.bytes], [...new Array(15).fill(0), 1]);
  t.deepEqual([...parseIp('fe80::1').bytes], [0xfe, 0x80, ...new Array(13).fill(0), 1]);
  t.deepEqual([...parseIp('::').bytes], new Array(16).fill(0));
  t.deepEqual([...parseIp('1::').bytes], [0, 1, ...new Array(14).fill(0)]);
  t.deepEqual([...parseIp('2001:db8:1:2:3:4:5:6').bytes], [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6]);
});

test('a v4-mapped IPv6 address keeps its IPv4 part in the last four bytes', (t) => {
  const mapped = parseIp('::ffff:1.2.3.4');
  t.is(mapped.family, AF_INET6);
  t.deepEqual([...mapped.bytes], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]);
  t.deepEqual([...parseIp('0:0:0:0:0:ffff:1.2.3.4').bytes], [...mapped.bytes]);
});

test('IPv6 addresses round-trip to the compressed text ip prints', (t) => {
  // Expected texts are what glibc's inet_ntop (and so `ip`) prints for the same bytes.
  const cases: Array<[string, string]> = [
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::1', 'fe80::1'],
    ['FE80:0:0:0:0:0:0:A', 'fe80::a'],
    ['fd81:0:0:0:0:0:0:0', 'fd81::'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of two equal runs is compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run is compressed
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['::ffff:0.0.0.0', '::ffff:0.0.0.0'],
    ['::1.2.3.4', '::1.2.3.4'], // v4-compatible (deprecated), still printed dotted
    ['64:ff9b::1.2.3.4', '64:ff9b::102:304'],
  ];
  for (const [input, printed] of cases) {
    t.is(formatIp(parseIp(input).bytes), printed, input);
    t.deepEqual([...parseIp(printed).bytes], [...parseIp(input).bytes], `${printed} parses back to the same bytes`);
  }
});

test('formatIp refuses a byte count that is no address', (t) => {
  t.throws(() => formatIp(Buffer.alloc(6)), { message: /6 bytes is not an address/ });
});

test('parseIp refuses text that is not an address and names the field', (t) => {
  for (const bad of ['', '1.2.3', '256.1.1.1', '1.2.3.4.5', '10.0.0.1/24', '::g', '1:2:3:4:5:6:7:8:9', 'localhost', ' 10.0.0.1']) {
    const error = t.throws(() => parseIp(bad), { instanceOf: ValidationError }, JSON.stringify(bad));
    t.is(error?.field, 'address');
  }
  const error = t.throws(() => parseIp('nope', 'gateway'), { instanceOf: ValidationError });
  t.is(error?.field, 'gateway');
  t.is(error?.message, 'gateway: "nope" is not an IPv4 or IPv6 address');
});

test('parseCidr reads the prefix length, and a bare address is a host prefix', (t) => {
  const v4 = parseCidr('10.81.1.5/24');
  t.like(v4, { family: AF_INET, address: '10.81.1.5', prefixLength: 24 });
  t.deepEqual([...v4.bytes], [10, 81, 1, 5]);
  t.like(parseCidr('10.81.1.5'), { prefixLength: 32 });
  t.like(parseCidr('0.0.0.0/0'), { prefixLength: 0 });
  t.like(parseCidr('fd81::1/64'), { family: AF_INET6, address: 'fd81::1', prefixLength: 64 });
  t.like(parseCidr('fd81::1'), { prefixLength: 128 });
  t.like(parseCidr('::/0'), { prefixLength: 0 });
});

test('parseCidr refuses a prefix that is too long, negative, empty or not a number', (t) => {
  const bad = ['10.0.0.1/33', 'fd81::1/129', '10.0.0.1/-1', '10.0.0.1/', '10.0.0.1/x', '10.0.0.1/ 24', '10.0.0.1/2.5', '10.0.0.1/24/8', '/24'];
  for (const text of bad) {
    const error = t.throws(() => parseCidr(text, 'dst'), { instanceOf: ValidationError }, text);
    t.is(error?.field, 'dst', text);
  }
  t.regex(t.throws(() => parseCidr('10.0.0.1/33'))!.message, /^address: "10\.0\.0\.1\/33" has an invalid prefix length \(0-32\)$/);
  t.regex(t.throws(() => parseCidr('fd81::1/129'))!.message, /\(0-128\)$/);
});

test('networkBytes clears the host bits and broadcastBytes sets them, leaving the input alone', (t) => {
  const cases: Array<[string, string, string]> = [
    ['10.81.1.5/24', '10.81.1.0', '10.81.1.255'],
    ['10.81.18.3/20', '10.81.16.0', '10.81.31.255'],
    ['10.81.1.5/31', '10.81.1.4', '10.81.1.5'],
    ['10.81.1.5/32', '10.81.1.5', '10.81.1.5'],
    ['10.81.1.5/0', '0.0.0.0', '255.255.255.255'],
    ['10.81.1.5/1', '0.0.0.0', '127.255.255.255'],
  ];
  for (const [text, network, broadcast] of cases) {
    const cidr = parseCidr(text);
    t.is(formatIp(networkBytes(cidr, cidr.prefixLength)), network, `network of ${text}`);
    t.is(formatIp(broadcastBytes(cidr, cidr.prefixLength)), broadcast, `broadcast of ${text}`);
    t.is(formatIp(cidr.bytes), cidr.address, `${text} itself is unchanged`);
  }
  const v6 = parseCidr('fd81:5::1234:5678/112');
  t.is(formatIp(networkBytes(v6, v6.prefixLength)), 'fd81:5::1234:0');
  t.is(formatIp(networkBytes(v6, 64)), 'fd81:5::');
});

test('parseMac reads six colon-separated octets in either case and formatMac writes lower case', (t) => {
  const mac = parseMac('02:42:0A:4d:00:ff');
  t.deepEqual([...mac], [0x02, 0x42, 0x0a, 0x4d, 0x00, 0xff]);
  t.is(formatMac(mac), '02:42:0a:4d:00:ff');
  t.is(formatMac(Buffer.from([0, 1, 2, 3, 4, 5])), '00:01:02:03:04:05');
});

test('parseMac refuses anything but aa:bb:cc:dd:ee:ff and names the field', (t) => {
  for (const bad of ['', '02:00:00:00:00', '02:00:00:00:00:00:00', '02-00-00-00-00-01', '0200.0000.0001', '2:0:0:0:0:1', '0g:00:00:00:00:01', ' 02:00:00:00:00:01']) {
    const error = t.throws(() => parseMac(bad), { instanceOf: ValidationError }, JSON.stringify(bad));
    t.is(error?.field, 'hardwareAddr');
  }
  const error = t.throws(() => parseMac('bad', 'mac'), { instanceOf: ValidationError });
  t.is(error?.message, 'mac: "bad" is not a MAC address (aa:bb:cc:dd:ee:ff)');
});
