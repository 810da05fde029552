// Golden run: pcaps/ws-mqtt.pcap (pcaps/record-tls.sh: an aedes broker behind the `ws` server;
// mqtt.js over ws:// with subprotocol mqtt, which sends each MQTT packet as several small
// frames, and a raw `ws` client with subprotocol mqttv3.1 that fragments a message around a
// ping and sends a 70 000-byte PUBLISH with 64-bit frame lengths). tshark 4.0
// (fixtures/ws-mqtt.tshark.json) is the reference for the frames and the unmasked payload
// streams; the MQTT decoder must find in them what mqtt-packet finds.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import type { EventSink, MqttEvent } from '../../../src/events/types';
import type { TcpAppHandler } from '../../../src/flow/types';
import { createMqttHandler } from '../../../src/protocols/mqtt';
import { createWebSocketHandler, looksLikeWebSocketUpgrade, type WebSocketHandler } from '../../../src/protocols/websocket';
import { runPcap } from '../tls/run-pcap';
import { recorder, type Recorder } from './build';

type Row = Record<string, string[]>;
const fx = JSON.parse(readFileSync(join(__dirname, 'fixtures/ws-mqtt.tshark.json'), 'utf8')) as {
  rows: Row[];
  streams: Record<string, { length: number; sha256: string }>;
};
const PCAP = join(__dirname, '../../../pcaps/ws-mqtt.pcap');
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function decode(withMqtt: boolean) {
  const rec = recorder();
  const ws: WebSocketHandler[] = [];
  const { events } = runPcap(PCAP, {
    tcp: (flow, _dir, buf, off, len, emit) => {
      const l = looksLikeWebSocketUpgrade(buf, off, len);
      if (!l) return l === undefined ? undefined : null;
      const inner = withMqtt ? (f: typeof flow): TcpAppHandler => createMqttHandler(f, emit as EventSink, { secret: Buffer.from('golden') }) : rec.make;
      const h = createWebSocketHandler(flow, emit, inner);
      ws.push(h);
      return h;
    },
  });
  return { events, ws, inner: rec.handlers as Recorder[] };
}

/** MQTT control packets in a byte stream, as mqtt-packet parses them. */
function packets(stream: Buffer, protocolVersion: number): mqttPacket.Packet[] {
  const out: mqttPacket.Packet[] = [];
  const p = mqttPacket.parser({ protocolVersion });
  p.on('packet', (x: mqttPacket.Packet) => out.push(x));
  p.parse(stream);
  return out;
}

describe('ws-mqtt.pcap against tshark', () => {
  const { events, ws, inner } = decode(false);
  const flows = ws.map((h, i) => ({ h, inner: inner[i], sport: 0 }));
  const clientPorts = [...new Set(fx.rows.filter((r) => r['tcp.dstport'][0] === '18080').map((r) => r['tcp.srcport'][0]))];

  it('two upgrades, subprotocols mqtt and mqttv3.1, no anomalies', () => {
    expect(events.filter((e) => e.type === 'anomaly')).toEqual([]);
    expect(ws.map((h) => [h.info.path, h.info.protocol, h.info.status])).toEqual([['/mqtt', 'mqtt', 101], ['/', 'mqttv3.1', 101]]);
    const offered = fx.rows.filter((r) => r['http.request.uri'].length > 0).map((r) => [r['http.request.uri'][0], r['http.sec_websocket_protocol'][0]]);
    expect(offered).toEqual([['/mqtt', 'mqtt'], ['/', 'mqttv3.1']]);
  });

  it('frames per direction and control frames as tshark counts them', () => {
    expect(clientPorts).toHaveLength(2);
    clientPorts.forEach((port, i) => {
      const up = fx.rows.filter((r) => r['tcp.srcport'][0] === port);
      const down = fx.rows.filter((r) => r['tcp.dstport'][0] === port);
      const count = (rs: Row[]): number => rs.reduce((n, r) => n + r['websocket.opcode'].length, 0);
      const control = (rs: Row[]): number => rs.reduce((n, r) => n + r['websocket.opcode'].filter((o) => Number(o) >= 8).length, 0);
      expect(flows[i].h.info.frames).toEqual([count(up), count(down)]);
      expect(flows[i].h.info.controlFrames).toBe(control(up) + control(down));
      const close = up.flatMap((r) => r['websocket.payload.close.status_code']).map(Number);
      expect(flows[i].h.info.closeCodes[0]).toBe(close[0] ?? null);
    });
  });

  it('the unmasked payload stream of each direction equals tshark\'s (length and SHA-256)', () => {
    clientPorts.forEach((port, i) => {
      const up = fx.streams[`${port}>18080`];
      const down = fx.streams[`18080>${port}`];
      expect([flows[i].inner.stream(0).length, sha(flows[i].inner.stream(0))]).toEqual([up.length, up.sha256]);
      expect([flows[i].inner.stream(1).length, sha(flows[i].inner.stream(1))]).toEqual([down.length, down.sha256]);
    });
  });

  it('mqtt.js splits MQTT packets over many frames: more data frames than MQTT packets', () => {
    const mqttjs = flows[0];
    expect(mqttjs.h.info.dataFrames).toBeGreaterThan(4 * packets(mqttjs.inner.stream(0), 4).length);
  });
});

describe('MQTT over WebSocket through the MQTT decoder', () => {
  const plain = decode(false);
  const { events } = decode(true);
  const mqtt = events.filter((e) => e.type.startsWith('mqtt.')) as MqttEvent[];

  it('yields the packets mqtt-packet finds in the unmasked streams, in each direction', () => {
    expect(events.filter((e) => e.type === 'anomaly')).toEqual([]);
    plain.inner.forEach((rec, i) => {
      const version = i === 0 ? 4 : 3;
      for (const dir of [0, 1] as const) {
        const expected = packets(rec.stream(dir), version).map((p) => `mqtt.${p.cmd}${'topic' in p && typeof p.topic === 'string' ? ` ${p.topic}` : ''}`);
        const side = plain.ws[i];
        const got = mqtt
          .filter((e) => e.flow.dir === (dir === 0 ? 'to_server' : 'to_client') && e.clientId === (i === 0 ? 'ws-dev-1' : 'ws-raw-31'))
          .map((e) => `${e.type}${e.type === 'mqtt.publish' ? ` ${e.topic}` : ''}`);
        expect(side.info.status).toBe(101);
        expect(got).toEqual(expected);
      }
    });
  });

  it('what the clients sent: credentials, topics, a 3000-byte and a 70 000-byte PUBLISH', () => {
    const connects = mqtt.filter((e) => e.type === 'mqtt.connect');
    expect(connects.map((c) => [c.clientId, c.username, c.type === 'mqtt.connect' && c.protocolName, c.version])).toEqual([
      ['ws-dev-1', 'sensor', 'MQTT', 4], ['ws-raw-31', 'sensor', 'MQIsdp', 3],
    ]);
    const pubs = mqtt.filter((e) => e.type === 'mqtt.publish').map((e) => e.type === 'mqtt.publish' && [e.flow.dir, e.topic, e.payloadLength]);
    expect(pubs).toEqual([
      ['to_server', 'iot/temp', 4], ['to_server', 'iot/blob', 3000], ['to_client', 'iot/temp', 4], ['to_client', 'iot/blob', 3000],
      ['to_server', 'raw/big', 70000], ['to_client', 'raw/big', 70000],
    ]);
  });
});
