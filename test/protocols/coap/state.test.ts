import { describe, expect, it } from 'vitest';
import type { AnomalyEvent, CoapMessage, IotEvent } from '../../../src/events/types';
import type { Dir } from '../../../src/flow/types';
import { EXCHANGE_LIFETIME_US, createCoapHandler, type CoapHandlerOptions } from '../../../src/protocols/coap';
import { encodeCoap, hex, type MessageSpec } from './helpers/encode';
import { flowInfo } from './helpers/run-capture';

const CON = 0;
const NON = 1;
const ACK = 2;
const RST = 3;
const CLIENT: Dir = 0;
const SERVER: Dir = 1;

/** A UDP flow with a clock: send(dir, spec, ts) feeds one datagram; frames count from 1. */
function flow(opts?: CoapHandlerOptions) {
  const events: IotEvent[] = [];
  const info = flowInfo('udp', 1, ['10.0.0.2', 40000], ['10.0.0.1', 5683]);
  const h = createCoapHandler(info, (e) => events.push(e), opts);
  let frame = 0;
  const send = (dir: Dir, spec: MessageSpec | Buffer, ts: number): CoapMessage | undefined => {
    const buf = Buffer.isBuffer(spec) ? spec : encodeCoap(spec);
    const before = events.length;
    h.onDatagram(dir, buf, 0, buf.length, ts, ++frame);
    const out = events.slice(before).filter((e): e is CoapMessage => e.type === 'coap.message');
    return out[0];
  };
  const anomalies = (): AnomalyEvent[] => events.filter((e): e is AnomalyEvent => e.type === 'anomaly');
  return { h, send, events, anomalies, info };
}

const get = (mid: number, token: string, path = 'temp', extra: [number, number | string | Buffer][] = []): MessageSpec => ({
  type: CON, code: '0.01', mid, token, options: [[11, path], ...extra],
});

describe('pairing (RFC 7252 section 5.3.2)', () => {
  it('piggybacked response: ACK with the request\'s message ID and token', () => {
    const f = flow();
    const req = f.send(CLIENT, get(0x100, 'aa'), 1_000)!;
    expect(req.matched).toBeUndefined();
    expect(f.h.pending).toBe(1);
    const res = f.send(SERVER, { type: ACK, code: '2.05', mid: 0x100, token: 'aa', payload: '21' }, 1_500)!;
    expect(res).toMatchObject({
      kind: 'response', matched: true, requestFrame: 1, rttUs: 500, requestMethod: 'GET', requestPath: '/temp',
    });
    expect(res.flow.dir).toBe('to_client');
    expect(f.h.pending).toBe(0);
    expect(f.h.stats).toMatchObject({ requests: 1, responses: 1, matched: 1, unmatched: 0 });
  });

  it('separate response: the empty ACK does not consume the token match (5.2.2)', () => {
    const f = flow();
    f.send(CLIENT, get(7, '0102'), 0);
    const ack = f.send(SERVER, { type: ACK, code: 0, mid: 7 }, 100)!;
    expect(ack).toMatchObject({ kind: 'empty', matched: true, requestFrame: 1, rttUs: 100 });
    expect(f.h.pending).toBe(1);
    const res = f.send(SERVER, { type: CON, code: '2.05', mid: 0x9000, token: '0102' }, 2_000)!;
    expect(res).toMatchObject({ matched: true, requestFrame: 1, rttUs: 2_000, requestPath: '/temp' });
    const ack2 = f.send(CLIENT, { type: ACK, code: 0, mid: 0x9000 }, 2_100)!;
    expect(ack2.matched).toBeUndefined(); // acknowledges the response, not a request
    expect(f.h.pending).toBe(0);
  });

  it('NON request, NON response matched by token', () => {
    const f = flow();
    f.send(CLIENT, { ...get(1, 'bb'), type: NON }, 0);
    const res = f.send(SERVER, { type: NON, code: '2.05', mid: 555, token: 'bb' }, 10)!;
    expect(res).toMatchObject({ matched: true, requestFrame: 1, msgType: 'NON' });
    expect(f.h.pending).toBe(0);
  });

  it('the empty token is a token like any other', () => {
    const f = flow();
    f.send(CLIENT, get(1, ''), 0);
    expect(f.send(SERVER, { type: ACK, code: '2.05', mid: 1 }, 5)!.matched).toBe(true);
  });

  it('piggybacked response with the right message ID but another token is unmatched', () => {
    const f = flow();
    f.send(CLIENT, get(1, 'aa'), 0);
    expect(f.send(SERVER, { type: ACK, code: '2.05', mid: 1, token: 'bb' }, 5)!.matched).toBe(false);
    expect(f.h.pending).toBe(1);
  });

  it('a response must come from the other direction', () => {
    const f = flow();
    f.send(CLIENT, get(1, 'aa'), 0);
    expect(f.send(CLIENT, { type: ACK, code: '2.05', mid: 1, token: 'aa' }, 5)!.matched).toBe(false);
  });

  it('requests in both directions of one flow are paired independently', () => {
    const f = flow();
    f.send(CLIENT, get(1, 'aa'), 0);
    f.send(SERVER, get(1, 'aa', 'rd'), 1);
    expect(f.send(CLIENT, { type: ACK, code: '2.04', mid: 1, token: 'aa' }, 2)).toMatchObject({ requestFrame: 2, requestPath: '/rd' });
    expect(f.send(SERVER, { type: ACK, code: '2.05', mid: 1, token: 'aa' }, 3)).toMatchObject({ requestFrame: 1, requestPath: '/temp' });
  });

  it('unmatched responses stay visible with matched: false', () => {
    const f = flow();
    const a = f.send(SERVER, { type: ACK, code: '2.05', mid: 9, token: 'aa' }, 0)!;
    const b = f.send(SERVER, { type: CON, code: '4.04', mid: 10, token: 'cc' }, 1)!;
    const c = f.send(SERVER, { type: NON, code: '2.05', mid: 11, token: '' }, 2)!;
    for (const e of [a, b, c]) {
      expect(e.matched).toBe(false);
      expect(e.requestFrame).toBeUndefined();
      expect(e.rttUs).toBeUndefined();
    }
    expect(f.h.stats.unmatched).toBe(3);
  });

  it('an empty ACK or RST that answers no request is not marked', () => {
    const f = flow();
    expect(f.send(SERVER, { type: ACK, code: 0, mid: 3 }, 0)!.matched).toBeUndefined();
    expect(f.send(SERVER, { type: RST, code: 0, mid: 3 }, 0)!.matched).toBeUndefined();
  });
});

