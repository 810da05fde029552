// One MQTT connection: framing per direction (whole packets parsed in place, only a partial
// trailing packet copied), the session (protocol level, client id, CONNECT/CONNACK order, topic
// aliases) and the bounds on all of it. Never throws: garbage marks a direction desynced.
import type {
  EventSink, FlowSide, MqttEvent, MqttProperties, MqttPublish, PasswordInfo,
} from '../../events/types';
import type { Dir, FlowInfo, TcpAppHandler } from '../../flow/types';
import { Issues, type MqttAnomalyCode, mqttAnomaly, quoted } from './anomalies';
import { type MqttBody, bodyFromPacket, connectFromPacket, parseWithMqttPacket } from './full';
import {
  AUTH, AckScratch, BAD_LENGTH, CONNACK, CONNECT, DISCONNECT, DISCONNECT_CODES, HDR_BAD_FLAGS,
  HDR_DUP_QOS0, HDR_OK, HDR_QOS3, HDR_RESERVED_TYPE, NEED_MORE, PACKET_NAMES, PINGREQ, PINGRESP,
  PUBACK, PUBACK_CODES, PUBCOMP, PUBLISH, PUBREC, PUBREL, PUBREL_CODES, PublishScratch, STR_WILDCARD,
  SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE, decodeAck, decodeDisconnect, decodePublish, headerClass,
  hex2, isStrictHeaderByte, plausibleRemaining, readFixedHeader, scanString, stringIsBad,
} from './parser';
import { NO_PASSWORD, SecretHasher } from './password';
import { intern } from '../../util/intern';
import { PropScan, decodeSimpleProperties, scanProperties } from './properties';
import {
  type AckListInfo, type AuthInfo, type ConnackInfo, type SubscribeInfo, type UnsubscribeInfo,
  scanAuth, scanConnack, scanConnect, scanSuback, scanSubscribe, scanUnsuback, scanUnsubscribe,
} from './scan';

export interface MqttOptions {
  /** Per-installation key for password hashes (HMAC-SHA-256). */
  secret: Buffer;
  /**
   * Largest remaining length decoded, like Suricata's max-msg-length (default 1 MiB). A larger
   * packet is reported (mqtt.oversized) with what its first bytes hold; the rest is skipped
   * without being buffered.
   */
  maxMessageLength?: number;
  /**
   * The decoder was attached to a stream that may not begin at a packet boundary or with the
   * client's CONNECT (the classifier recognised MQTT from fixed headers): start by looking for
   * a plausible packet, and infer the protocol level. mqtt.missing_connect stays governed by
   * FlowInfo.midstream: only a connection whose start was not seen is excused from it.
   */
  midstream?: boolean;
  /** Topic aliases kept per direction (MQTT 5 allows 65535). Default 1024. */
  maxTopicAliases?: number;
  /** Topic characters kept for aliases per direction. Default 262144. */
  maxTopicAliasBytes?: number;
}

/** Knobs for tests and tools: not for the sensor's configuration. */
export interface MqttTestOptions {
  /** Behave as if the session (at this level, 0 = unknown) was established before the data. */
  assumeEstablished?: number;
  /** Decode every packet with mqtt-packet (for cross-checking the fast path). */
  forceFull?: boolean;
}

export interface MqttStats {
  messages: number;
  /** Packets decoded by mqtt-packet (the rest by hand). */
  fullPath: number;
  anomalies: number;
  oversized: number;
  /** Bytes passed over without decoding (oversized bodies, bytes after a gap). */
  skippedBytes: number;
  desyncs: number;
  resyncs: number;
  /** Topic aliases that were set but not kept (map full). */
  aliasOverflows: number;
  /** Bytes copied into the partial-packet buffers. */
  copiedBytes: number;
}

export const DEFAULT_MAX_MESSAGE_LENGTH = 1 << 20;

const SYNC = 0;
const RESYNC = 1;
const SKIP = 2;

const ACK_TYPES = ['', '', '', '', 'mqtt.puback', 'mqtt.pubrec', 'mqtt.pubrel', 'mqtt.pubcomp'] as const;

/** An oversized packet whose body is being skipped: its event waits for the body's end. */
interface Oversized {
  name: string;
  type: number;
  skipped: number;
  event: MqttEvent | null;
  codes: MqttAnomalyCode[];
  details: string[];
}

/** One direction's framing and session state; it is also that direction's PUBLISH scratch and topic memo. */
class DirState extends PublishScratch {
  mode = SYNC;
  /**
   * SYNC: a partial packet (need = its total length, or 0 while the fixed header is incomplete).
   * RESYNC: bytes from the first candidate not yet confirmed (need = bytes wanted to decide).
   */
  pend: Buffer | null = null;
  pendLen = 0;
  need = 0;
  /** SYNC, collecting the head of an oversized packet: the packet's total length. */
  overTotal = 0;
  /** SKIP: bytes left to pass over; `oversized` is reported when they are gone. */
  skip = 0;
  oversized: Oversized | null = null;
  /** Desync already reported for the current loss of framing (or the loss is explained: gap, midstream). */
  quiet = false;
  /** The last packet was admitted on trust (questionable header, end not yet visible). */
  unverified = false;
  /** Any data or gap seen in this direction. */
  active = false;
  gapBytes = 0;
  aliases: Map<number, string> | null = null;
  aliasChars = 0;
  aliasLost: Uint8Array | null = null;
  aliasLimitReported = false;
  /** Topic Alias Maximum granted by the receiver of this direction; -1 unknown. */
  aliasMax = -1;
  beforeConnackReported = false;

  readonly dir: Dir;
  readonly side: FlowSide;

  constructor(dir: Dir, side: FlowSide) {
    super();
    this.dir = dir;
    this.side = side;
  }
}

/** The client's first packet before CONNACK: legal pipelining unless CONNACK never comes. */
interface PendingOrder {
  type: number;
  frame: number;
}

export class MqttConnection implements TcpAppHandler {
  // Fields read for every packet first (V8 lays them out in this order): they share the
  // object's first cache lines.
  private ended = false;
  private ts = 0;
  private frame = 0;
  private readonly d0: DirState;
  private readonly d1: DirState;
  /** Protocol level of the connection: 3, 4, 5, or 0 while unknown. */
  version = 0;
  /** Level unknown: a PUBLISH that cannot be MQTT 5 was seen (stop trying), or MQTT 5 votes. */
  private notV5 = false;
  private readonly issues = new Issues();
  readonly stats: MqttStats = {
    messages: 0, fullPath: 0, anomalies: 0, oversized: 0, skippedBytes: 0, desyncs: 0, resyncs: 0,
    aliasOverflows: 0, copiedBytes: 0,
  };
  clientId = '';
  username: string | null = null;
  private readonly maxLen: number;
  private readonly forceFull: boolean;
  private connectSeen = false;
  private connackSeen = false;
  /** The connection's start was seen, so a missing CONNECT is an anomaly. */
  private startSeen: boolean;
  private clientPending: PendingOrder | null = null;

