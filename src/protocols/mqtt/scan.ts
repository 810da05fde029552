// Structural checks for the packets mqtt-packet decodes (CONNECT, CONNACK, SUBSCRIBE, SUBACK,
// UNSUBSCRIBE, UNSUBACK, AUTH). mqtt-packet does not validate UTF-8, property rules, trailing
// bytes or topic filters, and it refuses some packets outright (QoS 3 in a subscription, an
// unknown property); these walks find what is wrong, locate the secrets to hash and hide, and
// carry enough of the packet to still report it when mqtt-packet refuses it.
import type { MqttSubscription } from '../../events/types';
import { type Issues, quoted } from './anomalies';
import {
  AUTH, AUTH_CODES, CONNACK, CONNACK_CODES_V4, CONNACK_CODES_V5, CONNECT, SUBACK, SUBACK_CODES_V4,
  SUBACK_CODES_V5, SUBSCRIBE, UNSUBACK, UNSUBACK_CODES, UNSUBSCRIBE, STR_WILDCARD, decodeString, hex2,
  readVarInt, scanString, stringIsBad,
} from './parser';
import { type PropScan, WILL, scanProperties, stringEnd } from './properties';

/** A property block located in a packet: [start, end), or start = -1 when absent. */
export interface Block {
  start: number;
  end: number;
}

const NO_BLOCK: Block = { start: -1, end: -1 };

/** Reads a property length at p and checks the block against `end`; null when it runs past. */
function propertyBlock(buf: Buffer, p: number, end: number): Block | null {
  const vi = readVarInt(buf, p, end);
  if (vi < 0) return null;
  const n = vi & 7;
  const start = p + n;
  const stop = start + (vi - n) / 8;
  return stop > end ? null : { start, end: stop };
}

function checkBlock(
  buf: Buffer, b: Block, kind: number, ps: PropScan, issues: Issues, secrets: number[] | null,
): boolean {
  if (!scanProperties(buf, b.start, b.end, kind, ps, issues)) {
    issues.add('mqtt.malformed', 'a property value runs past its property block (MQTT 5 section 2.2.2)');
    return false;
  }
  if (secrets !== null) for (const x of ps.secrets) secrets.push(x);
  return true;
}

const MALFORMED_PROPS = 'property length runs past the packet (MQTT 5 section 2.2.2.1)';

// ---------------------------------------------------------------- CONNECT [MQTT-3.1]

export interface ConnectInfo {
  /** The packet could be walked to its end (anomalies aside). */
  ok: boolean;
  protocolName: string;
  /** Protocol level byte as sent (0x80 set by mosquitto bridges). */
  level: number;
  /** 3, 4 or 5; 0 when the level was unreadable or unsupported. */
  version: number;
  cleanStart: boolean;
  keepAlive: number;
  clientId: string;
  username: string | null;
  passwordStart: number;
  passwordEnd: number;
  will: { topic: string; qos: number; retain: boolean; payloadLength: number } | null;
  props: Block;
  willProps: Block;
  /** [start, end) pairs to hash and then zero: authenticationData values. */
  authData: number[];
  topicAliasMaximum: number;
}

