// pcapng (draft-ietf-opsawg-pcapng): a sequence of blocks `type, total length, body, total
// length`. Each section starts with a Section Header Block whose byte-order magic fixes the
// byte order of that section; interfaces (IDB) are numbered per section and each has its own
// link type, snaplen and timestamp resolution/offset.
import { ChunkParser } from './chunk-parser';
import { CaptureFormatError, PCAPNG_SHB_TYPE } from './format';
import type { CaptureStats, PacketHandler, PacketRecord } from './types';

const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_IDB = 1;
const BLOCK_OPB = 2; // the obsolete Packet Block (spec appendix); old tools still write it
const BLOCK_SPB = 3;
const BLOCK_ISB = 5;
const BLOCK_EPB = 6;
/** Larger blocks are treated as damage rather than buffered. */
export const PCAPNG_MAX_BLOCK = 16 * 1024 * 1024;

const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
const OPT_ISB_IFDROP = 5;

const TWO_32 = 4294967296;

/** How an interface's raw 64-bit timestamps become microseconds. */
const enum TsMode {
  /** 10^-k with k <= 6: multiply. */
  Multiply,
  /** 10^-k with 6 < k <= 12: exact split division (the quotient parts stay below 2^53). */
  Divide,
  /** 2^-k with k <= 32: whole seconds and fraction separately. */
  Binary,
  /** Anything finer: exact BigInt arithmetic (allocates; no real capture uses it). */
  Big,
}

export interface PcapngInterface {
  /** Index across the whole input (IDB order over all sections), used as PacketRecord.iface. */
  readonly index: number;
  readonly linkType: number;
  readonly snaplen: number;
  /** Raw if_tsresol byte (6 = microseconds when the option is absent). */
  readonly tsresol: number;
  /** if_tsoffset in seconds. */
  readonly tsoffset: number;
}

class Iface implements PcapngInterface {
  mode: TsMode = TsMode.Multiply;
  mul = 1;
  div = 1;
  pow = 1;
  big = 1000000n;
  offsetUs = 0;
  lastIfDrop = 0;
  constructor(
    readonly index: number,
    readonly linkType: number,
    readonly snaplen: number,
    readonly tsresol: number,
    readonly tsoffset: number,
  ) {
    this.offsetUs = tsoffset * 1000000;
    if (tsresol & 0x80) {
      const k = tsresol & 0x7f;
      if (k <= 32) {
        this.mode = TsMode.Binary;
        this.pow = 2 ** k;
      } else {
        this.mode = TsMode.Big;
        this.big = 1n << BigInt(k);
      }
    } else if (tsresol <= 6) {
      this.mode = TsMode.Multiply;
      this.mul = 10 ** (6 - tsresol);
    } else if (tsresol <= 12) {
      this.mode = TsMode.Divide;
      this.div = 10 ** (tsresol - 6);
    } else {
      this.mode = TsMode.Big;
      this.big = 10n ** BigInt(tsresol);
    }
  }

  toUs(high: number, low: number): number {
    switch (this.mode) {
      case TsMode.Multiply:
        return (high * TWO_32 + low) * this.mul + this.offsetUs;
      case TsMode.Divide: {
        // (hq*d + hr) * 2^32 + low, divided by d, floor: each part is exact in a double.
        const d = this.div;
        const hq = Math.floor(high / d);
        const hr = high - hq * d;
        return hq * TWO_32 + Math.floor((hr * TWO_32 + low) / d) + this.offsetUs;
      }
      case TsMode.Binary: {
        const p = this.pow;
        const lowSecs = Math.floor(low / p);
        const frac = low - lowSecs * p;
        return (high * (TWO_32 / p) + lowSecs) * 1000000 + Math.floor((frac * 1000000) / p) + this.offsetUs;
      }
      default: {
        const v = (BigInt(high) << 32n) | BigInt(low);
        return Number((v * 1000000n) / this.big) + this.offsetUs;
      }
    }
  }
}

function rd16(buf: Buffer, o: number, le: boolean): number {
  return le ? buf[o] | (buf[o + 1] << 8) : (buf[o] << 8) | buf[o + 1];
}

function rd32(buf: Buffer, o: number, le: boolean): number {
  return le
    ? (buf[o] | (buf[o + 1] << 8) | (buf[o + 2] << 16) | (buf[o + 3] << 24)) >>> 0
    : ((buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3]) >>> 0;
}

export class PcapngParser extends ChunkParser {
  /** All interfaces seen, over all sections. */
  readonly interfaces: PcapngInterface[] = [];
  /** Sections seen (Section Header Blocks). */
  sections = 0;
  private le = true;
  private ifaces: Iface[] = [];
  private inSection = false;

