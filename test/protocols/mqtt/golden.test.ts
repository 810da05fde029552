// The public captures, replayed per TCP connection into the decoder: the anomalies Suricata's
// own tests expect (suricata-verify test.yaml, mapped to our codes), none on the clean captures,
// and the message counts tshark decodes (MANIFEST.tsv).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnomalyEvent, IotEvent, MqttPublish } from '../../../src/events/types';
import { createMqttHandler } from '../../../src/protocols/mqtt';
import { PACKET_NAMES } from '../../../src/protocols/mqtt/parser';
import { SECRET, anomaliesOf } from './helpers/mqtt';
import { replay, tcpFlows } from './helpers/tcp-streams';

const PUBLIC = join(__dirname, '..', '..', 'fixtures', 'public');
const SV = (dir: string, pcap = 'input.pcap'): string => join(PUBLIC, 'suricata-verify', dir, pcap);

function decode(file: string, maxMessageLength?: number): IotEvent[] {
  const out: IotEvent[] = [];
  for (const f of tcpFlows(file)) replay(f, createMqttHandler(f.info, (e) => out.push(e), { secret: SECRET, maxMessageLength }));
  return out;
}

function count(codes: string[]): Record<string, number> {
  const m: Record<string, number> = {};
  for (const c of codes) m[c] = (m[c] ?? 0) + 1;
  return m;
}

/**
 * suricata-verify expectations (anomaly.event in test.yaml) and our codes:
 *   invalid_qos_level -> mqtt.invalid_qos, missing_connect -> mqtt.missing_connect,
 *   unassigned_msg_type -> mqtt.reserved_packet_type, unintroduced_message -> mqtt.message_before_connack,
 *   malformed_traffic -> mqtt.malformed, publish.truncated + skipped_length -> mqtt.oversized + skippedLength.
 */
const SURICATA: { test: string; file: string; max?: number; anomalies: Record<string, number> }[] = [
  { test: 'mqtt-events-invalid-qos (invalid_qos_level x1)', file: SV('mqtt-events-invalid-qos'), anomalies: { 'mqtt.invalid_qos': 1 } },
  { test: 'mqtt-events-missing-connect (missing_connect exactly once)', file: SV('mqtt-events-missing-connect'), anomalies: { 'mqtt.missing_connect': 1 } },
  { test: 'mqtt-events-unassigned-msgtype (unassigned_msg_type x1)', file: SV('mqtt-events-unassigned-msgtype'), anomalies: { 'mqtt.reserved_packet_type': 1 } },
  { test: 'mqtt-events-unintroduced (unintroduced_message x1)', file: SV('mqtt-events-unintroduced'), anomalies: { 'mqtt.message_before_connack': 1 } },
  { test: 'mqtt-ping, midstream (unintroduced_message x2)', file: SV('mqtt-ping'), anomalies: { 'mqtt.message_before_connack': 2 } },
  { test: 'mqtt5-excessiveproplen (malformed_traffic x1)', file: SV('mqtt5-excessiveproplen'), anomalies: { 'mqtt.malformed': 1 } },
  { test: 'mqtt-frames-truncated, max-msg-length 60 (no truncation)', file: SV('mqtt-frames-truncated'), max: 60, anomalies: {} },
  { test: 'mqtt-limit-1, max-msg-length 50000', file: SV('mqtt-limit-2'), max: 50000, anomalies: { 'mqtt.oversized': 2 } },
  { test: 'mqtt-limit-2, max-msg-length 500', file: SV('mqtt-limit-2'), max: 500, anomalies: { 'mqtt.oversized': 3 } },
  { test: 'mqtt-limit-3, max-msg-length 50', file: SV('mqtt-limit-2'), max: 50, anomalies: { 'mqtt.oversized': 4 } },
];