  readonly app = 'mqtt';
  private readonly dirs: [DirState, DirState];
  private readonly hasher: SecretHasher;
  private readonly maxAliases: number;
  private readonly maxAliasChars: number;
  private readonly scanIssues = new Issues();
  private readonly props = new PropScan();
  private readonly ack = new AckScratch();
  private v5Votes = 0;
  private readonly probe = new PublishScratch();
  private readonly probeIssues = new Issues();
  private identitySet = false;
  private missingConnectReported = false;

  constructor(flow: FlowInfo, private readonly sink: EventSink, opts: MqttOptions & MqttTestOptions) {
    this.hasher = new SecretHasher(opts.secret);
    const max = opts.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH;
    this.maxLen = Math.max(16, Math.min(Math.floor(max), 268_435_455));
    this.maxAliases = Math.max(0, opts.maxTopicAliases ?? 1024);
    this.maxAliasChars = Math.max(0, opts.maxTopicAliasBytes ?? 262_144);
    this.startSeen = !flow.midstream;
    this.forceFull = opts.forceFull === true;
    this.d0 = new DirState(0, flow.sides[0]);
    this.d1 = new DirState(1, flow.sides[1]);
    this.dirs = [this.d0, this.d1];
    if (flow.midstream || opts.midstream === true) {
      // Picked up midstream: the first bytes may be inside a packet. Losing them is expected.
      for (const d of this.dirs) {
        d.mode = RESYNC;
        d.quiet = true;
      }
    }
    if (opts.assumeEstablished !== undefined) {
      // As if the session began before these bytes: a CONNECT among them still sets the identity.
      this.version = opts.assumeEstablished;
      this.connackSeen = true;
      this.startSeen = false;
    }
  }

  // ---------------------------------------------------------------- TcpAppHandler

  onData(dir: Dir, buf: Buffer, off: number, len: number, ts: number, frame: number): void {
    if (this.ended || len <= 0) return;
    this.ts = ts;
    this.frame = frame;
    const d = dir === 0 ? this.d0 : this.d1;
    d.active = true;
    try {
      this.feed(d, buf, off, off + len);
    } catch (e) {
      this.internalError(d, e);
    }
  }

  onGap(dir: Dir, missing: number, ts: number, frame: number): void {
    if (this.ended || missing <= 0) return;
    this.ts = ts;
    this.frame = frame;
    const d = this.dirs[dir];
    d.active = true;
    d.gapBytes += missing;
    try {
      this.gap(d, missing);
    } catch (e) {
      this.internalError(d, e);
    }
  }

  onEnd(ts: number, frame: number): void {
    if (this.ended) return;
    this.ts = ts;
    this.frame = frame;
    try {
      for (const d of this.dirs) this.endDirection(d);
      const p = this.clientPending;
      // Only judge the order when the server direction was visible: a one-sided capture cannot
      // tell a missing CONNACK from an unseen one.
      if (p !== null && this.dirs[1].active) this.raiseClientPending(p, 'the connection ended without a CONNACK');
    } catch (e) {
      this.internalError(this.dirs[0], e);
    }
    this.ended = true;
    this.clientPending = null;
    for (const d of this.dirs) {
      if (d.pend !== null) d.pend.fill(0);
      d.pend = null;
      d.aliases = null;
      d.aliasLost = null;
    }
  }

  // ---------------------------------------------------------------- framing

  private feed(d: DirState, buf: Buffer, p: number, end: number): void {
    while (p < end) {
      if (d.mode === SKIP) p = this.skipBytes(d, p, end);
      else if (d.mode === RESYNC) p = this.resync(d, buf, p, end);
      else if (d.pendLen > 0) p = this.fillPending(d, buf, p, end);
      else p = this.frameLoop(d, buf, p, end);
    }
  }

  /** Whole packets straight from the caller's buffer; a partial last one is copied. */
  private frameLoop(d: DirState, buf: Buffer, p: number, end: number): number {
    while (p < end) {
      const h = readFixedHeader(buf, p, end);
      if (h < 0) {
        if (h === BAD_LENGTH) {
          this.desync(d, `remaining length of a ${PACKET_NAMES[buf[p] >> 4]} runs past 4 bytes [MQTT-1.5.5]`);
          return p + 1;
        }
        this.stash(d, buf, p, end, 0);
        return end;
      }
      const hl = h & 7;
      const rem = (h - hl) / 8;
      const total = hl + rem;
      const e = p + total;
      const cls = this.admit(d, buf[p], rem, e < end ? buf[e] : e === end ? -1 : -2);
      if (cls < 0) {
        this.desync(d, describeHeader(buf[p], rem));
        return p + 1;
      }
      if (rem > this.maxLen) return this.startOversized(d, buf, p, end, hl, rem, cls);
      if (e > end) {
        this.stash(d, buf, p, end, total);
        return end;
      }
      this.handleMessage(d, buf, p, hl, total, cls);
      p = e;
    }
    return p;
  }

  /**
   * Decides whether a fixed header frames a packet: returns its header class, or -1 for a
   * desync. A questionable header (reserved type, wrong flags, QoS 3, impossible length) is
   * admitted only if the packet ends where the data ends or where another valid header starts;
   * `follow` is that next byte, -1 at the end of the data, -2 when the packet runs past it.
   */
  private admit(d: DirState, b: number, rem: number, follow: number): number {
    const cls = headerClass(b, this.version);
    const typeOk = cls === HDR_OK || cls === HDR_DUP_QOS0;
    // A reserved type has no length rule of its own.
    const lengthOk = cls === HDR_RESERVED_TYPE || plausibleRemaining(b >> 4, (b >> 1) & 3, rem, this.version);
    if (typeOk && lengthOk) {
      d.unverified = false;
      return cls;
    }
    // Wrong flags and an impossible length together: this is not a packet.
    if (!typeOk && !lengthOk) return -1;
    if (follow === -1 || (follow >= 0 && isStrictHeaderByte(follow, this.version))) {
      d.unverified = false;
      return cls;
    }
    if (follow === -2 && !d.unverified && rem <= this.maxLen) {
      d.unverified = true;
      return cls;
    }
    return -1;
  }

  /** Lets go of the bytes held in the partial-packet buffer, zeroed: they may be a CONNECT. */
  private dropPending(d: DirState): void {
    if (d.pendLen > 0) (d.pend as Buffer).fill(0, 0, d.pendLen);
    d.pendLen = 0;
  }

  /** Copies buf[p, end) into the direction's partial-packet buffer. */
  private stash(d: DirState, buf: Buffer, p: number, end: number, need: number): void {
    d.pendLen = 0;
    this.append(d, buf, p, end - p);
    d.need = need;
  }

  private append(d: DirState, buf: Buffer, p: number, n: number): void {
    const want = d.pendLen + n;
    let pend = d.pend;
    if (pend === null || pend.length < want) {
      const grown = Buffer.allocUnsafe(Math.max(256, want, pend === null ? 0 : Math.min(pend.length * 2, this.maxLen + 8)));
      // Pool memory comes uncleared: past the bytes copied in, it would hold whatever an earlier,
      // freed buffer of the process left there (another connection's CONNECT, say) for as long
      // as this one lives.
      grown.fill(0, pend === null ? 0 : d.pendLen);
      if (pend !== null) {
        pend.copy(grown, 0, 0, d.pendLen);
        pend.fill(0);
      }
      d.pend = pend = grown;
    }
    buf.copy(pend, d.pendLen, p, p + n);
    d.pendLen = want;
    this.stats.copiedBytes += n;
  }

