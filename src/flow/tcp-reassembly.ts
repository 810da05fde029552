// One direction of a TCP connection: turns segments in capture order into the byte stream
// the receiver saw (RFC 9293 section 3.4 sequence numbers, section 3.10.7.4 segment
// arrival). In-order bytes go straight from the packet to the sink (zero-copy); only
// segments that arrive ahead of a hole are copied, within byte bounds shared by the table.
import type { Dir } from './types';

/** Where a stream delivers its bytes and reports what it could not deliver. */
export interface StreamSink {
  /** In-order bytes; buf is only valid during the call. */
  onStreamData(dir: Dir, buf: Buffer, off: number, len: number, ts: number, frame: number): void;
  /** `missing` bytes at stream offset `at` will never be delivered. */
  onStreamGap(dir: Dir, missing: number, at: number, ts: number, frame: number): void;
  /** A segment carried different bytes than buffered data for the same sequence range. */
  onStreamOverlapMismatch(dir: Dir, at: number, len: number, ts: number, frame: number): void;
}

/** Byte bounds and counters shared by all streams of one flow table. */
export class ReassemblyBudget {
  /** Bytes held in out-of-order buffers (and pending classification) now, and at most. */
  buffered = 0;
  bufferedPeak = 0;
  gaps = 0;
  gapBytes = 0;
  /** Segments partly old: the old part was trimmed. */
  overlaps = 0;
  overlapMismatches = 0;
  /** Segments with no new byte (all delivered or all buffered already). */
  retransmissions = 0;
  /** Segments that arrived ahead of a hole and were buffered. */
  outOfOrder = 0;
  perStreamBoundHits = 0;
  totalBoundHits = 0;

  constructor(readonly maxPerStream: number, readonly maxTotal: number) {}

  add(n: number): void {
    this.buffered += n;
    if (this.buffered > this.bufferedPeak) this.bufferedPeak = this.buffered;
  }
}

interface Segment {
  /** Stream offset of data[0]. */
  off: number;
  data: Buffer;
}

/**
 * An ACK may only move a hole into a gap when it is plausible: a receiver cannot ack more
 * than the largest window (2^30 with window scaling, RFC 7323 section 2.3) past what it had.
 */
const MAX_ACK_JUMP = 1 << 30;

/**
 * Reassembler for one direction. Positions are kept as stream offsets (a JS number that
 * never wraps); a 32-bit sequence number is mapped to the offset nearest the delivery point,
 * which is correct across the 2^32 wrap as long as segments are within 2^31 of it.
 */
export class TcpStream {
  /** Whether offset 0 has been fixed (by a SYN, a SYN-ACK's ack, or the first data midstream). */
  started = false;
  /** Sequence number of stream offset 0. */
  baseSeq = 0;
  /** Offset of the next byte to deliver. */
  next = 0;
  /** Offset of the FIN (the FIN occupies that sequence number), -1 until seen. */
  finOff = -1;
  /** Bytes held in segs. */
  bufferedBytes = 0;
  /** Sorted by offset, non-overlapping, every off > next. */
  private segs: Segment[] = [];

  constructor(
    readonly dir: Dir,
    private readonly sink: StreamSink,
    private readonly budget: ReassemblyBudget,
  ) {}

  /** Fixes offset 0 at `seq` (the SYN's seq + 1: a SYN consumes one number, RFC 9293 3.4). */
  start(seq: number): void {
    this.release();
    this.started = true;
    this.baseSeq = seq >>> 0;
    this.next = 0;
    this.finOff = -1;
  }

  /** Stream offset of a sequence number (nearest to the delivery point). */
  offsetOf(seq: number): number {
    return this.next + ((seq - this.baseSeq - this.next) | 0);
  }

  /** Whether anything was delivered or buffered since start. */
  get hasData(): boolean {
    return this.next > 0 || this.segs.length > 0;
  }

  /** Marks the FIN: it sits at sequence number `seq` (after the segment's data). */
  fin(seq: number): void {
    if (!this.started) this.start(seq);
    const at = this.offsetOf(seq);
    if (this.finOff < 0 || at < this.finOff) this.finOff = at;
  }

