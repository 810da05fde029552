// The connection decoder: framing across segments, session order, topic aliases, limits,
// losing and finding the framing. Scenarios are named after the clause they exercise.
import { describe, expect, it } from 'vitest';
import type { MqttPublish } from '../../../src/events/types';
import { decodeMqttPackets } from '../../../src/protocols/mqtt';
import { SECRET, Session, codesOf, gen, hex } from './helpers/mqtt';

const CONNECT4 = gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60, clientId: 'c1' }, 4);
const CONNECT5 = (props?: object): Buffer => gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, keepalive: 60, clientId: 'c5', properties: props }, 5);
const CONNACK4 = gen({ cmd: 'connack', returnCode: 0, sessionPresent: false }, 4);
const CONNACK5 = (props?: object): Buffer => gen({ cmd: 'connack', reasonCode: 0, sessionPresent: false, properties: props }, 5);
const PUB = (topic: string, payload = 'x', v = 4, extra: object = {}): Buffer => gen({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, ...extra }, v);

describe('framing', () => {
  it('several packets in one segment and one packet over many segments decode the same', () => {
    const stream = Buffer.concat([CONNECT4, PUB('a/b', 'one'), PUB('c', 'two'), gen({ cmd: 'pingreq' }, 4)]);
    const whole = new Session().client(stream);
    const bytewise = new Session();
    for (let i = 0; i < stream.length; i++) bytewise.client(stream.subarray(i, i + 1));
    const strip = (s: Session): unknown[] => s.events.map((e) => ({ ...e, ts: 0, frame: 0 }));
    expect(strip(bytewise)).toEqual(strip(whole));
    expect(whole.messages.map((e) => e.type)).toEqual(['mqtt.connect', 'mqtt.publish', 'mqtt.publish', 'mqtt.pingreq']);
  });

  it('parses whole packets in place: nothing is copied unless a packet straddles segments', () => {
    const s = new Session().client(CONNECT4).server(CONNACK4);
    for (let i = 0; i < 100; i++) s.client(Buffer.concat([PUB('t', 'p'), PUB('u', 'q')]));
    expect(s.conn.stats.copiedBytes).toBe(0);
    const p = PUB('t', 'payload');
    s.client(p.subarray(0, 3)).client(p.subarray(3));
    expect(s.conn.stats.copiedBytes).toBe(p.length);
    expect(s.messages).toHaveLength(203);
  });

  it('an event carries the frame of the segment that completed the packet', () => {
    const p = PUB('t', 'payload');
    const s = new Session().client(CONNECT4).server(CONNACK4).client(p.subarray(0, 4)).client(p.subarray(4));
    expect(s.messages[2]).toMatchObject({ type: 'mqtt.publish', frame: 4, length: p.length });
  });

  it('a fixed header split inside its remaining-length varint [MQTT-1.5.5]', () => {
    const big = PUB('t', 'x'.repeat(20000));
    expect(big[1] & 0x80).toBe(0x80);
    const s = new Session({ assumeEstablished: 4 }).client(big.subarray(0, 2)).client(big.subarray(2, 3)).client(big.subarray(3));
    expect(s.messages).toMatchObject([{ type: 'mqtt.publish', payloadLength: 20000 }]);
  });

  it('the largest remaining length, 268435455, frames as a 4-byte varint [MQTT-1.5.5]', () => {
    const s = new Session({ assumeEstablished: 4, maxMessageLength: 1000 }).client(hex('30 ff ff ff 7f 00 01 74'));
    expect(s.anomalies[0]).toBeUndefined();
    s.end();
    expect(s.codes).toEqual(['mqtt.oversized', 'mqtt.truncated']);
    expect(s.anomalies[0].skippedLength).toBe(268435460);
  });

  it('a remaining length that is not minimally encoded is malformed but framed [MQTT-1.5.5-1]', () => {
    const s = new Session({ assumeEstablished: 4 }).client(hex('c0 80 00 c0 00'));
    expect(s.messages.map((e) => e.type)).toEqual(['mqtt.pingreq', 'mqtt.pingreq']);
    expect(s.codes).toEqual(['mqtt.malformed']);
  });
});

