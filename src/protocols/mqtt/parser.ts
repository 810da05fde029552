// Pure MQTT framing and the fast-path decoders (PUBLISH, the four PUBLISH acknowledgements,
// PINGREQ/PINGRESP, DISCONNECT). Everything here reads buf[start, end) and allocates nothing
// on the common path; results go into caller-owned scratch objects.
import { isUtf8 } from 'node:buffer';
import { intern } from '../../util/intern';

// Control packet types [MQTT-2.2.1] (MQTT 5 section 2.1.2).
export const RESERVED = 0;
export const CONNECT = 1;
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const PUBREC = 5;
export const PUBREL = 6;
export const PUBCOMP = 7;
export const SUBSCRIBE = 8;
export const SUBACK = 9;
export const UNSUBSCRIBE = 10;
export const UNSUBACK = 11;
export const PINGREQ = 12;
export const PINGRESP = 13;
export const DISCONNECT = 14;
export const AUTH = 15;

export const PACKET_NAMES: readonly string[] = [
  'RESERVED', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP',
  'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'AUTH',
];

/** Largest remaining length a 4-byte variable byte integer can carry [MQTT-1.5.5]. */
export const MAX_REMAINING_LENGTH = 268_435_455;

// ---------------------------------------------------------------- fixed header

/** readFixedHeader: more bytes are needed to know the remaining length. */
export const NEED_MORE = -1;
/** readFixedHeader: the remaining-length varint has a continuation bit on its 4th byte. */
export const BAD_LENGTH = -2;

/**
 * Reads the fixed header at buf[p]: returns remaining * 8 + headerLength (2..5), or NEED_MORE /
 * BAD_LENGTH. Packing two numbers in one keeps the hot loop free of allocation.
 */
export function readFixedHeader(buf: Buffer, p: number, end: number): number {
  if (p + 1 >= end) return NEED_MORE;
  let b = buf[p + 1];
  if (b < 0x80) return b * 8 + 2;
  let v = b & 0x7f;
  if (p + 2 >= end) return NEED_MORE;
  b = buf[p + 2];
  v += (b & 0x7f) << 7;
  if (b < 0x80) return v * 8 + 3;
  if (p + 3 >= end) return NEED_MORE;
  b = buf[p + 3];
  v += (b & 0x7f) << 14;
  if (b < 0x80) return v * 8 + 4;
  if (p + 4 >= end) return NEED_MORE;
  b = buf[p + 4];
  if (b >= 0x80) return BAD_LENGTH;
  return (v + b * 2_097_152) * 8 + 5;
}

/**
 * Reads a variable byte integer [MQTT-1.5.5] inside a packet: value * 8 + byteCount, or -1 when
 * it runs past `end` or past 4 bytes.
 */
export function readVarInt(buf: Buffer, p: number, end: number): number {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 4; i++) {
    if (p + i >= end) return -1;
    const b = buf[p + i];
    v += (b & 0x7f) * mul;
    if (b < 0x80) return v * 8 + i + 1;
    mul *= 128;
  }
  return -1;
}

// ---------------------------------------------------------------- first byte

export const HDR_OK = 0;
/** Type 0, or 15 before MQTT 5 [MQTT-2.2.1]. */
export const HDR_RESERVED_TYPE = 1;
/** Reserved flag bits with the wrong value [MQTT-2.2.2-1]. */
export const HDR_BAD_FLAGS = 2;
/** PUBLISH with both QoS bits set [MQTT-3.3.1-4]. */
export const HDR_QOS3 = 3;
/** PUBLISH QoS 0 with DUP set [MQTT-3.3.1-2]. */
export const HDR_DUP_QOS0 = 4;

/** Required flag nibble per type (Table 2.2); -1 where flags carry meaning (PUBLISH). */
const REQUIRED_FLAGS = [0, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0];

function buildHeaderTable(authAllowed: boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) {
    const type = b >> 4;
    const flags = b & 15;
    if (type === RESERVED || (type === AUTH && !authAllowed)) t[b] = HDR_RESERVED_TYPE;
    else if (type === PUBLISH) {
      const qos = (flags >> 1) & 3;
      t[b] = qos === 3 ? HDR_QOS3 : qos === 0 && (flags & 8) !== 0 ? HDR_DUP_QOS0 : HDR_OK;
    } else t[b] = flags === REQUIRED_FLAGS[type] ? HDR_OK : HDR_BAD_FLAGS;
  }
  return t;
}

