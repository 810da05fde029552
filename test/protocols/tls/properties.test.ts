// Properties (fast-check): random and truncated input never throws; any segmentation of a
// real TLS stream (from pcaps/) gives the same events.
import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Dir } from '../../../src/flow/types';
import { createTlsHandler, parseCertificateList, parseClientHello, parseServerHello } from '../../../src/protocols/tls';
import { describeCertificate } from '../../../src/protocols/tls/x509';
import { clientHelloBody, hs, record } from './build';
import { collector, fakeFlow, strip } from './fake-flow';
import { recordFlows, type Chunk } from './run-pcap';

const PCAPS = join(__dirname, '../../../pcaps');

function replay(chunks: Array<{ dir: Dir; data: Buffer }>, cuts: (len: number) => number[]) {
  const c = collector();
  const h = createTlsHandler(fakeFlow(), c.emit);
  let frame = 0;
  for (const ch of chunks) {
    let prev = 0;
    for (const raw of [...cuts(ch.data.length), ch.data.length]) {
      const cut = Math.min(raw, ch.data.length);
      if (cut <= prev) continue;
      h.onData(ch.dir, ch.data, prev, cut - prev, ++frame, frame);
      prev = cut;
    }
  }
  h.onEnd(++frame, frame);
  return c.events;
}

/** Per direction runs of bytes in arrival order, merged so that direction changes are kept. */
function directionRuns(chunks: Chunk[]): Array<{ dir: Dir; data: Buffer }> {
  const out: Array<{ dir: Dir; data: Buffer }> = [];
  for (const c of chunks) {
    const last = out.at(-1);
    if (last && last.dir === c.dir) last.data = Buffer.concat([last.data, c.data]);
    else out.push({ dir: c.dir, data: c.data });
  }
  return out;
}

describe('TLS properties', () => {
  const flows = ['tls-mqtt-selfsigned', 'tls-mqtt-mutual', 'tls-mqtt-expired', 'tls-mqtt-13']
    .flatMap((n) => recordFlows(join(PCAPS, `${n}.pcap`), 'tcp'));
  const runs = flows.map((f) => directionRuns(f.chunks));

  it('any segmentation of a recorded stream gives the same events', () => {
    const reference = runs.map((r) => strip(replay(r, () => [])));
    expect(reference.flat().length).toBeGreaterThan(10);
    fc.assert(
      fc.property(fc.nat(runs.length - 1), fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 20 }), (i, sizes) => {
        const cuts = (len: number): number[] => {
          const out: number[] = [];
          let p = 0;
          for (let k = 0; p < len; k++) out.push((p += sizes[k % sizes.length]));
          return out;
        };
        expect(strip(replay(runs[i], cuts))).toEqual(reference[i]);
      }),
      { numRuns: 150 },
    );
  });

  it('random bytes never throw, in either direction, in any pieces', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ dir: fc.constantFrom<Dir>(0, 1), data: fc.uint8Array({ maxLength: 300 }) }), { maxLength: 12 }), (chunks) => {
        const c = collector();
        const h = createTlsHandler(fakeFlow(), c.emit);
        for (const ch of chunks) h.onData(ch.dir, Buffer.from(ch.data), 0, ch.data.length, 1, 1);
        h.onGap(0, 17, 2, 2);
        h.onEnd(3, 3);
      }),
      { numRuns: 400 },
    );
  });

  it('a valid start followed by random bytes never throws and reports anomalies as events', () => {
    const start = record(22, hs(1, clientHelloBody()));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 400 }), fc.nat(start.length), (tail, cut) => {
        const c = collector();
        const h = createTlsHandler(fakeFlow(), c.emit);
        const b = Buffer.concat([start.subarray(0, cut), Buffer.from(tail)]);
        h.onData(0, b, 0, b.length, 1, 1);
        h.onEnd(2, 2);
        for (const e of c.events) expect(['tls.client_hello', 'anomaly']).toContain(e.type);
      }),
      { numRuns: 300 },
    );
  });

  it('truncations of every recorded stream never throw', () => {
    for (const r of runs) {
      for (const d of r) {
        for (let n = 0; n < Math.min(d.data.length, 1500); n += 7) {
          const c = collector();
          const h = createTlsHandler(fakeFlow(), c.emit);
          h.onData(d.dir, d.data, 0, n, 1, 1);
          h.onEnd(2, 2);
        }
      }
    }
  });

  it('the pure parsers return values for random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (u) => {
        const b = Buffer.from(u);
        for (const f of [parseClientHello(b, 0, b.length, false), parseClientHello(b, 0, b.length, true), parseServerHello(b, 0, b.length), parseCertificateList(b, 0, b.length), describeCertificate(b)]) {
          expect(f).toBeDefined();
        }
      }),
      { numRuns: 500 },
    );
  });
});
