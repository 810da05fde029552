// Builders for DecodedPackets and a recording decoder, shared by the flow tests.
import fc from 'fast-check';
import type { DecodedPacket } from '../../src/capture/types';
import type { IotEvent } from '../../src/events/types';
import { parseIp } from '../../src/flow/address';
import { FlowTable, type FlowTableOptions } from '../../src/flow/flow-table';
import type { AppClassifier, Dir, FlowInfo, TcpAppHandler, UdpAppHandler } from '../../src/flow/types';

export interface PktSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto?: 'tcp' | 'udp';
  seq?: number;
  ack?: number;
  /** Letters from 'FSRPA' (FIN SYN RST PSH ACK). */
  flags?: string;
  data?: Buffer | string;
}

const FLAG_BITS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10 };

export function flagBits(flags: string): number {
  let f = 0;
  for (const c of flags) f |= FLAG_BITS[c];
  return f;
}

/** A DecodedPacket whose buffer holds the two addresses and the payload, at odd offsets. */
export function pkt(s: PktSpec): DecodedPacket {
  const src = parseIp(s.src)!;
  const dst = parseIp(s.dst)!;
  const data = typeof s.data === 'string' ? Buffer.from(s.data) : s.data ?? Buffer.alloc(0);
  const pad = 3;
  const buf = Buffer.concat([Buffer.alloc(pad, 0xaa), src, dst, Buffer.alloc(20, 0xbb), data]);
  const l4Off = pad + src.length * 2;
  return {
    ipVersion: src.length === 4 ? 4 : 6,
    buf,
    srcOff: pad,
    dstOff: pad + src.length,
    proto: s.proto === 'udp' ? 17 : 6,
    l4Off,
    l4Len: 20 + data.length,
    sport: s.sport,
    dport: s.dport,
    seq: (s.seq ?? 0) >>> 0,
    ack: (s.ack ?? 0) >>> 0,
    tcpFlags: flagBits(s.flags ?? (s.proto === 'udp' ? '' : 'A')),
    window: 65535,
    payloadOff: l4Off + 20,
    payloadLen: data.length,
  };
}

export type Call =
  | { kind: 'data'; dir: Dir; bytes: Buffer; ts: number; frame: number }
  | { kind: 'gap'; dir: Dir; missing: number; ts: number; frame: number }
  | { kind: 'end'; ts: number; frame: number };

/** A decoder that records every call (bytes copied, as a real decoder must). */
export class Recorder implements TcpAppHandler, UdpAppHandler {
  readonly calls: Call[] = [];
  constructor(readonly flow: FlowInfo, readonly app = 'test') {}

  onData(dir: Dir, buf: Buffer, off: number, len: number, ts: number, frame: number): void {
    this.calls.push({ kind: 'data', dir, bytes: Buffer.from(buf.subarray(off, off + len)), ts, frame });
  }
  onDatagram(dir: Dir, buf: Buffer, off: number, len: number, ts: number, frame: number): void {
    this.onData(dir, buf, off, len, ts, frame);
  }
  onGap(dir: Dir, missing: number, ts: number, frame: number): void {
    this.calls.push({ kind: 'gap', dir, missing, ts, frame });
  }
  onEnd(ts: number, frame: number): void {
    this.calls.push({ kind: 'end', ts, frame });
  }

  /** All bytes delivered in one direction, gaps filled with `fill` bytes when given. */
  stream(dir: Dir, fill?: number): Buffer {
    const parts: Buffer[] = [];
    for (const c of this.calls) {
      if (c.kind === 'data' && c.dir === dir) parts.push(c.bytes);
      if (c.kind === 'gap' && c.dir === dir && fill !== undefined) parts.push(Buffer.alloc(c.missing, fill));
    }
    return Buffer.concat(parts);
  }

  text(dir: Dir): string {
    return this.stream(dir).toString('latin1');
  }

  gaps(dir?: Dir): number[] {
    return this.calls.filter((c): c is Extract<Call, { kind: 'gap' }> => c.kind === 'gap' && (dir === undefined || c.dir === dir))
      .map((c) => c.missing);
  }
}

/** Classifier that attaches a Recorder to every flow with payload. */
export class RecordingClassifier implements AppClassifier {
  readonly handlers: Recorder[] = [];
  tcpCalls = 0;
  udpCalls = 0;
  /** Answers to give before attaching, per call: undefined (ask again) or null (none). */
  constructor(private readonly script: Array<null | undefined> = []) {}

  tcp(flow: FlowInfo, _dir: Dir, _buf: Buffer, _off: number, _len: number): TcpAppHandler | null | undefined {
    return this.answer(flow, this.tcpCalls++);
  }
  udp(flow: FlowInfo, _dir: Dir, _buf: Buffer, _off: number, _len: number): UdpAppHandler | null | undefined {
    return this.answer(flow, this.udpCalls++);
  }
  private answer(flow: FlowInfo, n: number): Recorder | null | undefined {
    if (n < this.script.length) return this.script[n];
    const h = new Recorder(flow);
    this.handlers.push(h);
    return h;
  }
}