export function scanConnect(buf: Buffer, p: number, end: number, issues: Issues, ps: PropScan): ConnectInfo {
  const info: ConnectInfo = {
    ok: false, protocolName: '', level: 0, version: 0, cleanStart: false, keepAlive: 0, clientId: '',
    username: null, passwordStart: -1, passwordEnd: -1, will: null, props: NO_BLOCK, willProps: NO_BLOCK,
    authData: [], topicAliasMaximum: -1,
  };
  const ne = stringEnd(buf, p, end);
  if (ne < 0) return fail(info, issues, 'CONNECT too short for the protocol name [MQTT-3.1.2-1]');
  info.protocolName = buf.toString('latin1', p + 2, ne);
  if (info.protocolName !== 'MQTT' && info.protocolName !== 'MQIsdp') {
    return fail(info, issues, `unknown protocol name ${quoted(info.protocolName, 16)} [MQTT-3.1.2-1]`);
  }
  let q = ne;
  if (q + 4 > end) return fail(info, issues, 'CONNECT too short for level, flags and keep alive [MQTT-3.1.2]');
  info.level = buf[q];
  const lv = info.level & 0x7f;
  if (lv < 3 || lv > 5) return fail(info, issues, `unsupported protocol level ${info.level} [MQTT-3.1.2-2]`);
  info.version = lv;
  const flags = buf[q + 1];
  info.keepAlive = (buf[q + 2] << 8) | buf[q + 3];
  q += 4;
  info.cleanStart = (flags & 0x02) !== 0;
  if ((flags & 0x01) !== 0) issues.add('mqtt.malformed', 'CONNECT reserved flag is set [MQTT-3.1.2-3]');
  const willFlag = (flags & 0x04) !== 0;
  const willQos = (flags >> 3) & 3;
  const willRetain = (flags & 0x20) !== 0;
  if (!willFlag && (willQos !== 0 || willRetain)) {
    issues.add('mqtt.malformed', 'Will QoS/Retain set without the Will Flag [MQTT-3.1.2-11]');
  }
  if (willFlag && willQos === 3) issues.add('mqtt.invalid_qos', 'Will QoS 3 [MQTT-3.1.2-12]');
  const userFlag = (flags & 0x80) !== 0;
  const passFlag = (flags & 0x40) !== 0;
  if (lv < 5 && passFlag && !userFlag) issues.add('mqtt.malformed', 'Password Flag without User Name Flag [MQTT-3.1.2-22]');
  if (lv === 5) {
    const b = propertyBlock(buf, q, end);
    if (b === null) return fail(info, issues, MALFORMED_PROPS);
    if (!checkBlock(buf, b, CONNECT, ps, issues, info.authData)) return info;
    info.props = b;
    info.topicAliasMaximum = ps.topicAliasMaximum;
    q = b.end;
  }
  const ce = stringEnd(buf, q, end);
  if (ce < 0) return fail(info, issues, 'CONNECT client identifier runs past the packet [MQTT-3.1.3-3]');
  const cf = scanString(buf, q + 2, ce);
  if (stringIsBad(cf)) issues.add('mqtt.invalid_utf8', 'client identifier is not well-formed UTF-8 [MQTT-3.1.3-4]');
  info.clientId = decodeString(buf, q + 2, ce, cf);
  q = ce;
  if (willFlag) {
    if (lv === 5) {
      const b = propertyBlock(buf, q, end);
      if (b === null) return fail(info, issues, MALFORMED_PROPS);
      if (!checkBlock(buf, b, WILL, ps, issues, info.authData)) return info;
      info.willProps = b;
      q = b.end;
    }
    const te = stringEnd(buf, q, end);
    if (te < 0) return fail(info, issues, 'CONNECT will topic runs past the packet [MQTT-3.1.3-10]');
    const tf = scanString(buf, q + 2, te);
    if (stringIsBad(tf)) issues.add('mqtt.invalid_utf8', 'will topic is not well-formed UTF-8 [MQTT-3.1.3-11]');
    if ((tf & STR_WILDCARD) !== 0) issues.add('mqtt.wildcard_in_publish', 'will topic contains a wildcard [MQTT-3.3.2-2]');
    const topic = decodeString(buf, q + 2, te, tf);
    const pe = stringEnd(buf, te, end);
    if (pe < 0) return fail(info, issues, 'CONNECT will payload runs past the packet [MQTT-3.1.3-10]');
    info.will = { topic, qos: willQos, retain: willRetain, payloadLength: pe - te - 2 };
    q = pe;
  }
  if (userFlag) {
    const ue = stringEnd(buf, q, end);
    if (ue < 0) return fail(info, issues, 'CONNECT user name runs past the packet [MQTT-3.1.2-19]');
    const uf = scanString(buf, q + 2, ue);
    if (stringIsBad(uf)) issues.add('mqtt.invalid_utf8', 'user name is not well-formed UTF-8 [MQTT-3.1.3-12]');
    info.username = decodeString(buf, q + 2, ue, uf);
    q = ue;
  }
  if (passFlag) {
    const we = stringEnd(buf, q, end);
    if (we < 0) return fail(info, issues, 'CONNECT password runs past the packet [MQTT-3.1.2-21]');
    info.passwordStart = q + 2;
    info.passwordEnd = we;
    q = we;
  }
  if (q !== end) issues.add('mqtt.malformed', 'bytes after the end of the CONNECT payload');
  info.ok = true;
  return info;
}