const HEADERS_V4 = buildHeaderTable(false);
const HEADERS_V5 = buildHeaderTable(true);

/** Classifies a first byte for a protocol level (0 = unknown, which admits AUTH). */
export function headerClass(b: number, version: number): number {
  return version === 3 || version === 4 ? HEADERS_V4[b] : HEADERS_V5[b];
}

/**
 * Whether a remaining length is possible for this type at this level: the minimum sizes of the
 * variable header and payload (sections 3.1-3.15), and the fixed sizes of 3.1.1 acknowledgements.
 */
export function plausibleRemaining(type: number, qos: number, rem: number, version: number): boolean {
  const v5 = version === 5 || version === 0;
  switch (type) {
    case CONNECT: return rem >= 12;
    case CONNACK: return v5 ? rem >= 2 : rem === 2;
    case PUBLISH: return rem >= (qos > 0 ? 4 : 2);
    case PUBACK: case PUBREC: case PUBREL: case PUBCOMP: return v5 ? rem >= 2 : rem === 2;
    case SUBSCRIBE: return rem >= 5;
    case SUBACK: return rem >= 3;
    case UNSUBSCRIBE: return rem >= 4;
    case UNSUBACK: return v5 ? rem >= 2 : rem === 2;
    case PINGREQ: case PINGRESP: return rem === 0;
    case DISCONNECT: return v5 || rem === 0;
    case AUTH: return v5;
    default: return false;
  }
}

/** A first byte that a resynchronising reader may trust: valid type and flags, nothing reserved. */
export function isStrictHeaderByte(b: number, version: number): boolean {
  return headerClass(b, version) === HDR_OK;
}

// ---------------------------------------------------------------- UTF-8 strings [MQTT-1.5.4]

export const STR_NON_ASCII = 1;
export const STR_NUL = 2;
export const STR_WILDCARD = 4;
export const STR_BAD_UTF8 = 8;

/**
 * Scans string bytes once: flags for non-ASCII, U+0000 and MQTT wildcards ('+', '#'). Full UTF-8
 * validation runs only when a byte >= 0x80 appears.
 */
export function scanString(buf: Buffer, start: number, end: number): number {
  let f = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c >= 0x80) f |= STR_NON_ASCII;
    else if (c === 0) f |= STR_NUL;
    else if (c === 0x23 || c === 0x2b) f |= STR_WILDCARD;
  }
  if ((f & STR_NON_ASCII) !== 0 && !isUtf8(buf.subarray(start, end))) f |= STR_BAD_UTF8;
  return f;
}

/** The string is not well-formed UTF-8, or holds U+0000 [MQTT-1.5.4-1], [MQTT-1.5.4-2]. */
export function stringIsBad(flags: number): boolean {
  return (flags & (STR_NUL | STR_BAD_UTF8)) !== 0;
}

export function decodeString(buf: Buffer, start: number, end: number, flags: number): string {
  return (flags & STR_NON_ASCII) === 0 ? buf.toString('latin1', start, end) : buf.toString('utf8', start, end);
}

const MEMO_SLOTS = 8;

/**
 * DataView over the buffer the memos last looked into: one per capture chunk, not one per
 * lookup. Module-level so that it pins at most one buffer, not one per connection.
 */
let viewed: Buffer | null = null;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

function viewOf(buf: Buffer): DataView<ArrayBufferLike> {
  if (buf !== viewed) {
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    viewed = buf;
  }
  return view;
}

/** Whether buf[start, start + n) holds the bytes stored as little-endian words (the last zero-padded) at m[at]. */
function sameWords(m: (string | number)[], at: number, buf: Buffer, start: number, n: number): boolean {
  const dv = viewOf(buf);
  const full = n >> 2;
  const off = start - buf.byteOffset + dv.byteOffset;
  for (let j = 0; j < full; j++) if (dv.getInt32(off + (j << 2), true) !== m[at + j]) return false;
  if ((n & 3) === 0) return true;
  let v = 0;
  for (let i = start + n - 1; i >= start + (full << 2); i--) v = (v << 8) | buf[i];
  return v === m[at + full];
}

// TopicMemo layout: one array per memo, MEMO_SLOTS headers of [text, first word, byte length,
// scan flags], then the words of each remembered topic.
const M_TEXT = 0;
const M_WORDS = 1;
const M_LENGTH = 2;
const M_FLAGS = 3;

