import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnomalyEvent, CoapMessage, IotEvent } from '../../../src/events/types';
import type { Dir } from '../../../src/flow/types';
import {
  TCP_FRAME_INCOMPLETE, TCP_FRAME_INVALID, coapTcpFrameLength, createCoapTcpHandler, type CoapTcpHandlerOptions,
} from '../../../src/protocols/coap';
import { encodeCoapTcp, hex, type MessageSpec } from './helpers/encode';
import { flowInfo } from './helpers/run-capture';

const CLIENT: Dir = 0;
const SERVER: Dir = 1;

function conn(opts?: CoapTcpHandlerOptions) {
  const events: IotEvent[] = [];
  const info = flowInfo('tcp', 1, ['10.0.0.2', 40000], ['10.0.0.1', 5683]);
  const h = createCoapTcpHandler(info, (e) => events.push(e), opts);
  let frame = 0;
  const data = (dir: Dir, buf: Buffer, ts = 0): void => h.onData(dir, buf, 0, buf.length, ts, ++frame);
  const messages = (): CoapMessage[] => events.filter((e): e is CoapMessage => e.type === 'coap.message');
  const anomalies = (): AnomalyEvent[] => events.filter((e): e is AnomalyEvent => e.type === 'anomaly');
  return { h, data, events, messages, anomalies };
}

const csm: MessageSpec = { code: '7.01', options: [[2, 1152], [4, Buffer.alloc(0)]] };
const req: MessageSpec = { code: '0.01', token: '01', options: [[11, 'time']] };
const res: MessageSpec = { code: '2.05', token: '01', payload: 'Nov 24 21:15:03' };

describe('RFC 8323 section 3.2 frame length', () => {
  it.each([
    ['Len 0', '00 e1', 2],
    ['Len 12', 'c0 01' + ' 00'.repeat(12), 14],
    ['Len 13: one extension byte, +13', 'd0 00 01', 1 + 1 + 1 + 13],
    ['Len 13 at its top: 255 + 13', 'd0 ff 01', 1 + 1 + 1 + 268],
    ['Len 14: two extension bytes, +269', 'e0 00 01 01', 1 + 2 + 1 + 270],
    ['Len 15: four extension bytes, +65805', 'f0 00 00 00 00 01', 1 + 4 + 1 + 65805],
    ['TKL 8 counts the token', '08 01', 1 + 1 + 8],
  ])('%s', (_name, h, total) => {
    const b = hex(h);
    expect(coapTcpFrameLength(b, 0, b.length)).toBe(total);
  });

  it('asks for more bytes while the header is incomplete, rejects TKL 9-15', () => {
    expect(coapTcpFrameLength(hex(''), 0, 0)).toBe(TCP_FRAME_INCOMPLETE);
    expect(coapTcpFrameLength(hex('d0'), 0, 1)).toBe(TCP_FRAME_INCOMPLETE);
    expect(coapTcpFrameLength(hex('e0 00'), 0, 2)).toBe(TCP_FRAME_INCOMPLETE);
    expect(coapTcpFrameLength(hex('f0 00 00 00'), 0, 4)).toBe(TCP_FRAME_INCOMPLETE);
    expect(coapTcpFrameLength(hex('09'), 0, 1)).toBe(TCP_FRAME_INVALID);
    expect(coapTcpFrameLength(hex('0f'), 0, 1)).toBe(TCP_FRAME_INVALID);
  });

  it('the encoder and the decoder agree on the extended lengths', () => {
    for (const n of [0, 12, 13, 268, 269, 65804, 65805]) {
      const b = encodeCoapTcp({ code: '2.05', token: 'aa', payload: n === 0 ? undefined : Buffer.alloc(n - 1) });
      expect(coapTcpFrameLength(b, 0, b.length)).toBe(b.length);
    }
  });
});