export interface Harness {
  table: FlowTable;
  events: IotEvent[];
  classifier: RecordingClassifier;
  /** Sends a packet; ts defaults to the frame number in seconds (as microseconds). */
  send(spec: PktSpec, ts?: number): void;
  frame: number;
  lastTs: number;
}

export function harness(opts: Partial<FlowTableOptions> = {}, classifier = new RecordingClassifier()): Harness {
  const events: IotEvent[] = [];
  const table = new FlowTable({ classifier, emit: (e) => events.push(e), emitFlowEvents: true, ...opts });
  const h: Harness = {
    table, events, classifier, frame: 0, lastTs: 0,
    send(spec, ts) {
      h.frame++;
      h.lastTs = ts ?? h.frame * 1e6;
      table.packet(pkt(spec), h.lastTs, h.frame);
    },
  };
  return h;
}

/** Client and server endpoints of a TCP test connection, with sequence bookkeeping. */
export class Conn {
  /** Next sequence number per direction (0 = client->server). */
  readonly nxt: [number, number];
  constructor(
    readonly h: Harness,
    readonly c = { ip: '10.0.0.1', port: 40000 },
    readonly s = { ip: '10.0.0.2', port: 1883 },
    isn: [number, number] = [1000, 5000],
  ) {
    this.nxt = [isn[0] >>> 0, isn[1] >>> 0];
  }

  spec(dir: Dir, flags: string, data: Buffer | string = '', seq?: number): PktSpec {
    const [a, b] = dir === 0 ? [this.c, this.s] : [this.s, this.c];
    return {
      src: a.ip, sport: a.port, dst: b.ip, dport: b.port, flags,
      seq: seq ?? this.nxt[dir], ack: flags.includes('A') ? this.nxt[1 - dir] : 0, data,
    };
  }

  handshake(): void {
    this.h.send(this.spec(0, 'S'));
    this.nxt[0] = (this.nxt[0] + 1) >>> 0;
    this.h.send({ ...this.spec(1, 'SA'), ack: this.nxt[0] });
    this.nxt[1] = (this.nxt[1] + 1) >>> 0;
    this.h.send(this.spec(0, 'A'));
  }

  /** Sends data in order and advances the sequence number. */
  data(dir: Dir, data: Buffer | string, ts?: number): void {
    const d = typeof data === 'string' ? Buffer.from(data) : data;
    this.h.send(this.spec(dir, 'PA', d), ts);
    this.nxt[dir] = (this.nxt[dir] + d.length) >>> 0;
  }

  /** Sends data at relative position `rel` from the current next seq, without advancing. */
  at(dir: Dir, rel: number, data: Buffer | string, flags = 'PA'): void {
    this.h.send(this.spec(dir, flags, data, (this.nxt[dir] + rel) >>> 0));
  }

  fin(dir: Dir): void {
    this.h.send(this.spec(dir, 'FA'));
    this.nxt[dir] = (this.nxt[dir] + 1) >>> 0;
  }
}

// ------------------------------------------------------------ property generators

/** Cuts `data` into segments, duplicates some (possibly re-cut), and shuffles them locally. */
export const segmentation = (maxLen: number) =>
  fc.record({
    data: fc.uint8Array({ minLength: 1, maxLength: maxLen }),
    cuts: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 200 }),
    dups: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 100 })), { maxLength: 20 }),
    keys: fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 300, maxLength: 300 }),
    window: fc.integer({ min: 0, max: 10 }),
    isn: fc.constantFrom(0, 1, 0xffffff00, 0xfffffff0, 0x7fffffff, 123456789),
  });

export interface Seg { rel: number; data: Buffer }

/** Segments in arrival order: sorted by position plus a bounded random displacement. */
export function arrange(p: { data: Uint8Array; cuts: number[]; dups: Array<[number, number, number]>; keys: number[]; window: number }): Seg[] {
  const data = Buffer.from(p.data);
  const segs: Seg[] = [];
  let pos = 0;
  for (let i = 0; pos < data.length; i++) {
    const len = Math.min(p.cuts[i % p.cuts.length], data.length - pos);
    segs.push({ rel: pos, data: data.subarray(pos, pos + len) });
    pos += len;
  }
  for (const [a, b, len] of p.dups) {
    const start = a % data.length;
    const end = Math.min(data.length, start + len);
    segs.splice(b % (segs.length + 1), 0, { rel: start, data: data.subarray(start, end) });
  }
  // Each segment may move up to `window` places from its position (bounded reordering).
  const order = segs.map((s, i) => ({ s, k: i + (p.keys[i % p.keys.length] % (p.window + 1)) }));
  order.sort((x, y) => x.k - y.k);
  return order.map((o) => o.s);
}