  /** A segment of `len` payload bytes at buf[off], whose first byte has number `seq`. */
  segment(seq: number, buf: Buffer, off: number, len: number, ts: number, frame: number): void {
    if (len <= 0) return;
    if (!this.started) this.start(seq);
    let s = this.offsetOf(seq);
    const e = s + len;
    for (;;) {
      if (e <= this.next) {
        this.budget.retransmissions++;
        return;
      }
      if (s < this.next) {
        // Partly old (RFC 9293 3.10.7.4: trim to the window): the delivered part is gone,
        // so it cannot be compared.
        this.budget.overlaps++;
        const trim = this.next - s;
        off += trim;
        len -= trim;
        s = this.next;
      }
      if (s === this.next) {
        this.deliverInOrder(buf, off, len, ts, frame);
        return;
      }
      if (this.tryBuffer(s, buf, off, len, ts, frame)) return;
      // A bound would be exceeded: give up on the first hole and deliver what follows it,
      // then look at this segment again (it may now be in order, or old).
      const first = this.segs.length > 0 ? this.segs[0].off : Infinity;
      if (first > s) {
        this.gap(s - this.next, ts, frame);
        this.next = s;
      } else {
        this.gap(first - this.next, ts, frame);
        this.next = first;
        this.drain(ts, frame);
      }
    }
  }

  /**
   * The peer acknowledged everything before `ackSeq`. Bytes it acknowledged that we never
   * saw were lost by the capture, not by the network: report them as a gap now rather than
   * waiting for a retransmission that will not come.
   */
  ack(ackSeq: number, ts: number, frame: number): void {
    if (!this.started) return;
    let a = this.offsetOf(ackSeq);
    // The FIN's own sequence number is acknowledged too; it carries no byte.
    if (this.finOff >= 0 && a > this.finOff) a = this.finOff;
    if (a <= this.next || a - this.next > MAX_ACK_JUMP) return;
    while (this.next < a) {
      const first = this.segs.length > 0 ? this.segs[0].off : Infinity;
      const to = first < a ? first : a;
      this.gap(to - this.next, ts, frame);
      this.next = to;
      this.drain(ts, frame);
    }
  }

  /**
   * End of the stream (FIN/RST/idle/eviction/end of input): deliver everything buffered,
   * reporting the holes in front of it, and the hole before a known FIN.
   */
  flush(ts: number, frame: number): void {
    while (this.segs.length > 0) {
      const first = this.segs[0].off;
      this.gap(first - this.next, ts, frame);
      this.next = first;
      this.drain(ts, frame);
    }
    if (this.finOff > this.next) {
      this.gap(this.finOff - this.next, ts, frame);
      this.next = this.finOff;
    }
  }

  /** Drops buffered bytes without delivering them (the flow has no decoder). */
  release(): void {
    if (this.bufferedBytes > 0) {
      this.budget.buffered -= this.bufferedBytes;
      this.bufferedBytes = 0;
    }
    if (this.segs.length > 0) {
      for (const g of this.segs) g.data.fill(0);
      this.segs = [];
    }
  }

  private gap(missing: number, ts: number, frame: number): void {
    if (missing <= 0) return;
    this.budget.gaps++;
    this.budget.gapBytes += missing;
    this.sink.onStreamGap(this.dir, missing, this.next, ts, frame);
  }

  private deliverInOrder(buf: Buffer, off: number, len: number, ts: number, frame: number): void {
    const e = this.next + len;
    // Buffered segments this one covers: compare, then drop or trim them. (bufferedBytes > 0
    // exactly when segs is not empty; the common in-order case reads no more than this object.)
    while (this.bufferedBytes > 0 && this.segs[0].off < e) {
      const g = this.segs[0];
      const gEnd = g.off + g.data.length;
      const ce = gEnd < e ? gEnd : e;
      const n = ce - g.off;
      this.compare(g.data, 0, buf, off + (g.off - this.next), n, g.off, ts, frame);
      // Held copies are zeroed when let go: the stream may carry a CONNECT password.
      if (gEnd <= e) {
        this.segs.shift();
        this.unbuffer(g.data.length);
        g.data.fill(0);
      } else {
        g.data.fill(0, 0, n);
        g.data = g.data.subarray(n);
        g.off = ce;
        this.unbuffer(n);
      }
    }
    this.next = e;
    this.sink.onStreamData(this.dir, buf, off, len, ts, frame);
    if (this.bufferedBytes > 0) this.drain(ts, frame);
  }

