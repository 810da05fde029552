// In-memory pcap and pcapng writers (both byte orders) for round-trip tests of the readers.

class ByteWriter {
  private parts: Buffer[] = [];
  constructor(readonly le: boolean) {}
  u8(v: number): this {
    this.parts.push(Buffer.from([v & 0xff]));
    return this;
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    if (this.le) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    this.parts.push(b);
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    if (this.le) b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    if (this.le) b.writeBigUInt64LE(BigInt.asUintN(64, v));
    else b.writeBigUInt64BE(BigInt.asUintN(64, v));
    this.parts.push(b);
    return this;
  }
  bytes(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  pad4(): this {
    const len = this.length;
    if (len % 4) this.parts.push(Buffer.alloc(4 - (len % 4)));
    return this;
  }
  get length(): number {
    return this.parts.reduce((n, p) => n + p.length, 0);
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export interface PcapPacket {
  sec: number;
  /** Microseconds, or nanoseconds for nano files. */
  frac: number;
  data: Buffer;
  wirelen?: number;
}

export interface PcapOptions {
  le?: boolean;
  nano?: boolean;
  /** Kuznetsov's modified format (magic a1b2cd34, 24-byte record headers). */
  modified?: boolean;
  linkType: number;
  snaplen?: number;
  packets: PcapPacket[];
}

export function writePcap(o: PcapOptions): Buffer {
  const w = new ByteWriter(o.le ?? true);
  w.u32(o.modified ? 0xa1b2cd34 : o.nano ? 0xa1b23c4d : 0xa1b2c3d4)
    .u16(2)
    .u16(4)
    .u32(0)
    .u32(0)
    .u32(o.snaplen ?? 65535)
    .u32(o.linkType);
  for (const p of o.packets) {
    w.u32(p.sec).u32(p.frac).u32(p.data.length).u32(p.wirelen ?? p.data.length);
    if (o.modified) w.u32(1).u16(0x0800).u8(0).u8(0);
    w.bytes(p.data);
  }
  return w.build();
}

export type NgBlock =
  | { type: 'idb'; linkType: number; snaplen?: number; tsresol?: number; tsoffset?: bigint }
  | { type: 'epb'; iface: number; ts: bigint; data: Buffer; wirelen?: number; comment?: string }
  | { type: 'spb'; data: Buffer; wirelen?: number }
  | { type: 'opb'; iface: number; ts: bigint; data: Buffer; drops?: number; wirelen?: number }
  | { type: 'isb'; iface: number; ts?: bigint; ifdrop?: bigint }
  | { type: 'raw'; blockType: number; body: Buffer };

export interface NgSection {
  le?: boolean;
  blocks: NgBlock[];
  /** Options written in the SHB (shb_userappl). */
  userappl?: string;
}

function option(w: ByteWriter, code: number, value: Buffer): void {
  w.u16(code).u16(value.length).bytes(value).pad4();
}

function block(le: boolean, type: number, body: (w: ByteWriter) => void): Buffer {
  const inner = new ByteWriter(le);
  body(inner);
  inner.pad4();
  const b = inner.build();
  const total = b.length + 12;
  return new ByteWriter(le).u32(type).u32(total).bytes(b).u32(total).build();
}

function u64Buf(le: boolean, v: bigint): Buffer {
  return new ByteWriter(le).u64(v).build();
}

export function writePcapng(sections: NgSection[]): Buffer {
  const out: Buffer[] = [];
  for (const s of sections) {
    const le = s.le ?? true;
    out.push(
      block(le, 0x0a0d0d0a, (w) => {
        w.u32(0x1a2b3c4d).u16(1).u16(0).u64(-1n);
        if (s.userappl !== undefined) {
          option(w, 4, Buffer.from(s.userappl));
          w.u16(0).u16(0);
        }
      }),
    );
    for (const b of s.blocks) out.push(writeBlock(le, b));
  }
  return Buffer.concat(out);
}

function writeBlock(le: boolean, b: NgBlock): Buffer {
  switch (b.type) {
    case 'idb':
      return block(le, 1, (w) => {
        w.u16(b.linkType).u16(0).u32(b.snaplen ?? 0);
        const any = b.tsresol !== undefined || b.tsoffset !== undefined;
        option(w, 2, Buffer.from('eth-test')); // if_name, an option to skip
        if (b.tsresol !== undefined) option(w, 9, Buffer.from([b.tsresol]));
        if (b.tsoffset !== undefined) option(w, 14, u64Buf(le, b.tsoffset));
        if (any) w.u16(0).u16(0);
      });
    case 'epb':
      return block(le, 6, (w) => {
        w.u32(b.iface)
          .u32(Number(b.ts >> 32n))
          .u32(Number(b.ts & 0xffffffffn))
          .u32(b.data.length)
          .u32(b.wirelen ?? b.data.length)
          .bytes(b.data)
          .pad4();
        if (b.comment !== undefined) {
          option(w, 1, Buffer.from(b.comment));
          w.u16(0).u16(0);
        }
      });
    case 'spb':
      return block(le, 3, (w) => {
        w.u32(b.wirelen ?? b.data.length).bytes(b.data);
      });
    case 'opb':
      return block(le, 2, (w) => {
        w.u16(b.iface)
          .u16(b.drops ?? 0)
          .u32(Number(b.ts >> 32n))
          .u32(Number(b.ts & 0xffffffffn))
          .u32(b.data.length)
          .u32(b.wirelen ?? b.data.length)
          .bytes(b.data);
      });
    case 'isb':
      return block(le, 5, (w) => {
        const ts = b.ts ?? 0n;
        w.u32(b.iface)
          .u32(Number(ts >> 32n))
          .u32(Number(ts & 0xffffffffn));
        option(w, 4, u64Buf(le, 10n)); // isb_ifrecv
        if (b.ifdrop !== undefined) option(w, 5, u64Buf(le, b.ifdrop));
        w.u16(0).u16(0);
      });
    case 'raw':
      return block(le, b.blockType, (w) => {
        w.bytes(b.body);
      });
  }
}

/** Splits a buffer into chunks at the given cut points (sorted, deduplicated). */
export function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const pts = [...new Set(cuts.filter((c) => c > 0 && c < buf.length))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of pts) {
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  out.push(buf.subarray(prev));
  return out;
}
