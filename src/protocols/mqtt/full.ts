// The general decoder: mqtt-packet's parser, fed exactly one control packet at a time, and the
// mapping of its untyped packet bag onto our event fields. Used for CONNECT, CONNACK, SUBSCRIBE,
// SUBACK, UNSUBSCRIBE, UNSUBACK, AUTH and for property blocks the fast path does not decode.
import * as mqttPacket from 'mqtt-packet';
import type { MqttEvent, MqttProperties, MqttSubscription, PasswordInfo } from '../../events/types';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event without the fields the connection state supplies. */
export type MqttBody = DistributiveOmit<MqttEvent, 'ts' | 'frame' | 'flow' | 'version' | 'clientId' | 'username' | 'length'>;

/** mqtt-packet's packet object: untyped fields keyed by cmd. */
export type RawPacket = { cmd: string; length: number; [field: string]: unknown };

/** The parts of mqtt-packet's Parser this driver relies on (parser.js, v9). */
interface ParserInternals {
  settings: { protocolVersion?: number };
  _pos: number;
  _resetState(): void;
  parse(buf: Buffer): number;
  on(event: 'packet', cb: (p: RawPacket) => void): unknown;
  on(event: 'error', cb: (e: Error) => void): unknown;
}

/**
 * Drives one mqtt-packet parser synchronously. mqtt-packet keeps state between calls (its byte
 * list, and `settings`, which it replaces with the last CONNECT: password included), so every
 * call starts from a reset parser with the connection's protocol level and ends by resetting it.
 * _resetState() leaves `_pos` as an error left it, and _parseVarByteNum reads the next fixed
 * header at that offset: it is reset here too.
 */
class MqttPacketDriver {
  private readonly parser: ParserInternals;
  private packet: RawPacket | null = null;
  private error: string | null = null;

  constructor() {
    this.parser = mqttPacket.parser() as unknown as ParserInternals;
    this.parser.on('packet', (p) => {
      this.packet = p;
    });
    this.parser.on('error', (e) => {
      // mqtt-packet's messages are fixed strings: no packet content in them.
      if (this.error === null) this.error = e.message;
    });
  }

  /** Parses `bytes`, exactly one whole control packet. Returns the packet, or why it failed. */
  parse(bytes: Buffer, version: number): RawPacket | string {
    this.packet = null;
    this.error = null;
    const p = this.parser;
    p._resetState();
    p._pos = 0;
    p.settings = { protocolVersion: version === 0 ? 4 : version };
    try {
      p.parse(bytes);
    } catch (e) {
      this.error = 'mqtt-packet threw ' + (e instanceof Error ? e.name : 'a non-Error');
    }
    const packet = this.packet;
    const error = this.error;
    p._resetState();
    p._pos = 0;
    p.settings = {};
    this.packet = null;
    if (error !== null) return error;
    return packet ?? 'mqtt-packet produced no packet';
  }
}

let shared: MqttPacketDriver | null = null;

/** Parses one whole control packet with mqtt-packet (synchronous; one shared parser). */
export function parseWithMqttPacket(bytes: Buffer, version: number): RawPacket | string {
  if (shared === null) shared = new MqttPacketDriver();
  return shared.parse(bytes, version);
}

// ---------------------------------------------------------------- mapping to event fields

/**
 * mqtt-packet properties -> event properties: binary shown as hex, authenticationData replaced
 * by its keyed hash (computed by the caller from the original bytes), user properties copied.
 */
export function normalizeProperties(props: unknown, authData: readonly PasswordInfo[]): MqttProperties | undefined {
  if (props === undefined || props === null || typeof props !== 'object') return undefined;
  const src = props as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(src)) {
    const v = src[k];
    if (k === 'authenticationData') {
      out[k] = authData.length === 1 ? authData[0] : authData.slice();
      wipe(v);
    } else if (k === 'userProperties') {
      const u: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
      const m = v as Record<string, string | string[]>;
      for (const name of Object.keys(m)) {
        const x = m[name];
        u[name] = Array.isArray(x) ? x.slice() : x;
      }
      out[k] = u;
    } else if (Buffer.isBuffer(v)) out[k] = v.toString('hex');
    else if (Array.isArray(v)) out[k] = v.map((x: unknown) => (Buffer.isBuffer(x) ? x.toString('hex') : x));
    else out[k] = v;
  }
  return out;
}

