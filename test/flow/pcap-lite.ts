// A deliberately small pcap/pcapng reader and IPv4/IPv6 + TCP/UDP decoder, so the flow
// golden test does not depend on src/capture (which has its own tests). Test use only.
import type { DecodedPacket } from '../../src/capture/types';

export interface LitePacket {
  frame: number;
  tsUs: number;
  /** undefined when the packet is not IPv4/IPv6 carrying TCP/UDP. */
  p?: DecodedPacket;
}

/** Reads a classic pcap or a pcapng file (EPB/SPB, several interfaces, if_tsresol). */
export function readPcap(file: Buffer): LitePacket[] {
  if (file.readUInt32LE(0) === 0x0a0d0d0a) return readPcapng(file);
  const magic = file.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const ns = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  if (!le && magic !== 0xd4c3b2a1 && magic !== 0x4d3cb2a1) throw new Error('not a pcap file');
  const u32 = (o: number) => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const linkType = u32(20) & 0xffff;
  const out: LitePacket[] = [];
  let o = 24;
  for (let frame = 1; o + 16 <= file.length; frame++) {
    const sec = u32(o);
    const frac = u32(o + 4);
    const caplen = u32(o + 8);
    const data = file.subarray(o + 16, o + 16 + caplen);
    o += 16 + caplen;
    const tsUs = sec * 1e6 + (ns ? Math.floor(frac / 1000) : frac);
    out.push({ frame, tsUs, p: decode(linkType, data, le) });
  }
  return out;
}

function readPcapng(file: Buffer): LitePacket[] {
  let le = true;
  const ifaces: Array<{ linkType: number; unitsPerSec: number }> = [];
  const out: LitePacket[] = [];
  let frame = 0;
  for (let o = 0; o + 12 <= file.length;) {
    if (file.readUInt32LE(o) === 0x0a0d0d0a) le = file.readUInt32LE(o + 8) === 0x1a2b3c4d;
    const u32 = (x: number) => (le ? file.readUInt32LE(x) : file.readUInt32BE(x));
    const u16 = (x: number) => (le ? file.readUInt16LE(x) : file.readUInt16BE(x));
    const type = u32(o);
    const len = u32(o + 4);
    if (type === 1) {
      let unitsPerSec = 1e6;
      for (let q = o + 16; q + 4 <= o + len - 4;) {
        const code = u16(q);
        const olen = u16(q + 2);
        if (code === 0) break;
        if (code === 9) {
          const r = file[q + 4];
          unitsPerSec = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
        }
        q += 4 + ((olen + 3) & ~3);
      }
      ifaces.push({ linkType: u16(o + 8), unitsPerSec });
    } else if (type === 6 || type === 3) {
      const iface = type === 6 ? ifaces[u32(o + 8)] : ifaces[0];
      const caplen = type === 6 ? u32(o + 20) : Math.min(u32(o + 8), len - 16);
      const data = file.subarray(o + (type === 6 ? 28 : 12), o + (type === 6 ? 28 : 12) + caplen);
      const units = type === 6 ? u32(o + 12) * 2 ** 32 + u32(o + 16) : 0;
      const tsUs = Math.floor((units * 1e6) / iface.unitsPerSec);
      out.push({ frame: ++frame, tsUs, p: decode(iface.linkType, data, le) });
    }
    o += len;
  }
  return out;
}

function decode(linkType: number, d: Buffer, le: boolean): DecodedPacket | undefined {
  let off: number;
  let etherType: number;
  switch (linkType) {
    case 0: { // BSD loopback: address family in host byte order
      const af = le ? d.readUInt32LE(0) : d.readUInt32BE(0);
      off = 4;
      etherType = af === 2 ? 0x0800 : 0x86dd;
      break;
    }
    case 1:
      off = 14;
      etherType = d.readUInt16BE(12);
      while (etherType === 0x8100 || etherType === 0x88a8) {
        etherType = d.readUInt16BE(off + 2);
        off += 4;
      }
      break;
    case 113:
      off = 16;
      etherType = d.readUInt16BE(14);
      break;
    case 101: case 228: case 229: case 12: case 14:
      off = 0;
      etherType = d[0] >> 4 === 4 ? 0x0800 : 0x86dd;
      break;
    default:
      return undefined;
  }
  let proto: number;
  let srcOff: number;
  let dstOff: number;
  let l4Off: number;
  let end: number;
  let v: 4 | 6;
  if (etherType === 0x0800) {
    v = 4;
    const ihl = (d[off] & 0x0f) * 4;
    const flagsFrag = d.readUInt16BE(off + 6);
    if ((flagsFrag & 0x3fff) !== 0) return undefined; // fragments: not needed by the fixtures
    proto = d[off + 9];
    srcOff = off + 12;
    dstOff = off + 16;
    l4Off = off + ihl;
    end = Math.min(d.length, off + d.readUInt16BE(off + 2)); // drops Ethernet padding
  } else if (etherType === 0x86dd) {
    v = 6;
    proto = d[off + 6];
    srcOff = off + 8;
    dstOff = off + 24;
    l4Off = off + 40;
    end = Math.min(d.length, l4Off + d.readUInt16BE(off + 4));
    // Skip hop-by-hop, routing and destination options headers.
    while (proto === 0 || proto === 43 || proto === 60) {
      proto = d[l4Off];
      l4Off += (d[l4Off + 1] + 1) * 8;
    }
  } else {
    return undefined;
  }
  if (proto !== 6 && proto !== 17) return undefined;
  const tcp = proto === 6;
  const hdr = tcp ? (d[l4Off + 12] >> 4) * 4 : 8;
  return {
    ipVersion: v, buf: d, srcOff, dstOff, proto, l4Off, l4Len: end - l4Off,
    sport: d.readUInt16BE(l4Off), dport: d.readUInt16BE(l4Off + 2),
    seq: tcp ? d.readUInt32BE(l4Off + 4) : 0, ack: tcp ? d.readUInt32BE(l4Off + 8) : 0,
    tcpFlags: tcp ? d[l4Off + 13] : 0, window: tcp ? d.readUInt16BE(l4Off + 14) : 0,
    payloadOff: l4Off + hdr, payloadLen: Math.max(0, end - l4Off - hdr),
  };
}