  /** Completes the partial packet in `pend` from buf[p, end). */
  private fillPending(d: DirState, buf: Buffer, p: number, end: number): number {
    while (d.need === 0) {
      // Fixed header incomplete: take one byte at a time (at most 4 more).
      if (p >= end) return p;
      this.append(d, buf, p++, 1);
      const pend = d.pend as Buffer;
      const h = readFixedHeader(pend, 0, d.pendLen);
      if (h === NEED_MORE) continue;
      if (h === BAD_LENGTH) return this.desyncPending(d, `remaining length of a ${PACKET_NAMES[pend[0] >> 4]} runs past 4 bytes [MQTT-1.5.5]`, p);
      const hl = h & 7;
      const rem = (h - hl) / 8;
      const total = hl + rem;
      const follow = total === d.pendLen ? (p < end ? buf[p] : -1) : -2;
      const cls = this.admit(d, pend[0], rem, follow);
      if (cls < 0) return this.desyncPending(d, describeHeader(pend[0], rem), p);
      if (rem > this.maxLen) {
        d.overTotal = total;
        d.need = Math.min(total, this.maxLen + hl);
      } else d.need = total;
    }
    const n = Math.min(d.need - d.pendLen, end - p);
    if (n > 0) this.append(d, buf, p, n);
    p += n;
    if (d.pendLen < d.need) return p;
    const pend = d.pend as Buffer;
    if (d.unverified && d.overTotal === 0 && p < end && !isStrictHeaderByte(buf[p], this.version)) {
      // Admitted on trust, and what follows is no packet: it was not one either.
      return this.desyncPending(d, describeHeader(pend[0], d.need - (readFixedHeader(pend, 0, d.pendLen) & 7)), p);
    }
    const h = readFixedHeader(pend, 0, d.pendLen);
    const hl = h & 7;
    const rem = (h - hl) / 8;
    const cls = headerClass(pend[0], this.version);
    const len = d.pendLen;
    d.pendLen = 0;
    d.need = 0;
    if (d.overTotal > 0) {
      const total = d.overTotal;
      d.overTotal = 0;
      this.oversizedHead(d, pend, 0, hl, rem, len, cls);
      this.enterSkip(d, total - len);
    } else this.handleMessage(d, pend, 0, hl, len, cls);
    // Credentials may sit in a buffered CONNECT (password) or CONNACK/AUTH (authentication data).
    const type = pend[0] >> 4;
    if (type === CONNECT || type === CONNACK || type === AUTH) pend.fill(0, 0, len);
    if (pend.length > 65536 && d.pend === pend) d.pend = null;
    return p;
  }

  private startOversized(d: DirState, buf: Buffer, p: number, end: number, hl: number, rem: number, cls: number): number {
    const total = hl + rem;
    const head = Math.min(total, this.maxLen + hl);
    if (end - p >= head) {
      this.oversizedHead(d, buf, p, hl, rem, head, cls);
      this.enterSkip(d, total - head);
      return p + head;
    }
    this.stash(d, buf, p, end, head);
    d.overTotal = total;
    return end;
  }

  private enterSkip(d: DirState, n: number): void {
    d.skip = n;
    d.mode = SKIP;
    if (n === 0) this.finishSkip(d);
  }

  private skipBytes(d: DirState, p: number, end: number): number {
    const n = Math.min(d.skip, end - p);
    d.skip -= n;
    this.stats.skippedBytes += n;
    if (d.skip === 0) this.finishSkip(d);
    return p + n;
  }

  private finishSkip(d: DirState): void {
    d.mode = SYNC;
    const o = d.oversized;
    d.oversized = null;
    if (o !== null) this.emitDeferred(d, o);
  }

  private emitDeferred(d: DirState, o: Oversized): void {
    // The event carries the time of the packet that completed the message, not of its head.
    if (o.event !== null) this.sink({ ...o.event, ts: this.ts, frame: this.frame });
    for (let i = 0; i < o.codes.length; i++) {
      const code = o.codes[i];
      this.anomaly(d, code, o.details[i], o.type, code === 'mqtt.oversized' ? o.skipped : -1);
    }
  }

  // ---------------------------------------------------------------- losing and finding framing

  private desync(d: DirState, why: string): void {
    this.stats.desyncs++;
    if (!d.quiet) {
      d.quiet = true;
      this.anomaly(d, 'mqtt.desync', `${why}; skipping to the next plausible packet`);
    }
    d.mode = RESYNC;
    d.pendLen = 0;
    d.need = 0;
    d.overTotal = 0;
    d.unverified = false;
  }

  /** Desync on a header assembled in `pend`: its bytes after the first are scanned again. */
  private desyncPending(d: DirState, why: string, p: number): number {
    const pend = d.pend as Buffer;
    const keep = d.pendLen - 1;
    this.desync(d, why);
    pend.copyWithin(0, 1, 1 + keep);
    pend[keep] = 0;
    d.pendLen = keep;
    return p;
  }

  /**
   * Looks for the next packet boundary: a strictly valid first byte, a remaining length that
   * is possible for that type, and a packet that ends where the data ends or where another
   * valid header begins. Bytes from an undecided candidate are kept (bounded by the maximum
   * packet size) until the decision can be made.
   */
  private resync(d: DirState, buf: Buffer, p: number, end: number): number {
    if (d.pendLen === 0) {
      for (let q = p; q < end; q++) {
        const r = this.candidate(buf, q, end);
        if (r === 0) continue;
        if (r < 0) {
          this.resynced(d);
          this.stats.skippedBytes += q - p;
          return q;
        }
        this.stats.skippedBytes += q - p;
        this.stash(d, buf, q, end, r);
        return end;
      }
      this.stats.skippedBytes += end - p;
      return end;
    }
    const n = Math.min(end - p, this.maxLen + 8 - d.pendLen);
    this.append(d, buf, p, n);
    p += n;
    if (d.pendLen < d.need && p === end) return p;
    const pend = d.pend as Buffer;
    const len = d.pendLen;
    for (let q = 0; q < len; q++) {
      const r = this.candidate(pend, q, len);
      if (r === 0) continue;
      this.stats.skippedBytes += q;
      if (r < 0) {
        const rest = Buffer.from(pend.subarray(q, len));
        this.dropPending(d);
        this.resynced(d);
        this.feed(d, rest, 0, rest.length);
        rest.fill(0);
        return p;
      }
      pend.copyWithin(0, q, len);
      pend.fill(0, len - q, len);
      d.pendLen = len - q;
      d.need = r;
      return p;
    }
    this.stats.skippedBytes += len;
    this.dropPending(d);
    return p;
  }

