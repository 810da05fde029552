// Zeek's own expected MQTT logs for its test capture (testing/btest/Traces/mqtt.pcap):
// our events must agree with them on endpoints, client ids, topics and flags.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IotEvent, MqttConnack, MqttConnect, MqttPublish, MqttSuback, MqttSubscribe } from '../../src/events/types';
import { decodeCapture } from '../helpers/pipeline';

const dir = join(__dirname, '..', 'fixtures', 'public', 'zeek');

/** Rows of a Zeek TSV log as objects keyed by its #fields line. */
function zeekLog(name: string): Record<string, string>[] {
  const lines = readFileSync(join(dir, name), 'utf8').split('\n');
  const fields = lines.find((l) => l.startsWith('#fields'))!.split('\t').slice(1);
  return lines.filter((l) => l && !l.startsWith('#')).map((l) => {
    const v = l.split('\t');
    return Object.fromEntries(fields.map((f, i) => [f, v[i]]));
  });
}

const QOS = ['at most once', 'at least once', 'exactly once'];

describe('golden: Zeek mqtt_*.log on zeek/mqtt.pcap', () => {
  let events: IotEvent[];
  const of = <T extends IotEvent>(t: string) => events.filter((e) => e.type === t) as T[];

  it('decodes the capture', async () => {
    events = (await decodeCapture(join(dir, 'mqtt.pcap'))).events;
    expect(events.length).toBeGreaterThan(0);
  });

  it('agrees with mqtt_connect.log', () => {
    const connacks = of<MqttConnack>('mqtt.connack');
    const ours = of<MqttConnect>('mqtt.connect').map((c) => {
      const ack = connacks.find((a) => a.flow.flowId === c.flow.flowId);
      return {
        'id.orig_h': c.flow.src, 'id.orig_p': String(c.flow.sport), 'id.resp_h': c.flow.dst, 'id.resp_p': String(c.flow.dport),
        proto_name: c.protocolName, proto_version: c.protocolVersion === 3 ? '3.1' : c.protocolVersion === 4 ? '3.1.1' : '5.0',
        client_id: c.clientId, connect_status: ack?.returnCode === 0 ? 'Connection Accepted' : String(ack?.returnCode),
        will_topic: c.will ? c.will.topic : '-',
      };
    });
    const zeek = zeekLog('expected-mqtt_connect.log').map((r) => {
      const { ts: _ts, uid: _uid, will_payload: _wp, ...rest } = r;
      return rest;
    });
    expect(ours).toEqual(zeek);
  });

  it('agrees with mqtt_publish.log', () => {
    const ours = of<MqttPublish>('mqtt.publish').map((p) => {
      const toServer = p.flow.dir === 'to_server';
      return {
        // Zeek logs the connection's originator as id.orig_* whichever way the message went.
        'id.orig_h': toServer ? p.flow.src : p.flow.dst, 'id.orig_p': String(toServer ? p.flow.sport : p.flow.dport),
        from_client: toServer ? 'T' : 'F', retain: p.retain ? 'T' : 'F', qos: QOS[p.qos], topic: p.topic,
        payload_len: String(p.payloadLength),
      };
    });
    const zeek = zeekLog('expected-mqtt_publish.log').map((r) => ({
      'id.orig_h': r['id.orig_h'], 'id.orig_p': r['id.orig_p'], from_client: r.from_client, retain: r.retain,
      qos: r.qos, topic: r.topic, payload_len: r.payload_len,
    }));
    // Zeek writes a publish when its exchange completes, we when it is seen: compare as sets.
    const key = (x: Record<string, string>) => JSON.stringify(x);
    expect(ours.map(key).sort()).toEqual(zeek.map(key).sort());
  });

  it('agrees with mqtt_subscribe.log', () => {
    const acks = of<MqttSuback>('mqtt.suback');
    const ours = of<MqttSubscribe>('mqtt.subscribe').map((s) => {
      const ack = acks.find((a) => a.flow.flowId === s.flow.flowId && a.messageId === s.messageId);
      return {
        'id.orig_h': s.flow.src, 'id.orig_p': String(s.flow.sport), action: 'MQTT::SUBSCRIBE',
        topics: s.subscriptions.map((x) => x.topic).join(','), qos_levels: s.subscriptions.map((x) => x.qos).join(','),
        granted_qos_level: ack ? ack.granted.join(',') : '-', ack: ack ? 'T' : 'F',
      };
    });
    const zeek = zeekLog('expected-mqtt_subscribe.log').map((r) => ({
      'id.orig_h': r['id.orig_h'], 'id.orig_p': r['id.orig_p'], action: r.action, topics: r.topics,
      qos_levels: r.qos_levels, granted_qos_level: r.granted_qos_level, ack: r.ack,
    }));
    expect(ours).toEqual(zeek);
  });
});