/**
 * Per-direction topic memo: IoT streams repeat a handful of topics, so comparing the bytes with
 * a remembered ASCII topic is cheaper than decoding and validating it again. Direct-mapped by
 * length and two bytes. Everything sits in one array (strings, and the bytes as words compared
 * four at a time), so a hit touches the memo and that array only.
 */
export class TopicMemo {
  private m: (string | number)[] | null = null;

  /** Scan flags of the topic returned by the last get(). */
  lastFlags = 0;

  get(buf: Buffer, start: number, end: number): string {
    const n = end - start;
    if (n === 0) {
      this.lastFlags = 0;
      return '';
    }
    const slot = (n + buf[start] + buf[end - 1]) & (MEMO_SLOTS - 1);
    const m = this.m;
    const h = slot * 4;
    if (m !== null && m[h + M_LENGTH] === n && sameWords(m, m[h + M_WORDS] as number, buf, start, n)) {
      this.lastFlags = m[h + M_FLAGS] as number;
      return m[h + M_TEXT] as string;
    }
    const f = scanString(buf, start, end);
    const text = decodeString(buf, start, end, f);
    this.lastFlags = f;
    if ((f & STR_NON_ASCII) !== 0 || n > 1024) return text;
    // A remembered topic is handed out for every later message: interned (see util/intern).
    const t = intern(text);
    this.remember(slot, t, f, buf, start, n);
    return t;
  }

  /** Puts a topic in `slot`: the array is rebuilt (a miss is rare and costs a decode anyway). */
  private remember(slot: number, text: string, flags: number, buf: Buffer, start: number, n: number): void {
    const old = this.m;
    const m: (string | number)[] = [];
    for (let s = 0; s < MEMO_SLOTS; s++) m.push('', 0, -1, 0);
    for (let s = 0; s < MEMO_SLOTS; s++) {
      const h = s * 4;
      if (s === slot) {
        m[h + M_TEXT] = text;
        m[h + M_WORDS] = m.length;
        m[h + M_LENGTH] = n;
        m[h + M_FLAGS] = flags;
        for (let w = 0; w < n; w += 4) {
          let v = 0;
          for (let i = Math.min(n, w + 4) - 1; i >= w; i--) v = (v << 8) | buf[start + i];
          m.push(v);
        }
      } else if (old !== null && (old[h + M_LENGTH] as number) >= 0) {
        const len = old[h + M_LENGTH] as number;
        const from = old[h + M_WORDS] as number;
        m[h + M_TEXT] = old[h + M_TEXT];
        m[h + M_WORDS] = m.length;
        m[h + M_LENGTH] = len;
        m[h + M_FLAGS] = old[h + M_FLAGS];
        for (let w = 0; w < (len + 3) >> 2; w++) m.push(old[from + w]);
      }
    }
    this.m = m;
  }
}

// ---------------------------------------------------------------- PUBLISH [MQTT-3.3]

/**
 * Where decodePublish puts what it reads. It is also the direction's topic memo (one object
 * instead of two on the per-packet path).
 */
export class PublishScratch extends TopicMemo {
  topic = '';
  topicFlags = 0;
  /** -1 for QoS 0 (no packet identifier). */
  messageId = -1;
  /** Property bytes [propsStart, propsEnd); equal when none (or before MQTT 5). */
  propsStart = 0;
  propsEnd = 0;
  hasProps = false;
  payloadStart = 0;
}

/**
 * Decodes a PUBLISH variable header from buf[p, end) (after the fixed header). Returns null, or a
 * fixed-vocabulary reason why the packet is malformed. QoS 3 is read like QoS 1/2 (it has a
 * packet identifier on the wire in practice); the caller reports it.
 */
export function decodePublish(buf: Buffer, p: number, end: number, qos: number, v5: boolean, s: PublishScratch): string | null {
  s.topic = '';
  s.topicFlags = 0;
  s.messageId = -1;
  s.hasProps = false;
  s.payloadStart = end;
  if (end - p < 2) return 'PUBLISH too short for the topic length [MQTT-3.3.2-1]';
  const t0 = p + 2;
  const t1 = t0 + ((buf[p] << 8) | buf[p + 1]);
  if (t1 > end) return 'PUBLISH topic length runs past the packet [MQTT-3.3.2-1]';
  s.topic = s.get(buf, t0, t1);
  s.topicFlags = s.lastFlags;
  let q = t1;
  if (qos > 0) {
    if (q + 2 > end) return 'PUBLISH QoS > 0 without a packet identifier [MQTT-2.2.1-2]';
    s.messageId = (buf[q] << 8) | buf[q + 1];
    q += 2;
  } else s.messageId = -1;
  if (v5) {
    const vi = readVarInt(buf, q, end);
    if (vi < 0) return 'PUBLISH property length runs past the packet (MQTT 5 section 2.2.2.1)';
    const n = vi & 7;
    const plen = (vi - n) / 8;
    s.propsStart = q + n;
    s.propsEnd = s.propsStart + plen;
    if (s.propsEnd > end) return 'PUBLISH property length runs past the packet (MQTT 5 section 2.2.2.1)';
    s.hasProps = true;
    q = s.propsEnd;
  } else {
    s.propsStart = s.propsEnd = q;
    s.hasProps = false;
  }
  s.payloadStart = q;
  return null;
}