function fail<T extends { ok: boolean }>(info: T, issues: Issues, why: string): T {
  issues.add('mqtt.malformed', why);
  info.ok = false;
  return info;
}

// ---------------------------------------------------------------- CONNACK [MQTT-3.2]

export interface ConnackInfo {
  ok: boolean;
  sessionPresent: boolean;
  returnCode: number;
  props: Block;
  topicAliasMaximum: number;
  assignedClientId: string | null;
  authData: number[];
}

export function scanConnack(buf: Buffer, p: number, end: number, v5: boolean, issues: Issues, ps: PropScan): ConnackInfo {
  const info: ConnackInfo = {
    ok: false, sessionPresent: false, returnCode: 0, props: NO_BLOCK, topicAliasMaximum: -1,
    assignedClientId: null, authData: [],
  };
  if (end - p < 2) return fail(info, issues, 'CONNACK shorter than 2 bytes [MQTT-3.2.2]');
  const flags = buf[p];
  if ((flags & 0xfe) !== 0) issues.add('mqtt.malformed', 'CONNACK acknowledge flags bits 7-1 are not 0 [MQTT-3.2.2-1]');
  info.sessionPresent = (flags & 1) !== 0;
  info.returnCode = buf[p + 1];
  if (!(v5 ? CONNACK_CODES_V5 : CONNACK_CODES_V4)[info.returnCode]) {
    issues.add('mqtt.invalid_reason_code', `CONNACK code ${hex2(info.returnCode)} is not defined (section 3.2.2.2)`);
  }
  if (info.sessionPresent && info.returnCode !== 0) {
    issues.add('mqtt.malformed', 'Session Present set on a refused connection [MQTT-3.2.2-4]');
  }
  if (v5) {
    if (end - p > 2) {
      const b = propertyBlock(buf, p + 2, end);
      if (b === null) return fail(info, issues, MALFORMED_PROPS);
      if (b.end !== end) issues.add('mqtt.malformed', 'bytes after the CONNACK properties');
      if (!checkBlock(buf, b, CONNACK, ps, issues, info.authData)) return info;
      info.props = b;
      info.topicAliasMaximum = ps.topicAliasMaximum;
      if (ps.assignedIdStart >= 0) info.assignedClientId = buf.toString('utf8', ps.assignedIdStart, ps.assignedIdEnd);
    }
  } else if (end - p !== 2) issues.add('mqtt.malformed', 'CONNACK remaining length must be 2 before MQTT 5 [MQTT-3.2.1]');
  info.ok = true;
  return info;
}

// ---------------------------------------------------------------- SUBSCRIBE, UNSUBSCRIBE

/** Topic filter syntax (section 4.7.1): '#' last and alone in its level, '+' alone in its level. */
export function filterIsValid(f: string): boolean {
  const n = f.length;
  for (let i = 0; i < n; i++) {
    const c = f.charCodeAt(i);
    if (c === 0x23) {
      if (i !== n - 1 || (i > 0 && f.charCodeAt(i - 1) !== 0x2f)) return false;
    } else if (c === 0x2b) {
      if ((i > 0 && f.charCodeAt(i - 1) !== 0x2f) || (i < n - 1 && f.charCodeAt(i + 1) !== 0x2f)) return false;
    }
  }
  return true;
}

/** Reads one topic filter at q; returns its end, or -1 (issue recorded) when it runs past. */
function readFilter(buf: Buffer, q: number, end: number, issues: Issues, out: string[]): number {
  const fe = stringEnd(buf, q, end);
  if (fe < 0) return -1;
  const ff = scanString(buf, q + 2, fe);
  const filter = decodeString(buf, q + 2, fe, ff);
  if (stringIsBad(ff)) issues.add('mqtt.invalid_utf8', 'topic filter is not well-formed UTF-8 [MQTT-4.7.3-2]');
  if (fe === q + 2) issues.add('mqtt.malformed', 'empty topic filter [MQTT-4.7.3-1]');
  else if ((ff & STR_WILDCARD) !== 0 && !filterIsValid(filter)) {
    issues.add('mqtt.malformed', `invalid wildcard use in topic filter ${quoted(filter)} [MQTT-4.7.1-2]`);
  }
  out.push(filter);
  return fe;
}