describe('retransmissions (RFC 7252 4.2, 4.5)', () => {
  it('a retransmitted request keeps the first transmission\'s time for the RTT', () => {
    const f = flow();
    f.send(CLIENT, get(5, 'aa'), 0);
    f.send(CLIENT, get(5, 'aa'), 2_000_000);
    expect(f.h.pending).toBe(1);
    expect(f.h.stats.retransmissions).toBe(1);
    expect(f.send(SERVER, { type: ACK, code: '2.05', mid: 5, token: 'aa' }, 2_000_100)).toMatchObject({ requestFrame: 1, rttUs: 2_000_100 });
  });

  it('a retransmitted separate response is paired with the same request', () => {
    const f = flow();
    f.send(CLIENT, get(5, 'aa'), 0);
    f.send(SERVER, { type: ACK, code: 0, mid: 5 }, 1);
    f.send(SERVER, { type: CON, code: '2.05', mid: 77, token: 'aa' }, 10);
    const again = f.send(SERVER, { type: CON, code: '2.05', mid: 77, token: 'aa' }, 2_010)!;
    expect(again).toMatchObject({ matched: true, requestFrame: 1, rttUs: 2_010 });
    expect(f.h.stats).toMatchObject({ matched: 2, unmatched: 0, retransmissions: 1 });
  });

  it('a repeated piggybacked ACK (answering a retransmitted request) is paired too', () => {
    const f = flow();
    f.send(CLIENT, get(5, 'aa'), 0);
    f.send(SERVER, { type: ACK, code: '2.05', mid: 5, token: 'aa' }, 10);
    expect(f.send(SERVER, { type: ACK, code: '2.05', mid: 5, token: 'aa' }, 20)!.matched).toBe(true);
  });

  it('a message ID reused with a new token is a new request', () => {
    const f = flow();
    f.send(CLIENT, get(5, 'aa'), 0);
    f.send(CLIENT, get(5, 'bb'), 10);
    expect(f.send(SERVER, { type: ACK, code: '2.05', mid: 5, token: 'bb' }, 20)).toMatchObject({ requestFrame: 2 });
    expect(f.h.stats.retransmissions).toBe(0);
  });

  it('a new request with a pending request\'s token supersedes it', () => {
    const f = flow();
    f.send(CLIENT, { ...get(1, 'aa'), type: NON }, 0);
    f.send(CLIENT, { ...get(2, 'aa', 'other'), type: NON }, 10);
    expect(f.send(SERVER, { type: NON, code: '2.05', mid: 50, token: 'aa' }, 20)).toMatchObject({ requestFrame: 2, requestPath: '/other' });
  });
});