// ---------------------------------------------------------------- acknowledgements, DISCONNECT

export class AckScratch {
  messageId = 0;
  /** -1 when the packet carries none (3.1.1), else the code (0 when omitted in MQTT 5). */
  reasonCode = -1;
  propsStart = 0;
  propsEnd = 0;
  hasProps = false;
}

/**
 * PUBACK/PUBREC/PUBREL/PUBCOMP: 2-byte packet identifier [MQTT-3.4.2], then in MQTT 5 an
 * optional reason code and optional properties (section 3.4.2.1, 3.4.2.2).
 */
export function decodeAck(buf: Buffer, p: number, end: number, v5: boolean, s: AckScratch): string | null {
  const rem = end - p;
  if (rem < 2) return 'acknowledgement shorter than its packet identifier [MQTT-3.4.2]';
  s.messageId = (buf[p] << 8) | buf[p + 1];
  s.hasProps = false;
  s.propsStart = s.propsEnd = end;
  if (!v5) {
    s.reasonCode = -1;
    return rem === 2 ? null : 'acknowledgement remaining length must be 2 before MQTT 5 [MQTT-3.4.1]';
  }
  s.reasonCode = rem > 2 ? buf[p + 2] : 0;
  if (rem > 3) return readProps(buf, p + 3, end, s);
  return null;
}

/** DISCONNECT: empty before MQTT 5 [MQTT-3.14.1]; then reason code and properties (3.14.2). */
export function decodeDisconnect(buf: Buffer, p: number, end: number, v5: boolean, s: AckScratch): string | null {
  const rem = end - p;
  s.messageId = 0;
  s.hasProps = false;
  s.propsStart = s.propsEnd = end;
  if (!v5) {
    s.reasonCode = -1;
    return rem === 0 ? null : 'DISCONNECT remaining length must be 0 before MQTT 5 [MQTT-3.14.1-1]';
  }
  s.reasonCode = rem > 0 ? buf[p] : 0;
  if (rem > 1) return readProps(buf, p + 1, end, s);
  return null;
}

function readProps(buf: Buffer, p: number, end: number, s: AckScratch): string | null {
  const vi = readVarInt(buf, p, end);
  if (vi < 0) return 'property length runs past the packet (MQTT 5 section 2.2.2.1)';
  const n = vi & 7;
  s.propsStart = p + n;
  s.propsEnd = s.propsStart + (vi - n) / 8;
  s.hasProps = true;
  if (s.propsEnd !== end) {
    return s.propsEnd > end
      ? 'property length runs past the packet (MQTT 5 section 2.2.2.1)'
      : 'bytes after the properties of a packet that has no payload';
  }
  return null;
}

// ---------------------------------------------------------------- reason codes (MQTT 5 section 2.4)

function codeSet(codes: number[]): Uint8Array {
  const t = new Uint8Array(256);
  for (const c of codes) t[c] = 1;
  return t;
}

export const CONNACK_CODES_V4 = codeSet([0, 1, 2, 3, 4, 5]);
export const CONNACK_CODES_V5 = codeSet([
  0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97,
  0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f,
]);
export const PUBACK_CODES = codeSet([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]);
export const PUBREL_CODES = codeSet([0x00, 0x92]);
export const SUBACK_CODES_V4 = codeSet([0, 1, 2, 0x80]);
export const SUBACK_CODES_V5 = codeSet([0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2]);
export const UNSUBACK_CODES = codeSet([0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91]);
export const DISCONNECT_CODES = codeSet([
  0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95,
  0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2,
]);
export const AUTH_CODES = codeSet([0x00, 0x18, 0x19]);

export function hex2(b: number): string {
  return '0x' + (b < 16 ? '0' : '') + b.toString(16);
}