  /** -1: a packet starts at q; 0: it does not; n > 0: decide once n bytes from q are here. */
  private candidate(data: Buffer, q: number, end: number): number {
    const b = data[q];
    if (!isStrictHeaderByte(b, this.version)) return 0;
    const h = readFixedHeader(data, q, end);
    if (h === NEED_MORE) return end - q + 1;
    if (h === BAD_LENGTH) return 0;
    const hl = h & 7;
    const rem = (h - hl) / 8;
    const type = b >> 4;
    if (rem > this.maxLen || !plausibleRemaining(type, (b >> 1) & 3, rem, this.version)) return 0;
    const e = q + hl + rem;
    const c = this.looksLikeStart(type, b, data, q + hl, Math.min(e, end), rem);
    if (c >= 0) return c === 0 ? 0 : c + hl;
    if (e === end) return -1;
    if (e < end) return isStrictHeaderByte(data[e], this.version) ? -1 : 0;
    // Runs past the data: a PUBLISH or CONNECT whose first bytes look right is trusted; other
    // packets are short, and judged when complete.
    return type === PUBLISH || type === CONNECT ? -1 : rem <= 4096 ? e - q : 0;
  }

  /**
   * The first bytes of a resynchronisation candidate (body from p, `end` = available end, at
   * most the packet end): -1 plausible, 0 not, n > 0 needs n body bytes. A PUBLISH needs a
   * well-formed topic that fits [MQTT-3.3.2-1], [MQTT-3.3.2-2]; a CONNECT its protocol name.
   */
  private looksLikeStart(type: number, b: number, data: Buffer, p: number, end: number, rem: number): number {
    if (type === PUBLISH) {
      if (p + 2 > end) return 2;
      const tlen = (data[p] << 8) | data[p + 1];
      if (tlen + 2 + (((b >> 1) & 3) > 0 ? 2 : 0) > rem) return 0;
      if (tlen === 0 && this.version !== 5 && this.version !== 0) return 0;
      if (p + 2 + tlen > end) return 2 + tlen;
      const f = scanString(data, p + 2, p + 2 + tlen);
      return stringIsBad(f) || (f & STR_WILDCARD) !== 0 ? 0 : -1;
    }
    if (type === CONNECT) {
      if (p + 2 > end) return 2;
      const n = (data[p] << 8) | data[p + 1];
      const name = n === 4 ? 'MQTT' : n === 6 ? 'MQIsdp' : null;
      if (name === null) return 0;
      if (p + 2 + n > end) return 2 + n;
      return data.toString('latin1', p + 2, p + 2 + n) === name ? -1 : 0;
    }
    return -1;
  }

  private resynced(d: DirState): void {
    this.stats.resyncs++;
    d.mode = SYNC;
    // Stay quiet until a packet decodes cleanly: a false start is not a second desync.
    d.need = 0;
    d.unverified = false;
  }

  private gap(d: DirState, missing: number): void {
    if (d.mode === SKIP) {
      if (missing < d.skip) {
        d.skip -= missing;
        return;
      }
      const o = d.oversized;
      d.oversized = null;
      d.skip = 0;
      if (o !== null) {
        o.codes.push('mqtt.truncated');
        o.details.push(`${o.name} body cut short by a capture gap of ${missing} bytes`);
        this.emitDeferred(d, o);
      }
    } else if (d.mode === SYNC && d.pendLen > 0 && d.overTotal > 0) {
      this.partialOversized(d, `a capture gap of ${missing} bytes cut the`);
    } else if (d.mode === SYNC && d.pendLen > 0) {
      const pend = d.pend as Buffer;
      const name = PACKET_NAMES[pend[0] >> 4];
      if (d.need > 0 && d.overTotal === 0 && missing < d.need - d.pendLen) {
        // The gap ends inside this packet: its remainder is skipped and framing continues.
        this.anomaly(d, 'mqtt.truncated', `${name} of ${d.need} bytes lost ${missing} bytes to a capture gap; dropped`, pend[0] >> 4);
        const left = d.need - d.pendLen - missing;
        this.dropPending(d);
        d.need = 0;
        this.enterSkip(d, left);
        return;
      }
      const of = d.need > 0 ? ` of ${d.overTotal || d.need} bytes` : '';
      this.anomaly(d, 'mqtt.truncated', `${name}${of} lost its end to a capture gap of ${missing} bytes; dropped`, pend[0] >> 4);
    }
    // Where the bytes after the gap start is unknown: find the next packet, without a desync
    // anomaly (the gap explains it).
    d.mode = RESYNC;
    d.quiet = true;
    this.dropPending(d);
    d.need = 0;
    d.overTotal = 0;
    d.unverified = false;
  }

  /** The head of an oversized packet was still being collected when the stream broke off. */
  private partialOversized(d: DirState, why: string): void {
    const pend = d.pend as Buffer;
    const h = readFixedHeader(pend, 0, d.pendLen);
    const hl = h & 7;
    const total = d.overTotal;
    d.overTotal = 0;
    this.oversizedHead(d, pend, 0, hl, total - hl, d.pendLen, headerClass(pend[0], this.version));
    const o = d.oversized as Oversized;
    d.oversized = null;
    o.codes.push('mqtt.truncated');
    o.details.push(`${why} ${o.name}`);
    this.emitDeferred(d, o);
    this.dropPending(d);
  }

  private endDirection(d: DirState): void {
    if (d.mode === SKIP) {
      const o = d.oversized;
      d.oversized = null;
      if (o !== null) {
        o.codes.push('mqtt.truncated');
        o.details.push(`the stream ended ${d.skip} bytes before the end of the ${o.name}`);
        this.emitDeferred(d, o);
      }
    } else if (d.mode === SYNC && d.pendLen > 0 && d.overTotal > 0) {
      this.partialOversized(d, `the stream ended ${d.overTotal - d.pendLen} bytes before the end of the`);
    } else if (d.mode === SYNC && d.pendLen > 0) {
      const pend = d.pend as Buffer;
      const name = PACKET_NAMES[pend[0] >> 4];
      const total = d.need;
      this.anomaly(d, 'mqtt.truncated', total > 0
        ? `the stream ended inside a ${name} (${d.pendLen} of ${total} bytes)`
        : `the stream ended inside the fixed header of a ${name}`, pend[0] >> 4);
    }
    d.mode = SYNC;
    d.pendLen = 0;
  }

  private internalError(d: DirState, e: unknown): void {
    // A decoder bug must not take the pipeline down: report it as lost framing and move on.
    const name = e instanceof Error ? e.name : 'non-Error';
    this.anomaly(d, 'mqtt.desync', `internal decoder error (${name}); skipping to the next plausible packet`);
    d.quiet = true;
    d.mode = RESYNC;
    if (d.pend !== null) d.pend.fill(0);
    d.pendLen = 0;
    d.need = 0;
    d.overTotal = 0;
    d.skip = 0;
    d.oversized = null;
  }

  // ---------------------------------------------------------------- one packet