  constructor(
    onPacket: PacketHandler,
    stats: CaptureStats,
    rec: PacketRecord,
    private readonly name = 'input',
  ) {
    super(onPacket, stats, rec, PCAPNG_MAX_BLOCK);
    stats.format = 'pcapng';
  }

  protected unitName(): string {
    return 'block';
  }

  protected unitLength(buf: Buffer, off: number, avail: number): number {
    if (avail < 12) return 12;
    let le = this.le;
    const type = rd32(buf, off, le);
    if (type === PCAPNG_SHB_TYPE) {
      const bom = buf.readUInt32LE(off + 8);
      if (bom === BYTE_ORDER_MAGIC) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else {
        if (!this.inSection && this.base + off === 0) {
          throw new CaptureFormatError(
            this.name,
            'pcapng with a bad byte-order magic',
            `iotwatch: ${this.name}: pcapng section header has a bad byte-order magic (${buf.toString('hex', off + 8, off + 12)})`,
          );
        }
        this.damage(off, `damaged section header at byte offset ${this.base + off}: bad byte-order magic`);
        return -1;
      }
    } else if (!this.inSection) {
      this.damage(off, `damaged block at byte offset ${this.base + off}: block type ${type} outside a section`);
      return -1;
    }
    const len = rd32(buf, off + 4, le);
    if (len < 12 || (len & 3) !== 0 || len > PCAPNG_MAX_BLOCK) {
      this.damage(
        off,
        `damaged block at byte offset ${this.base + off}: total length ${len} is ${
          len > PCAPNG_MAX_BLOCK ? `over the ${PCAPNG_MAX_BLOCK}-byte limit` : 'not a multiple of 4 of at least 12'
        }`,
      );
      return -1;
    }
    return len;
  }

  protected parse(buf: Buffer, pos: number, end: number): number {
    for (;;) {
      pos = this.le ? this.epbRunLe(buf, pos, end) : this.epbRunBe(buf, pos, end);
      if (end - pos < 12) return pos;
      const next = this.block(buf, pos, end);
      if (next === pos) return pos; // block incomplete: wait for more input
      if (this.stopped) return end;
      pos = next;
    }
  }