describe('CoAP over TCP handler', () => {
  it('decodes signals, requests and responses and pairs by token', () => {
    const c = conn();
    c.data(CLIENT, encodeCoapTcp(csm), 0);
    c.data(SERVER, encodeCoapTcp(csm), 5);
    c.data(CLIENT, encodeCoapTcp(req), 10);
    c.data(SERVER, encodeCoapTcp(res), 30);
    const [s1, s2, q, r] = c.messages();
    expect(s1).toMatchObject({ kind: 'signal', code: '7.01', msgType: 'CON', messageId: 0, matched: undefined });
    expect(s1.options.map((o) => o.name)).toEqual(['Max-Message-Size', 'Block-Wise-Transfer']);
    expect(s2.flow.dir).toBe('to_client');
    expect(q).toMatchObject({ kind: 'request', method: 'GET', uriPath: '/time', token: '01' });
    expect(r).toMatchObject({ kind: 'response', matched: true, requestFrame: 3, rttUs: 20, requestPath: '/time', payloadLength: 15 });
    expect(c.h.pending).toBe(0);
  });

  it('several messages in one segment, one message across many', () => {
    const c = conn();
    c.data(CLIENT, Buffer.concat([encodeCoapTcp(csm), encodeCoapTcp(req)]));
    const big = encodeCoapTcp({ ...res, payload: Buffer.alloc(1000, 0x61) }); // Len 14 form
    for (let i = 0; i < big.length; i += 7) c.data(SERVER, big.subarray(i, i + 7), 100);
    expect(c.messages().map((m) => m.kind)).toEqual(['signal', 'request', 'response']);
    expect(c.messages()[2]).toMatchObject({ matched: true, payloadLength: 1000, length: big.length });
    expect(c.anomalies()).toEqual([]);
  });

  it('an unmatched response is visible', () => {
    const c = conn();
    c.data(SERVER, encodeCoapTcp(res));
    expect(c.messages()[0].matched).toBe(false);
    expect(c.h.stats.unmatched).toBe(1);
  });

  it('Observe notifications over TCP stay with the registration', () => {
    const c = conn();
    c.data(CLIENT, encodeCoapTcp({ ...req, options: [[6, 0], [11, 'time']] }), 0);
    for (let i = 1; i <= 3; i++) c.data(SERVER, encodeCoapTcp({ ...res, options: [[6, i]] }), i * 1000);
    expect(c.messages().slice(1).map((m) => m.requestFrame)).toEqual([1, 1, 1]);
    expect(c.h.pending).toBe(1);
  });

  it('a malformed message inside a well-framed one is reported and decoding goes on', () => {
    const c = conn();
    c.data(CLIENT, Buffer.concat([hex('10 01 ff'), encodeCoapTcp(req)])); // marker with no payload
    expect(c.anomalies().map((a) => a.code)).toEqual(['coap.malformed']);
    expect(c.messages()).toHaveLength(1);
  });

  it('an oversized message is reported, skipped, and the next one decoded (coap.oversized)', () => {
    const c = conn({ maxMessageSize: 100 });
    const big = encodeCoapTcp({ ...res, payload: Buffer.alloc(500) });
    c.data(SERVER, Buffer.concat([big, encodeCoapTcp(res)]));
    expect(c.anomalies().map((a) => a.code)).toEqual(['coap.oversized']);
    expect(c.messages()).toHaveLength(1);
    // The same across segments, with the header itself split.
    const d = conn({ maxMessageSize: 100 });
    const stream = Buffer.concat([encodeCoapTcp(req), big, encodeCoapTcp(res)]);
    for (let i = 0; i < stream.length; i += 3) d.data(SERVER, stream.subarray(i, i + 3));
    expect(d.anomalies().map((a) => a.code)).toEqual(['coap.oversized']);
    expect(d.messages().map((m) => m.kind)).toEqual(['request', 'response']);
  });

  it('a gap inside a skipped message keeps the stream in sync', () => {
    const c = conn({ maxMessageSize: 100 });
    const big = encodeCoapTcp({ ...res, payload: Buffer.alloc(500) });
    c.data(SERVER, big.subarray(0, 50));
    c.h.onGap(SERVER, 100, 0, 99);
    c.data(SERVER, Buffer.concat([big.subarray(150), encodeCoapTcp(res)]));
    expect(c.anomalies().map((a) => a.code)).toEqual(['coap.oversized']);
    expect(c.messages()).toHaveLength(1);
  });

  it('a reserved TKL desyncs the direction (coap.desync); the other direction goes on', () => {
    const c = conn();
    c.data(CLIENT, Buffer.concat([encodeCoapTcp(req), hex('09 01 00 00'), encodeCoapTcp(req)]));
    c.data(CLIENT, encodeCoapTcp(req));
    c.data(SERVER, encodeCoapTcp(res));
    expect(c.anomalies().map((a) => a.code)).toEqual(['coap.desync']);
    expect(c.messages().map((m) => m.kind)).toEqual(['request', 'response']);
    expect(c.messages()[1].matched).toBe(true);
  });

  it('a gap at a frame boundary desyncs the direction, once', () => {
    const c = conn();
    c.data(CLIENT, encodeCoapTcp(req));
    c.h.onGap(CLIENT, 10, 0, 2);
    c.h.onGap(CLIENT, 10, 0, 3);
    c.data(CLIENT, encodeCoapTcp(req));
    expect(c.anomalies().map((a) => [a.code, a.flow.dir])).toEqual([['coap.desync', 'to_server']]);
    expect(c.messages()).toHaveLength(1);
  });

  it('a stream that ends inside a message reports coap.truncated', () => {
    const c = conn();
    const m = encodeCoapTcp(res);
    c.data(SERVER, m.subarray(0, m.length - 1));
    c.h.onEnd(10, 5);
    expect(c.anomalies()).toMatchObject([{ code: 'coap.truncated', frame: 5, layer: 'coap' }]);
  });

  it('the per-connection bound applies (coap.state_limit)', () => {
    const c = conn({ maxPending: 2 });
    for (let i = 0; i < 3; i++) c.data(CLIENT, encodeCoapTcp({ ...req, token: `0${i}` }));
    expect(c.h.pending).toBe(2);
    expect(c.anomalies().map((a) => a.code)).toEqual(['coap.state_limit']);
  });

  it('any segmentation of a stream gives the same events (property)', () => {
    const stream = Buffer.concat([
      encodeCoapTcp(csm), encodeCoapTcp(req), hex('10 01 ff'),
      encodeCoapTcp({ ...req, token: '02', payload: Buffer.alloc(300, 1) }),
      encodeCoapTcp({ code: '0.03', token: '03', payload: Buffer.alloc(70000, 2) }), // Len 15 form
    ]);
    const whole = conn();
    whole.data(CLIENT, stream);
    const expected = whole.events.map((e) => ({ ...e, frame: 0 }));
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: stream.length }), { maxLength: 20 }), (cuts) => {
      const points = [...new Set(cuts)].sort((a, b) => a - b);
      const c = conn();
      let prev = 0;
      for (const p of [...points, stream.length]) {
        if (p > prev) c.data(CLIENT, stream.subarray(prev, p));
        prev = p;
      }
      expect(c.events.map((e) => ({ ...e, frame: 0 }))).toEqual(expected);
    }), { numRuns: 200 });
  });

  it('random bytes never throw and give only coap anomalies', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), (chunks) => {
      const c = conn({ maxMessageSize: 256 });
      for (const ch of chunks) c.data(CLIENT, Buffer.from(ch));
      c.h.onEnd(0, 99);
      for (const a of c.anomalies()) expect(a.code).toMatch(/^coap\./);
    }), { numRuns: 500 });
  });
});
