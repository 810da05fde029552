import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReassemblyBudget, TcpStream, type StreamSink } from '../../src/flow/tcp-reassembly';
import type { Dir } from '../../src/flow/types';
import { arrange, segmentation } from './helpers';

type Out =
  | { kind: 'data'; bytes: Buffer; buf: Buffer; off: number; frame: number }
  | { kind: 'gap'; missing: number; at: number; frame: number }
  | { kind: 'mismatch'; at: number; len: number; frame: number };

class Sink implements StreamSink {
  out: Out[] = [];
  onStreamData(_d: Dir, buf: Buffer, off: number, len: number, _ts: number, frame: number): void {
    this.out.push({ kind: 'data', bytes: Buffer.from(buf.subarray(off, off + len)), buf, off, frame });
  }
  onStreamGap(_d: Dir, missing: number, at: number, _ts: number, frame: number): void {
    this.out.push({ kind: 'gap', missing, at, frame });
  }
  onStreamOverlapMismatch(_d: Dir, at: number, len: number, _ts: number, frame: number): void {
    this.out.push({ kind: 'mismatch', at, len, frame });
  }
  text(): string {
    return this.out.map((o) => (o.kind === 'data' ? o.bytes.toString('latin1') : o.kind === 'gap' ? `<gap ${o.missing}>` : '')).join('');
  }
  frames(): number[] {
    return this.out.filter((o) => o.kind === 'data').map((o) => o.frame);
  }
}

function setup(perStream = 1 << 20, total = 1 << 28, isn = 1000) {
  const sink = new Sink();
  const budget = new ReassemblyBudget(perStream, total);
  const st = new TcpStream(0, sink, budget);
  st.start(isn);
  let frame = 0;
  const seg = (rel: number, text: string) => {
    const b = Buffer.from(text);
    st.segment((isn + rel) >>> 0, b, 0, b.length, 0, ++frame);
  };
  return { sink, budget, st, seg, ack: (rel: number) => st.ack((isn + rel) >>> 0, 0, ++frame) };
}