describe('session order', () => {
  it('[MQTT-3.1.0-1] the client\'s first packet is not CONNECT: mqtt.missing_connect, once', () => {
    const s = new Session().client(PUB('a')).client(PUB('b')).server(CONNACK4).client(PUB('c')).end();
    expect(s.codes).toEqual(['mqtt.missing_connect']);
    expect(s.anomalies[0]).toMatchObject({ packetType: 3, frame: 1 });
  });

  it('[MQTT-3.1.0-1] a CONNACK answering no CONNECT: mqtt.missing_connect (the CONNECT was lost to a gap)', () => {
    const s = new Session().server(CONNACK4).gap(0, CONNECT4.length).client(PUB('a')).end();
    expect(s.codes).toEqual(['mqtt.missing_connect']);
    expect(s.anomalies[0].detail).toContain('CONNACK without a CONNECT');
  });

  it('a connection picked up midstream is not expected to start with CONNECT', () => {
    const s = new Session({ flowMidstream: true }).server(CONNACK4).client(PUB('a')).end();
    expect(s.codes).toEqual([]);
  });

  it('[MQTT-3.1.0-2] a second CONNECT: mqtt.double_connect; the session keeps the first identity', () => {
    const other = gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60, clientId: 'c2' }, 4);
    const s = new Session().client(CONNECT4).server(CONNACK4).client(other).client(PUB('t'));
    expect(s.codes).toEqual(['mqtt.double_connect']);
    expect(s.messages.map((e) => e.clientId)).toEqual(['c1', 'c1', 'c2', 'c1']);
  });

  it('[MQTT-3.2.0-1] the server sends PUBLISH before CONNACK: mqtt.message_before_connack, once', () => {
    const s = new Session().client(CONNECT4).server(PUB('x')).server(PUB('y')).end();
    expect(s.codes).toEqual(['mqtt.message_before_connack']);
    expect(s.anomalies[0]).toMatchObject({ flow: { dir: 'to_client' }, packetType: 3, clientId: 'c1' });
  });

  it('3.1.4: a client may send packets before the CONNACK arrives (pipelining)', () => {
    const s = new Session().client(Buffer.concat([CONNECT4, PUB('a'), gen({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 0 }] }, 4)])).server(CONNACK4).end();
    expect(s.codes).toEqual([]);
  });

  it('client packets before a CONNACK that never comes: mqtt.message_before_connack when the connection ends', () => {
    const s = new Session().client(CONNECT4).client(PUB('a')).client(PUB('b')).gap(1, 4).end();
    expect(s.codes).toEqual(['mqtt.message_before_connack']);
    expect(s.anomalies[0]).toMatchObject({ flow: { dir: 'to_server' }, packetType: 3, frame: 5 });
    expect(s.anomalies[0].detail).toContain('(frame 2)');
  });

  it('... unless the server direction was never seen at all (one-sided capture)', () => {
    const s = new Session().client(CONNECT4).client(PUB('a')).end();
    expect(s.codes).toEqual([]);
  });

  it('MQTT 5 enhanced authentication: AUTH before CONNACK is in order (4.12)', () => {
    const auth = gen({ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-1', authenticationData: Buffer.from('c') } }, 5);
    const s = new Session().client(CONNECT5({ authenticationMethod: 'SCRAM-SHA-1' })).server(auth).client(auth).server(CONNACK5()).end();
    expect(s.codes).toEqual([]);
    expect(s.messages.map((e) => e.type)).toEqual(['mqtt.connect', 'mqtt.auth', 'mqtt.auth', 'mqtt.connack']);
  });

  it('the server direction follows the level of the CONNECT', () => {
    const s = new Session().client(CONNECT5()).server(hex('40 03 00 01 10')).server(hex('e0 01 8e'));
    expect(s.messages.slice(1)).toMatchObject([{ type: 'mqtt.puback', reasonCode: 0x10, version: 5 }, { type: 'mqtt.disconnect', reasonCode: 0x8e }]);
  });
});