  private handleMessage(d: DirState, buf: Buffer, p: number, hl: number, total: number, cls: number): void {
    const issues = this.issues;
    issues.clear();
    this.stats.messages++;
    const b = buf[p];
    const type = b >> 4;
    if (cls === HDR_RESERVED_TYPE) {
      issues.add('mqtt.reserved_packet_type', type === AUTH
        ? `packet type 15 (AUTH) before MQTT 5 [MQTT-2.2.1]`
        : `packet type 0 is reserved [MQTT-2.2.1]`);
      this.flushIssues(d, type);
      return;
    }
    this.headerIssues(b, cls, buf, p, hl);
    this.checkOrder(d, type);
    const end = p + total;
    let ev: MqttEvent | null;
    if (this.forceFull && (type === PUBLISH || (type >= PUBACK && type <= PUBCOMP) || (type >= PINGREQ && type <= DISCONNECT))) {
      ev = this.fullPath(d, buf, p, end, cls);
    } else {
      switch (type) {
        case PUBLISH: ev = this.publish(d, buf, p, hl, end, end); break;
        case PUBACK: case PUBREC: case PUBREL: case PUBCOMP: ev = this.pubAck(d, type, buf, p, hl, end); break;
        case PINGREQ: case PINGRESP:
          if (total === hl) {
            ev = { type: type === PINGREQ ? 'mqtt.pingreq' : 'mqtt.pingresp', ts: this.ts, frame: this.frame, flow: d.side, version: this.version, clientId: this.clientId, username: this.username, length: total };
          } else {
            ev = null;
            issues.add('mqtt.malformed', `${PACKET_NAMES[type]} remaining length must be 0 [MQTT-3.12.1]`);
          }
          break;
        case DISCONNECT: ev = this.disconnect(d, buf, p, hl, end); break;
        case CONNECT: ev = this.connect(d, buf, p, hl, end, cls); break;
        default: ev = this.general(d, type, buf, p, hl, end, cls); break;
      }
    }
    if (ev !== null) this.sink(ev);
    if (issues.length !== 0) this.flushIssues(d, type);
    else if (ev !== null) d.quiet = false;
  }

  private headerIssues(b: number, cls: number, buf: Buffer, p: number, hl: number): void {
    const issues = this.issues;
    if (cls === HDR_BAD_FLAGS) {
      const type = b >> 4;
      const want = type === PUBREL || type === SUBSCRIBE || type === UNSUBSCRIBE ? 2 : 0;
      issues.add('mqtt.invalid_flags', `${PACKET_NAMES[type]} fixed-header flags ${hex2(b & 15)} must be ${hex2(want)} [MQTT-2.2.2-2]`);
    } else if (cls === HDR_QOS3) issues.add('mqtt.invalid_qos', 'PUBLISH with QoS 3 [MQTT-3.3.1-4]');
    else if (cls === HDR_DUP_QOS0) issues.add('mqtt.invalid_flags', 'DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2]');
    if (hl > 2 && buf[p + hl - 1] === 0) {
      issues.add('mqtt.malformed', 'remaining length not encoded in the minimum number of bytes [MQTT-1.5.5-1]');
    }
  }

  /**
   * Session order. Client: the first packet is CONNECT [MQTT-3.1.0-1], only one CONNECT
   * [MQTT-3.1.0-2]. Server: the first packet is CONNACK (or AUTH in MQTT 5) [MQTT-3.2.0-1]. A
   * client may send packets before the CONNACK arrives (MQTT 3.1.1 section 3.1.4), so those are
   * held and reported (as Suricata's unintroduced_message) only if no CONNACK follows.
   */
  private checkOrder(d: DirState, type: number): void {
    const issues = this.issues;
    const name = PACKET_NAMES[type];
    if (d.dir === 0) {
      if (type === CONNECT) {
        if (this.connectSeen) issues.add('mqtt.double_connect', 'second CONNECT on one connection [MQTT-3.1.0-2]');
        this.connectSeen = true;
        return;
      }
      if (!this.connectSeen && this.startSeen) {
        this.reportMissingConnect(issues, `${name} is the client's first packet`, d);
        return;
      }
      if (!this.connackSeen && type !== AUTH && this.clientPending === null && !d.beforeConnackReported) {
        this.clientPending = { type, frame: this.frame };
      }
      return;
    }
    if (type === CONNACK) {
      // A CONNECT still arriving counts as seen: capture timestamps of two directions can cross.
      const c = this.dirs[0];
      const connectArriving = c.mode === SYNC && c.pendLen > 0 && (c.pend as Buffer)[0] >> 4 === CONNECT;
      if (!this.connectSeen && this.startSeen && !connectArriving) this.reportMissingConnect(issues, 'CONNACK without a CONNECT', c);
      this.connackSeen = true;
      this.clientPending = null;
      return;
    }
    if (type === AUTH || this.connackSeen || d.beforeConnackReported) return;
    d.beforeConnackReported = true;
    issues.add('mqtt.message_before_connack', `server sent ${name} before any CONNACK [MQTT-3.2.0-1]${this.startSeen ? '' : ' (connection picked up midstream)'}`);
    const p = this.clientPending;
    if (p !== null) this.raiseClientPending(p, `the server answered with ${name}`);
  }

  private reportMissingConnect(issues: Issues, what: string, client: DirState): void {
    if (this.missingConnectReported) return;
    this.missingConnectReported = true;
    const gap = client.gapBytes > 0 ? ` (${client.gapBytes} client bytes were lost to capture gaps)` : '';
    issues.add('mqtt.missing_connect', `${what}; no CONNECT was seen [MQTT-3.1.0-1]${gap}`);
  }

  private raiseClientPending(p: PendingOrder, why: string): void {
    this.clientPending = null;
    const c = this.dirs[0];
    c.beforeConnackReported = true;
    this.anomaly(c, 'mqtt.message_before_connack',
      `client sent ${PACKET_NAMES[p.type]} (frame ${p.frame}) before any CONNACK, and ${why}${this.startSeen ? '' : ' (connection picked up midstream)'}`, p.type);
  }

  // ---------------------------------------------------------------- fast path

  /**
   * PUBLISH [MQTT-3.3]. `wireEnd` > `end` when only the first bytes of an oversized packet are
   * at hand: what they hold is reported, the rest is estimated.
   */
  private publish(d: DirState, buf: Buffer, p: number, hl: number, end: number, wireEnd: number): MqttPublish | null {
    const issues = this.issues;
    const b = buf[p];
    const qos = (b >> 1) & 3;
    if (this.version === 0 && !this.notV5 && wireEnd === end) this.inferFromPublish(buf, p + hl, end, qos);
    const v5 = this.version === 5;
    const s: PublishScratch = d;
    const err = decodePublish(buf, p + hl, end, qos, v5, s);
    let properties: MqttProperties | undefined;
    let alias = -1;
    let payloadLength = wireEnd - s.payloadStart;
    if (err !== null) {
      if (wireEnd === end) {
        issues.add('mqtt.malformed', err);
        return null;
      }
      payloadLength = wireEnd - end;
    } else if (s.hasProps && s.propsEnd > s.propsStart) {
      const ps = this.props;
      if (!scanProperties(buf, s.propsStart, s.propsEnd, PUBLISH, ps, issues)) {
        issues.add('mqtt.malformed', 'a property value runs past its property block (MQTT 5 section 2.2.2)');
      } else {
        alias = ps.topicAlias;
        properties = ps.complex
          ? (wireEnd === end ? this.generalProperties(buf, p, end) : undefined)
          : decodeSimpleProperties(buf, s.propsStart, s.propsEnd);
      }
    }
    const tf = s.topicFlags;
    if (tf !== 0) {
      if (stringIsBad(tf)) issues.add('mqtt.invalid_utf8', 'PUBLISH topic name is not well-formed UTF-8 [MQTT-3.3.2-1]');
      if ((tf & STR_WILDCARD) !== 0) issues.add('mqtt.wildcard_in_publish', `PUBLISH topic name ${quoted(s.topic)} contains a wildcard [MQTT-3.3.2-2]`);
    }
    const topic = this.resolveTopic(d, s.topic, alias, err === null);
    const messageId = qos > 0 && s.messageId >= 0 ? s.messageId : undefined;
    if (messageId === 0) issues.add('mqtt.malformed', 'PUBLISH with packet identifier 0 [MQTT-2.2.1-3]');
    return {
      type: 'mqtt.publish', ts: this.ts, frame: this.frame, flow: d.side, version: this.version,
      clientId: this.clientId, username: this.username, length: wireEnd - p, topic, qos,
      retain: (b & 1) !== 0, dup: (b & 8) !== 0, messageId, payloadLength,
      topicAlias: alias > 0 ? alias : undefined, properties,
    };
  }

