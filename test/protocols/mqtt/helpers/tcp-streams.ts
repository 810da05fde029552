// Test-only: TCP payload streams from a pcap/pcapng, per flow and direction, in capture order,
// with in-order delivery and gaps - just enough reassembly to drive one protocol decoder.
// (The real pipeline lives in src/capture and src/flow; these tests must not depend on it.)
import { readFileSync } from 'node:fs';
import type { FlowSide } from '../../../../src/events/types';
import type { Dir, FlowInfo, TcpAppHandler } from '../../../../src/flow/types';

export type StreamCall =
  | { kind: 'data'; dir: Dir; bytes: Buffer; ts: number; frame: number }
  | { kind: 'gap'; dir: Dir; missing: number; ts: number; frame: number };

export interface TcpFlow {
  info: FlowInfo;
  calls: StreamCall[];
  lastTs: number;
  lastFrame: number;
}

interface Packet {
  frame: number;
  ts: number;
  link: number;
  data: Buffer;
}

function readPackets(file: string): Packet[] {
  const b = readFileSync(file);
  const out: Packet[] = [];
  const magic = b.readUInt32LE(0);
  if (magic === 0x0a0d0d0a) {
    let le = true;
    const links: number[] = [];
    let p = 0;
    let frame = 0;
    while (p + 12 <= b.length) {
      const type = le ? b.readUInt32LE(p) : b.readUInt32BE(p);
      if (type === 0x0a0d0d0a) le = b.readUInt32LE(p + 8) === 0x1a2b3c4d;
      const len = le ? b.readUInt32LE(p + 4) : b.readUInt32BE(p + 4);
      const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
      if (type === 1) links.push(le ? b.readUInt16LE(p + 8) : b.readUInt16BE(p + 8));
      else if (type === 6) {
        const iface = u32(p + 8);
        const ts = (u32(p + 12) * 2 ** 32 + u32(p + 16));
        const cap = u32(p + 20);
        out.push({ frame: ++frame, ts, link: links[iface], data: b.subarray(p + 28, p + 28 + cap) });
      } else if (type === 3) {
        frame++;
      }
      p += len;
    }
    return out;
  }
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const link = u32(20) & 0xffff;
  let p = 24;
  let frame = 0;
  while (p + 16 <= b.length) {
    const sec = u32(p);
    const frac = u32(p + 4);
    const cap = u32(p + 8);
    out.push({ frame: ++frame, ts: sec * 1e6 + (nano ? Math.floor(frac / 1000) : frac), link, data: b.subarray(p + 16, p + 16 + cap) });
    p += 16 + cap;
  }
  return out;
}

/** Offset of the IP header for a link type, or -1. */
function ipOffset(link: number, d: Buffer): number {
  switch (link) {
    case 1: {
      let o = 12;
      let et = d.readUInt16BE(o);
      while (et === 0x8100 || et === 0x88a8) {
        o += 4;
        et = d.readUInt16BE(o);
      }
      return et === 0x0800 || et === 0x86dd ? o + 2 : -1;
    }
    case 113: return 16;
    case 276: return 20;
    case 0: case 108: return 4;
    case 12: case 14: case 101: case 228: case 229: return 0;
    default: return -1;
  }
}

interface Seg {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  flags: number;
  payload: Buffer;
}

function parseTcp(d: Buffer, o: number): Seg | null {
  const v = d[o] >> 4;
  let p: number;
  let src: string;
  let dst: string;
  let end: number;
  if (v === 4) {
    if (d[o + 9] !== 6 || (d.readUInt16BE(o + 6) & 0x3fff) !== 0) return null;
    p = o + (d[o] & 15) * 4;
    end = Math.min(d.length, o + d.readUInt16BE(o + 2));
    src = Array.from(d.subarray(o + 12, o + 16)).join('.');
    dst = Array.from(d.subarray(o + 16, o + 20)).join('.');
  } else if (v === 6) {
    if (d[o + 6] !== 6) return null;
    p = o + 40;
    end = Math.min(d.length, p + d.readUInt16BE(o + 4));
    src = d.toString('hex', o + 8, o + 24);
    dst = d.toString('hex', o + 24, o + 40);
  } else return null;
  const doff = (d[p + 12] >> 4) * 4;
  return {
    src, dst, sport: d.readUInt16BE(p), dport: d.readUInt16BE(p + 2), seq: d.readUInt32BE(p + 4),
    flags: d[p + 13], payload: d.subarray(p + doff, end),
  };
}

