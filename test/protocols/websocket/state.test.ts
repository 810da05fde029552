import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import type { EventSink } from '../../../src/events/types';
import type { Dir } from '../../../src/flow/types';
import { createMqttHandler } from '../../../src/protocols/mqtt';
import { createWebSocketHandler, looksLikeWebSocketUpgrade, type WebSocketOptions } from '../../../src/protocols/websocket';
import { collector, fakeFlow, strip } from '../tls/fake-flow';
import { frame, recorder, upgradeRequest, upgradeResponse } from './build';

const M = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
const bin = (payload: Buffer, fin = true, opcode = 2): Buffer => frame({ opcode, payload, fin, mask: M });
const srv = (payload: Buffer, fin = true, opcode = 2): Buffer => frame({ opcode, payload, fin });

function run(steps: Array<[Dir, Buffer]>, split = Infinity, opts: WebSocketOptions = {}) {
  const c = collector();
  const rec = recorder();
  const h = createWebSocketHandler(fakeFlow('tcp', 8080), c.emit, rec.make, opts);
  let frameNo = 0;
  for (const [dir, b] of steps) {
    frameNo++;
    for (let i = 0; i < b.length; i += split) h.onData(dir, b, i, Math.min(split, b.length - i), frameNo, frameNo);
  }
  h.onEnd(99, 99);
  return { ...c, h, inner: rec.handlers[0] as (typeof rec.handlers)[number] | undefined };
}

describe('WebSocket handler: payload streams', () => {
  const data = Buffer.from(Array.from({ length: 600 }, (_, i) => i & 0xff));
  const steps: Array<[Dir, Buffer]> = [
    [0, upgradeRequest()],
    [1, upgradeResponse()],
    // a fragmented message (RFC 6455 5.4) with a ping between its fragments (5.5: control
    // frames may be injected), then a 16-bit-length frame
    [0, Buffer.concat([bin(data.subarray(0, 10), false), frame({ opcode: 9, payload: Buffer.from('hb'), mask: M }), bin(data.subarray(10, 100), false, 0), bin(data.subarray(100, 110), true, 0), bin(data.subarray(110))])],
    [1, Buffer.concat([srv(Buffer.from('abc')), frame({ opcode: 10, payload: Buffer.from('hb') }), srv(Buffer.alloc(70000, 0x42))])],
    [0, frame({ opcode: 8, payload: Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65]), mask: M })],
  ];

  it('unmasks client frames, joins continuations, skips control frames, passes server frames through', () => {
    const r = run(steps);
    expect(r.codes()).toEqual([]);
    expect(r.inner!.stream(0)).toEqual(data);
    expect(r.inner!.stream(1)).toEqual(Buffer.concat([Buffer.from('abc'), Buffer.alloc(70000, 0x42)]));
    expect(r.h.info).toMatchObject({ path: '/mqtt', host: 'broker.local:8080', offeredProtocols: ['mqtt'], protocol: 'mqtt', status: 101, frames: [6, 3], controlFrames: 3, closeCodes: [1000, null], payloadBytes: [600, 70003] });
    expect(r.inner!.ended).toBe(true);
  });

  it('the same streams for any segmentation', () => {
    for (const split of [1, 2, 3, 5, 13, 64, 1000]) {
      const r = run(steps, split);
      expect(r.inner!.stream(0)).toEqual(data);
      expect(r.inner!.stream(1).length).toBe(70003);
      expect(r.codes()).toEqual([]);
    }
  });

  it('frames in the same segment as the HTTP head are decoded', () => {
    const r = run([[0, Buffer.concat([upgradeRequest(), bin(Buffer.from('early'))])], [1, Buffer.concat([upgradeResponse(), srv(Buffer.from('x'))])]]);
    expect(r.inner!.stream(0).toString()).toBe('early');
    expect(r.inner!.stream(1).toString()).toBe('x');
  });

  it('no inner decoder without an MQTT subprotocol; frames are still counted', () => {
    const r = run([[0, upgradeRequest('chat')], [1, upgradeResponse('chat')], [0, bin(Buffer.from('hello'))]]);
    expect(r.inner).toBeUndefined();
    expect(r.h.info.frames).toEqual([1, 0]);
  });
});

