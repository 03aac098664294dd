import test from 'ava';
import { addressMessage, attr, cstring, forEachAttr, linkMessage, neighborMessage, routeMessage, rt, u16, u16be, u32, u8 } from '../../src/netlink/codec.js';
import { parseLink } from '../../src/netlink/link.js';
import { parseAddr } from '../../src/netlink/addr.js';
import { parseRoute } from '../../src/netlink/route.js';
import { parseNeigh } from '../../src/netlink/neigh.js';
import * as c from '../../src/netlink/constants.js';

/** Every attribute of buf as [type, value bytes]. */
function attrsOf(buf: Buffer): Array<[number, number[]]> {
  const out: Array<[number, number[]]> = [];
  forEachAttr(buf, (type, value) => out.push([type, [...value]]));
  return out;
}

/** A fixed header of `length` bytes with the given fields written at their offsets. */
function header(length: number, fields: Array<[offset: number, size: 1 | 2 | 4, value: number]>): Buffer {
  const out = Buffer.alloc(length);
  for (const [offset, size, value] of fields) {
    if (size === 1) out.writeUInt8(value, offset);
    else if (size === 2) out.writeUInt16LE(value, offset);
    else out.writeUInt32LE(value >>> 0, offset);
  }
  return out;
}

const bytes = (...values: number[]): Buffer => Buffer.from(values);

test('attr writes length and type, then pads the value to 4 bytes; the length leaves the padding out', (t) => {
  t.deepEqual([...attr(3, bytes(1))], [5, 0, 3, 0, 1, 0, 0, 0]);
  t.deepEqual([...attr(3, bytes(1, 2, 3, 4))], [8, 0, 3, 0, 1, 2, 3, 4]);
  t.deepEqual([...attr(0x1234, Buffer.alloc(0))], [4, 0, 0x34, 0x12]);
  t.deepEqual([...attr(1, cstring('veth'))], [9, 0, 1, 0, 0x76, 0x65, 0x74, 0x68, 0, 0, 0, 0]);
});

test('the integer helpers write host (little-endian) order, and u16be network order', (t) => {
  t.deepEqual([...u8(0x1ff)], [0xff]);
  t.deepEqual([...u16(0x1234)], [0x34, 0x12]);
  t.deepEqual([...u16be(4789)], [0x12, 0xb5]);
  t.deepEqual([...u32(0x01020304)], [4, 3, 2, 1]);
  t.deepEqual([...u32(-1)], [0xff, 0xff, 0xff, 0xff]);
});