function wipe(v: unknown): void {
  if (Buffer.isBuffer(v)) v.fill(0);
  else if (Array.isArray(v)) for (const x of v) if (Buffer.isBuffer(x)) x.fill(0);
}

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** What a CONNECT gives besides its event body: the session identity. */
export interface ConnectBody {
  body: MqttBody & { type: 'mqtt.connect' };
  clientId: string;
  username: string | null;
}

export function connectFromPacket(p: RawPacket, password: PasswordInfo, authData: readonly PasswordInfo[]): ConnectBody {
  const w = p.will as Record<string, unknown> | undefined;
  let will: ConnectBody['body']['will'] = null;
  if (w !== undefined) {
    const payload = w.payload;
    will = {
      topic: str(w.topic),
      qos: num(w.qos),
      retain: w.retain === true,
      payloadLength: Buffer.isBuffer(payload) ? payload.length : 0,
      properties: normalizeProperties(w.properties, []),
    };
    if (Buffer.isBuffer(payload)) payload.fill(0);
  }
  if (Buffer.isBuffer(p.password)) p.password.fill(0);
  return {
    body: {
      type: 'mqtt.connect',
      protocolName: str(p.protocolId),
      protocolVersion: num(p.protocolVersion),
      cleanStart: p.clean === true,
      keepAlive: num(p.keepalive),
      password,
      will,
      properties: normalizeProperties(p.properties, authData),
    },
    clientId: str(p.clientId),
    username: typeof p.username === 'string' ? p.username : null,
  };
}

/**
 * Event body for any packet but CONNECT. `v5` selects the MQTT 5 field set (reason codes);
 * `authData` holds the hashes of authenticationData values, in order.
 */
export function bodyFromPacket(p: RawPacket, v5: boolean, authData: readonly PasswordInfo[]): MqttBody | null {
  const properties = normalizeProperties(p.properties, authData);
  switch (p.cmd) {
    case 'connack':
      return { type: 'mqtt.connack', sessionPresent: p.sessionPresent === true, returnCode: num(v5 ? p.reasonCode : p.returnCode), properties };
    case 'publish': {
      const payload = p.payload;
      const topicAlias = properties !== undefined && typeof properties.topicAlias === 'number' ? properties.topicAlias : undefined;
      return {
        type: 'mqtt.publish',
        topic: str(p.topic),
        qos: num(p.qos),
        retain: p.retain === true,
        dup: p.dup === true,
        messageId: num(p.qos) > 0 ? num(p.messageId) : undefined,
        payloadLength: Buffer.isBuffer(payload) ? payload.length : typeof payload === 'string' ? Buffer.byteLength(payload) : 0,
        topicAlias,
        properties,
      };
    }
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return {
        type: `mqtt.${p.cmd}`,
        messageId: num(p.messageId),
        reasonCode: v5 ? num(p.reasonCode) : undefined,
        properties,
      };
    case 'subscribe': {
      const subs = (Array.isArray(p.subscriptions) ? p.subscriptions : []) as Record<string, unknown>[];
      const subscriptions: MqttSubscription[] = subs.map((s) =>
        v5
          ? { topic: str(s.topic), qos: num(s.qos), noLocal: s.nl === true, retainAsPublished: s.rap === true, retainHandling: num(s.rh) }
          : { topic: str(s.topic), qos: num(s.qos) });
      return { type: 'mqtt.subscribe', messageId: num(p.messageId), subscriptions, properties };
    }
    case 'suback':
      return { type: 'mqtt.suback', messageId: num(p.messageId), granted: numbers(p.granted), properties };
    case 'unsubscribe':
      return { type: 'mqtt.unsubscribe', messageId: num(p.messageId), topics: (Array.isArray(p.unsubscriptions) ? p.unsubscriptions : []).map(str), properties };
    case 'unsuback':
      return { type: 'mqtt.unsuback', messageId: num(p.messageId), reasonCodes: v5 ? numbers(p.granted) : undefined, properties };
    case 'pingreq':
      return { type: 'mqtt.pingreq' };
    case 'pingresp':
      return { type: 'mqtt.pingresp' };
    case 'disconnect':
      return { type: 'mqtt.disconnect', reasonCode: v5 ? num(p.reasonCode) : undefined, properties };
    case 'auth':
      return { type: 'mqtt.auth', reasonCode: num(p.reasonCode), properties };
    default:
      return null;
  }
}

function numbers(v: unknown): number[] {
  return Array.isArray(v) ? v.map(num) : [];
}