describe('MQTT over WebSocket gives the same mqtt.* events as MQTT over TCP', () => {
  const gen = (p: object): Buffer => mqttPacket.generate(p as mqttPacket.Packet);
  const connect = gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'ws-1', clean: true, keepalive: 30, username: 'u', password: Buffer.from('p') });
  const C = connect.length;
  const toServer = Buffer.concat([
    gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'ws-1', clean: true, keepalive: 30, username: 'u', password: Buffer.from('p') }),
    gen({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'a/#', qos: 1 }] }),
    gen({ cmd: 'publish', topic: 'a/b', payload: Buffer.alloc(500, 1), qos: 1, messageId: 4, retain: false, dup: false }),
    gen({ cmd: 'disconnect' }),
  ]);
  const toClient = Buffer.concat([
    gen({ cmd: 'connack', returnCode: 0, sessionPresent: false }),
    gen({ cmd: 'suback', messageId: 3, granted: [1] }),
    gen({ cmd: 'puback', messageId: 4 }),
  ]);
  const secret = Buffer.from('test-secret');

  function overTcp() {
    const c = collector();
    const h = createMqttHandler(fakeFlow('tcp', 8080), c.emit as EventSink, { secret });
    h.onData(0, toServer, 0, C, 1, 1); // CONNECT first, then the CONNACK
    h.onData(1, toClient, 0, 4, 2, 2);
    h.onData(0, toServer, C, toServer.length - C, 3, 3);
    h.onData(1, toClient, 4, toClient.length - 4, 4, 4);
    h.onEnd(5, 5);
    return c.events;
  }

  it('when each MQTT packet spans several WebSocket frames (as mqtt.js sends them)', () => {
    const c = collector();
    const ws = createWebSocketHandler(fakeFlow('tcp', 8080), c.emit, (f) => createMqttHandler(f, c.emit as EventSink, { secret }));
    const framesOf = (b: Buffer, size: number, client: boolean): Buffer => {
      const out: Buffer[] = [];
      for (let i = 0; i < b.length; i += size) out.push(client ? bin(b.subarray(i, i + size)) : srv(b.subarray(i, i + size)));
      return Buffer.concat(out);
    };
    ws.onData(0, upgradeRequest(), 0, upgradeRequest().length, 1, 1);
    const resp = upgradeResponse();
    ws.onData(1, resp, 0, resp.length, 1, 1);
    const a = framesOf(toServer.subarray(0, C), 3, true);
    ws.onData(0, a, 0, a.length, 1, 1);
    const b = framesOf(toClient.subarray(0, 4), 1, false);
    ws.onData(1, b, 0, b.length, 2, 2);
    const d = framesOf(toServer.subarray(C), 7, true);
    ws.onData(0, d, 0, d.length, 3, 3);
    const e = framesOf(toClient.subarray(4), 2, false);
    ws.onData(1, e, 0, e.length, 4, 4);
    ws.onEnd(5, 5);
    const expected = strip(overTcp());
    expect(expected.map((x) => (x as { type: string }).type)).toEqual(['mqtt.connect', 'mqtt.connack', 'mqtt.subscribe', 'mqtt.publish', 'mqtt.disconnect', 'mqtt.suback', 'mqtt.puback']);
    expect(strip(c.events)).toEqual(expected);
  });
});