  /** Delivers buffered segments that are now in order, with the frame that unblocked them. */
  private drain(ts: number, frame: number): void {
    while (this.segs.length > 0 && this.segs[0].off === this.next) {
      const g = this.segs.shift()!;
      this.unbuffer(g.data.length);
      this.next += g.data.length;
      this.sink.onStreamData(this.dir, g.data, 0, g.data.length, ts, frame);
      g.data.fill(0);
    }
  }

  /** Copies the parts of an out-of-order segment not yet buffered; false if over a bound. */
  private tryBuffer(s: number, buf: Buffer, off: number, len: number, ts: number, frame: number): boolean {
    const e = s + len;
    const segs = this.segs;
    // Find the first buffered segment ending after s.
    let lo = 0;
    let hi = segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (segs[mid].off + segs[mid].data.length <= s) lo = mid + 1; else hi = mid;
    }
    // Uncovered pieces [from, to) and where each goes in segs.
    let pieces: number[] | null = null;
    let newBytes = 0;
    let overlapped = false;
    let pos = s;
    for (let j = lo; j < segs.length && pos < e; j++) {
      const g = segs[j];
      if (g.off >= e) break;
      if (g.off > pos) {
        (pieces ??= []).push(pos, g.off, j);
        newBytes += g.off - pos;
      }
      const gEnd = g.off + g.data.length;
      if (gEnd > pos && g.off < e) overlapped = true;
      if (gEnd > pos) pos = gEnd;
    }
    if (pos < e) {
      let j = lo;
      while (j < segs.length && segs[j].off < pos) j++;
      (pieces ??= []).push(pos, e, j);
      newBytes += e - pos;
    }
    const b = this.budget;
    if (newBytes > 0) {
      if (this.bufferedBytes + newBytes > b.maxPerStream) {
        b.perStreamBoundHits++;
        return false;
      }
      if (b.buffered + newBytes > b.maxTotal) {
        b.totalBoundHits++;
        return false;
      }
    }
    // Compare only once the segment is accepted, so a retry after a forced gap cannot
    // report the same mismatch twice.
    if (overlapped) {
      for (let j = lo; j < segs.length && segs[j].off < e; j++) {
        const g = segs[j];
        const gEnd = g.off + g.data.length;
        const cs = s > g.off ? s : g.off;
        const ce = gEnd < e ? gEnd : e;
        this.compare(g.data, cs - g.off, buf, off + (cs - s), ce - cs, cs, ts, frame);
      }
    }
    if (newBytes === 0) {
      b.retransmissions++;
      return true;
    }
    if (overlapped) b.overlaps++; else b.outOfOrder++;
    // Insert from the last piece so earlier insertion indexes stay valid.
    for (let k = pieces!.length - 3; k >= 0; k -= 3) {
      const from = pieces![k];
      const to = pieces![k + 1];
      const data = Buffer.allocUnsafeSlow(to - from);
      buf.copy(data, 0, off + (from - s), off + (to - s));
      segs.splice(pieces![k + 2], 0, { off: from, data });
    }
    this.bufferedBytes += newBytes;
    b.add(newBytes);
    return true;
  }

  private compare(
    held: Buffer, heldOff: number, buf: Buffer, off: number, n: number,
    at: number, ts: number, frame: number,
  ): void {
    if (held.compare(buf, off, off + n, heldOff, heldOff + n) !== 0) {
      this.budget.overlapMismatches++;
      this.sink.onStreamOverlapMismatch(this.dir, at, n, ts, frame);
    }
  }

  private unbuffer(n: number): void {
    this.bufferedBytes -= n;
    this.budget.buffered -= n;
  }
}
