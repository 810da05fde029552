// MQTT 5 properties (section 2.2.2): one pass that validates a property block and records the
// few values the state machine needs, and a by-hand decoder for the common simple blocks.
// Names and value shapes follow mqtt-packet so both decoding paths give the same events.
import type { MqttProperties } from '../../events/types';
import type { Issues } from './anomalies';
import {
  AUTH, CONNACK, CONNECT, DISCONNECT, PACKET_NAMES, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL,
  SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE, decodeString, hex2, readVarInt, scanString, stringIsBad,
} from './parser';

/** Pseudo packet kind for the Will Properties of a CONNECT (section 3.1.3.2). */
export const WILL = 16;

const T_BYTE = 1;
const T_INT8 = 2;
const T_INT16 = 3;
const T_INT32 = 4;
const T_VAR = 5;
const T_STRING = 6;
const T_BINARY = 7;
const T_PAIR = 8;

interface PropDef {
  readonly name: string;
  readonly type: number;
  /** Bit per packet kind (1 << type, 1 << WILL) where the property may appear (Table 2-4). */
  readonly allowed: number;
}

const DEFS: (PropDef | undefined)[] = new Array(256).fill(undefined);
const bit = (...kinds: number[]): number => kinds.reduce((m, k) => m | (1 << k), 0);

function def(id: number, name: string, type: number, allowed: number): void {
  DEFS[id] = { name, type, allowed };
}

// Table 2-4 - Properties. 'byte' flags decode to booleans, as mqtt-packet does.
def(0x01, 'payloadFormatIndicator', T_BYTE, bit(PUBLISH, WILL));
def(0x02, 'messageExpiryInterval', T_INT32, bit(PUBLISH, WILL));
def(0x03, 'contentType', T_STRING, bit(PUBLISH, WILL));
def(0x08, 'responseTopic', T_STRING, bit(PUBLISH, WILL));
def(0x09, 'correlationData', T_BINARY, bit(PUBLISH, WILL));
def(0x0b, 'subscriptionIdentifier', T_VAR, bit(PUBLISH, SUBSCRIBE));
def(0x11, 'sessionExpiryInterval', T_INT32, bit(CONNECT, CONNACK, DISCONNECT));
def(0x12, 'assignedClientIdentifier', T_STRING, bit(CONNACK));
def(0x13, 'serverKeepAlive', T_INT16, bit(CONNACK));
def(0x15, 'authenticationMethod', T_STRING, bit(CONNECT, CONNACK, AUTH));
def(0x16, 'authenticationData', T_BINARY, bit(CONNECT, CONNACK, AUTH));
def(0x17, 'requestProblemInformation', T_BYTE, bit(CONNECT));
def(0x18, 'willDelayInterval', T_INT32, bit(WILL));
def(0x19, 'requestResponseInformation', T_BYTE, bit(CONNECT));
def(0x1a, 'responseInformation', T_STRING, bit(CONNACK));
def(0x1c, 'serverReference', T_STRING, bit(CONNACK, DISCONNECT));
def(0x1f, 'reasonString', T_STRING, bit(CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH));
def(0x21, 'receiveMaximum', T_INT16, bit(CONNECT, CONNACK));
def(0x22, 'topicAliasMaximum', T_INT16, bit(CONNECT, CONNACK));
def(0x23, 'topicAlias', T_INT16, bit(PUBLISH));
def(0x24, 'maximumQoS', T_INT8, bit(CONNACK));
def(0x25, 'retainAvailable', T_BYTE, bit(CONNACK));
def(0x26, 'userProperties', T_PAIR, bit(CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP,
  SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, DISCONNECT, AUTH, WILL));
def(0x27, 'maximumPacketSize', T_INT32, bit(CONNECT, CONNACK));
def(0x28, 'wildcardSubscriptionAvailable', T_BYTE, bit(CONNACK));
def(0x29, 'subscriptionIdentifiersAvailable', T_BYTE, bit(CONNACK));
def(0x2a, 'sharedSubscriptionAvailable', T_BYTE, bit(CONNACK));

const USER_PROPERTY = 0x26;
const SUBSCRIPTION_ID = 0x0b;
const TOPIC_ALIAS = 0x23;
const TOPIC_ALIAS_MAXIMUM = 0x22;
const ASSIGNED_CLIENT_ID = 0x12;
const AUTH_DATA = 0x16;

export function kindName(kind: number): string {
  return kind === WILL ? 'Will Properties' : PACKET_NAMES[kind];
}

/** What one scan of a property block found. Reused; reset by every scan. */
export class PropScan {
  /** The block needs the general decoder: user properties, repeats, secrets, or problems. */
  complex = false;
  topicAlias = -1;
  topicAliasMaximum = -1;
  assignedIdStart = -1;
  assignedIdEnd = -1;
  /** [start, end) pairs of authenticationData values: hashed, never shown. */
  readonly secrets: number[] = [];

  reset(): void {
    this.complex = false;
    this.topicAlias = -1;
    this.topicAliasMaximum = -1;
    this.assignedIdStart = -1;
    this.assignedIdEnd = -1;
    if (this.secrets.length !== 0) this.secrets.length = 0;
  }
}

/**
 * Validates the property block buf[start, end) of a packet of `kind` (section 2.2.2.2): unknown
 * identifiers, properties not allowed in this packet, repeats, a Topic Alias or Subscription
 * Identifier of 0, and UTF-8 in string properties. Returns false when a value runs past the block
 * (a Malformed Packet); an unknown identifier ends the scan, since the rest cannot be delimited,
 * but the block itself still is.
 */
