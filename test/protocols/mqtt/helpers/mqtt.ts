// Shared builders for the MQTT decoder tests.
import { createHmac } from 'node:crypto';
import * as mqttPacket from 'mqtt-packet';
import type { AnomalyEvent, FlowSide, IotEvent, MqttEvent } from '../../../../src/events/types';
import type { Dir, FlowInfo } from '../../../../src/flow/types';
import { MqttConnection, type MqttOptions, type MqttTestOptions } from '../../../../src/protocols/mqtt/state';

export const SECRET = Buffer.from('iotwatch-test-installation-secret');

/** Hex with spaces, newlines and '#' comments allowed. */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex');
}

export function hmac(clear: string | Buffer): string {
  return createHmac('sha256', SECRET).update(clear).digest('hex');
}

export function gen(packet: object, version: number): Buffer {
  return mqttPacket.generate(packet as mqttPacket.Packet, { protocolVersion: version });
}

function side(dir: Dir): FlowSide {
  return dir === 0
    ? { proto: 'tcp', src: '10.1.0.5', sport: 40000, dst: '10.1.0.1', dport: 1883, communityId: '1:test', dir: 'to_server', flowId: 7, sensor: 'test' }
    : { proto: 'tcp', src: '10.1.0.1', sport: 1883, dst: '10.1.0.5', dport: 40000, communityId: '1:test', dir: 'to_client', flowId: 7, sensor: 'test' };
}

export function flowInfo(midstream = false): FlowInfo {
  return { flowId: 7, proto: 'tcp', sides: [side(0), side(1)], serverPort: 1883, clientPort: 40000, midstream };
}

/** A connection decoder that records what it emits. */
export class Session {
  readonly events: IotEvent[] = [];
  readonly conn: MqttConnection;
  private frame = 0;

  constructor(opts: Partial<MqttOptions & MqttTestOptions> & { flowMidstream?: boolean } = {}) {
    const { flowMidstream, ...rest } = opts;
    this.conn = new MqttConnection(flowInfo(flowMidstream ?? false), (e) => this.events.push(e), { secret: SECRET, ...rest });
  }

  /** Feeds bytes of one direction as one segment (a new frame number each call). */
  send(dir: Dir, bytes: Buffer): this {
    this.frame++;
    this.conn.onData(dir, bytes, 0, bytes.length, this.frame * 1000, this.frame);
    return this;
  }

  client(bytes: Buffer): this {
    return this.send(0, bytes);
  }

  server(bytes: Buffer): this {
    return this.send(1, bytes);
  }

  gap(dir: Dir, missing: number): this {
    this.frame++;
    this.conn.onGap(dir, missing, this.frame * 1000, this.frame);
    return this;
  }

  end(): this {
    this.frame++;
    this.conn.onEnd(this.frame * 1000, this.frame);
    return this;
  }

  get messages(): MqttEvent[] {
    return this.events.filter((e): e is MqttEvent => e.type.startsWith('mqtt.'));
  }

  get anomalies(): AnomalyEvent[] {
    return anomaliesOf(this.events);
  }

  get codes(): string[] {
    return this.anomalies.map((a) => a.code);
  }
}

export function anomaliesOf(events: readonly IotEvent[]): AnomalyEvent[] {
  return events.filter((e): e is AnomalyEvent => e.type === 'anomaly');
}

export function codesOf(events: readonly IotEvent[]): string[] {
  return anomaliesOf(events).map((a) => a.code);
}

/** An event without capture position and flow, for comparing decodes of the same bytes. */
export function content(e: IotEvent): Record<string, unknown> {
  const { ts: _ts, frame: _frame, flow: _flow, ...rest } = e as unknown as Record<string, unknown>;
  return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
}

/** A typical client stream: CONNECT then PUBLISH/SUBSCRIBE traffic at `version`. */
export function clientStream(version: 3 | 4 | 5, n = 10): Buffer {
  const parts: Buffer[] = [gen({
    cmd: 'connect', protocolId: version === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: version, clean: true,
    keepalive: 30, clientId: 'seg-test', username: 'u', password: Buffer.from('pw-secret-123'),
  }, version)];
  for (let i = 0; i < n; i++) {
    const qos = (i % 3) as 0 | 1 | 2;
    parts.push(gen({
      cmd: 'publish', topic: `t/${i % 4}`, payload: Buffer.alloc(i * 7, i), qos, messageId: qos > 0 ? i + 1 : undefined,
      properties: version === 5 && i % 2 === 1 ? { topicAlias: 1 + (i % 3), userProperties: i % 4 === 1 ? { k: `v${i}` } : undefined } : undefined,
    }, version));
    if (i % 4 === 0) parts.push(gen({ cmd: 'subscribe', messageId: 100 + i, subscriptions: [{ topic: `t/${i}/#`, qos: 1 }] }, version));
    if (i % 5 === 0) parts.push(gen({ cmd: 'pingreq' }, version));
  }
  parts.push(gen({ cmd: 'disconnect' }, version));
  return Buffer.concat(parts);
}