function readPacketId(buf: Buffer, p: number, end: number, issues: Issues, what: string): number {
  if (end - p < 2) return -1;
  const id = (buf[p] << 8) | buf[p + 1];
  if (id === 0) issues.add('mqtt.malformed', `${what} with packet identifier 0 [MQTT-2.2.1-3]`);
  return id;
}

export interface SubscribeInfo {
  ok: boolean;
  messageId: number;
  subscriptions: MqttSubscription[];
  props: Block;
}

export function scanSubscribe(buf: Buffer, p: number, end: number, v5: boolean, issues: Issues, ps: PropScan): SubscribeInfo {
  const info: SubscribeInfo = { ok: false, messageId: 0, subscriptions: [], props: NO_BLOCK };
  info.messageId = readPacketId(buf, p, end, issues, 'SUBSCRIBE');
  if (info.messageId < 0) return fail(info, issues, 'SUBSCRIBE too short for its packet identifier [MQTT-3.8.2]');
  let q = p + 2;
  if (v5) {
    const b = propertyBlock(buf, q, end);
    if (b === null) return fail(info, issues, MALFORMED_PROPS);
    if (!checkBlock(buf, b, SUBSCRIBE, ps, issues, null)) return info;
    info.props = b;
    q = b.end;
  }
  if (q === end) return fail(info, issues, 'SUBSCRIBE without a topic filter [MQTT-3.8.3-3]');
  const filters: string[] = [];
  while (q < end) {
    const fe = readFilter(buf, q, end, issues, filters);
    if (fe < 0 || fe >= end) return fail(info, issues, 'SUBSCRIBE topic filter or options run past the packet [MQTT-3.8.3]');
    const o = buf[fe];
    q = fe + 1;
    const qos = o & 3;
    if (qos === 3) issues.add('mqtt.invalid_qos', 'subscription with QoS 3 [MQTT-3.8.3-4]');
    const topic = filters[filters.length - 1];
    if (v5) {
      if ((o & 0xc0) !== 0) issues.add('mqtt.malformed', 'subscription options bits 7-6 are not 0 [MQTT-3.8.3-5]');
      const rh = (o >> 4) & 3;
      if (rh === 3) issues.add('mqtt.malformed', 'subscription Retain Handling 3 (section 3.8.3.1)');
      info.subscriptions.push({ topic, qos, noLocal: (o & 4) !== 0, retainAsPublished: (o & 8) !== 0, retainHandling: rh });
    } else {
      if ((o & 0xfc) !== 0) issues.add('mqtt.malformed', 'requested QoS byte bits 7-2 are not 0 [MQTT-3-8.3-4]');
      info.subscriptions.push({ topic, qos });
    }
  }
  info.ok = true;
  return info;
}

export interface UnsubscribeInfo {
  ok: boolean;
  messageId: number;
  topics: string[];
  props: Block;
}

export function scanUnsubscribe(buf: Buffer, p: number, end: number, v5: boolean, issues: Issues, ps: PropScan): UnsubscribeInfo {
  const info: UnsubscribeInfo = { ok: false, messageId: 0, topics: [], props: NO_BLOCK };
  info.messageId = readPacketId(buf, p, end, issues, 'UNSUBSCRIBE');
  if (info.messageId < 0) return fail(info, issues, 'UNSUBSCRIBE too short for its packet identifier [MQTT-3.10.2]');
  let q = p + 2;
  if (v5) {
    const b = propertyBlock(buf, q, end);
    if (b === null) return fail(info, issues, MALFORMED_PROPS);
    if (!checkBlock(buf, b, UNSUBSCRIBE, ps, issues, null)) return info;
    info.props = b;
    q = b.end;
  }
  if (q === end) return fail(info, issues, 'UNSUBSCRIBE without a topic filter [MQTT-3.10.3-2]');
  while (q < end) {
    const fe = readFilter(buf, q, end, issues, info.topics);
    if (fe < 0) return fail(info, issues, 'UNSUBSCRIBE topic filter runs past the packet [MQTT-3.10.3]');
    q = fe;
  }
  info.ok = true;
  return info;
}

