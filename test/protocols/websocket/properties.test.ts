// Properties (fast-check): random input never throws; any segmentation of the recorded
// WebSocket streams hands the inner decoder the same bytes.
import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Dir } from '../../../src/flow/types';
import { createWebSocketHandler, parseHttpHead, readFrameHeader } from '../../../src/protocols/websocket';
import { collector, fakeFlow } from '../tls/fake-flow';
import { recordFlows } from '../tls/run-pcap';
import { recorder, upgradeRequest, upgradeResponse } from './build';

const flows = recordFlows(join(__dirname, '../../../pcaps/ws-mqtt.pcap'), 'tcp');

function replay(chunks: Array<{ dir: Dir; data: Buffer }>, size: (i: number) => number) {
  const c = collector();
  const rec = recorder();
  const h = createWebSocketHandler(fakeFlow(), c.emit, rec.make);
  let k = 0;
  for (const ch of chunks) {
    for (let p = 0; p < ch.data.length;) {
      const n = Math.min(size(k++), ch.data.length - p);
      h.onData(ch.dir, ch.data, p, n, k, k);
      p += n;
    }
  }
  h.onEnd(0, 0);
  return { events: c.events, inner: rec.handlers[0], info: h.info };
}

describe('WebSocket properties', () => {
  it('any segmentation of a recorded flow gives the same inner streams and frame counts', () => {
    const refs = flows.map((f) => replay(f.chunks, () => Infinity));
    fc.assert(
      fc.property(fc.nat(flows.length - 1), fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 10 }), (i, sizes) => {
        const r = replay(flows[i].chunks, (k) => sizes[k % sizes.length]);
        expect(r.events).toEqual([]);
        expect(r.inner.stream(0).equals(refs[i].inner.stream(0))).toBe(true);
        expect(r.inner.stream(1).equals(refs[i].inner.stream(1))).toBe(true);
        expect(r.info.frames).toEqual(refs[i].info.frames);
      }),
      { numRuns: 60 },
    );
  });

  it('random bytes never throw, before or after a valid upgrade', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(fc.record({ dir: fc.constantFrom<Dir>(0, 1), data: fc.uint8Array({ maxLength: 200 }) }), { maxLength: 10 }), (upgraded, chunks) => {
        const c = collector();
        const rec = recorder();
        const h = createWebSocketHandler(fakeFlow(), c.emit, rec.make);
        if (upgraded) {
          const q = upgradeRequest();
          const s = upgradeResponse();
          h.onData(0, q, 0, q.length, 1, 1);
          h.onData(1, s, 0, s.length, 1, 1);
        }
        for (const ch of chunks) h.onData(ch.dir, Buffer.from(ch.data), 0, ch.data.length, 2, 2);
        h.onGap(1, 3, 3, 3);
        h.onEnd(4, 4);
        for (const e of c.events) expect(e.type).toBe('anomaly');
      }),
      { numRuns: 400 },
    );
  });

  it('truncations of the recorded streams never throw; the pure parsers return values', () => {
    for (const f of flows) {
      for (const ch of f.chunks.slice(0, 30)) {
        for (let n = 0; n <= ch.data.length; n += 3) {
          const h = createWebSocketHandler(fakeFlow(), () => undefined, recorder().make);
          h.onData(ch.dir, ch.data, 0, n, 1, 1);
          h.onEnd(2, 2);
        }
      }
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (u) => {
        const b = Buffer.from(u);
        readFrameHeader(b, 0, b.length);
        expect(parseHttpHead(b, 0, b.length)).toBeDefined();
      }),
      { numRuns: 300 },
    );
  });
});
