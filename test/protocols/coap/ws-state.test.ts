// CoAP over WebSocket (RFC 8323 section 4), recognised from the Upgrade's "coap" subprotocol
// and decoded message by message through the classifier, as the pipeline does. No Debian peer
// speaks it (bookworm's libcoap 4.3.1 is built without WebSockets), so the bytes are built here
// from the RFC's layout.
import { describe, expect, it } from 'vitest';
import type { AnomalyEvent, CoapMessage, IotEvent } from '../../../src/events/types';
import type { TcpAppHandler } from '../../../src/flow/types';
import { createClassifier } from '../../../src/protocols/classifier';
import { tcpLengthHeader } from '../../../src/protocols/coap';
import { frame, upgradeRequest, upgradeResponse } from '../websocket/build';
import { flowInfo } from './helpers/run-capture';

const MASK = Buffer.from([1, 2, 3, 4]);

/** A CoAP-over-WebSocket message: Len 0, TKL, code, token, options, payload (RFC 8323 4.2). */
function wsCoap(code: number, token: Buffer, rest: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([token.length, code]), token, rest]);
}

function setup() {
  const events: IotEvent[] = [];
  const flow = flowInfo('tcp', 1, ['10.0.0.2', 50000], ['10.0.0.1', 8080]);
  const classifier = createClassifier({ emit: (e) => events.push(e), mqtt: { secret: Buffer.alloc(16) } });
  const req = upgradeRequest('coap');
  const h = classifier.tcp(flow, 0, req, 0, req.length) as TcpAppHandler;
  expect(h, 'a CoAP WebSocket Upgrade gets a handler').toBeTruthy();
  expect(h.app).toBe('coap-ws');
  h.onData(0, req, 0, req.length, 1, 1);
  const resp = upgradeResponse('coap');
  h.onData(1, resp, 0, resp.length, 2, 2);
  return { h, events };
}

describe('CoAP over WebSocket (RFC 8323 section 4)', () => {
  it('decodes CSM, a GET with Uri-Path and its 2.05 response paired by token', () => {
    const { h, events } = setup();
    const csm = frame({ opcode: 2, payload: wsCoap(0xe1, Buffer.alloc(0)), mask: MASK });
    const token = Buffer.from('a1b2', 'hex');
    // Uri-Path "time": option 11, length 4.
    const get = frame({ opcode: 2, payload: wsCoap(0x01, token, Buffer.from([0xb4, ...Buffer.from('time')])), mask: MASK });
    // The GET split over two TCP segments still gives one message.
    h.onData(0, csm, 0, csm.length, 3, 3);
    h.onData(0, get, 0, 5, 4, 4);
    h.onData(0, get, 5, get.length - 5, 5, 5);
    const payload = Buffer.from('2026-11-24T22:00:00Z');
    // A response fragmented into two WebSocket frames (continuation) is one message.
    const body = wsCoap(0x45, token, Buffer.concat([Buffer.from([0xff]), payload]));
    const f1 = frame({ opcode: 2, payload: body.subarray(0, 6), fin: false });
    const f2 = frame({ opcode: 0, payload: body.subarray(6) });
    h.onData(1, Buffer.concat([f1, f2]), 0, f1.length + f2.length, 6, 6);
    h.onEnd(7, 7);
    const coap = events.filter((e): e is CoapMessage => e.type === 'coap.message');
    expect(coap.map((e) => [e.code, e.kind, e.frame])).toEqual([['7.01', 'signal', 3], ['0.01', 'request', 5], ['2.05', 'response', 6]]);
    expect(coap[1].uriPath).toBe('/time');
    expect(coap[1].token).toBe('a1b2');
    expect(coap[2].matched).toBe(true);
    expect(coap[2].requestFrame).toBe(5);
    expect(coap[2].payloadLength).toBe(payload.length);
    expect(events.filter((e) => e.type === 'anomaly')).toEqual([]);
  });

  it('reports a message whose Len is not 0 and carries on with the next', () => {
    const { h, events } = setup();
    const bad = frame({ opcode: 2, payload: Buffer.from([0x30, 0x01, 0xb1, 0x61, 0x00]), mask: MASK });
    const good = frame({ opcode: 2, payload: wsCoap(0x01, Buffer.alloc(0)), mask: MASK });
    h.onData(0, Buffer.concat([bad, good]), 0, bad.length + good.length, 3, 3);
    const a = events.filter((e): e is AnomalyEvent => e.type === 'anomaly');
    expect(a.map((e) => e.code)).toEqual(['coap.malformed']);
    expect(events.filter((e) => e.type === 'coap.message')).toHaveLength(1);
  });

  it('frames bodies of every RFC 8323 3.2 length form', () => {
    for (const [n, first, extra] of [[12, 0xc3, 0], [13, 0xd3, 1], [268, 0xd3, 1], [269, 0xe3, 2], [65804, 0xe3, 2], [65805, 0xf3, 4]] as const) {
      const h = tcpLengthHeader(n, 3);
      expect(h[0]).toBe(first);
      expect(h.length).toBe(1 + extra);
    }
  });

  it('leaves an MQTT WebSocket Upgrade to MQTT', () => {
    const flow = flowInfo('tcp', 2, ['10.0.0.2', 50001], ['10.0.0.1', 8080]);
    const c = createClassifier({ emit: () => {}, mqtt: { secret: Buffer.alloc(16) } });
    const req = upgradeRequest('mqtt');
    expect((c.tcp(flow, 0, req, 0, req.length) as TcpAppHandler).app).toBe('mqtt-ws');
  });
});
