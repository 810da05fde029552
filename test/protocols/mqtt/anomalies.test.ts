// Every mqtt.* anomaly code in the closed set, produced by a minimal scenario: the catalogue
// fails if a code is added without a test, or a scenario stops producing its code.
import { describe, expect, it } from 'vitest';
import type { IotEvent } from '../../../src/events/types';
import { MQTT_ANOMALY_CODES, type MqttAnomalyCode, decodeMqttPackets } from '../../../src/protocols/mqtt';
import { SECRET, Session, anomaliesOf, gen, hex } from './helpers/mqtt';

const est = (bytes: string, v = 4, dir: 0 | 1 = 0): IotEvent[] => decodeMqttPackets(hex(bytes), v, { secret: SECRET, dir });
const CONNECT4 = gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60, clientId: 'c1' }, 4);
const CONNACK4 = hex('20 02 00 00');

const SCENARIOS: Record<MqttAnomalyCode, { why: string; run: () => IotEvent[] }> = {
  'mqtt.malformed': { why: 'PUBLISH topic length past the packet', run: () => est('30 04 00 09 61 62') },
  'mqtt.truncated': { why: 'stream ends inside a PUBLISH', run: () => new Session({ assumeEstablished: 4 }).client(hex('30 10 00 02 61 62')).end().events },
  'mqtt.oversized': { why: 'PUBLISH above maxMessageLength', run: () => decodeMqttPackets(gen({ cmd: 'publish', topic: 't', payload: Buffer.alloc(100) }, 4), 4, { secret: SECRET, maxMessageLength: 50 }) },
  'mqtt.invalid_qos': { why: 'PUBLISH QoS 3 [MQTT-3.3.1-4]', run: () => est('36 05 00 01 74 00 01') },
  'mqtt.reserved_packet_type': { why: 'type 0 [MQTT-2.2.1]', run: () => est('00 00') },
  'mqtt.invalid_flags': { why: 'SUBSCRIBE flags 0000 [MQTT-3.8.1-1]', run: () => est('80 06 00 01 00 01 74 00') },
  'mqtt.missing_connect': { why: 'first client packet is PUBLISH [MQTT-3.1.0-1]', run: () => new Session().client(hex('30 03 00 01 74')).events },
  'mqtt.double_connect': { why: 'two CONNECTs [MQTT-3.1.0-2]', run: () => new Session().client(CONNECT4).server(CONNACK4).client(CONNECT4).events },
  'mqtt.message_before_connack': { why: 'server PUBLISH before CONNACK [MQTT-3.2.0-1]', run: () => new Session().client(CONNECT4).server(hex('30 03 00 01 74')).events },
  'mqtt.invalid_utf8': { why: 'topic with U+0000 [MQTT-1.5.4-2]', run: () => est('30 05 00 03 61 00 62') },
  'mqtt.wildcard_in_publish': { why: 'topic a/# [MQTT-3.3.2-2]', run: () => est('30 05 00 03 61 2f 23') },
  'mqtt.invalid_property': { why: 'Receive Maximum in a PUBLISH', run: () => est('30 08 00 01 74 03 21 00 05 70', 5) },
  'mqtt.unknown_topic_alias': { why: 'empty topic with an alias never set', run: () => est('30 07 00 00 03 23 00 09 70', 5) },
  'mqtt.desync': { why: '5-byte remaining length [MQTT-1.5.5]', run: () => est('30 ff ff ff ff 7f') },
  'mqtt.invalid_reason_code': { why: 'PUBACK reason 0x05', run: () => est('40 03 00 01 05', 5, 1) },
  'mqtt.state_limit': {
    why: 'more topic aliases than maxTopicAliases',
    run: () => new Session({ assumeEstablished: 5, maxTopicAliases: 1 })
      .client(gen({ cmd: 'publish', topic: 'a', payload: 'x', properties: { topicAlias: 1 } }, 5))
      .client(gen({ cmd: 'publish', topic: 'b', payload: 'x', properties: { topicAlias: 2 } }, 5)).events,
  },
};

describe('anomaly catalogue', () => {
  it('has a scenario for every mqtt.* code', () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual([...MQTT_ANOMALY_CODES].sort());
  });

  it.each(Object.entries(SCENARIOS))('%s', (code, { run }) => {
    const a = anomaliesOf(run());
    expect(a.map((x) => x.code)).toContain(code);
    for (const x of a) {
      expect(x).toMatchObject({ type: 'anomaly', layer: 'mqtt' });
      expect(x.detail.length).toBeGreaterThan(10);
    }
  });
});