describe('MQTT 5 topic aliases (3.3.2.3.4)', () => {
  const alias = (topic: string, n: number, v = 5): Buffer => PUB(topic, 'p', v, { properties: { topicAlias: n } });

  it('an alias set with a topic name resolves later PUBLISHes with an empty topic', () => {
    const s = new Session().client(CONNECT5()).server(CONNACK5({ topicAliasMaximum: 10 })).client(alias('plant/a/temp', 3)).client(alias('', 3));
    expect(s.messages.slice(2)).toMatchObject([{ topic: 'plant/a/temp', topicAlias: 3 }, { topic: 'plant/a/temp', topicAlias: 3 }]);
    expect(s.codes).toEqual([]);
  });

  it('each direction has its own alias map', () => {
    const s = new Session().client(CONNECT5({ topicAliasMaximum: 10 })).server(CONNACK5({ topicAliasMaximum: 10 }))
      .client(alias('up/1', 1)).server(alias('', 1)).server(alias('down/1', 1)).client(alias('', 1)).server(alias('', 1));
    expect(s.messages.slice(2).map((e) => (e as MqttPublish).topic)).toEqual(['up/1', '', 'down/1', 'up/1', 'down/1']);
    expect(s.codes).toEqual(['mqtt.unknown_topic_alias']);
    expect(s.anomalies[0].flow.dir).toBe('to_client');
  });

  it('[MQTT-3.3.2-9] an alias above the Topic Alias Maximum the server granted', () => {
    const s = new Session().client(CONNECT5()).server(CONNACK5({ topicAliasMaximum: 2 })).client(alias('t', 5));
    expect(s.codes).toEqual(['mqtt.invalid_property']);
  });

  it('[MQTT-3.3.2-8] Topic Alias 0 is not permitted', () => {
    const s = new Session({ assumeEstablished: 5 }).client(hex('30 0a 00 01 74 03 23 00 00 70 71 72'));
    expect(s.codes).toEqual(['mqtt.invalid_property']);
  });

  it('the alias map is bounded: the overflow is reported once and counted, later uses are not "unknown"', () => {
    const s = new Session({ maxTopicAliases: 2 }).client(CONNECT5()).server(CONNACK5({ topicAliasMaximum: 100 }));
    for (let i = 1; i <= 5; i++) s.client(alias(`t/${i}`, i));
    for (let i = 1; i <= 5; i++) s.client(alias('', i));
    expect(s.codes).toEqual(['mqtt.state_limit']);
    expect(s.conn.stats.aliasOverflows).toBe(3);
    expect(s.messages.slice(7).map((e) => (e as MqttPublish).topic)).toEqual(['t/1', 't/2', '', '', '']);
  });

  it('the map is also bounded in topic characters', () => {
    const s = new Session({ maxTopicAliasBytes: 10 }).client(CONNECT5()).server(CONNACK5({ topicAliasMaximum: 100 }));
    s.client(alias('abcdefgh', 1)).client(alias('ijklmnop', 2));
    expect(s.codes).toEqual(['mqtt.state_limit']);
  });
});

