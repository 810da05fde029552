// Shared push-parser machinery for record-oriented capture formats. Records are parsed in
// place inside each chunk; only a record that spans two chunks is copied, into a carry-over
// buffer that never grows beyond the format's record size limit, so memory stays bounded
// whatever the file size.
import type { CaptureStats, PacketHandler, PacketRecord } from './types';

const EMPTY = Buffer.alloc(0);

export function createPacketRecord(): PacketRecord {
  return { frame: 0, tsUs: 0, linkType: 0, iface: 0, buf: EMPTY, off: 0, caplen: 0, wirelen: 0 };
}

export function createCaptureStats(format: CaptureStats['format']): CaptureStats {
  return { format, packets: 0, bytes: 0, drops: 0, warnings: [] };
}

export abstract class ChunkParser {
  /** Absolute input offset of index 0 of the buffer currently being parsed. */
  protected base = 0;
  /** Set once damage is found: everything after it is ignored. */
  protected stopped = false;

  private carry: Buffer = EMPTY;
  private carryLen = 0;
  /** Absolute offset of carry[0]. */
  private carryStart = 0;
  /** Absolute offset of the next chunk's first byte. */
  private consumed = 0;
  private ended = false;

  constructor(
    protected readonly onPacket: PacketHandler,
    readonly stats: CaptureStats,
    protected readonly rec: PacketRecord,
    /** Largest unit (header or record) the format may hold; bigger means damage. */
    protected readonly maxUnit: number,
  ) {}

  /** Parses whole units in buf[pos, end); returns the index of the first byte not consumed. */
  protected abstract parse(buf: Buffer, pos: number, end: number): number;

  /**
   * Size of the unit starting at buf[off] given `avail` bytes: when the header is not all
   * there yet, the header size; -1 after recording damage via damage().
   */
  protected abstract unitLength(buf: Buffer, off: number, avail: number): number;

  /** What the unit in progress is called in warnings ("record", "file header" ...). */
  protected abstract unitName(): string;

  feed(chunk: Buffer): void {
    const n = chunk.length;
    if (this.stopped || this.ended || n === 0) {
      this.consumed += n;
      return;
    }
    let pos = 0;
    if (this.carryLen > 0) {
      pos = this.completeCarry(chunk);
      if (pos < 0) {
        this.consumed += n;
        return;
      }
    }
    this.base = this.consumed;
    const stop = this.parse(chunk, pos, n);
    if (!this.stopped && stop < n) this.stash(chunk, stop, n);
    this.consumed += n;
  }

  /** Ends the input: a partial unit left over is reported as truncation. */
  end(): CaptureStats {
    if (this.ended) return this.stats;
    this.ended = true;
    if (!this.stopped && this.carryLen > 0) {
      this.base = this.carryStart;
      const need = this.unitLength(this.carry, 0, this.carryLen);
      if (need >= 0) {
        this.damage(
          0,
          `truncated ${this.unitName()} at byte offset ${this.carryStart}: input ends after ${this.carryLen} of ${need} bytes`,
        );
      }
    }
    this.carryLen = 0;
    this.carry = EMPTY;
    return this.stats;
  }

  /** Input bytes seen so far. */
  get bytesFed(): number {
    return this.consumed;
  }

  /** Records damage at buf index `off` (relative to this.base) and stops parsing. */
  protected damage(off: number, message: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stats.truncatedAt = this.base + off;
    this.stats.warnings.push(message);
  }

  /** Appends chunk bytes to the carry until it holds one whole unit, then parses it. */
  private completeCarry(chunk: Buffer): number {
    let pos = 0;
    const n = chunk.length;
    for (;;) {
      this.base = this.carryStart;
      const need = this.unitLength(this.carry, 0, this.carryLen);
      if (need < 0) return -1;
      if (need > this.carryLen) {
        if (pos >= n) return -1;
        this.ensureCarry(need);
        const take = Math.min(need - this.carryLen, n - pos);
        chunk.copy(this.carry, this.carryLen, pos, pos + take);
        this.carryLen += take;
        pos += take;
        continue;
      }
      // The carry holds exactly one unit (we never copy past `need`).
      this.parse(this.carry, 0, this.carryLen);
      this.carryLen = 0;
      if (this.stopped) return -1;
      return pos;
    }
  }

  private stash(chunk: Buffer, from: number, to: number): void {
    const len = to - from;
    this.ensureCarry(len);
    chunk.copy(this.carry, 0, from, to);
    this.carryLen = len;
    this.carryStart = this.consumed + from;
  }

  private ensureCarry(size: number): void {
    if (this.carry.length >= size) return;
    let cap = Math.max(this.carry.length * 2, 65536);
    while (cap < size) cap *= 2;
    // A unit is at most maxUnit bytes (checked by unitLength), so this is bounded.
    const next = Buffer.allocUnsafe(Math.min(cap, Math.max(size, this.maxUnit)));
    this.carry.copy(next, 0, 0, this.carryLen);
    this.carry = next;
  }
}