describe('RST (RFC 7252 4.2, 4.3)', () => {
  it('a RST with a request\'s message ID ends the exchange', () => {
    const f = flow();
    f.send(CLIENT, get(0x42, 'aa'), 0);
    const rst = f.send(SERVER, { type: RST, code: 0, mid: 0x42 }, 30)!;
    expect(rst).toMatchObject({ msgType: 'RST', kind: 'empty', matched: true, requestFrame: 1, rttUs: 30 });
    expect(f.h.pending).toBe(0);
    expect(f.send(SERVER, { type: CON, code: '2.05', mid: 1, token: 'aa' }, 40)!.matched).toBe(false);
  });

  it('a RST rejects a NON request too', () => {
    const f = flow();
    f.send(CLIENT, { ...get(0x43, 'aa'), type: NON }, 0);
    expect(f.send(SERVER, { type: RST, code: 0, mid: 0x43 }, 1)!.matched).toBe(true);
    expect(f.h.pending).toBe(0);
  });

  it('a CoAP ping (empty CON) answered by RST is neither request nor response', () => {
    const f = flow();
    expect(f.send(CLIENT, { type: CON, code: 0, mid: 8 }, 0)!.kind).toBe('empty');
    expect(f.send(SERVER, { type: RST, code: 0, mid: 8 }, 1)!.matched).toBeUndefined();
    expect(f.h.pending).toBe(0);
  });
});

describe('Observe (RFC 7641)', () => {
  const observe = (mid: number, token: string, value: number): MessageSpec => get(mid, token, 'time', [[6, value]]);

  it('keeps the registration pending while notifications carry Observe', () => {
    const f = flow();
    f.send(CLIENT, observe(1, 'ab', 0), 0);
    expect(f.send(SERVER, { type: ACK, code: '2.05', mid: 1, token: 'ab', options: [[6, 5]] }, 10)).toMatchObject({ matched: true, observe: 5 });
    expect(f.h.pending).toBe(1);
    expect(f.send(SERVER, { type: CON, code: '2.05', mid: 100, token: 'ab', options: [[6, 6]] }, 1_000_000)).toMatchObject({
      matched: true, requestFrame: 1, rttUs: 1_000_000, requestPath: '/time',
    });
    f.send(CLIENT, { type: ACK, code: 0, mid: 100 }, 1_000_010);
    expect(f.send(SERVER, { type: NON, code: '2.05', mid: 101, token: 'ab', options: [[6, 7]] }, 2_000_000)!.requestFrame).toBe(1);
    expect(f.h.pending).toBe(1);
    // A response without Observe ends the observation (RFC 7641 3.2).
    expect(f.send(SERVER, { type: CON, code: '2.05', mid: 102, token: 'ab' }, 3_000_000)!.requestFrame).toBe(1);
    expect(f.h.pending).toBe(0);
  });

  it('an error response ends the observation', () => {
    const f = flow();
    f.send(CLIENT, observe(1, 'ab', 0), 0);
    f.send(SERVER, { type: ACK, code: '2.05', mid: 1, token: 'ab', options: [[6, 5]] }, 10);
    f.send(SERVER, { type: CON, code: '5.03', mid: 100, token: 'ab' }, 20);
    expect(f.h.pending).toBe(0);
  });

  it('a request without Observe 0 ends at its first response even if it carries Observe', () => {
    const f = flow();
    f.send(CLIENT, get(1, 'ab', 'time'), 0);
    f.send(SERVER, { type: ACK, code: '2.05', mid: 1, token: 'ab', options: [[6, 5]] }, 10);
    expect(f.h.pending).toBe(0);
  });

  it('deregistration race (RFC 7641 3.6): late notifications stay with the observation', () => {
    // As recorded in pcaps/coap-basic.pcap by libcoap: GET Observe 1 with the same token, a
    // notification still in flight, then the piggybacked answer to the deregistration.
    const f = flow();
    f.send(CLIENT, observe(1, '01', 0), 0);
    f.send(SERVER, { type: ACK, code: '2.05', mid: 1, token: '01', options: [[6, 2]] }, 10);
    f.send(CLIENT, observe(2, '01', 1), 3_000_000);
    expect(f.send(SERVER, { type: CON, code: '2.05', mid: 500, token: '01', options: [[6, 5]] }, 3_000_050)!.requestFrame).toBe(1);
    expect(f.send(SERVER, { type: ACK, code: '2.05', mid: 2, token: '01' }, 3_000_100)).toMatchObject({ matched: true, requestFrame: 3 });
    // Unacknowledged, the notification is retransmitted (RFC 7252 4.2).
    expect(f.send(SERVER, { type: CON, code: '2.05', mid: 500, token: '01', options: [[6, 5]] }, 5_000_000)).toMatchObject({ matched: true, requestFrame: 1 });
    expect(f.h.stats.unmatched).toBe(0);
  });

  it('a RST answering a notification cancels the observation', () => {
    const f = flow();
    f.send(CLIENT, observe(1, 'ab', 0), 0);
    f.send(SERVER, { type: ACK, code: '2.05', mid: 1, token: 'ab', options: [[6, 5]] }, 10);
    f.send(SERVER, { type: CON, code: '2.05', mid: 100, token: 'ab', options: [[6, 6]] }, 20);
    expect(f.h.pending).toBe(1);
    f.send(CLIENT, { type: RST, code: 0, mid: 100 }, 30);
    expect(f.h.pending).toBe(0);
  });

  it('each notification extends the observation by EXCHANGE_LIFETIME', () => {
    const f = flow();
    f.send(CLIENT, observe(1, 'ab', 0), 0);
    f.send(SERVER, { type: ACK, code: '2.05', mid: 1, token: 'ab', options: [[6, 1]] }, 10);
    for (let i = 1; i <= 3; i++) {
      const ts = i * 200_000_000; // 200 s apart: less than 247 s
      expect(f.send(SERVER, { type: NON, code: '2.05', mid: 100 + i, token: 'ab', options: [[6, 1 + i]] }, ts)!.matched).toBe(true);
    }
    f.send(CLIENT, { type: CON, code: 0, mid: 9 }, 600_000_000 + EXCHANGE_LIFETIME_US);
    expect(f.h.pending).toBe(0);
    expect(f.h.stats.expired).toBe(1);
  });
});