describe('oversized packets (maxMessageLength, like Suricata\'s max-msg-length)', () => {
  it('reports the PUBLISH from its first bytes, skips the body without buffering it, and stays in sync', () => {
    const big = PUB('cam/1/jpeg', 'J'.repeat(100_000), 4, { qos: 1, messageId: 77 });
    const s = new Session({ maxMessageLength: 1000 }).client(CONNECT4).server(CONNACK4);
    for (let p = 0; p < big.length; p += 1448) s.client(big.subarray(p, p + 1448));
    s.client(PUB('next'));
    expect(s.messages.slice(2)).toMatchObject([
      { type: 'mqtt.publish', topic: 'cam/1/jpeg', qos: 1, messageId: 77, payloadLength: 100_000, length: big.length },
      { type: 'mqtt.publish', topic: 'next' },
    ]);
    expect(s.anomalies).toMatchObject([{ code: 'mqtt.oversized', skippedLength: big.length, packetType: 3 }]);
    expect(s.conn.stats.copiedBytes).toBeLessThan(2100);
    expect(s.conn.stats.skippedBytes).toBeGreaterThan(98_000);
  });

  it('an oversized packet cut by the end of the stream is also truncated', () => {
    const big = PUB('t', 'J'.repeat(5000));
    const s = new Session({ assumeEstablished: 4, maxMessageLength: 100 }).client(big.subarray(0, 3000)).end();
    expect(s.codes).toEqual(['mqtt.oversized', 'mqtt.truncated']);
    expect(s.messages).toMatchObject([{ topic: 't', payloadLength: 5000 }]);
  });

  it('an oversized CONNECT still gives the protocol level and client id for the rest of the connection', () => {
    const c = gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, keepalive: 60, clientId: 'big', will: { topic: 'w', payload: Buffer.alloc(3000), qos: 0, retain: false } }, 5);
    const s = new Session({ maxMessageLength: 500 }).client(c).server(CONNACK5()).server(hex('40 03 00 01 10'));
    expect(s.codes).toEqual(['mqtt.oversized']);
    expect(s.messages).toMatchObject([{ type: 'mqtt.connack', version: 5, clientId: 'big' }, { type: 'mqtt.puback', reasonCode: 0x10 }]);
  });
});

describe('gaps and truncation', () => {
  it('the stream ends inside a packet: mqtt.truncated', () => {
    const s = new Session({ assumeEstablished: 4 }).client(PUB('t', 'payload').subarray(0, 6)).end();
    expect(s.codes).toEqual(['mqtt.truncated']);
    expect(s.anomalies[0]).toMatchObject({ packetType: 3 });
  });

  it('a gap inside a packet drops it (mqtt.truncated) and framing resumes after its end', () => {
    const p1 = PUB('t', 'x'.repeat(100));
    const s = new Session({ assumeEstablished: 4 }).client(p1.subarray(0, 10)).gap(0, 50).client(Buffer.concat([p1.subarray(60), PUB('after')]));
    expect(s.codes).toEqual(['mqtt.truncated']);
    expect(s.messages.map((e) => (e as MqttPublish).topic)).toEqual(['after']);
  });

  it('a gap over a packet end: the decoder finds the next packet without a desync anomaly', () => {
    const p1 = PUB('t', 'x'.repeat(100));
    const s = new Session({ assumeEstablished: 4 }).client(p1.subarray(0, 10)).gap(0, 150)
      .client(Buffer.concat([Buffer.from('tail-of-something'), PUB('after'), PUB('again')]));
    expect(s.codes).toEqual(['mqtt.truncated']);
    expect(s.messages.map((e) => (e as MqttPublish).topic)).toEqual(['after', 'again']);
  });

  it('a gap at a packet boundary is not an MQTT anomaly (tcp.gap reports it)', () => {
    const s = new Session({ assumeEstablished: 4 }).client(PUB('a')).gap(0, 40).client(PUB('b'));
    expect(s.codes).toEqual([]);
    expect(s.messages).toHaveLength(2);
  });
});