describe('TcpStream', () => {
  it('delivers in-order data zero-copy: the packet buffer itself, at its offset', () => {
    const { sink, st } = setup();
    const pkt = Buffer.from('xxxxHELLOyy');
    st.segment(1000, pkt, 4, 5, 7, 42);
    expect(sink.out).toHaveLength(1);
    const o = sink.out[0];
    expect(o.kind === 'data' && o.buf).toBe(pkt);
    expect(o.kind === 'data' && o.off).toBe(4);
    expect(sink.text()).toBe('HELLO');
    expect(st.next).toBe(5);
  });

  it('buffers out-of-order segments and delivers them with the frame that filled the hole', () => {
    const { sink, budget, seg } = setup();
    seg(6, 'world'); // frame 1, ahead of a hole
    seg(11, '!'); // frame 2
    expect(sink.out).toHaveLength(0);
    expect(budget.buffered).toBe(6);
    expect(budget.outOfOrder).toBe(2);
    seg(0, 'hello '); // frame 3 fills the hole
    expect(sink.text()).toBe('hello world!');
    expect(sink.frames()).toEqual([3, 3, 3]);
    expect(budget.buffered).toBe(0);
    expect(budget.bufferedPeak).toBe(6);
  });

  it('zeroes its held copies once they are delivered, covered or released', () => {
    // The held bytes may be a CONNECT with its password; freed memory is reused uncleared.
    const { sink, st, seg } = setup();
    seg(6, 'secret'); // held, then delivered from the copy
    seg(0, 'hello ');
    const held = sink.out.filter((o) => o.kind === 'data' && o.buf.toString('latin1') !== 'hello ');
    expect(held).toHaveLength(1);
    expect(held[0].kind === 'data' && held[0].buf.every((x) => x === 0)).toBe(true);
    expect(sink.text()).toBe('hello secret');
    // Covered by an in-order segment: the copy is compared, dropped and zeroed.
    seg(20, 'passwd');
    const segs = (st as unknown as { segs: { data: Buffer }[] }).segs;
    const covered = segs[0].data;
    seg(12, 'xxxxxxxxpasswd');
    expect(covered.every((x) => x === 0)).toBe(true);
    // Released without delivery (the flow has no decoder).
    seg(40, 'hunter2');
    const dropped = segs[0].data;
    st.release();
    expect(dropped.every((x) => x === 0)).toBe(true);
  });

  it('drops retransmissions of delivered and of buffered data, and counts them', () => {
    const { sink, budget, seg } = setup();
    seg(0, 'abc');
    seg(0, 'abc');
    seg(1, 'b');
    seg(10, 'xyz');
    seg(10, 'xyz');
    expect(budget.retransmissions).toBe(3);
    expect(sink.text()).toBe('abc');
    expect(budget.buffered).toBe(3);
  });

  it('trims partly old segments (overlap) and delivers only the new part', () => {
    const { sink, budget, seg } = setup();
    seg(0, 'abcd');
    seg(2, 'cdef');
    expect(sink.text()).toBe('abcdef');
    expect(budget.overlaps).toBe(1);
  });

  it('buffers only the new parts of a segment overlapping buffered ones', () => {
    const { sink, budget, seg } = setup();
    seg(4, 'ef');
    seg(8, 'ij');
    seg(3, 'defghijkl'); // covers both buffered segments and the holes around them
    expect(budget.buffered).toBe(9);
    expect(budget.overlaps).toBe(1);
    seg(0, 'abc');
    expect(sink.text()).toBe('abcdefghijkl');
    expect(sink.out.some((o) => o.kind === 'mismatch')).toBe(false);
  });

  it('reports tcp.overlap_mismatch when an overlap among buffered data differs', () => {
    const { sink, budget, seg } = setup();
    seg(4, 'EFGH');
    seg(6, 'XYZ'); // GH differs from buffered GH
    expect(budget.overlapMismatches).toBe(1);
    expect(sink.out).toEqual([{ kind: 'mismatch', at: 6, len: 2, frame: 2 }]);
    seg(0, 'ABCD');
    // The first copy wins; only the new byte of the second is kept.
    expect(sink.text()).toBe('ABCDEFGHZ');
  });

  it('compares an in-order segment against buffered data it covers', () => {
    const { sink, seg } = setup();
    seg(2, 'cd');
    seg(0, 'abXd');
    expect(sink.out.filter((o) => o.kind === 'mismatch')).toEqual([{ kind: 'mismatch', at: 2, len: 2, frame: 2 }]);
    expect(sink.text()).toBe('abXd');
  });

  it('handles 32-bit sequence wraparound (RFC 9293 3.4)', () => {
    const isn = 0xfffffffa;
    const { sink, seg, st } = setup(1 << 20, 1 << 28, isn);
    seg(10, 'KLM'); // seq wraps to 4
    seg(0, 'ABCDE'); // 0xfffffffa..0xfffffffe
    seg(5, 'FGHIJ'); // crosses 2^32
    expect(sink.text()).toBe('ABCDEFGHIJKLM');
    expect(st.offsetOf(3)).toBe(9);
    seg(3, 'DE'); // old data just below the wrap
    expect(sink.text()).toBe('ABCDEFGHIJKLM');
  });

  it('keeps working after many wraps (offsets never wrap)', () => {
    let delivered = 0;
    let calls = 0;
    const sink: StreamSink = {
      onStreamData: (_d, _b, _o, len) => { delivered += len; calls++; },
      onStreamGap: () => { throw new Error('gap'); },
      onStreamOverlapMismatch: () => { throw new Error('mismatch'); },
    };
    const budget = new ReassemblyBudget(1 << 20, 1 << 28);
    const st = new TcpStream(0, sink, budget);
    st.start(0xfff00000);
    const chunk = Buffer.alloc(60000, 0x61);
    let seq = 0xfff00000;
    // 150 000 segments of 60 000 bytes: 9 GB of sequence space, two wraps.
    for (let n = 0; n < 150_000;) {
      if (n % 1000 === 998) {
        // Now and then two segments swapped across the current position.
        st.segment((seq + chunk.length) >>> 0, chunk, 0, chunk.length, 0, n);
        st.segment(seq >>> 0, chunk, 0, chunk.length, 0, n + 1);
        seq += 2 * chunk.length;
        n += 2;
      } else {
        st.segment(seq >>> 0, chunk, 0, chunk.length, 0, n);
        seq += chunk.length;
        n++;
      }
    }
    expect(st.next).toBe(150_000 * 60000);
    expect(delivered).toBe(150_000 * 60000);
    expect(calls).toBe(150_000);
    expect(budget.outOfOrder).toBe(150);
    expect(budget.retransmissions + budget.gaps).toBe(0);
  });

  it('gives up on a hole when the per-direction bound is hit, then resyncs', () => {
    const { sink, budget, seg } = setup(8);
    seg(0, 'ab');
    seg(4, 'efgh'); // hole of 2 (cd)
    seg(8, 'ijkl'); // fits exactly: 8 bytes buffered
    expect(budget.buffered).toBe(8);
    seg(14, 'op'); // would be 10: bound hit, the hole cd is declared lost
    expect(budget.perStreamBoundHits).toBe(1);
    expect(sink.text()).toBe('ab<gap 2>efghijkl');
    expect(sink.out.find((o) => o.kind === 'gap')).toEqual({ kind: 'gap', missing: 2, at: 2, frame: 4 });
    expect(budget.buffered).toBe(2); // 'op' waits behind the new hole mn
    seg(12, 'mn');
    expect(sink.text()).toBe('ab<gap 2>efghijklmnop');
    expect(budget.gaps).toBe(1);
    expect(budget.gapBytes).toBe(2);
  });

  it('delivers a segment directly after a gap when nothing is buffered and the total bound is full', () => {
    const { sink, budget, seg } = setup(1 << 20, 0);
    seg(0, 'ab');
    seg(5, 'fg');
    expect(budget.totalBoundHits).toBe(1);
    expect(sink.text()).toBe('ab<gap 3>fg');
    expect(budget.buffered).toBe(0);
  });

  it('turns a hole the peer acknowledged into a gap (the capture missed it)', () => {
    const { sink, budget, seg, ack } = setup();
    seg(0, 'abc');
    seg(6, 'ghi');
    seg(12, 'mno');
    ack(9); // peer has everything up to 'ghi'
    expect(sink.text()).toBe('abc<gap 3>ghi');
    expect(budget.buffered).toBe(3);
    ack(15);
    expect(sink.text()).toBe('abc<gap 3>ghi<gap 3>mno');
    ack(20); // beyond all we saw: still missing data
    expect(sink.text()).toBe('abc<gap 3>ghi<gap 3>mno<gap 5>');
    ack(3); // old ack: nothing
    expect(budget.gaps).toBe(3);
  });

  it('does not count the FIN sequence number as data when it is acknowledged', () => {
    const { sink, st, seg, ack } = setup();
    seg(0, 'abc');
    st.fin(1003);
    ack(4); // acks the FIN
    expect(sink.text()).toBe('abc');
  });

  it('ignores implausible ACK jumps (beyond any window)', () => {
    const { sink, ack } = setup();
    ack(0x7fffffff);
    expect(sink.out).toHaveLength(0);
  });

  it('flush delivers what is buffered behind holes, and reports a hole before a known FIN', () => {
    const { sink, st, seg } = setup();
    seg(0, 'a');
    seg(3, 'd');
    seg(6, 'g');
    st.fin(1000 + 10);
    st.flush(0, 99);
    expect(sink.text()).toBe('a<gap 2>d<gap 2>g<gap 3>');
    expect(st.bufferedBytes).toBe(0);
  });

  it('release drops buffered bytes from the budget', () => {
    const { budget, st, seg } = setup();
    seg(5, 'xyz');
    st.release();
    expect(budget.buffered).toBe(0);
    expect(st.bufferedBytes).toBe(0);
  });

  it('starts midstream at the first segment it is given', () => {
    const sink = new Sink();
    const st = new TcpStream(1, sink, new ReassemblyBudget(1000, 1000));
    st.segment(123456, Buffer.from('mid'), 0, 3, 0, 1);
    st.segment(123459, Buffer.from('stream'), 0, 6, 0, 2);
    expect(sink.text()).toBe('midstream');
  });
});