interface DirTrack {
  next: number;
  known: boolean;
}

/** TCP flows of a capture that touch `port`, with their payload calls in capture order. */
export function tcpFlows(file: string, port = 1883): TcpFlow[] {
  const flows = new Map<string, TcpFlow & { client: string; track: [DirTrack, DirTrack] }>();
  for (const pk of readPackets(file)) {
    const o = ipOffset(pk.link, pk.data);
    if (o < 0) continue;
    const s = parseTcp(pk.data, o);
    if (s === null || (s.sport !== port && s.dport !== port)) continue;
    const a = `${s.src}|${s.sport}`;
    const b = `${s.dst}|${s.dport}`;
    const key = a < b ? `${a}>${b}` : `${b}>${a}`;
    let f = flows.get(key);
    const syn = (s.flags & 0x12) === 0x02;
    if (f === undefined) {
      const clientIsSrc = syn || ((s.flags & 0x12) !== 0x12 && s.dport === port);
      const client = clientIsSrc ? a : b;
      const [cip, cport] = clientIsSrc ? [s.src, s.sport] : [s.dst, s.dport];
      const [sip, sport] = clientIsSrc ? [s.dst, s.dport] : [s.src, s.sport];
      const mk = (dir: Dir): FlowSide => ({
        proto: 'tcp', src: dir === 0 ? cip : sip, sport: dir === 0 ? cport : sport, dst: dir === 0 ? sip : cip,
        dport: dir === 0 ? sport : cport, communityId: '', dir: dir === 0 ? 'to_server' : 'to_client',
        flowId: flows.size + 1, sensor: 'test',
      });
      f = {
        info: { flowId: flows.size + 1, proto: 'tcp', sides: [mk(0), mk(1)], serverPort: sport, clientPort: cport, midstream: !syn && (s.flags & 0x12) !== 0x12 },
        calls: [], lastTs: pk.ts, lastFrame: pk.frame, client, track: [{ next: 0, known: false }, { next: 0, known: false }],
      };
      flows.set(key, f);
    }
    f.lastTs = pk.ts;
    f.lastFrame = pk.frame;
    const dir: Dir = a === f.client ? 0 : 1;
    const t = f.track[dir];
    if ((s.flags & 0x02) !== 0) {
      t.next = (s.seq + 1) >>> 0;
      t.known = true;
      continue;
    }
    if (!t.known) {
      if (s.payload.length === 0) continue;
      t.next = s.seq;
      t.known = true;
    }
    let data = s.payload;
    const fin = (s.flags & 0x01) !== 0;
    const delta = (s.seq - t.next) | 0;
    if (delta > 0 && (data.length > 0 || fin)) {
      f.calls.push({ kind: 'gap', dir, missing: delta, ts: pk.ts, frame: pk.frame });
      t.next = s.seq;
    } else if (delta < 0) {
      if (-delta >= data.length) continue;
      data = data.subarray(-delta);
    }
    if (data.length > 0) {
      f.calls.push({ kind: 'data', dir, bytes: Buffer.from(data), ts: pk.ts, frame: pk.frame });
      t.next = (t.next + data.length) >>> 0;
    }
  }
  return [...flows.values()].map(({ info, calls, lastTs, lastFrame }) => ({ info, calls, lastTs, lastFrame }));
}

/** Replays a flow's calls into a handler, then ends it. */
export function replay(f: TcpFlow, h: TcpAppHandler): void {
  for (const c of f.calls) {
    if (c.kind === 'data') h.onData(c.dir, c.bytes, 0, c.bytes.length, c.ts, c.frame);
    else h.onGap(c.dir, c.missing, c.ts, c.frame);
  }
  h.onEnd(f.lastTs, f.lastFrame);
}
