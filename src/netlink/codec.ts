/**
 * Message encoding on top of the npm `netlink` package's codecs. The package encodes the fixed
 * headers and the top-level attributes; nested kind-specific data (IFLA_INFO_DATA, VETH_INFO_PEER),
 * which it leaves as raw bytes, is encoded here.
 */
import { AttrStream, type StreamData } from 'netlink/dist/structs.js';
import * as rt from 'netlink/dist/rt/structs.js';
import * as ifla from 'netlink/dist/rt/ifla.js';

export { rt, ifla };

/** Flatten the package's stream output into one Buffer. */
export function toBuffer(data: StreamData): Buffer {
  const stream = new AttrStream();
  stream.emit(data);
  return Buffer.concat(stream.bufs);
}

/** One attribute (type, length, value, padding). */
export function attr(type: number, value: Buffer): Buffer {
  const length = 4 + value.length;
  const out = Buffer.alloc((length + 3) & ~3);
  out.writeUInt16LE(length, 0);
  out.writeUInt16LE(type, 2);
  value.copy(out, 4);
  return out;
}

export const u8 = (value: number): Buffer => Buffer.from([value & 0xff]);

/** nfnetlink's header after the netlink one (nfgenmsg): family, version 0, resource id (big endian). */
export function nfgenmsg(family: number, resId = 0): Buffer {
  return Buffer.from([family & 0xff, 0, (resId >> 8) & 0xff, resId & 0xff]);
}
export function u16(value: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16LE(value);
  return out;
}
export function u16be(value: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(value);
  return out;
}
export function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32LE(value >>> 0);
  return out;
}
export const cstring = (value: string): Buffer => Buffer.concat([Buffer.from(value, 'utf8'), Buffer.alloc(1)]);

/** The package's stream leaves the last attribute unpadded; pad it before appending more. */
function padded(bufs: Uint8Array[], extra: Buffer[] = []): Buffer {
  const body = Buffer.concat(bufs);
  const pad = (4 - (body.length % 4)) % 4;
  return Buffer.concat([body, Buffer.alloc(pad), ...extra]);
}

/** Encode a link request: ifinfomsg + attributes. */
export function linkMessage(data: rt.Link, attrs: ifla.LinkAttrs, extra: Buffer[] = []): Buffer {
  const stream = new AttrStream();
  rt.formatLinkMessage({ kind: 'link', data, attrs }, stream);
  return padded(stream.bufs, extra);
}

/** Encode an address request: ifaddrmsg + attributes. */
export function addressMessage(data: rt.Address, attrs: rt.AddressAttrs): Buffer {
  const stream = new AttrStream();
  rt.formatAddressMessage({ kind: 'address', data, attrs }, stream);
  return padded(stream.bufs);
}

/** Encode a route request: rtmsg + attributes. */
export function routeMessage(data: rt.Route, attrs: rt.RouteAttrs, extra: Buffer[] = []): Buffer {
  const stream = new AttrStream();
  rt.formatRouteMessage({ kind: 'route', data, attrs }, stream);
  return padded(stream.bufs, extra);
}

/** Encode a neighbour request: ndmsg + attributes. */
export function neighborMessage(data: rt.Neighbor, attrs: rt.NeighborAttrs, extra: Buffer[] = []): Buffer {
  const stream = new AttrStream();
  rt.formatNeighborMessage({ kind: 'neighbor', data, attrs }, stream);
  return padded(stream.bufs, extra);
}

/** Walk the attributes in buf, calling fn(type, value) for each. */
export function forEachAttr(buf: Buffer, fn: (type: number, value: Buffer) => void): void {
  for (let offset = 0; offset + 4 <= buf.length; ) {
    const length = buf.readUInt16LE(offset);
    if (length < 4 || offset + length > buf.length) break;
    fn(buf.readUInt16LE(offset + 2) & 0x3fff, buf.subarray(offset + 4, offset + length));
    offset += (length + 3) & ~3;
  }
}
