// Property tests for the flow table as a whole (STYLE.md: any segmentation, duplication or
// reordering gives the same stream; random input never throws).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecodedPacket } from '../../src/capture/types';
import { FlowTable } from '../../src/flow/flow-table';
import type { AppClassifier, Dir, FlowInfo, TcpAppHandler, UdpAppHandler } from '../../src/flow/types';
import { arrange, flagBits, harness, pkt, segmentation, type Seg } from './helpers';

interface Arrival { dir: Dir; seg: Seg }

describe('FlowTable properties', () => {
  it('both directions reassemble independently to the original streams', () => {
    fc.assert(fc.property(
      segmentation(1500), segmentation(1500), fc.array(fc.boolean(), { minLength: 1, maxLength: 400 }),
      fc.integer({ min: 1, max: 0xffff }),
      (p0, p1, picks, clientPort) => {
        const h = harness();
        const ends = [arrange(p0), arrange(p1)];
        // Interleave the two directions' arrivals by the random picks.
        const arrivals: Arrival[] = [];
        let i0 = 0;
        let i1 = 0;
        for (let k = 0; i0 < ends[0].length || i1 < ends[1].length; k++) {
          const take0 = i1 >= ends[1].length || (i0 < ends[0].length && picks[k % picks.length]);
          arrivals.push(take0 ? { dir: 0, seg: ends[0][i0++] } : { dir: 1, seg: ends[1][i1++] });
        }
        const isn = [p0.isn, p1.isn];
        const ep = [
          { ip: '192.0.2.1', port: clientPort },
          { ip: '192.0.2.2', port: 1883 },
        ];
        // What each receiver holds contiguously, to put honest cumulative ACKs on packets.
        const have = [new Uint8Array(p0.data.length), new Uint8Array(p1.data.length)];
        const contiguous = [0, 0];
        const ackFor = (d: Dir) => (isn[d] + 1 + contiguous[d]) >>> 0;
        const send = (dir: Dir, flags: string, seq: number, data?: Buffer) => {
          const [a, b] = dir === 0 ? [ep[0], ep[1]] : [ep[1], ep[0]];
          h.send({ src: a.ip, sport: a.port, dst: b.ip, dport: b.port, flags, seq, ack: ackFor((1 - dir) as Dir), data });
        };
        send(0, 'S', isn[0]);
        send(1, 'SA', isn[1]);
        for (const { dir, seg } of arrivals) {
          send(dir, 'PA', (isn[dir] + 1 + seg.rel) >>> 0, seg.data);
          have[dir].fill(1, seg.rel, seg.rel + seg.data.length);
          while (contiguous[dir] < have[dir].length && have[dir][contiguous[dir]] === 1) contiguous[dir]++;
        }
        send(0, 'FA', (isn[0] + 1 + p0.data.length) >>> 0);
        send(1, 'FA', (isn[1] + 1 + p1.data.length) >>> 0);

        const [rec] = h.classifier.handlers;
        expect(rec.stream(0)).toEqual(Buffer.from(p0.data));
        expect(rec.stream(1)).toEqual(Buffer.from(p1.data));
        expect(rec.gaps()).toEqual([]);
        const s = h.table.stats();
        expect(s).toMatchObject({ flowsCreated: 1, flowsEnded: { fin: 1 }, bufferedBytes: 0, gaps: 0, overlapMismatches: 0 });
        expect(h.events.filter((e) => e.type === 'anomaly')).toEqual([]);
      },
    ), { numRuns: 200 });
  });

  it('random garbage packets never throw, and the table stays consistent', () => {
    const anyNumber = fc.oneof(
      fc.integer({ min: -5, max: 80 }), fc.integer(), fc.double(), fc.constantFrom(NaN, Infinity, -0, 2 ** 32, 65536),
    );
    const garbage = fc.record({
      ipVersion: fc.constantFrom(4, 6, 0, 5, NaN) as fc.Arbitrary<4 | 6>,
      buf: fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a)),
      srcOff: anyNumber, dstOff: anyNumber, proto: fc.constantFrom(6, 17, 1, 58, 255, NaN),
      l4Off: anyNumber, l4Len: anyNumber, sport: anyNumber, dport: anyNumber, seq: anyNumber, ack: anyNumber,
      tcpFlags: fc.oneof(fc.nat({ max: 255 }), anyNumber), window: anyNumber, payloadOff: anyNumber, payloadLen: anyNumber,
    }) as fc.Arbitrary<DecodedPacket>;
    // Well-formed packets on a few endpoints with random flags and sequence numbers, so
    // the TCP state machine and the reassembler see every kind of nonsense too.
    const plausible = fc.record({
      a: fc.constantFrom('10.0.0.1', '10.0.0.2', 'fe80::1'), b: fc.constantFrom('10.0.0.2', '10.0.0.3', 'fe80::2'),
      sport: fc.constantFrom(1883, 40000, 0, 65535), dport: fc.constantFrom(1883, 5683, 40000),
      proto: fc.constantFrom<'tcp' | 'udp'>('tcp', 'tcp', 'udp'),
      seq: fc.oneof(fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0xfffff000, max: 0xffffffff }), fc.nat()),
      ack: fc.oneof(fc.integer({ min: 0, max: 4000 }), fc.nat()),
      flags: fc.constantFrom('S', 'SA', 'A', 'PA', 'FA', 'R', 'RA', 'SF', 'SR', 'FPA'),
      data: fc.uint8Array({ maxLength: 300 }).map((x) => Buffer.from(x)),
    }).map((s) => {
      const v6 = s.a.includes(':') || s.b.includes(':');
      return pkt({ src: v6 ? 'fe80::1' : s.a, dst: v6 ? 'fe80::2' : s.b, sport: s.sport, dport: s.dport, proto: s.proto, seq: s.seq, ack: s.ack, flags: s.flags, data: s.data });
    });
    const step = fc.oneof(
      { weight: 2, arbitrary: garbage.map((p) => ({ kind: 'pkt' as const, p })) },
      { weight: 6, arbitrary: plausible.map((p) => ({ kind: 'pkt' as const, p })) },
      { weight: 1, arbitrary: fc.constant({ kind: 'expire' as const }) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 400e6 }).map((dt) => ({ kind: 'jump' as const, dt })) },
    );

    fc.assert(fc.property(fc.array(step, { maxLength: 120 }), fc.constantFrom<Array<null | undefined>>([], [undefined], [null]), (steps, script) => {
      let calls = 0;
      const check = (buf: Buffer, off: number, len: number) => {
        expect(off >= 0 && len >= 0 && off + len <= buf.length).toBe(true);
      };
      const classifier: AppClassifier = {
        tcp: (_f: FlowInfo, _d: Dir, buf: Buffer, off: number, len: number): TcpAppHandler | null | undefined => {
          check(buf, off, len);
          if (calls++ < script.length) return script[calls - 1];
          return { app: 't', onData: (_d2, b, o, l) => { check(b, o, l); expect(l).toBeGreaterThan(0); }, onGap: (_d2, m) => expect(m).toBeGreaterThan(0), onEnd: () => undefined };
        },
        udp: (): UdpAppHandler => ({ app: 'u', onDatagram: (_d2, b, o, l) => check(b, o, l), onEnd: () => undefined }),
      };
      const table = new FlowTable({
        classifier, emit: () => undefined, emitFlowEvents: true, maxFlows: 5, maxBufferedBytesPerFlow: 500,
        maxBufferedBytesTotal: 1200, tcpIdleTimeoutUs: 100e6, udpIdleTimeoutUs: 30e6,
      });
      let ts = 1e6;
      let frame = 0;
      for (const s of steps) {
        if (s.kind === 'pkt') table.packet(s.p, ts, ++frame);
        else if (s.kind === 'expire') table.expire(ts);
        else ts += s.dt;
        const st = table.stats();
        expect(st.bufferedBytes).toBeGreaterThanOrEqual(0);
        expect(st.bufferedBytes).toBeLessThanOrEqual(1200);
        expect(st.flowsActive + st.flowsClosedLingering).toBeLessThanOrEqual(5);
      }
      table.flush(ts, frame + 1);
      const st = table.stats();
      expect(st).toMatchObject({ bufferedBytes: 0, flowsActive: 0, flowsClosedLingering: 0 });
      const ended = Object.values(st.flowsEnded).reduce((a, b) => a + b, 0);
      expect(ended).toBe(st.flowsCreated);
    }), { numRuns: 500 });
  });

  it('flagBits helper matches the TCP header bits', () => {
    expect(flagBits('FSRPA')).toBe(0x1f);
  });
});