describe('suricata-verify expectations', () => {
  it.each(SURICATA)('$test', ({ file, max, anomalies }) => {
    expect(count(anomaliesOf(decode(file, max)).map((a) => a.code))).toEqual(anomalies);
  });

  it('mqtt-limit-*: truncated PUBLISHes with Suricata\'s skipped_length, still reported with topic and id', () => {
    const expected: Record<number, number[]> = { 50000: [100011, 100009], 500: [100011, 100009, 1010], 50: [100011, 100009, 1010, 109] };
    for (const [max, skipped] of Object.entries(expected)) {
      const events = decode(SV('mqtt-limit-2'), Number(max));
      const over = anomaliesOf(events).filter((a) => a.code === 'mqtt.oversized');
      expect(over.map((a) => a.skippedLength), `max ${max}`).toEqual(skipped);
      expect(over.every((a) => a.packetType === 3 && a.clientId === 'P1')).toBe(true);
      const publishes = events.filter((e): e is MqttPublish => e.type === 'mqtt.publish');
      expect(publishes.map((p) => [p.topic, p.qos, p.messageId, p.length])).toEqual([
        ['foo', 1, 2, 100011], ['foo', 0, undefined, 100009], ['bar', 1, 3, 1010], ['baz', 1, 4, 109],
      ]);
      // Each oversized PUBLISH is reported when its last byte has gone by, next to its anomaly.
      for (const a of over) expect(publishes.some((p) => p.frame === a.frame && p.length === a.skippedLength)).toBe(true);
    }
  });

  it('mqtt-events-missing-connect: the connection whose CONNECT was never captured', () => {
    const a = anomaliesOf(decode(SV('mqtt-events-missing-connect')));
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ frame: 16, packetType: 2, layer: 'mqtt' });
    expect(a[0].detail).toContain('CONNACK without a CONNECT');
  });

  it('mqtt-midstream-split: CONNACK split over two segments, level 5 inferred, PUBLISH topicX', () => {
    const events = decode(SV('mqtt-midstream-split', 'mqtt-midstream-split.pcap'));
    expect(events.map((e) => [e.frame, e.type])).toEqual([[4, 'mqtt.connack'], [10, 'mqtt.publish'], [12, 'mqtt.disconnect']]);
    expect(events[0]).toMatchObject({ sessionPresent: false, returnCode: 0, version: 5 });
    expect(events[1]).toMatchObject({ topic: 'topicX', qos: 0, retain: false, dup: false, version: 5 });
  });

  it('mqtt5-pub-mosquittoprops: properties as Suricata logs them', () => {
    const events = decode(SV('mqtt5-pub-mosquittoprops'));
    const pub = events.find((e): e is MqttPublish => e.type === 'mqtt.publish');
    expect(pub).toMatchObject({
      topic: 'topicX', qos: 1, messageId: 1, topicAlias: 5,
      properties: { contentType: 'mytype', correlationData: Buffer.from('12345').toString('hex'), messageExpiryInterval: 77, responseTopic: 'response_topic1', topicAlias: 5, userProperties: { userprop3: 'userval3' } },
    });
    const connect = events.find((e) => e.type === 'mqtt.connect');
    expect(connect).toMatchObject({ will: { topic: 'willtopic', properties: { contentType: 'mywilltype', willDelayInterval: 200, messageExpiryInterval: 133 } } });
  });

  it('mqtt5-sub-customauth: authentication data is hashed like a password', () => {
    const connect = decode(SV('mqtt5-sub-customauth')).find((e) => e.type === 'mqtt.connect');
    expect(connect).toMatchObject({ clientId: 'myvoiceismypassport', properties: { authenticationMethod: 'foo', receiveMaximum: 20, authenticationData: { present: true, length: 4 } } });
    expect(JSON.stringify(connect)).not.toContain('1234');
  });

  it('the empty client id of mqtt-frames-truncated is replaced by the one the server assigned [MQTT-3.2.2-16]', () => {
    const events = decode(SV('mqtt-frames-truncated'), 60);
    expect(events.map((e) => (e as { clientId: string }).clientId)).toEqual(['', 'auto-17236393-B532-03F2-6526-F71115B8A4BE']);
  });
});

// ---------------------------------------------------------------- tshark's counts, no false anomalies

interface ManifestRow {
  path: string;
  counts: Record<string, number>;
}

function manifest(): ManifestRow[] {
  const rows = readFileSync(join(PUBLIC, 'MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1);
  const out: ManifestRow[] = [];
  for (const r of rows) {
    const [path, , , , , , mqtt] = r.split('\t');
    if (mqtt === '0') continue;
    const counts: Record<string, number> = {};
    for (const m of mqtt.split('|')[0].trim().split(/\s+/)) {
      const [name, n] = m.split(':');
      counts[name === 'RESERVED0' ? 'RESERVED' : name] = Number(n);
    }
    out.push({ path, counts });
  }
  return out;
}

/** Packets we framed, by type name: events, and anomalies about packets that gave no event. */
function framed(events: IotEvent[]): Record<string, number> {
  const m: Record<string, number> = {};
  const seen = new Set<string>();
  for (const e of events) {
    if (e.type.startsWith('mqtt.')) {
      const name = e.type.slice(5).toUpperCase();
      m[name] = (m[name] ?? 0) + 1;
      seen.add(`${e.frame}:${name}`);
    }
  }
  for (const a of anomaliesOf(events)) {
    if ((a.code === 'mqtt.malformed' || a.code === 'mqtt.reserved_packet_type') && a.packetType !== undefined) {
      const name = PACKET_NAMES[a.packetType];
      if (!seen.has(`${a.frame}:${name}`)) m[name] = (m[name] ?? 0) + 1;
    }
  }
  return m;
}

const WITH_ANOMALIES = new Set(['mqtt-events-invalid-qos', 'mqtt-events-missing-connect', 'mqtt-events-unassigned-msgtype',
  'mqtt-events-unintroduced', 'mqtt-ping', 'mqtt5-excessiveproplen']);

describe('public captures', () => {
  const rows = manifest();

  it('are all listed', () => {
    expect(rows.length).toBeGreaterThanOrEqual(25);
  });

  it.each(rows)('$path: tshark\'s message counts, and anomalies only where Suricata expects them', ({ path, counts }) => {
    const events = decode(join(PUBLIC, path));
    expect(framed(events)).toEqual(counts);
    const dir = path.split('/')[1];
    if (!WITH_ANOMALIES.has(dir)) expect(anomaliesOf(events).map((a: AnomalyEvent) => `${a.code}: ${a.detail}`)).toEqual([]);
  });
});