describe('bounds (RFC 7252 4.8.2 EXCHANGE_LIFETIME, per-flow cap)', () => {
  it('a request expires EXCHANGE_LIFETIME (247 s) after it was sent, in capture time', () => {
    expect(EXCHANGE_LIFETIME_US).toBe(247_000_000);
    const f = flow();
    f.send(CLIENT, get(1, 'aa'), 0);
    f.send(CLIENT, { type: CON, code: 0, mid: 2 }, EXCHANGE_LIFETIME_US - 1);
    expect(f.h.pending).toBe(1);
    const late = f.send(SERVER, { type: ACK, code: '2.05', mid: 1, token: 'aa' }, EXCHANGE_LIFETIME_US);
    expect(late!.matched).toBe(false);
    expect(f.h.stats.expired).toBe(1);
    expect(f.h.pending).toBe(0);
  });

  it('expiry is driven by the capture clock, not by the number of packets', () => {
    const f = flow({ lifetimeUs: 1_000 });
    f.send(CLIENT, get(1, 'aa'), 0);
    f.send(CLIENT, get(2, 'bb'), 500);
    f.send(CLIENT, get(3, 'cc'), 1_200); // the first expired at 1 000
    expect(f.h.pending).toBe(2);
    expect(f.send(SERVER, { type: ACK, code: '2.05', mid: 2, token: 'bb' }, 1_400)!.matched).toBe(true);
  });

  it('past the per-flow bound the oldest request is forgotten, counted, and reported once', () => {
    const f = flow({ maxPending: 4 });
    for (let i = 0; i < 6; i++) f.send(CLIENT, get(i, `0${i}`), i);
    expect(f.h.pending).toBe(4);
    expect(f.h.stats.evicted).toBe(2);
    const limits = f.anomalies().filter((a) => a.code === 'coap.state_limit');
    expect(limits).toHaveLength(1);
    expect(limits[0]).toMatchObject({ layer: 'coap', frame: 5 });
    expect(f.send(SERVER, { type: ACK, code: '2.05', mid: 0, token: '00' }, 10)!.matched).toBe(false);
    expect(f.send(SERVER, { type: ACK, code: '2.05', mid: 5, token: '05' }, 10)!.matched).toBe(true);
  });

  it('answered requests leave the eviction queue at once: never-answered NON requests are evicted oldest first', () => {
    const f = flow({ maxPending: 5 });
    const non = (mid: number, token: string): MessageSpec => ({ type: NON, code: '0.02', mid, token, options: [[11, 'report']] });
    for (let i = 1; i <= 4; i++) f.send(CLIENT, non(i, `0${i}`), i);
    for (let i = 0; i < 100; i++) { // answered CON exchanges in between leave no entry behind
      f.send(CLIENT, get(0x1000 + i, 'c0'), 10 + i);
      f.send(SERVER, { type: ACK, code: '2.05', mid: 0x1000 + i, token: 'c0' }, 10 + i);
    }
    expect(f.h.pending).toBe(4);
    f.send(CLIENT, non(5, '05'), 200);
    f.send(CLIENT, non(6, '06'), 201);
    expect(f.h.stats.evicted).toBe(1);
    expect(f.h.pending).toBe(5);
    expect(f.send(SERVER, { type: NON, code: '2.04', mid: 0x2001, token: '01' }, 210)!.matched).toBe(false);
    expect(f.send(SERVER, { type: NON, code: '2.04', mid: 0x2002, token: '02' }, 211)!.matched).toBe(true);
    expect(f.h.pending).toBe(4);
  });

  it('thousands of answered requests leave no state behind', () => {
    const f = flow();
    for (let i = 0; i < 5_000; i++) {
      f.send(CLIENT, get(i & 0xffff, 'aa'), i * 10);
      f.send(SERVER, { type: ACK, code: '2.05', mid: i & 0xffff, token: 'aa' }, i * 10 + 5);
    }
    expect(f.h.pending).toBe(0);
    expect(f.h.stats).toMatchObject({ matched: 5_000, evicted: 0 });
  });

  it('onEnd counts what is still pending', () => {
    const f = flow();
    f.send(CLIENT, get(1, 'aa'), 0);
    f.send(CLIENT, get(2, 'bb'), 0);
    f.h.onEnd(10, 3);
    expect(f.h.stats.pendingAtEnd).toBe(2);
    expect(f.h.pending).toBe(0);
  });

  it('stats can be shared across flows', () => {
    const shared = flow().h.stats;
    const a = flow({ stats: shared });
    const b = flow({ stats: shared });
    a.send(CLIENT, get(1, 'aa'), 0);
    b.send(CLIENT, get(1, 'aa'), 0);
    expect(shared.requests).toBe(2);
  });
});