  /**
   * Level unknown (midstream): does this PUBLISH read as MQTT 5? An empty topic with a Topic
   * Alias is MQTT 5 at once (3.1.1 has no empty topic names [MQTT-4.7.3-1]); a non-empty, valid
   * PUBLISH property block is a vote, three votes decide; a PUBLISH that cannot be MQTT 5 ends
   * the question (a 3.1.1 payload rarely reads as a valid property block, never three times).
   */
  private inferFromPublish(buf: Buffer, body: number, end: number, qos: number): void {
    const t = this.probe;
    if (decodePublish(buf, body, end, qos, true, t) !== null) {
      this.notV5 = true;
      return;
    }
    if (t.propsEnd === t.propsStart) return;
    const pi = this.probeIssues;
    pi.clear();
    const ps = this.props;
    if (!scanProperties(buf, t.propsStart, t.propsEnd, PUBLISH, ps, pi) || pi.length !== 0) {
      this.notV5 = true;
      return;
    }
    if ((t.topic === '' && ps.topicAlias > 0) || ++this.v5Votes >= 3) this.version = 5;
  }

  /** Topic Alias (MQTT 5 section 3.3.2.3.4): per direction, set by a topic + alias, used by an empty topic. */
  private resolveTopic(d: DirState, topic: string, alias: number, complete: boolean): string {
    const issues = this.issues;
    if (alias > 0 && d.aliasMax >= 0 && alias > d.aliasMax) {
      issues.add('mqtt.invalid_property', `Topic Alias ${alias} exceeds the Topic Alias Maximum ${d.aliasMax} [MQTT-3.3.2-9]`);
    }
    if (topic.length !== 0) {
      if (alias > 0) this.setAlias(d, alias, topic);
      return topic;
    }
    if (alias > 0) {
      const known = d.aliases !== null ? d.aliases.get(alias) : undefined;
      if (known !== undefined) return known;
      const lost = d.aliasLost !== null && (d.aliasLost[alias >> 3] & (1 << (alias & 7))) !== 0;
      if (!lost) issues.add('mqtt.unknown_topic_alias', `Topic Alias ${alias} was never set in this direction (MQTT 5 section 3.3.2.3.4)`);
    } else if (complete && alias !== 0) {
      issues.add('mqtt.malformed', 'PUBLISH with an empty topic name and no Topic Alias [MQTT-4.7.3-1]');
    }
    return '';
  }

  private setAlias(d: DirState, alias: number, topic: string): void {
    let m = d.aliases;
    if (m === null) m = d.aliases = new Map();
    const old = m.get(alias);
    if (old !== undefined) {
      d.aliasChars += topic.length - old.length;
      m.set(alias, topic);
      return;
    }
    if (m.size >= this.maxAliases || d.aliasChars + topic.length > this.maxAliasChars) {
      this.stats.aliasOverflows++;
      if (d.aliasLost === null) d.aliasLost = new Uint8Array(8192);
      d.aliasLost[alias >> 3] |= 1 << (alias & 7);
      if (!d.aliasLimitReported) {
        d.aliasLimitReported = true;
        this.issues.add('mqtt.state_limit', `topic alias map full (${m.size} aliases, ${d.aliasChars} topic characters); alias ${alias} and later new aliases are not kept`);
      }
      return;
    }
    m.set(alias, topic);
    d.aliasChars += topic.length;
    if (d.aliasLost !== null) d.aliasLost[alias >> 3] &= ~(1 << (alias & 7));
  }

  /** PUBACK, PUBREC, PUBREL, PUBCOMP [MQTT-3.4]-[MQTT-3.7]. */
  private pubAck(d: DirState, type: number, buf: Buffer, p: number, hl: number, end: number): MqttEvent | null {
    const issues = this.issues;
    const s = this.ack;
    let err = decodeAck(buf, p + hl, end, this.version === 5, s);
    if (err !== null && this.version === 0 && decodeAck(buf, p + hl, end, true, s) === null) {
      // Only MQTT 5 acknowledgements carry more than the packet identifier.
      this.version = 5;
      err = null;
    }
    if (err !== null) {
      issues.add('mqtt.malformed', `${PACKET_NAMES[type]}: ${err}`);
      return null;
    }
    if (s.messageId === 0) issues.add('mqtt.malformed', `${PACKET_NAMES[type]} with packet identifier 0 [MQTT-2.2.1-3]`);
    if (s.reasonCode >= 0 && !(type <= PUBREC ? PUBACK_CODES : PUBREL_CODES)[s.reasonCode]) {
      issues.add('mqtt.invalid_reason_code', `${PACKET_NAMES[type]} reason code ${hex2(s.reasonCode)} is not defined (MQTT 5 section 3.4.2.1)`);
    }
    const properties = this.fastProperties(buf, p, end, type, s);
    return {
      type: ACK_TYPES[type] as 'mqtt.puback', ts: this.ts, frame: this.frame, flow: d.side,
      version: this.version, clientId: this.clientId, username: this.username, length: end - p,
      messageId: s.messageId, reasonCode: s.reasonCode >= 0 ? s.reasonCode : undefined, properties,
    };
  }

  /** DISCONNECT [MQTT-3.14]. */
  private disconnect(d: DirState, buf: Buffer, p: number, hl: number, end: number): MqttEvent | null {
    const issues = this.issues;
    const s = this.ack;
    let err = decodeDisconnect(buf, p + hl, end, this.version === 5, s);
    if (err !== null && this.version === 0 && decodeDisconnect(buf, p + hl, end, true, s) === null) {
      this.version = 5;
      err = null;
    }
    if (err !== null) {
      issues.add('mqtt.malformed', err);
      return null;
    }
    if (s.reasonCode >= 0 && !DISCONNECT_CODES[s.reasonCode]) {
      issues.add('mqtt.invalid_reason_code', `DISCONNECT reason code ${hex2(s.reasonCode)} is not defined (MQTT 5 section 3.14.2.1)`);
    }
    const properties = this.fastProperties(buf, p, end, DISCONNECT, s);
    return {
      type: 'mqtt.disconnect', ts: this.ts, frame: this.frame, flow: d.side, version: this.version,
      clientId: this.clientId, username: this.username, length: end - p,
      reasonCode: s.reasonCode >= 0 ? s.reasonCode : undefined, properties,
    };
  }