describe('desync and resynchronisation', () => {
  it('garbage in the middle of a stream: one mqtt.desync, then decoding resumes at the next packets', () => {
    const garbage = Buffer.from('GET / HTTP/1.1\r\nHost: example\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n');
    const s = new Session({ assumeEstablished: 4 }).client(PUB('before')).client(garbage).client(garbage).client(Buffer.concat([PUB('after'), gen({ cmd: 'pingreq' }, 4)]));
    expect(s.codes).toEqual(['mqtt.desync']);
    expect(s.messages.map((e) => e.type === 'mqtt.publish' ? e.topic : e.type)).toEqual(['before', 'after', 'mqtt.pingreq']);
    expect(s.conn.stats.resyncs).toBe(1);
  });

  it('a remaining length longer than 4 bytes desyncs [MQTT-1.5.5]', () => {
    const s = new Session({ assumeEstablished: 4 }).client(hex('30 ff ff ff ff 7f')).client(PUB('ok'));
    expect(s.codes).toEqual(['mqtt.desync']);
    expect(s.messages).toMatchObject([{ topic: 'ok' }]);
  });

  it('a second desync after resynchronising and decoding a clean packet is reported again', () => {
    const junk = Buffer.from('\xff\xff\xff\xff\xff\xff', 'latin1');
    const s = new Session({ assumeEstablished: 4 }).client(junk).client(PUB('a')).client(junk).client(PUB('b'));
    expect(s.codes).toEqual(['mqtt.desync', 'mqtt.desync']);
    expect(s.messages).toHaveLength(2);
  });

  it('a packet with a questionable header is decoded when the next packet confirms the framing', () => {
    // PUBREL with flags 0000 instead of 0010, followed by a valid PINGREQ.
    const s = new Session({ assumeEstablished: 4 }).client(hex('60 02 00 05 c0 00'));
    expect(s.messages.map((e) => e.type)).toEqual(['mqtt.pubrel', 'mqtt.pingreq']);
    expect(s.codes).toEqual(['mqtt.invalid_flags']);
  });
});