describe('unmasked client bytes', () => {
  it('a CONNECT password does not stay in the unmasking buffer once decoded', () => {
    const password = 'ws-password-in-the-clear';
    const connect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'ws-2', clean: true, keepalive: 30, username: 'u', password: Buffer.from(password) } as mqttPacket.Packet);
    const c = collector();
    const ws = createWebSocketHandler(fakeFlow('tcp', 8080), c.emit, (f) => createMqttHandler(f, c.emit as EventSink, { secret: Buffer.from('s') }));
    const req = upgradeRequest();
    const resp = upgradeResponse();
    ws.onData(0, req, 0, req.length, 1, 1);
    ws.onData(1, resp, 0, resp.length, 2, 2);
    // Whole, then cut across two frames (the MQTT decoder then buffers its first part).
    for (const f of [bin(connect), Buffer.concat([bin(connect.subarray(0, 9), false), bin(connect.subarray(9), true, 0)])]) {
      ws.onData(0, f, 0, f.length, 3, 3);
      const scratch = (ws as unknown as { scratch: Buffer | null }).scratch;
      expect(scratch).not.toBeNull();
      expect((scratch as Buffer).every((b) => b === 0)).toBe(true);
    }
    expect(c.events.filter((e) => e.type === 'mqtt.connect')).toHaveLength(2);
  });
});