test("linkMessage encodes ifinfomsg, the package's attributes, then extra attributes aligned to 4 bytes", (t) => {
  const linkinfo = attr(c.IFLA_LINKINFO, attr(c.IFLA_INFO_KIND, cstring('veth')));
  const message = linkMessage({ index: 7, flags: { up: true }, change: { up: true } }, { ifname: 'ab' }, [linkinfo]);
  // ifinfomsg: family, pad, type (u16), index (s32), flags (u32), change (u32).
  t.deepEqual([...message.subarray(0, 16)], [0, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
  // IFLA_IFNAME "ab\0": length 7, then one byte of padding the package leaves out.
  t.deepEqual([...message.subarray(16, 24)], [7, 0, c.IFLA_IFNAME, 0, 0x61, 0x62, 0, 0]);
  // The extra attribute starts on the 4-byte boundary right after.
  t.is(message.readUInt16LE(26), c.IFLA_LINKINFO);
  t.deepEqual([...message.subarray(24)], [...linkinfo]);
  t.is(message.length, 24 + linkinfo.length);
  t.deepEqual(attrsOf(message.subarray(16)).map(([type]) => type), [c.IFLA_IFNAME, c.IFLA_LINKINFO]);
});

test('linkMessage pads after a last attribute of any length, and adds nothing when already aligned', (t) => {
  const extra = attr(c.IFLA_GROUP, u32(5));
  for (const [ifname, padding] of [['abc', 0], ['abcd', 3], ['abcde', 2], ['abcdef', 1]] as const) {
    const message = linkMessage({}, { ifname }, [extra]);
    const nameLength = 4 + ifname.length + 1;
    t.is(message.readUInt16LE(16), nameLength, ifname);
    t.is(message.length, 16 + nameLength + padding + extra.length, ifname);
    t.deepEqual([...message.subarray(16 + nameLength, 16 + nameLength + padding)], new Array(padding).fill(0), `${ifname}: padding is zeros`);
    t.deepEqual(attrsOf(message.subarray(16)), [[c.IFLA_IFNAME, [...cstring(ifname)]], [c.IFLA_GROUP, [5, 0, 0, 0]]], ifname);
  }
  t.is(linkMessage({ index: 1 }, {}).length, 16, 'no attributes: the bare header');
});

test('address, route and neighbour messages are padded to 4 bytes as well', (t) => {
  const address = addressMessage({ family: 2, prefixlen: 24, index: 3 }, { label: 'br:web' });
  t.deepEqual([...address.subarray(0, 8)], [2, 24, 0, 0, 3, 0, 0, 0]);
  t.is(address.length % 4, 0);
  t.deepEqual(attrsOf(address.subarray(8)), [[c.IFA_LABEL, [...cstring('br:web')]]]);

  const route = routeMessage({ family: 2, dstLen: 24, table: 254, protocol: 3, scope: 253, type: 1 } as rt.Route, { dst: bytes(10, 81, 1, 0) }, [attr(c.RTA_METRICS, attr(c.RTAX_MTU, u32(1400)))]);
  t.deepEqual([...route.subarray(0, 12)], [2, 24, 0, 0, 254, 3, 253, 1, 0, 0, 0, 0]);
  t.deepEqual(attrsOf(route.subarray(12)).map(([type]) => type), [c.RTA_DST, c.RTA_METRICS]);

  const neighbour = neighborMessage({ family: 7, ifindex: 4, state: { permanent: true }, flags: { self: true } } as rt.Neighbor, { lladdr: bytes(2, 0, 0, 0, 0, 1) }, [attr(c.NDA_VNI, u32(42))]);
  t.deepEqual([...neighbour.subarray(0, 12)], [7, 0, 0, 0, 4, 0, 0, 0, 0x80, 0, 0x02, 0]);
  // NDA_LLADDR (6 bytes) is padded to 12 before NDA_VNI.
  t.deepEqual([...neighbour.subarray(12)], [10, 0, c.NDA_LLADDR, 0, 2, 0, 0, 0, 0, 1, 0, 0, 8, 0, c.NDA_VNI, 0, 42, 0, 0, 0]);
});

test('forEachAttr walks padded attributes, strips the nested and byte-order flags and stops at a truncated one', (t) => {
  const buf = Buffer.concat([attr(1, bytes(9)), attr(0x8000 | 18, attr(1, cstring('x'))), attr(0x4000 | 2, bytes(1, 2)), bytes(8, 0, 3, 0)]);
  t.deepEqual(attrsOf(buf), [
    [1, [9]],
    [18, [...attr(1, cstring('x'))]],
    [2, [1, 2]],
  ]);
  t.deepEqual(attrsOf(bytes(2, 0, 1, 0, 0, 0, 0, 0)), [], 'a length under 4 ends the walk');
});

test('parseLink reads a hand-built RTM_NEWLINK payload', (t) => {
  const payload = Buffer.concat([
    header(16, [[2, 2, 1 /* ARPHRD_ETHER */], [4, 4, 5], [8, 4, c.IFF_UP | c.IFF_BROADCAST | c.IFF_LOWER_UP]]),
    attr(c.IFLA_IFNAME, cstring('eth0')),
    attr(c.IFLA_MTU, u32(1450)),
    attr(c.IFLA_ADDRESS, bytes(0x02, 0x42, 0x0a, 0x51, 0x00, 0x02)),
    attr(c.IFLA_MASTER, u32(3)),
    attr(c.IFLA_OPERSTATE, u8(6)),
    attr(c.IFLA_LINK, u32(9)),
    attr(c.IFLA_LINK_NETNSID, u32(0)),
    attr(c.IFLA_IFALIAS, cstring('switchyard:ep1')),
    attr(c.IFLA_GROUP, u32(7)),
    attr(c.IFLA_TXQLEN, u32(1000)),
    attr(c.IFLA_LINKINFO, Buffer.concat([attr(c.IFLA_INFO_KIND, cstring('veth')), attr(c.IFLA_INFO_SLAVE_KIND, cstring('bridge'))])),
    attr(0x8000 | c.IFLA_PROP_LIST, Buffer.concat([attr(c.IFLA_ALT_IFNAME, cstring('endpoint-one')), attr(c.IFLA_ALT_IFNAME, cstring('ep1'))])),
  ]);
  t.deepEqual(parseLink(payload), {
    index: 5,
    name: 'eth0',
    kind: 'veth',
    slaveKind: 'bridge',
    mtu: 1450,
    hardwareAddr: '02:42:0a:51:00:02',
    flags: c.IFF_UP | c.IFF_BROADCAST | c.IFF_LOWER_UP,
    up: true,
    lowerUp: true,
    operState: 'up',
    masterIndex: 3,
    parentIndex: 9,
    linkNetnsId: 0,
    alias: 'switchyard:ep1',
    group: 7,
    txQueueLen: 1000,
    altNames: ['endpoint-one', 'ep1'],
  });
});

test('parseLink leaves out what a bare payload does not carry', (t) => {
  const link = parseLink(Buffer.concat([header(16, [[4, 4, 1], [8, 4, c.IFF_LOOPBACK]]), attr(c.IFLA_IFNAME, cstring('lo')), attr(c.IFLA_OPERSTATE, u8(0))]));
  t.like(link, { index: 1, name: 'lo', up: false, lowerUp: false, operState: 'unknown', group: 0, altNames: [] });
  t.is(link.kind, undefined);
  t.is(link.masterIndex, undefined);
  t.is(link.hardwareAddr, undefined);
  t.is(link.alias, undefined);
});

test('parseAddr reads an IPv4 address with its label, broadcast and extended flags', (t) => {
  const payload = Buffer.concat([
    header(8, [[0, 1, 2], [1, 1, 24], [2, 1, c.IFA_F_PERMANENT], [3, 1, 0], [4, 4, 4]]),
    attr(c.IFA_ADDRESS, bytes(10, 81, 1, 5)),
    attr(c.IFA_LOCAL, bytes(10, 81, 1, 5)),
    attr(c.IFA_LABEL, cstring('sy01br:web')),
    attr(c.IFA_BROADCAST, bytes(10, 81, 1, 255)),
    attr(c.IFA_FLAGS, u32(c.IFA_F_PERMANENT | 0x200 /* IFA_F_NOPREFIXROUTE, beyond the header's 8 bits */)),
  ]);
  t.deepEqual(parseAddr(payload), {
    index: 4,
    family: 2,
    cidr: '10.81.1.5/24',
    address: '10.81.1.5',
    prefixLength: 24,
    label: 'sy01br:web',
    broadcast: '10.81.1.255',
    scope: 0,
    flags: c.IFA_F_PERMANENT | 0x200,
  });
});

test('parseAddr prefers IFA_LOCAL over IFA_ADDRESS (the peer on point-to-point links)', (t) => {
  const payload = Buffer.concat([header(8, [[0, 1, 2], [1, 1, 32], [4, 4, 6]]), attr(c.IFA_ADDRESS, bytes(10, 81, 2, 2)), attr(c.IFA_LOCAL, bytes(10, 81, 2, 1))]);
  t.like(parseAddr(payload), { address: '10.81.2.1', cidr: '10.81.2.1/32' });
});

test('parseAddr reads an IPv6 address from IFA_ADDRESS and its flags from the header when IFA_FLAGS is absent', (t) => {
  const address = Buffer.from('fd810005000000000000000000000002', 'hex');
  const payload = Buffer.concat([header(8, [[0, 1, 10], [1, 1, 64], [2, 1, c.IFA_F_NODAD | c.IFA_F_PERMANENT], [3, 1, c.RT_SCOPE_UNIVERSE], [4, 4, 2]]), attr(c.IFA_ADDRESS, address)]);
  const parsed = parseAddr(payload);
  t.like(parsed, { family: 10, index: 2, cidr: 'fd81:5::2/64', address: 'fd81:5::2', prefixLength: 64, flags: c.IFA_F_NODAD | c.IFA_F_PERMANENT });
  t.is(parsed.label, undefined);
  t.is(parsed.broadcast, undefined);
});

test('parseRoute reads a default route via a gateway', (t) => {
  const payload = Buffer.concat([
    header(12, [[0, 1, 2], [1, 1, 0], [4, 1, c.RT_TABLE_MAIN], [5, 1, c.RTPROT_BOOT], [6, 1, c.RT_SCOPE_UNIVERSE], [7, 1, c.RTN_UNICAST]]),
    attr(c.RTA_TABLE, u32(c.RT_TABLE_MAIN)),
    attr(c.RTA_GATEWAY, bytes(10, 81, 6, 3)),
    attr(c.RTA_OIF, u32(2)),
  ]);
  t.deepEqual(parseRoute(payload), { family: 2, dst: 'default', gateway: '10.81.6.3', linkIndex: 2, table: 254, scope: 0, type: 1, protocol: 3 });
});

test('parseRoute reads a device route with metric and source, and a table beyond 255 from RTA_TABLE', (t) => {
  const payload = Buffer.concat([
    header(12, [[0, 1, 2], [1, 1, 24], [4, 1, 0 /* RT_TABLE_UNSPEC: see RTA_TABLE */], [5, 1, c.RTPROT_KERNEL], [6, 1, c.RT_SCOPE_LINK], [7, 1, c.RTN_UNICAST]]),
    attr(c.RTA_TABLE, u32(1000)),
    attr(c.RTA_DST, bytes(10, 81, 8, 0)),
    attr(c.RTA_PRIORITY, u32(300)),
    attr(c.RTA_PREFSRC, bytes(10, 81, 8, 2)),
    attr(c.RTA_OIF, u32(4)),
    attr(c.RTA_METRICS, attr(c.RTAX_MTU, u32(1400))),
  ]);
  t.deepEqual(parseRoute(payload), { family: 2, dst: '10.81.8.0/24', linkIndex: 4, table: 1000, metric: 300, src: '10.81.8.2', scope: 253, type: 1, protocol: 2 });
});

test('parseRoute reads an IPv6 route', (t) => {
  const payload = Buffer.concat([
    header(12, [[0, 1, 10], [1, 1, 64], [4, 1, c.RT_TABLE_MAIN], [5, 1, c.RTPROT_BOOT], [7, 1, c.RTN_UNICAST]]),
    attr(c.RTA_DST, Buffer.from('fd810013000000000000000000000000', 'hex')),
    attr(c.RTA_GATEWAY, Buffer.from('fe800000000000000000000000000001', 'hex')),
    attr(c.RTA_PRIORITY, u32(1024)),
  ]);
  t.like(parseRoute(payload), { family: 10, dst: 'fd81:13::/64', gateway: 'fe80::1', metric: 1024, table: 254 });
});

test('parseNeigh reads an ARP entry', (t) => {
  const payload = Buffer.concat([
    header(12, [[0, 1, 2], [4, 4, 3], [8, 2, c.NUD_PERMANENT], [10, 1, 0], [11, 1, 1]]),
    attr(c.NDA_DST, bytes(10, 82, 1, 5)),
    attr(c.NDA_LLADDR, bytes(0x02, 0, 0, 0x82, 1, 5)),
  ]);
  t.deepEqual(parseNeigh(payload), { family: 2, linkIndex: 3, ip: '10.82.1.5', mac: '02:00:00:82:01:05', state: c.NUD_PERMANENT, flags: 0 });
});

test('parseNeigh reads a VXLAN FDB entry with its remote, VNI and flags', (t) => {
  const payload = Buffer.concat([
    header(12, [[0, 1, 7], [4, 4, 8], [8, 2, c.NUD_PERMANENT | c.NUD_NOARP], [10, 1, c.NTF_SELF]]),
    attr(c.NDA_LLADDR, bytes(0, 0, 0, 0, 0, 0)),
    attr(c.NDA_DST, bytes(10, 82, 5, 2)),
    attr(c.NDA_VNI, u32(4242)),
    attr(c.NDA_MASTER, u32(6)),
  ]);
  t.deepEqual(parseNeigh(payload), { family: 7, linkIndex: 8, ip: '10.82.5.2', mac: '00:00:00:00:00:00', state: c.NUD_PERMANENT | c.NUD_NOARP, flags: c.NTF_SELF, masterIndex: 6, vni: 4242 });
});

test('parseNeigh leaves out a link-layer address that is not six bytes', (t) => {
  const payload = Buffer.concat([header(12, [[0, 1, 10], [4, 4, 2], [8, 2, c.NUD_REACHABLE]]), attr(c.NDA_DST, Buffer.from('fd820002000000000000000000000005', 'hex')), attr(c.NDA_LLADDR, bytes(10, 0, 0, 1))]);
  const neigh = parseNeigh(payload);
  t.like(neigh, { family: 10, ip: 'fd82:2::5', state: c.NUD_REACHABLE });
  t.is(neigh.mac, undefined);
});