describe('midstream', () => {
  it('starts at the first plausible packet, without anomalies for the bytes before it', () => {
    const tail = PUB('t', 'x'.repeat(50)).subarray(20);
    const s = new Session({ flowMidstream: true }).client(Buffer.concat([tail, PUB('first'), PUB('second')]));
    expect(s.messages.map((e) => (e as MqttPublish).topic)).toEqual(['first', 'second']);
    expect(s.codes).toEqual([]);
  });

  it('infers MQTT 5 from a packet that only parses as MQTT 5 (PUBACK with a reason code)', () => {
    const s = new Session({ flowMidstream: true }).server(hex('40 02 00 01')).server(hex('40 03 00 02 10'));
    expect(s.messages.map((e) => e.version)).toEqual([0, 5]);
    expect(s.messages[1]).toMatchObject({ reasonCode: 0x10 });
  });

  it('infers MQTT 5 from a PUBLISH using a Topic Alias with an empty topic name', () => {
    const pub = (topic: string, alias: number): Buffer => PUB(topic, '{"t":21}', 5, { properties: { topicAlias: alias } });
    const s = new Session({ flowMidstream: true }).client(Buffer.concat([pub('', 2), pub('a/b', 3), pub('', 3)]));
    expect(s.messages.map((e) => [e.version, (e as MqttPublish).topic, (e as MqttPublish).payloadLength])).toEqual([[5, '', 8], [5, 'a/b', 8], [5, 'a/b', 8]]);
    expect(s.codes).toEqual(['mqtt.unknown_topic_alias']);
  });

  it('infers MQTT 5 from three PUBLISHes with valid properties; a 3.1.1 stream stays unknown and clean', () => {
    const v5 = Array.from({ length: 4 }, (_, i) => PUB(`t/${i}`, 'x', 5, { properties: { contentType: 'text/plain' } }));
    const s = new Session({ flowMidstream: true }).client(Buffer.concat(v5));
    expect(s.messages.map((e) => e.version)).toEqual([0, 0, 5, 5]);
    expect(s.messages.map((e) => (e as MqttPublish).payloadLength)).toEqual([15, 15, 1, 1]);
    const v4 = Array.from({ length: 6 }, (_, i) => PUB(`t/${i}`, i % 2 ? '{"v":1}' : '\u0000\u0001bin', 4, { qos: 1, messageId: i + 1 }));
    const s4 = new Session({ flowMidstream: true }).client(Buffer.concat(v4)).end();
    expect(s4.messages.map((e) => e.version)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(s4.codes).toEqual([]);
  });

  it('infers MQTT 5 from a CONNACK with properties', () => {
    const s = new Session({ flowMidstream: true }).server(CONNACK5({ topicAliasMaximum: 5 }));
    expect(s.messages).toMatchObject([{ type: 'mqtt.connack', version: 5, properties: { topicAliasMaximum: 5 } }]);
  });

  it('the classifier\'s midstream option starts the same way on a flow seen from its start', () => {
    const s = new Session({ midstream: true }).server(Buffer.concat([Buffer.from('zz'), CONNACK4])).end();
    expect(s.messages).toMatchObject([{ type: 'mqtt.connack' }]);
    // The connection start was seen, so the CONNACK still lacks its CONNECT.
    expect(s.codes).toEqual(['mqtt.missing_connect']);
  });
});

describe('fixed-header and packet checks', () => {
  const est = (bytes: string, v = 4): string[] => codesOf(decodeMqttPackets(hex(bytes), v, { secret: SECRET }));

  it('[MQTT-2.2.1] packet type 0 is reserved; the next packet still decodes', () => {
    const ev = decodeMqttPackets(hex('00 02 00 00 c0 00'), 4, { secret: SECRET });
    expect(ev.map((e) => (e.type === 'anomaly' ? e.code : e.type))).toEqual(['mqtt.reserved_packet_type', 'mqtt.pingreq']);
  });

  it('[MQTT-2.2.1] packet type 15 before MQTT 5 is reserved', () => {
    expect(est('f0 00', 4)).toEqual(['mqtt.reserved_packet_type']);
    expect(est('f0 00', 5)).toEqual([]);
  });

  it('[MQTT-3.3.1-4] PUBLISH QoS 3 is reported and still decoded', () => {
    const ev = decodeMqttPackets(hex('36 07 00 01 74 00 09 68 69'), 4, { secret: SECRET });
    expect(ev[0]).toMatchObject({ type: 'mqtt.publish', qos: 3, messageId: 9, payloadLength: 2 });
    expect(codesOf(ev)).toEqual(['mqtt.invalid_qos']);
  });

  it('[MQTT-3.3.1-2] DUP set on a QoS 0 PUBLISH', () => {
    expect(est('38 03 00 01 74')).toEqual(['mqtt.invalid_flags']);
  });

  it('[MQTT-3.8.3-4] a subscription with QoS 3: reported, and the SUBSCRIBE still reported', () => {
    const ev = decodeMqttPackets(hex('82 06 00 01 00 01 74 03'), 4, { secret: SECRET });
    expect(ev[0]).toMatchObject({ type: 'mqtt.subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 3 }] });
    expect(codesOf(ev)).toEqual(['mqtt.invalid_qos']);
  });

  it('a packet mqtt-packet rejects does not spoil the next one (its parser is fully reset)', () => {
    // mqtt-packet refuses the QoS 3 subscription mid-packet; its _pos survives _resetState().
    const ev = decodeMqttPackets(hex('82 06 00 01 00 01 74 03  82 06 00 02 00 01 75 01'), 4, { secret: SECRET });
    expect(ev.map((e) => (e.type === 'anomaly' ? e.code : e.type))).toEqual(['mqtt.subscribe', 'mqtt.invalid_qos', 'mqtt.subscribe']);
    expect(ev[2]).toMatchObject({ messageId: 2, subscriptions: [{ topic: 'u', qos: 1 }] });
  });

  it('[MQTT-3.3.2-2] a wildcard in a PUBLISH topic name', () => {
    expect(est('30 05 00 03 61 2f 23')).toEqual(['mqtt.wildcard_in_publish']);
    expect(est('30 05 00 03 2b 2f 61')).toEqual(['mqtt.wildcard_in_publish']);
  });

  it('[MQTT-1.5.4-1] ill-formed UTF-8 and [MQTT-1.5.4-2] U+0000 in a topic name', () => {
    expect(est('30 05 00 03 61 c3 28')).toEqual(['mqtt.invalid_utf8']);
    expect(est('30 05 00 03 ed a0 80')).toEqual(['mqtt.invalid_utf8']);
    expect(est('30 05 00 03 61 00 62')).toEqual(['mqtt.invalid_utf8']);
    expect(est('30 05 00 03 c3 a9 21')).toEqual([]);
  });

  it('[MQTT-3.1.3-4] ill-formed UTF-8 in the client id and [MQTT-3.1.3-12] in the user name', () => {
    expect(est('10 10 00 04 4d 51 54 54 04 02 00 3c 00 04 61 62 ff 64')).toEqual(['mqtt.invalid_utf8']);
    expect(est('10 13 00 04 4d 51 54 54 04 82 00 3c 00 02 61 62 00 03 75 c0 80')).toEqual(['mqtt.invalid_utf8']);
  });

  it('a password without a user name: allowed in MQTT 5 (3.1.2.9), not before [MQTT-3.1.2-22]', () => {
    const v5 = decodeMqttPackets(hex('10 11 00 04 4d 51 54 54 05 40 00 3c 00 00 01 61 00 01 70'), 5, { secret: SECRET });
    expect(v5).toMatchObject([{ type: 'mqtt.connect', clientId: 'a', username: null, password: { present: true, length: 1 } }]);
    expect(est('10 10 00 04 4d 51 54 54 04 40 00 3c 00 01 61 00 01 70')).toEqual(['mqtt.malformed']);
  });

  it('reason codes outside the spec tables (section 2.4)', () => {
    expect(est('40 03 00 01 05', 5)).toEqual(['mqtt.invalid_reason_code']);
    expect(est('20 02 00 06', 4)).toEqual(['mqtt.invalid_reason_code']);
    expect(est('90 03 00 01 03', 4)).toEqual(['mqtt.invalid_reason_code']);
  });

  it('MQTT 5 property problems: unknown, not allowed in the packet, repeated', () => {
    expect(est('30 08 00 01 74 03 7f 00 00 70', 5)).toEqual(['mqtt.invalid_property']);
    expect(est('30 08 00 01 74 03 21 00 05 70', 5)).toEqual(['mqtt.invalid_property']);
    expect(est('30 0a 00 01 74 05 01 00 01 01 70 71', 5)).toEqual(['mqtt.invalid_property']);
  });

  it('malformed packets are reported and skipped by their remaining length', () => {
    expect(est('30 04 00 09 61 62 c0 00')).toEqual(['mqtt.malformed']);
    expect(est('82 02 00 01')).toEqual(['mqtt.malformed']);
    expect(est('10 0c 00 04 4d 51 54 58 04 02 00 3c 00 00')).toEqual(['mqtt.malformed']);
    expect(est('c0 01 00')).toEqual(['mqtt.malformed']);
    const ev = decodeMqttPackets(hex('30 04 00 09 61 62 c0 00'), 4, { secret: SECRET });
    expect(ev.map((e) => e.type)).toEqual(['anomaly', 'mqtt.pingreq']);
  });

  it('[MQTT-4.7.1-2] a misplaced multi-level wildcard in a topic filter', () => {
    expect(est('82 08 00 01 00 03 61 23 62 00')).toEqual(['mqtt.malformed']);
  });
});

describe('handler contract', () => {
  it('is the "mqtt" app and ignores data after the end', () => {
    const s = new Session().client(CONNECT4).end();
    expect(s.conn.app).toBe('mqtt');
    s.client(PUB('late'));
    expect(s.messages).toHaveLength(1);
  });

  it('rejects a missing secret at construction', () => {
    expect(() => new Session({ secret: Buffer.alloc(0) })).toThrow(/secret/);
  });
});
