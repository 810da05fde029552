// MQTT 3.1, 3.1.1 and 5 over TCP: decoder entry points.
import { randomBytes } from 'node:crypto';
import type { EventSink, FlowSide, IotEvent } from '../../events/types';
import type { Dir, FlowInfo } from '../../flow/types';
import { MqttConnection, type MqttOptions } from './state';

export { MqttConnection, DEFAULT_MAX_MESSAGE_LENGTH } from './state';
export type { MqttOptions, MqttStats, MqttTestOptions } from './state';
export { looksLikeMqttConnect, looksLikeMqttStream } from './classify';
export { MQTT_ANOMALY_CODES, type MqttAnomalyCode } from './anomalies';

/** The decoder for one TCP connection (app 'mqtt'). */
export function createMqttHandler(flow: FlowInfo, emit: EventSink, opts: MqttOptions): MqttConnection {
  return new MqttConnection(flow, emit, opts);
}

export interface DecodeOptions {
  /** Direction the bytes travelled: 0 client -> server (default), 1 server -> client. */
  dir?: Dir;
  /** HMAC key for passwords; default: a random key for this process. */
  secret?: Buffer;
  maxMessageLength?: number;
  /** Behave as if CONNECT and CONNACK were seen (default true): no session-order anomalies. */
  established?: boolean;
  /** Decode every packet with mqtt-packet instead of the fast path. */
  forceFull?: boolean;
}

let processSecret: Buffer | null = null;

function side(dir: Dir): FlowSide {
  return dir === 0
    ? { proto: 'tcp', src: '192.0.2.1', sport: 49152, dst: '192.0.2.2', dport: 1883, communityId: '', dir: 'to_server', flowId: 1, sensor: '' }
    : { proto: 'tcp', src: '192.0.2.2', sport: 1883, dst: '192.0.2.1', dport: 49152, communityId: '', dir: 'to_client', flowId: 1, sensor: '' };
}

/**
 * Decodes one direction's byte stream of MQTT control packets at protocol level `version`
 * (3, 4, 5; 0 = unknown) into events and anomalies, as the connection decoder would.
 */
export function decodeMqttPackets(bytes: Buffer, version: number, opts: DecodeOptions = {}): IotEvent[] {
  const out: IotEvent[] = [];
  const dir = opts.dir ?? 0;
  const flow: FlowInfo = { flowId: 1, proto: 'tcp', sides: [side(0), side(1)], serverPort: 1883, clientPort: 49152, midstream: false };
  if (opts.secret === undefined && processSecret === null) processSecret = randomBytes(32);
  const c = new MqttConnection(flow, (e) => out.push(e), {
    secret: opts.secret ?? (processSecret as Buffer),
    maxMessageLength: opts.maxMessageLength,
    assumeEstablished: opts.established === false ? undefined : version,
    forceFull: opts.forceFull,
  });
  if (opts.established === false) c.version = version;
  c.onData(dir, bytes, 0, bytes.length, 0, 1);
  c.onEnd(0, 1);
  return out;
}
