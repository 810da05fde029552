// Golden runs: every capture (public ones and our own recordings) through the whole
// pipeline, compared message for message with tshark, the reference decoder: the same
// MQTT packet types and CoAP codes/message ids in the same frames.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IotEvent } from '../../src/events/types';
import { decodeCapture } from '../helpers/pipeline';
import { tsharkFields } from '../helpers/tshark';

const root = join(__dirname, '..', '..');

function captures(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...captures(p));
    else if (/\.(pcap|pcapng|cap)$/.test(name)) out.push(p);
  }
  return out.sort();
}

const FILES = [...captures(join(root, 'test', 'fixtures', 'public')), ...captures(join(root, 'pcaps'))];

const MQTT_TYPES: Record<string, number> = {
  'mqtt.connect': 1, 'mqtt.connack': 2, 'mqtt.publish': 3, 'mqtt.puback': 4, 'mqtt.pubrec': 5,
  'mqtt.pubrel': 6, 'mqtt.pubcomp': 7, 'mqtt.subscribe': 8, 'mqtt.suback': 9, 'mqtt.unsubscribe': 10,
  'mqtt.unsuback': 11, 'mqtt.pingreq': 12, 'mqtt.pingresp': 13, 'mqtt.disconnect': 14, 'mqtt.auth': 15,
};

/** Our MQTT messages as "frame:type" strings (reserved type 0 is reported as an anomaly). */
function ourMqtt(events: IotEvent[]): string[] {
  const out: string[] = [];
  for (const e of events) {
    if (e.type in MQTT_TYPES) out.push(`${e.frame}:${MQTT_TYPES[e.type]}`);
    else if (e.type === 'anomaly' && e.code === 'mqtt.reserved_packet_type') out.push(`${e.frame}:${e.packetType ?? '?'}`);
    else if (e.type === 'anomaly' && e.code === 'mqtt.malformed' && e.packetType !== undefined) out.push(`${e.frame}:${e.packetType}`);
  }
  return out.sort();
}

function coapCode(code: string): number {
  const [c, d] = code.split('.').map(Number);
  return c * 32 + d;
}

describe('golden: message for message against tshark', () => {
  it('has captures to compare', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(25);
  });

  for (const file of FILES) {
    const name = file.slice(root.length + 1);
    it(name, async () => {
      const { events } = await decodeCapture(file);
      // tshark decodes MQTT only on 1883 unless told: tell it about every port where we found MQTT.
      // tshark 4.0 does not hand WebSocket payloads to its MQTT dissector, so MQTT over
      // WebSocket is compared with the unmasked payload streams in test/protocols/websocket.
      const wsFlows = new Set<number>();
      for (const e of events) if (e.type === 'flow.end' && e.app === 'mqtt-ws') wsFlows.add(e.flow.flowId);
      const ports = new Set<number>();
      for (const e of events) {
        if (e.type === 'mqtt.connect' && e.flow.dport !== 1883 && !wsFlows.has(e.flow.flowId)) ports.add(e.flow.dport);
      }
      const decodeAs = [...ports].map((p) => `tcp.port==${p},mqtt`);

      const tsMqtt: string[] = [];
      for (const [frame, types] of tsharkFields(file, ['frame.number', 'mqtt.msgtype'], 'mqtt', decodeAs)) {
        for (const t of types.split(',')) if (t !== '') tsMqtt.push(`${frame}:${t}`);
      }
      const plain = events.filter((e) => !wsFlows.has(e.flow.flowId));
      expect(ourMqtt(plain), 'MQTT messages (frame:type)').toEqual(tsMqtt.sort());

      // CoAP over TCP (RFC 8323) has no message id: tshark prints none.
      const tsCoap: string[] = [];
      for (const [frame, code, mid] of tsharkFields(file, ['frame.number', 'coap.code', 'coap.mid'], 'coap')) {
        tsCoap.push(`${frame}:${code}:${mid}`);
      }
      const ours = events
        .filter((e) => e.type === 'coap.message')
        .map((e) => (e.type === 'coap.message' ? `${e.frame}:${coapCode(e.code)}:${e.flow.proto === 'tcp' ? '' : e.messageId}` : ''));
      expect(ours.sort(), 'CoAP messages (frame:code:mid)').toEqual(tsCoap.sort());
    });
  }
});