  private fastProperties(buf: Buffer, p: number, end: number, kind: number, s: AckScratch): MqttProperties | undefined {
    if (!s.hasProps || s.propsEnd === s.propsStart) return undefined;
    const ps = this.props;
    if (!scanProperties(buf, s.propsStart, s.propsEnd, kind, ps, this.issues)) {
      this.issues.add('mqtt.malformed', 'a property value runs past its property block (MQTT 5 section 2.2.2)');
      return undefined;
    }
    return ps.complex ? this.generalProperties(buf, p, end) : decodeSimpleProperties(buf, s.propsStart, s.propsEnd);
  }

  /** Properties the fast path does not decode (user properties, repeats): via mqtt-packet. */
  private generalProperties(buf: Buffer, p: number, end: number): MqttProperties | undefined {
    this.stats.fullPath++;
    const r = parseWithMqttPacket(withRequiredFlags(buf, p, end), this.version);
    if (typeof r === 'string') {
      if (this.issues.length === 0) this.issues.add('mqtt.malformed', `properties: ${r}`);
      return undefined;
    }
    const body = bodyFromPacket(r, true, []);
    return body !== null && 'properties' in body ? body.properties : undefined;
  }

  /** Every packet through mqtt-packet: the reference the fast path is checked against. */
  private fullPath(d: DirState, buf: Buffer, p: number, end: number, cls: number): MqttEvent | null {
    this.stats.fullPath++;
    const v5 = this.version === 5;
    const r = parseWithMqttPacket(cls === HDR_BAD_FLAGS ? withRequiredFlags(buf, p, end) : buf.subarray(p, end), this.version);
    if (typeof r === 'string') {
      this.issues.add('mqtt.malformed', `mqtt-packet: ${r}`);
      return null;
    }
    const body = bodyFromPacket(r, v5, []);
    if (body === null) return null;
    if (body.type === 'mqtt.publish') {
      const alias = body.topicAlias ?? -1;
      return Object.assign(this.base(d, end - p), body, { topic: this.resolveTopic(d, body.topic, alias, true) });
    }
    return Object.assign(this.base(d, end - p), body);
  }

  // ---------------------------------------------------------------- general path

  /**
   * The fields every event has; the general path adds the body's with Object.assign. (A literal
   * spreading two objects made a new hidden class for nearly every event, so each site that reads
   * those events went megamorphic; assigning onto one shape follows one transition chain per
   * body shape.)
   */
  private base(d: DirState, length: number): { ts: number; frame: number; flow: FlowSide; version: number; clientId: string; username: string | null; length: number } {
    return { ts: this.ts, frame: this.frame, flow: d.side, version: this.version, clientId: this.clientId, username: this.username, length };
  }

  /** CONNECT [MQTT-3.1]: checked by hand, decoded by mqtt-packet, secrets hashed then zeroed. */
  private connect(d: DirState, buf: Buffer, p: number, hl: number, end: number, cls: number): MqttEvent | null {
    const si = this.scanIssues;
    si.clear();
    const info = scanConnect(buf, p + hl, end, si, this.props);
    this.mergeScanIssues();
    const first = d.dir === 0 && !this.identitySet;
    if (first && info.version > 0) this.version = info.version;
    if (!info.ok) {
      if (first && info.clientId !== '') this.setIdentity(info.clientId, info.username);
      return null;
    }
    const password = info.passwordStart >= 0 ? this.hasher.info(buf, info.passwordStart, info.passwordEnd) : NO_PASSWORD;
    const authData = this.hashRanges(buf, info.authData);
    // mqtt-packet gets a copy with the secrets zeroed: the clear text never reaches it.
    const copy = Buffer.allocUnsafe(end - p);
    buf.copy(copy, 0, p, end);
    if (cls === HDR_BAD_FLAGS) copy[0] = CONNECT << 4;
    if (info.passwordStart >= 0) copy.fill(0, info.passwordStart - p, info.passwordEnd - p);
    for (let i = 0; i < info.authData.length; i += 2) copy.fill(0, info.authData[i] - p, info.authData[i + 1] - p);
    this.stats.fullPath++;
    const r = parseWithMqttPacket(copy, info.version);
    let body: MqttBody;
    let clientId = info.clientId;
    let username = info.username;
    if (typeof r === 'string') {
      if (si.length === 0) this.issues.add('mqtt.malformed', `CONNECT: ${r}`);
      body = {
        type: 'mqtt.connect', protocolName: info.protocolName, protocolVersion: info.version,
        cleanStart: info.cleanStart, keepAlive: info.keepAlive, password, will: info.will, properties: undefined,
      };
    } else {
      const c = connectFromPacket(r, password, authData);
      body = c.body;
      clientId = c.clientId;
      username = c.username;
    }
    // mqtt-packet's buffers are views of the copy: zero it only once they have been read.
    copy.fill(0);
    if (first) {
      this.setIdentity(clientId, username);
      // Topic Alias Maximum the client accepts from the server; absent means none [MQTT-3.1.2-27].
      this.dirs[1].aliasMax = info.version === 5 ? Math.max(0, info.topicAliasMaximum) : -1;
    }
    return { ts: this.ts, frame: this.frame, flow: d.side, version: this.version, clientId, username, length: end - p, ...body };
  }

  private setIdentity(clientId: string, username: string | null): void {
    this.identitySet = true;
    // Every later event of the connection carries these: interned, detectors compare them by identity.
    this.clientId = intern(clientId);
    this.username = username === null ? null : intern(username);
  }

  private hashRanges(buf: Buffer, ranges: readonly number[]): PasswordInfo[] {
    const out: PasswordInfo[] = [];
    for (let i = 0; i < ranges.length; i += 2) out.push(this.hasher.info(buf, ranges[i], ranges[i + 1]));
    return out;
  }

  private mergeScanIssues(): void {
    const si = this.scanIssues;
    for (let i = 0; i < si.length; i++) this.issues.add(si.codes[i], si.details[i]);
  }