describe('WebSocket handler: anomalies', () => {
  const up: Array<[Dir, Buffer]> = [[0, upgradeRequest()], [1, upgradeResponse()]];

  it('websocket.protocol_error: unmasked client frame and masked server frame (RFC 6455 5.1), reported once', () => {
    const r = run([...up, [0, Buffer.concat([srv(Buffer.from('a')), srv(Buffer.from('b'))])], [1, bin(Buffer.from('c'))]]);
    expect(r.codes()).toEqual(['websocket.protocol_error', 'websocket.protocol_error']);
    expect(r.inner!.stream(0).toString()).toBe('ab');
    expect(r.inner!.stream(1).toString()).toBe('c');
  });

  it('websocket.protocol_error: reserved opcodes, long or fragmented control frames, orphan continuation, text frames [MQTT-6.0.0-1]', () => {
    const cases: Buffer[] = [
      bin(Buffer.from('x'), true, 3),
      frame({ opcode: 11, payload: Buffer.alloc(1), mask: M }),
      frame({ opcode: 9, payload: Buffer.alloc(126), mask: M }),
      frame({ opcode: 9, payload: Buffer.alloc(1), mask: M, fin: false }),
      bin(Buffer.from('x'), true, 0),
      bin(Buffer.from('x'), true, 1),
      Buffer.concat([bin(Buffer.from('x'), false), bin(Buffer.from('y'))]),
      frame({ opcode: 8, payload: Buffer.from([3]), mask: M }),
      frame({ opcode: 2, payload: Buffer.from('z'), mask: M, rsv: 2 }),
    ];
    for (const c of cases) expect(run([...up, [0, c]]).codes()).toEqual(['websocket.protocol_error']);
  });

  it('a reserved data opcode or reserved bits make a hole for the inner decoder', () => {
    const r = run([...up, [0, Buffer.concat([bin(Buffer.from('ab')), bin(Buffer.from('xyz'), true, 3), bin(Buffer.from('cd'))])]]);
    expect(r.inner!.stream(0).toString()).toBe('abcd');
    expect(r.inner!.gaps).toEqual([[0, 3]]);
  });

  it('websocket.unsupported: permessage-deflate compressed frames (RFC 7692)', () => {
    const r = run([[0, upgradeRequest('mqtt', 'Sec-WebSocket-Extensions: permessage-deflate\r\n')], [1, upgradeResponse('mqtt', undefined, 'Sec-WebSocket-Extensions: permessage-deflate\r\n')], [0, frame({ opcode: 2, payload: Buffer.from([0xf2, 0x00]), mask: M, rsv: 4 })]]);
    expect(r.codes()).toEqual(['websocket.unsupported']);
    expect(r.h.info.permessageDeflate).toBe(true);
    expect(r.inner!.gaps).toEqual([[0, 2]]);
  });

  it('websocket.bad_upgrade: refused upgrade, wrong Sec-WebSocket-Accept, a subprotocol not offered', () => {
    const refused = run([[0, upgradeRequest()], [1, Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')], [0, bin(Buffer.from('x'))]]);
    expect(refused.codes()).toEqual(['websocket.bad_upgrade']);
    expect(refused.h.info.status).toBe(400);
    expect(refused.inner!.stream(0).length).toBe(0);
    expect(run([[0, upgradeRequest()], [1, upgradeResponse('mqtt', 'AAAA')]]).codes()).toEqual(['websocket.bad_upgrade']);
    expect(run([[0, upgradeRequest()], [1, upgradeResponse('mqttv5')]]).codes()).toEqual(['websocket.bad_upgrade']);
  });

  it('websocket.malformed: a head that is not HTTP, a request without Upgrade, a bad 64-bit length', () => {
    expect(run([[0, Buffer.from('\x10\x0cMQTT junk\r\n\r\n')]]).codes()).toEqual(['websocket.malformed']);
    expect(run([[0, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n')]]).codes()).toEqual(['websocket.malformed']);
    expect(run([...up, [0, Buffer.from([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4])]]).codes()).toEqual(['websocket.malformed']);
  });

  it('websocket.oversized: an HTTP head over the bound', () => {
    const big = Buffer.from(`GET / HTTP/1.1\r\nX: ${'a'.repeat(300)}\r\n`);
    expect(run([[0, big]], 50, { maxHeaderBytes: 200 }).codes()).toEqual(['websocket.oversized']);
    expect(run([[0, Buffer.concat([big, Buffer.from('\r\n')])]], Infinity, { maxHeaderBytes: 200 }).codes()).toEqual(['websocket.oversized']);
  });

  it('websocket.truncated: the stream ends inside a frame; a gap across a frame boundary', () => {
    const f = bin(Buffer.alloc(50));
    expect(run([...up, [0, f.subarray(0, 20)]]).codes()).toEqual(['websocket.truncated']);
    const c = collector();
    const rec = recorder();
    const h = createWebSocketHandler(fakeFlow(), c.emit, rec.make);
    for (const [d, b] of up) h.onData(d, b, 0, b.length, 1, 1);
    h.onData(0, f, 0, 20, 2, 2);
    h.onGap(0, 10, 3, 3); // inside the payload: survived
    h.onData(0, f, 30, f.length - 30, 4, 4);
    expect(c.codes()).toEqual([]);
    expect(rec.handlers[0].gaps).toEqual([[0, 10]]);
    expect(rec.handlers[0].stream(0).length).toBe(40);
    h.onGap(0, 500, 5, 5); // past the frame: the direction is lost
    expect(c.codes()).toEqual(['websocket.truncated']);
  });
});

describe('looksLikeWebSocketUpgrade', () => {
  it('true for an MQTT upgrade, undefined while incomplete, false otherwise', () => {
    const req = upgradeRequest('mqttv3.1');
    expect(looksLikeWebSocketUpgrade(req, 0, req.length)).toBe(true);
    expect(looksLikeWebSocketUpgrade(req, 0, 2)).toBeUndefined();
    expect(looksLikeWebSocketUpgrade(req, 0, 40)).toBeUndefined();
    expect(looksLikeWebSocketUpgrade(Buffer.from('POST / HTTP/1.1\r\n'), 0, 17)).toBe(false);
    expect(looksLikeWebSocketUpgrade(Buffer.from([0x10, 0x0c]), 0, 2)).toBe(false);
    const chat = upgradeRequest('chat');
    expect(looksLikeWebSocketUpgrade(chat, 0, chat.length)).toBe(false);
    expect(looksLikeWebSocketUpgrade(chat, 0, chat.length, { anySubprotocol: true })).toBe(true);
    const plain = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(looksLikeWebSocketUpgrade(plain, 0, plain.length)).toBe(false);
    const long = Buffer.from(`GET / HTTP/1.1\r\nX: ${'a'.repeat(9000)}`);
    expect(looksLikeWebSocketUpgrade(long, 0, long.length)).toBe(false);
  });
});