describe('malformed datagrams', () => {
  it.each([
    ['40 01', 'coap.malformed'],
    ['4f 01 00 01', 'coap.malformed'],
    ['80 01 00 01', 'coap.bad_version'],
    ['40 01 00 01 f1', 'coap.bad_option'],
    ['40 01 00 01 91 20', 'coap.bad_oscore'],
  ])('%s -> one %s anomaly and no coap.message', (h, code) => {
    const f = flow();
    expect(f.send(CLIENT, hex(h), 0)).toBeUndefined();
    expect(f.events).toHaveLength(1);
    expect(f.events[0]).toMatchObject({ type: 'anomaly', layer: 'coap', code, frame: 1, ts: 0 });
    expect((f.events[0] as AnomalyEvent).flow.dir).toBe('to_server');
    expect(f.h.stats.malformed).toBe(1);
    expect(f.h.stats.messages).toBe(0);
  });

  it('a malformed datagram does not disturb pairing', () => {
    const f = flow();
    f.send(CLIENT, get(1, 'aa'), 0);
    f.send(SERVER, hex('60 45 00'), 1);
    expect(f.send(SERVER, { type: ACK, code: '2.05', mid: 1, token: 'aa' }, 2)!.matched).toBe(true);
  });
});

describe('events', () => {
  it('carry the flow side of the sender, capture time and frame, and every field', () => {
    const f = flow();
    const e = f.send(CLIENT, { ...get(1, 'aa'), payload: 'x' }, 123)!;
    expect(e.type).toBe('coap.message');
    expect(e.ts).toBe(123);
    expect(e.frame).toBe(1);
    expect(e.flow).toBe(f.info.sides[0]);
    expect(e).not.toHaveProperty('ok');
    expect(Object.keys(e)).toEqual([
      'type', 'ts', 'frame', 'flow', 'version', 'msgType', 'code', 'kind', 'method', 'messageId', 'token',
      'options', 'uriHost', 'uriPath', 'uriQuery', 'contentFormat', 'observe', 'block1', 'block2', 'size1',
      'size2', 'oscore', 'payloadLength', 'length', 'matched', 'requestFrame', 'rttUs', 'requestMethod', 'requestPath',
    ]);
  });
});