  /** CONNACK, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, AUTH. */
  private general(d: DirState, type: number, buf: Buffer, p: number, hl: number, end: number, cls: number): MqttEvent | null {
    const si = this.scanIssues;
    let v5 = this.version === 5 || type === AUTH;
    let info = this.scanGeneral(type, buf, p + hl, end, v5);
    if (this.version === 0 && !v5 && (!info.ok || si.length !== 0)) {
      // Level unknown (midstream): a packet that only parses as MQTT 5 tells us the level.
      const keep = { codes: si.codes.slice(), details: si.details.slice() };
      const alt = this.scanGeneral(type, buf, p + hl, end, true);
      if (alt.ok && si.length === 0) {
        info = alt;
        v5 = true;
        this.version = 5;
      } else {
        info = this.scanGeneral(type, buf, p + hl, end, false);
        si.clear();
        for (let i = 0; i < keep.codes.length; i++) si.add(keep.codes[i], keep.details[i]);
      }
    } else if (type === AUTH && this.version === 0 && info.ok) this.version = 5;
    this.mergeScanIssues();
    if (!info.ok) return null;
    const ranges = 'authData' in info ? info.authData : [];
    const authData = this.hashRanges(buf, ranges);
    const copied = ranges.length !== 0 || cls === HDR_BAD_FLAGS;
    let bytes: Buffer;
    if (copied) {
      bytes = withRequiredFlags(buf, p, end);
      for (let i = 0; i < ranges.length; i += 2) bytes.fill(0, ranges[i] - p, ranges[i + 1] - p);
    } else bytes = buf.subarray(p, end);
    let body: MqttBody | null = null;
    // mqtt-packet cannot read an AUTH without reason code, which means Success [MQTT-3.15.2-1].
    if (type !== AUTH || end > p + hl) {
      this.stats.fullPath++;
      const r = parseWithMqttPacket(bytes, v5 ? 5 : this.version);
      if (typeof r !== 'string') body = bodyFromPacket(r, v5, authData);
      else if (si.length === 0) this.issues.add('mqtt.malformed', `${PACKET_NAMES[type]}: ${r}`);
    }
    if (copied) bytes.fill(0);
    if (body === null) body = fallbackBody(type, info, v5);
    if (type === CONNACK && d.dir === 1) {
      const c = info as ConnackInfo;
      if (v5) {
        // Topic Alias Maximum the server accepts from the client; absent means none (3.2.2.3.8).
        this.dirs[0].aliasMax = Math.max(0, c.topicAliasMaximum);
        // [MQTT-3.2.2-16]: the server names a client that connected with an empty client id.
        if (c.assignedClientId !== null && this.clientId === '') this.clientId = intern(c.assignedClientId);
      }
    }
    return Object.assign(this.base(d, end - p), body);
  }

  private scanGeneral(type: number, buf: Buffer, p: number, end: number, v5: boolean): GeneralInfo {
    const si = this.scanIssues;
    si.clear();
    const ps = this.props;
    switch (type) {
      case CONNACK: return scanConnack(buf, p, end, v5, si, ps);
      case SUBSCRIBE: return scanSubscribe(buf, p, end, v5, si, ps);
      case SUBACK: return scanSuback(buf, p, end, v5, si, ps);
      case UNSUBSCRIBE: return scanUnsubscribe(buf, p, end, v5, si, ps);
      case UNSUBACK: return scanUnsuback(buf, p, end, v5, si, ps);
      default: return scanAuth(buf, p, end, si, ps);
    }
  }

  // ---------------------------------------------------------------- oversized packets

  /** The first bytes of a packet larger than maxMessageLength: report what they hold. */
  private oversizedHead(d: DirState, buf: Buffer, p: number, hl: number, rem: number, head: number, cls: number): void {
    const issues = this.issues;
    issues.clear();
    this.stats.messages++;
    this.stats.oversized++;
    const b = buf[p];
    const type = b >> 4;
    const name = PACKET_NAMES[type];
    const total = hl + rem;
    let event: MqttEvent | null = null;
    if (cls === HDR_RESERVED_TYPE) issues.add('mqtt.reserved_packet_type', `packet type ${type} is reserved [MQTT-2.2.1]`);
    else {
      this.headerIssues(b, cls, buf, p, hl);
      this.checkOrder(d, type);
      if (type === PUBLISH) event = this.publish(d, buf, p, hl, p + head, p + total);
      else if (type === CONNECT && d.dir === 0 && !this.identitySet) {
        // Learn the protocol level (and client id) so the rest of the connection decodes.
        const info = scanConnect(buf, p + hl, p + head, new Issues(), new PropScan());
        if (info.version > 0) this.version = info.version;
        if (info.clientId !== '') this.setIdentity(info.clientId, info.username);
      }
    }
    issues.add('mqtt.oversized', `${name} remaining length ${rem} exceeds maxMessageLength ${this.maxLen}; only its first ${head} bytes were decoded (skipped_length ${total})`);
    d.oversized = { name, type, skipped: total, event, codes: issues.codes.slice(), details: issues.details.slice() };
    issues.clear();
  }

  // ---------------------------------------------------------------- output

  private flushIssues(d: DirState, type: number): void {
    const issues = this.issues;
    for (let i = 0; i < issues.length; i++) this.anomaly(d, issues.codes[i], issues.details[i], type);
    issues.clear();
  }

  /** `packetType`: the control packet the anomaly concerns (-1: none framed). */
  private anomaly(d: DirState, code: MqttAnomalyCode, detail: string, packetType = -1, skipped = -1): void {
    this.stats.anomalies++;
    this.sink(mqttAnomaly(this.ts, this.frame, d.side, code, detail, this.identitySet ? this.clientId : undefined, packetType, skipped));
  }
}

type GeneralInfo = ConnackInfo | SubscribeInfo | AckListInfo | UnsubscribeInfo | AuthInfo;

/** The event body from the hand check, when mqtt-packet refuses a packet: no properties. */
function fallbackBody(type: number, info: GeneralInfo, v5: boolean): MqttBody {
  switch (type) {
    case CONNACK: {
      const c = info as ConnackInfo;
      return { type: 'mqtt.connack', sessionPresent: c.sessionPresent, returnCode: c.returnCode, properties: undefined };
    }
    case SUBSCRIBE: {
      const s = info as SubscribeInfo;
      return { type: 'mqtt.subscribe', messageId: s.messageId, subscriptions: s.subscriptions, properties: undefined };
    }
    case SUBACK: {
      const s = info as AckListInfo;
      return { type: 'mqtt.suback', messageId: s.messageId, granted: s.codes, properties: undefined };
    }
    case UNSUBSCRIBE: {
      const s = info as UnsubscribeInfo;
      return { type: 'mqtt.unsubscribe', messageId: s.messageId, topics: s.topics, properties: undefined };
    }
    case UNSUBACK: {
      const s = info as AckListInfo;
      return { type: 'mqtt.unsuback', messageId: s.messageId, reasonCodes: v5 ? s.codes : undefined, properties: undefined };
    }
    default:
      return { type: 'mqtt.auth', reasonCode: (info as AuthInfo).reasonCode, properties: undefined };
  }
}

/** A copy of one packet with the fixed-header flags mqtt-packet insists on [MQTT-2.2.2-1]. */
function withRequiredFlags(buf: Buffer, p: number, end: number): Buffer {
  const copy = Buffer.allocUnsafe(end - p);
  buf.copy(copy, 0, p, end);
  const type = copy[0] >> 4;
  if (type !== PUBLISH && headerClass(copy[0], 5) === HDR_BAD_FLAGS) {
    copy[0] = (type << 4) | (type === PUBREL || type === SUBSCRIBE || type === UNSUBSCRIBE ? 2 : 0);
  }
  return copy;
}

function describeHeader(b: number, rem: number): string {
  const type = b >> 4;
  return `implausible fixed header ${hex2(b)} (${PACKET_NAMES[type]}, flags ${hex2(b & 15)}, remaining length ${rem})`;
}

