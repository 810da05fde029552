import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ANOMALY_CODES } from '../../../src/events/anomaly-codes';
import type { IotEvent } from '../../../src/events/types';
import { createCoapHandler, looksLikeCoap, parseCoap, parseCoapTcp } from '../../../src/protocols/coap';
import { encodeCoap, type MessageSpec } from './helpers/encode';
import { flowInfo } from './helpers/run-capture';

const KNOWN = new Set(Object.keys(ANOMALY_CODES).filter((c) => c.startsWith('coap.')));

// Bytes that often start like CoAP: version 1 in the first byte half of the time.
const datagram = fc.oneof(
  fc.uint8Array({ maxLength: 80 }),
  fc.tuple(fc.integer({ min: 0x40, max: 0x7f }), fc.uint8Array({ maxLength: 80 })).map(([b0, rest]) => Uint8Array.from([b0, ...rest])),
);

const STRING_OPTIONS = [3, 8, 11, 15, 20, 35, 39];
const UINT_OPTIONS = [6, 7, 12, 14, 16, 17, 19, 23, 27, 28, 31, 60, 258];
const OPAQUE_OPTIONS = [1, 4, 252, 292, 1000, 65000];

const option = fc.oneof(
  fc.tuple(fc.constantFrom(...STRING_OPTIONS), fc.string({ unit: 'grapheme-ascii', maxLength: 300 })),
  fc.tuple(fc.constantFrom(...UINT_OPTIONS), fc.integer({ min: 0, max: 0xffffffff })),
  fc.tuple(fc.constantFrom(...OPAQUE_OPTIONS), fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a))),
);

const message: fc.Arbitrary<MessageSpec> = fc.record({
  type: fc.integer({ min: 0, max: 1 }),
  code: fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 0x41, 0x44, 0x45, 0x84, 0xa0),
  mid: fc.integer({ min: 0, max: 0xffff }),
  token: fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a).toString('hex')),
  options: fc.array(option, { maxLength: 8 }),
  payload: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
});

describe('properties', () => {
  it('parseCoap never throws on random bytes and reports only known coap.* codes', () => {
    fc.assert(fc.property(datagram, (bytes) => {
      const buf = Buffer.from(bytes);
      const r = parseCoap(buf);
      if (!r.ok) expect(KNOWN.has(r.anomaly)).toBe(true);
      else expect(r.length).toBe(buf.length);
      const t = parseCoapTcp(buf, 0, buf.length);
      if (!t.ok) expect(KNOWN.has(t.anomaly)).toBe(true);
    }), { numRuns: 20_000 });
  });

  it('a message that passes the strict check decodes; strict implies lenient', () => {
    fc.assert(fc.property(datagram, (bytes) => {
      const buf = Buffer.from(bytes);
      const strict = looksLikeCoap(buf, 0, buf.length, true);
      if (strict) {
        expect(looksLikeCoap(buf, 0, buf.length, false)).toBe(true);
        expect(parseCoap(buf).ok).toBe(true);
      }
    }), { numRuns: 20_000 });
  });

  it('encoded messages decode to what was encoded (round trip) and pass the strict check', () => {
    fc.assert(fc.property(message, (spec) => {
      const buf = encodeCoap(spec);
      const m = parseCoap(buf);
      if (!m.ok) throw new Error(`${m.anomaly}: ${m.detail}`);
      expect(m.messageId).toBe(spec.mid);
      expect(m.token).toBe(spec.token);
      expect(m.payloadLength).toBe((spec.payload as Buffer).length);
      const sorted = [...spec.options!].map((o, i) => [o, i] as const).sort((a, b) => a[0][0] - b[0][0] || a[1] - b[1]).map(([o]) => o);
      expect(m.options.map((o) => o.number)).toEqual(sorted.map((o) => o[0]));
      m.options.forEach((o, i) => {
        const v = sorted[i][1];
        expect(o.value).toEqual(Buffer.isBuffer(v) ? v.toString('hex') : v);
      });
      const paths = sorted.filter((o) => o[0] === 11).map((o) => o[1]);
      const isRequest = (spec.code as number) < 32;
      expect(m.uriPath).toBe(paths.length > 0 ? '/' + paths.join('/') : isRequest ? '/' : undefined);
      expect(looksLikeCoap(buf, 0, buf.length, true)).toBe(buf.length <= 1500);
    }), { numRuns: 3_000 });
  });

  it('the UDP handler survives any mix of garbage and valid messages, within its bound', () => {
    const dgram = fc.oneof(datagram, message.map((s) => encodeCoap(s)), message.map((s) => encodeCoap({ ...s, type: 2, code: 0x45 })));
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), dgram), { maxLength: 60 }), (seq) => {
      const events: IotEvent[] = [];
      const h = createCoapHandler(flowInfo('udp', 1, ['a', 1], ['b', 5683]), (e) => events.push(e), { maxPending: 8, lifetimeUs: 50 });
      seq.forEach(([dir, bytes], i) => {
        const buf = Buffer.from(bytes);
        h.onDatagram(dir as 0 | 1, buf, 0, buf.length, i * 10, i + 1);
        expect(h.pending).toBeLessThanOrEqual(8);
      });
      h.onEnd(seq.length * 10, seq.length + 1);
      for (const e of events) if (e.type === 'anomaly') expect(KNOWN.has(e.code)).toBe(true);
      expect(h.pending).toBe(0);
    }), { numRuns: 1_000 });
  });

  it('string options and uriPath decode the same whether or not their text was seen before (memoised text)', () => {
    // Few distinct segments, so repeats hit the memos; bytes >= 0x80 (valid or not as UTF-8) mixed in.
    const segment = fc.oneof(
      fc.constantFrom('sensors', 's1', 'temp', '', 'a/b', 'x'.repeat(33)),
      fc.constantFrom(Buffer.from([0xff]), Buffer.from([0x3f]), Buffer.from('h\u00e9', 'utf8'), Buffer.from([0x68, 0xe9])),
    ).map((v) => (typeof v === 'string' ? Buffer.from(v) : v));
    fc.assert(fc.property(fc.array(fc.array(segment, { minLength: 1, maxLength: 5 }), { maxLength: 20 }), (paths) => {
      for (const segs of paths) {
        const r = parseCoap(encodeCoap({ type: 0, code: 1, mid: 1, options: segs.map((b) => [11, b] as [number, Buffer]) }));
        if (!r.ok) throw new Error(r.detail);
        const texts = segs.map((b) => b.toString('utf8'));
        expect(r.options.map((o) => o.value)).toEqual(texts);
        expect(r.uriPath).toBe('/' + texts.join('/'));
      }
    }), { numRuns: 300 });
  });
});