// ------------------------------------------------------------ properties

describe('TcpStream properties', () => {
  it('any segmentation, duplication and bounded reordering gives the original stream', () => {
    fc.assert(fc.property(segmentation(3000), (p) => {
      const sink = new Sink();
      const budget = new ReassemblyBudget(1 << 20, 1 << 28);
      const st = new TcpStream(0, sink, budget);
      st.start(p.isn);
      for (const s of arrange(p)) st.segment((p.isn + s.rel) >>> 0, s.data, 0, s.data.length, 0, 0);
      expect(Buffer.concat(sink.out.filter((o) => o.kind === 'data').map((o) => (o as { bytes: Buffer }).bytes)))
        .toEqual(Buffer.from(p.data));
      expect(sink.out.some((o) => o.kind === 'gap' || o.kind === 'mismatch')).toBe(false);
      expect(budget.buffered).toBe(0);
    }), { numRuns: 300 });
  });

  it('under a tight bound, delivered bytes plus gaps still line up with the original', () => {
    fc.assert(fc.property(segmentation(2000), fc.integer({ min: 1, max: 200 }), (p, bound) => {
      const sink = new Sink();
      const budget = new ReassemblyBudget(bound, 1 << 28);
      const st = new TcpStream(0, sink, budget);
      st.start(p.isn);
      for (const s of arrange(p)) st.segment((p.isn + s.rel) >>> 0, s.data, 0, s.data.length, 0, 0);
      st.flush(0, 0);
      // Reconstruct with gaps as placeholders: every delivered byte must sit at its place.
      let pos = 0;
      for (const o of sink.out) {
        if (o.kind === 'gap') pos += o.missing;
        else if (o.kind === 'data') {
          expect(o.bytes).toEqual(Buffer.from(p.data.subarray(pos, pos + o.bytes.length)));
          pos += o.bytes.length;
        }
      }
      expect(pos).toBe(p.data.length);
      expect(budget.buffered).toBe(0);
      expect(st.bufferedBytes).toBe(0);
    }), { numRuns: 300 });
  });
});