export function scanProperties(buf: Buffer, start: number, end: number, kind: number, s: PropScan, issues: Issues): boolean {
  s.reset();
  const kindBit = 1 << kind;
  let seenLo = 0;
  let seenHi = 0;
  let p = start;
  while (p < end) {
    const id = buf[p++];
    const d = DEFS[id];
    if (d === undefined) {
      issues.add('mqtt.invalid_property', `unknown property identifier ${hex2(id)} in ${kindName(kind)} (MQTT 5 section 2.2.2.2)`);
      s.complex = true;
      return true;
    }
    if ((d.allowed & kindBit) === 0) {
      issues.add('mqtt.invalid_property', `${d.name} is not allowed in ${kindName(kind)} (MQTT 5 section 2.2.2.2)`);
      s.complex = true;
    }
    const mask = 1 << (id & 31);
    const seen = id < 32 ? (seenLo & mask) !== 0 : (seenHi & mask) !== 0;
    if (seen) {
      s.complex = true;
      if (id !== USER_PROPERTY && !(id === SUBSCRIPTION_ID && kind === PUBLISH)) {
        issues.add('mqtt.invalid_property', `${d.name} appears more than once in ${kindName(kind)} (MQTT 5 section 2.2.2.2)`);
      }
    }
    if (id < 32) seenLo |= mask;
    else seenHi |= mask;
    switch (d.type) {
      case T_BYTE:
      case T_INT8:
        if (p + 1 > end) return false;
        p += 1;
        break;
      case T_INT16: {
        if (p + 2 > end) return false;
        const v = (buf[p] << 8) | buf[p + 1];
        p += 2;
        if (id === TOPIC_ALIAS) {
          s.topicAlias = v;
          // [MQTT-3.3.2-8]: a Topic Alias of 0 is not permitted.
          if (v === 0) issues.add('mqtt.invalid_property', 'Topic Alias 0 is not permitted [MQTT-3.3.2-8]');
        } else if (id === TOPIC_ALIAS_MAXIMUM) s.topicAliasMaximum = v;
        break;
      }
      case T_INT32:
        if (p + 4 > end) return false;
        p += 4;
        break;
      case T_VAR: {
        const vi = readVarInt(buf, p, end);
        if (vi < 0) return false;
        const n = vi & 7;
        if ((vi - n) / 8 === 0) issues.add('mqtt.invalid_property', 'Subscription Identifier 0 is a Protocol Error (MQTT 5 section 3.3.2.3.8)');
        p += n;
        break;
      }
      case T_STRING: {
        const q = stringEnd(buf, p, end);
        if (q < 0) return false;
        if (stringIsBad(scanString(buf, p + 2, q))) {
          issues.add('mqtt.invalid_utf8', `${d.name} is not well-formed UTF-8 [MQTT-1.5.4-1]`);
        }
        if (id === ASSIGNED_CLIENT_ID) {
          s.assignedIdStart = p + 2;
          s.assignedIdEnd = q;
        }
        p = q;
        break;
      }
      case T_BINARY: {
        const q = stringEnd(buf, p, end);
        if (q < 0) return false;
        if (id === AUTH_DATA) {
          s.secrets.push(p + 2, q);
          s.complex = true;
        }
        p = q;
        break;
      }
      case T_PAIR: {
        s.complex = true;
        const q1 = stringEnd(buf, p, end);
        if (q1 < 0) return false;
        const q2 = stringEnd(buf, q1, end);
        if (q2 < 0) return false;
        if (stringIsBad(scanString(buf, p + 2, q1)) || stringIsBad(scanString(buf, q1 + 2, q2))) {
          issues.add('mqtt.invalid_utf8', 'a User Property is not well-formed UTF-8 [MQTT-1.5.4-1]');
        }
        p = q2;
        break;
      }
    }
  }
  return true;
}

/** End of a 2-byte-length-prefixed field at p, or -1 when it runs past `end`. */
export function stringEnd(buf: Buffer, p: number, end: number): number {
  if (p + 2 > end) return -1;
  const q = p + 2 + ((buf[p] << 8) | buf[p + 1]);
  return q > end ? -1 : q;
}

/**
 * Decodes a block that scanProperties found simple (no user properties, repeats, secrets or
 * problems). Values as mqtt-packet gives them, except binary data, which is shown as hex.
 */
export function decodeSimpleProperties(buf: Buffer, start: number, end: number): MqttProperties {
  const out: Record<string, unknown> = {};
  let p = start;
  while (p < end) {
    const d = DEFS[buf[p++]] as PropDef;
    switch (d.type) {
      case T_BYTE: out[d.name] = buf[p] !== 0; p += 1; break;
      case T_INT8: out[d.name] = buf[p]; p += 1; break;
      case T_INT16: out[d.name] = (buf[p] << 8) | buf[p + 1]; p += 2; break;
      case T_INT32: out[d.name] = buf.readUInt32BE(p); p += 4; break;
      case T_VAR: {
        const vi = readVarInt(buf, p, end);
        const n = vi & 7;
        out[d.name] = (vi - n) / 8;
        p += n;
        break;
      }
      case T_STRING: {
        const q = p + 2 + ((buf[p] << 8) | buf[p + 1]);
        out[d.name] = decodeString(buf, p + 2, q, scanString(buf, p + 2, q));
        p = q;
        break;
      }
      case T_BINARY: {
        const q = p + 2 + ((buf[p] << 8) | buf[p + 1]);
        out[d.name] = buf.toString('hex', p + 2, q);
        p = q;
        break;
      }
      default:
        // T_PAIR never reaches here: scanProperties marks user properties complex.
        return out;
    }
  }
  return out;
}