  // The hot loops: runs of well-formed EPBs, one per byte order so each stays monomorphic.
  // They return at the first block that is anything else (or incomplete) for block().
  private epbRunLe(buf: Buffer, pos: number, end: number): number {
    const rec = this.rec;
    const stats = this.stats;
    const onPacket = this.onPacket;
    const ifaces = this.ifaces;
    if (!this.inSection) return pos;
    rec.buf = buf;
    while (end - pos >= 32) {
      if ((buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24)) !== BLOCK_EPB) return pos;
      const len = (buf[pos + 4] | (buf[pos + 5] << 8) | (buf[pos + 6] << 16) | (buf[pos + 7] << 24)) >>> 0;
      if (len < 32 || (len & 3) !== 0 || len > end - pos) return pos;
      const t = pos + len - 4;
      if (((buf[t] | (buf[t + 1] << 8) | (buf[t + 2] << 16) | (buf[t + 3] << 24)) >>> 0) !== len) return pos;
      const caplen = (buf[pos + 20] | (buf[pos + 21] << 8) | (buf[pos + 22] << 16) | (buf[pos + 23] << 24)) >>> 0;
      const ifc = ifaces[(buf[pos + 8] | (buf[pos + 9] << 8) | (buf[pos + 10] << 16) | (buf[pos + 11] << 24)) >>> 0];
      if (ifc === undefined || caplen > len - 32) return pos;
      const hi = (buf[pos + 12] | (buf[pos + 13] << 8) | (buf[pos + 14] << 16) | (buf[pos + 15] << 24)) >>> 0;
      const lo = (buf[pos + 16] | (buf[pos + 17] << 8) | (buf[pos + 18] << 16) | (buf[pos + 19] << 24)) >>> 0;
      rec.frame++;
      rec.tsUs = ifc.mode === TsMode.Multiply ? (hi * TWO_32 + lo) * ifc.mul + ifc.offsetUs : ifc.toUs(hi, lo);
      rec.linkType = ifc.linkType;
      rec.iface = ifc.index;
      rec.off = pos + 28;
      rec.caplen = caplen;
      rec.wirelen = (buf[pos + 24] | (buf[pos + 25] << 8) | (buf[pos + 26] << 16) | (buf[pos + 27] << 24)) >>> 0;
      stats.packets++;
      stats.bytes += caplen;
      onPacket(rec);
      pos += len;
    }
    return pos;
  }

  private epbRunBe(buf: Buffer, pos: number, end: number): number {
    const rec = this.rec;
    const stats = this.stats;
    const onPacket = this.onPacket;
    const ifaces = this.ifaces;
    if (!this.inSection) return pos;
    rec.buf = buf;
    while (end - pos >= 32) {
      if (((buf[pos] << 24) | (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3]) !== BLOCK_EPB) return pos;
      const len = ((buf[pos + 4] << 24) | (buf[pos + 5] << 16) | (buf[pos + 6] << 8) | buf[pos + 7]) >>> 0;
      if (len < 32 || (len & 3) !== 0 || len > end - pos) return pos;
      const t = pos + len - 4;
      if ((((buf[t] << 24) | (buf[t + 1] << 16) | (buf[t + 2] << 8) | buf[t + 3]) >>> 0) !== len) return pos;
      const caplen = ((buf[pos + 20] << 24) | (buf[pos + 21] << 16) | (buf[pos + 22] << 8) | buf[pos + 23]) >>> 0;
      const ifc = ifaces[((buf[pos + 8] << 24) | (buf[pos + 9] << 16) | (buf[pos + 10] << 8) | buf[pos + 11]) >>> 0];
      if (ifc === undefined || caplen > len - 32) return pos;
      const hi = ((buf[pos + 12] << 24) | (buf[pos + 13] << 16) | (buf[pos + 14] << 8) | buf[pos + 15]) >>> 0;
      const lo = ((buf[pos + 16] << 24) | (buf[pos + 17] << 16) | (buf[pos + 18] << 8) | buf[pos + 19]) >>> 0;
      rec.frame++;
      rec.tsUs = ifc.mode === TsMode.Multiply ? (hi * TWO_32 + lo) * ifc.mul + ifc.offsetUs : ifc.toUs(hi, lo);
      rec.linkType = ifc.linkType;
      rec.iface = ifc.index;
      rec.off = pos + 28;
      rec.caplen = caplen;
      rec.wirelen = ((buf[pos + 24] << 24) | (buf[pos + 25] << 16) | (buf[pos + 26] << 8) | buf[pos + 27]) >>> 0;
      stats.packets++;
      stats.bytes += caplen;
      onPacket(rec);
      pos += len;
    }
    return pos;
  }

  /**
   * One block of any kind with every check. Returns the offset after it, `pos` itself when
   * the block is not all there yet, or `end` after recording damage.
   */
  private block(buf: Buffer, pos: number, end: number): number {
    const len = this.unitLength(buf, pos, end - pos);
    if (len < 0) return end;
    if (len > end - pos) return pos;
    let le = this.le;
    const type = rd32(buf, pos, le);
    if (type === PCAPNG_SHB_TYPE) this.le = le = buf.readUInt32LE(pos + 8) === BYTE_ORDER_MAGIC;
    if (rd32(buf, pos + len - 4, le) !== len) return this.badTrailer(buf, pos, len, end);
    if (type === BLOCK_EPB) {
      const caplen = len >= 32 ? rd32(buf, pos + 20, le) : 0;
      const id = rd32(buf, pos + 8, le);
      const ifc = this.ifaces[id];
      if (ifc === undefined || len < 32 || caplen > len - 32) {
        this.badPacketBlock(pos, len, caplen, id);
        return end;
      }
      this.deliver(ifc, buf, pos, caplen, le);
    } else if (!this.otherBlock(type, buf, pos, len)) {
      return end;
    }
    return pos + len;
  }

  private badTrailer(buf: Buffer, pos: number, len: number, end: number): number {
    this.damage(
      pos,
      `damaged block at byte offset ${this.base + pos}: trailing length ${rd32(buf, pos + len - 4, this.le)} differs from leading length ${len}`,
    );
    return end;
  }

  private badPacketBlock(pos: number, len: number, caplen: number, id: number): void {
    this.damage(
      pos,
      caplen > len - 32
        ? `damaged packet block at byte offset ${this.base + pos}: captured length ${caplen} does not fit in a ${len}-byte block`
        : `damaged packet block at byte offset ${this.base + pos}: interface ${id} not defined (section has ${this.ifaces.length})`,
    );
  }

  /** Every block but EPB. Returns false after recording damage. */
  private otherBlock(type: number, buf: Buffer, pos: number, len: number): boolean {
    const le = this.le;
    switch (type) {
      case PCAPNG_SHB_TYPE: {
        if (len < 28) {
          this.damage(pos, `damaged section header at byte offset ${this.base + pos}: length ${len} < 28`);
          return false;
        }
        const major = rd16(buf, pos + 12, le);
        if (major !== 1) {
          this.damage(pos, `section header at byte offset ${this.base + pos}: unsupported pcapng version ${major}`);
          return false;
        }
        this.inSection = true;
        this.sections++;
        this.ifaces = [];
        return true;
      }
      case BLOCK_IDB: {
        if (len < 20) {
          this.damage(pos, `damaged interface block at byte offset ${this.base + pos}: length ${len} < 20`);
          return false;
        }
        let tsresol = 6;
        let tsoffset = 0;
        const optEnd = pos + len - 4;
        for (let o = pos + 16; optEnd - o >= 4; ) {
          const code = rd16(buf, o, le);
          const olen = rd16(buf, o + 2, le);
          if (code === OPT_ENDOFOPT || o + 4 + olen > optEnd) break;
          if (code === OPT_IF_TSRESOL && olen >= 1) tsresol = buf[o + 4];
          else if (code === OPT_IF_TSOFFSET && olen >= 8) {
            tsoffset = Number(le ? buf.readBigInt64LE(o + 4) : buf.readBigInt64BE(o + 4));
          }
          o += 4 + ((olen + 3) & ~3);
        }
        const ifc = new Iface(this.interfaces.length, rd16(buf, pos + 8, le), rd32(buf, pos + 12, le), tsresol, tsoffset);
        this.ifaces.push(ifc);
        this.interfaces.push(ifc);
        return true;
      }
      case BLOCK_SPB:
        return this.simplePacket(buf, pos, len);
      case BLOCK_OPB:
        return this.obsoletePacket(buf, pos, len);
      case BLOCK_ISB: {
        const ifc = this.ifaces[rd32(buf, pos + 8, le)];
        if (ifc === undefined || len < 24) return true; // statistics only: not worth stopping for
        const optEnd = pos + len - 4;
        for (let o = pos + 20; optEnd - o >= 4; ) {
          const code = rd16(buf, o, le);
          const olen = rd16(buf, o + 2, le);
          if (code === OPT_ENDOFOPT || o + 4 + olen > optEnd) break;
          if (code === OPT_ISB_IFDROP && olen >= 8) {
            // isb_ifdrop is cumulative since capture start: count only the growth.
            const v = Number(le ? buf.readBigUInt64LE(o + 4) : buf.readBigUInt64BE(o + 4));
            this.stats.drops += v >= ifc.lastIfDrop ? v - ifc.lastIfDrop : v;
            ifc.lastIfDrop = v;
          }
          o += 4 + ((olen + 3) & ~3);
        }
        return true;
      }
      default:
        // NRB, DSB, custom and local blocks, and anything unknown: skipped, as the spec asks.
        return true;
    }
  }

  private simplePacket(buf: Buffer, pos: number, len: number): boolean {
    const ifc = this.ifaces[0];
    if (ifc === undefined) {
      this.damage(pos, `damaged simple packet block at byte offset ${this.base + pos}: no interface defined`);
      return false;
    }
    const le = this.le;
    const wirelen = rd32(buf, pos + 8, le);
    // Captured length = min(original length, interface 0 snaplen, room in the block).
    let caplen = Math.min(wirelen, len - 16);
    if (ifc.snaplen !== 0 && ifc.snaplen < caplen) caplen = ifc.snaplen;
    const rec = this.rec;
    rec.frame++;
    // An SPB has no timestamp: the previous packet's time is kept so capture time never
    // jumps back to 1970 for consumers timing out state.
    rec.linkType = ifc.linkType;
    rec.iface = ifc.index;
    rec.buf = buf;
    rec.off = pos + 12;
    rec.caplen = caplen;
    rec.wirelen = wirelen;
    this.stats.packets++;
    this.stats.bytes += caplen;
    this.onPacket(rec);
    return true;
  }

  private obsoletePacket(buf: Buffer, pos: number, len: number): boolean {
    const le = this.le;
    if (len < 32) {
      this.damage(pos, `damaged packet block at byte offset ${this.base + pos}: length ${len} < 32`);
      return false;
    }
    const id = rd16(buf, pos + 8, le);
    const ifc = this.ifaces[id];
    const caplen = rd32(buf, pos + 20, le);
    if (ifc === undefined || caplen > len - 32) {
      this.badPacketBlock(pos, len, caplen, id);
      return false;
    }
    const drops = rd16(buf, pos + 10, le);
    if (drops !== 0xffff) this.stats.drops += drops; // 0xffff: "not available"
    this.deliver(ifc, buf, pos, caplen, le);
    return true;
  }

  /**
   * Delivers the packet of an EPB or OPB at `pos` (checked by the caller): both blocks keep the
   * timestamp at +12/+16, the original length at +24 and the data at +28.
   */
  private deliver(ifc: Iface, buf: Buffer, pos: number, caplen: number, le: boolean): void {
    const rec = this.rec;
    rec.frame++;
    rec.tsUs = ifc.toUs(rd32(buf, pos + 12, le), rd32(buf, pos + 16, le));
    rec.linkType = ifc.linkType;
    rec.iface = ifc.index;
    rec.buf = buf;
    rec.off = pos + 28;
    rec.caplen = caplen;
    rec.wirelen = rd32(buf, pos + 24, le);
    this.stats.packets++;
    this.stats.bytes += caplen;
    this.onPacket(rec);
  }
}