// ---------------------------------------------------------------- SUBACK, UNSUBACK

export interface AckListInfo {
  ok: boolean;
  messageId: number;
  codes: number[];
  props: Block;
}

export function scanSuback(buf: Buffer, p: number, end: number, v5: boolean, issues: Issues, ps: PropScan): AckListInfo {
  return scanAckList(buf, p, end, v5, issues, ps, SUBACK);
}

export function scanUnsuback(buf: Buffer, p: number, end: number, v5: boolean, issues: Issues, ps: PropScan): AckListInfo {
  if (!v5) {
    const info: AckListInfo = { ok: false, messageId: 0, codes: [], props: NO_BLOCK };
    if (end - p !== 2) {
      if (end - p < 2) return fail(info, issues, 'UNSUBACK too short for its packet identifier [MQTT-3.11.2]');
      issues.add('mqtt.malformed', 'UNSUBACK remaining length must be 2 before MQTT 5 [MQTT-3.11.1]');
    }
    info.messageId = readPacketId(buf, p, end, issues, 'UNSUBACK');
    info.ok = true;
    return info;
  }
  return scanAckList(buf, p, end, v5, issues, ps, UNSUBACK);
}

function scanAckList(buf: Buffer, p: number, end: number, v5: boolean, issues: Issues, ps: PropScan, type: number): AckListInfo {
  const name = type === SUBACK ? 'SUBACK' : 'UNSUBACK';
  const info: AckListInfo = { ok: false, messageId: 0, codes: [], props: NO_BLOCK };
  info.messageId = readPacketId(buf, p, end, issues, name);
  if (info.messageId < 0) return fail(info, issues, `${name} too short for its packet identifier`);
  let q = p + 2;
  if (v5) {
    const b = propertyBlock(buf, q, end);
    if (b === null) return fail(info, issues, MALFORMED_PROPS);
    if (!checkBlock(buf, b, type, ps, issues, null)) return info;
    info.props = b;
    q = b.end;
  }
  if (q === end) return fail(info, issues, `${name} without any return code [MQTT-3.9.3]`);
  const valid = type === UNSUBACK ? UNSUBACK_CODES : v5 ? SUBACK_CODES_V5 : SUBACK_CODES_V4;
  for (; q < end; q++) {
    const c = buf[q];
    if (!valid[c]) issues.add('mqtt.invalid_reason_code', `${name} code ${hex2(c)} is not defined [MQTT-3.9.3-2]`);
    info.codes.push(c);
  }
  info.ok = true;
  return info;
}

// ---------------------------------------------------------------- AUTH (MQTT 5 section 3.15)

export interface AuthInfo {
  ok: boolean;
  reasonCode: number;
  props: Block;
  authData: number[];
}

export function scanAuth(buf: Buffer, p: number, end: number, issues: Issues, ps: PropScan): AuthInfo {
  const info: AuthInfo = { ok: false, reasonCode: 0, props: NO_BLOCK, authData: [] };
  // [MQTT-3.15.2-1]: remaining length 0 means Success with no properties.
  if (end > p) {
    info.reasonCode = buf[p];
    if (!AUTH_CODES[info.reasonCode]) {
      issues.add('mqtt.invalid_reason_code', `AUTH reason code ${hex2(info.reasonCode)} is not defined (section 3.15.2.1)`);
    }
    if (end - p > 1) {
      const b = propertyBlock(buf, p + 1, end);
      if (b === null) return fail(info, issues, MALFORMED_PROPS);
      if (b.end !== end) issues.add('mqtt.malformed', 'bytes after the AUTH properties');
      if (!checkBlock(buf, b, AUTH, ps, issues, info.authData)) return info;
      info.props = b;
    }
  }
  info.ok = true;
  return info;
}

