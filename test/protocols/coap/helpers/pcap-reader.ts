// Test-only reader: classic pcap (not pcapng), link types Ethernet (1) and BSD loopback/null (0),
// IPv4/IPv6 without fragments or extension headers, UDP and TCP. Enough for the golden tests until
// src/capture and src/flow exist; not for production use.
import { readFileSync } from 'node:fs';

export interface TransportPacket {
  frame: number;
  tsUs: number;
  proto: 'udp' | 'tcp';
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** TCP only. */
  seq: number;
  flags: number;
  payload: Buffer;
}

function ipv4(b: Buffer, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

function ipv6(b: Buffer, o: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(o + i).toString(16));
  return parts.join(':');
}

export function readPcap(path: string): TransportPacket[] {
  const f = readFileSync(path);
  const magic = f.readUInt32LE(0);
  let le: boolean;
  let nano: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else throw new Error(`${path}: not a classic pcap file`);
  nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const u32 = (o: number): number => (le ? f.readUInt32LE(o) : f.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff;
  if (linkType !== 0 && linkType !== 1) throw new Error(`${path}: link type ${linkType} not supported`);

  const out: TransportPacket[] = [];
  let off = 24;
  let frame = 0;
  while (off + 16 <= f.length) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const caplen = u32(off + 8);
    const rec = off + 16;
    off = rec + caplen;
    frame++;
    if (off > f.length) break;
    const tsUs = sec * 1_000_000 + (nano ? Math.floor(frac / 1000) : frac);
    let p = rec;
    let ipVersion: number;
    if (linkType === 1) {
      let etherType = f.readUInt16BE(p + 12);
      p += 14;
      while (etherType === 0x8100 || etherType === 0x88a8) {
        etherType = f.readUInt16BE(p + 2);
        p += 4;
      }
      if (etherType === 0x0800) ipVersion = 4;
      else if (etherType === 0x86dd) ipVersion = 6;
      else continue;
    } else {
      // DLT_NULL: address family in the writer's byte order; 2 = AF_INET, 24/28/30 = AF_INET6.
      const fam = f.readUInt32LE(p) > 0xffff ? f.readUInt32BE(p) : f.readUInt32LE(p);
      p += 4;
      if (fam === 2) ipVersion = 4;
      else if (fam === 24 || fam === 28 || fam === 30) ipVersion = 6;
      else continue;
    }
    let proto: number;
    let src: string;
    let dst: string;
    let l4: number;
    let l4End: number;
    if (ipVersion === 4) {
      const ihl = (f[p] & 0x0f) * 4;
      const fragment = f.readUInt16BE(p + 6) & 0x3fff;
      if (fragment !== 0) continue;
      proto = f[p + 9];
      src = ipv4(f, p + 12);
      dst = ipv4(f, p + 16);
      l4 = p + ihl;
      l4End = Math.min(p + f.readUInt16BE(p + 2), off);
    } else {
      proto = f[p + 6];
      src = ipv6(f, p + 8);
      dst = ipv6(f, p + 24);
      l4 = p + 40;
      l4End = Math.min(l4 + f.readUInt16BE(p + 4), off);
    }
    const sport = f.readUInt16BE(l4);
    const dport = f.readUInt16BE(l4 + 2);
    if (proto === 17) {
      const end = Math.min(l4 + f.readUInt16BE(l4 + 4), l4End);
      out.push({ frame, tsUs, proto: 'udp', src, dst, sport, dport, seq: 0, flags: 0, payload: f.subarray(l4 + 8, end) });
    } else if (proto === 6) {
      const dataOff = (f[l4 + 12] >>> 4) * 4;
      out.push({
        frame, tsUs, proto: 'tcp', src, dst, sport, dport,
        seq: f.readUInt32BE(l4 + 4), flags: f[l4 + 13], payload: f.subarray(l4 + dataOff, l4End),
      });
    }
  }
  return out;
}
