// Pending CoAP requests of one flow, shared by the UDP and TCP handlers: bounded, expiring in
// capture time, looked up by message ID (piggybacked ACK, RST) and by token (separate responses).
import type { AnomalyEvent, CoapMessage, FlowSide } from '../../events/types';
import type { Dir } from '../../flow/types';
import type { CoapAnomalyCode, CoapMessageDraft } from './parser';

/** What pairing reads of a message (a CoapDecoded or a decoded event); its token key is passed beside it. */
export type PairingFields = Pick<CoapMessage, 'messageId' | 'code' | 'method' | 'uriPath' | 'observe'>;

/** EXCHANGE_LIFETIME with the default transmission parameters (RFC 7252 section 4.8.2), in microseconds. */
export const EXCHANGE_LIFETIME_US = 247_000_000;
/** Default bound on pending requests per flow. */
export const DEFAULT_MAX_PENDING = 1024;

/** Counters of a handler; pass one object in the options to aggregate across flows. */
export interface CoapStats {
  /** coap.message events emitted. */
  messages: number;
  /** Messages that did not parse (one anomaly each). */
  malformed: number;
  /** Request messages seen, retransmissions included. */
  requests: number;
  /**
   * Retransmissions (RFC 7252 4.2, 4.5): requests with the message ID and token of a pending request,
   * responses with the sender, message ID and token of a recent response (paired like the original).
   */
  retransmissions: number;
  responses: number;
  matched: number;
  unmatched: number;
  /** Pending requests dropped after EXCHANGE_LIFETIME without a (final) response. */
  expired: number;
  /** Pending requests forgotten because the per-flow bound was reached. */
  evicted: number;
  /** Requests still pending when their flow ended. */
  pendingAtEnd: number;
}

export function createCoapStats(): CoapStats {
  return {
    messages: 0, malformed: 0, requests: 0, retransmissions: 0, responses: 0,
    matched: 0, unmatched: 0, expired: 0, evicted: 0, pendingAtEnd: 0,
  };
}

export interface CoapHandlerOptions {
  /** Bound on pending requests per flow (default 1024); the oldest is forgotten past it. */
  maxPending?: number;
  /** How long a request waits for its response, in capture microseconds (default EXCHANGE_LIFETIME). */
  lifetimeUs?: number;
  /** Counters to increment; defaults to a fresh object per handler. */
  stats?: CoapStats;
}

/** Request fields a paired response reports (CoapMessage.requestFrame, rttUs, requestMethod, requestPath). */
export interface PairedRequest {
  frame: number;
  ts: number;
  method: string | undefined;
  path: string | undefined;
}

/**
 * A request, as ExchangeTable hands it out: a slot number (>= 0), or an entry of the ring of
 * recently answered requests (<= RECENT_BASE). Valid until the next add().
 */
export type RequestRef = number;
/** No request explains the response. */
export const NO_REQUEST: RequestRef = -1;
/** The message is not subject to pairing. */
export const NOT_PAIRED: RequestRef = -2;
const RECENT_BASE = -3;

/** Whether a RequestRef names a request (a pairing), rather than NO_REQUEST or NOT_PAIRED. */
export function isRequest(r: RequestRef): boolean {
  return r >= 0 || r <= RECENT_BASE;
}

// Slot layout: a Float64Array row of S numbers per slot for what needs a double, a row of W
// int32 in an Int32Array for the rest (message ID, flags and the queue links, which stay small
// integers in optimised code), and R references (string token key, method, path) in a plain array.
const S = 6;
const S_FRAME = 0;
const S_TS = 1;
const S_EXPIRES = 2;
const S_QUEUED = 3;
/** Numeric token key (>= 0), or -1 when the key is a string (in R_TOKEN). */
const S_TOKEN = 4;
/** Bumped each time the slot is reused, so that a remembered slot number can be checked. */
const S_GEN = 5;
const W = 4;
const W_MID = 0;
const W_FLAGS = 1;
const W_PREV = 2;
const W_NEXT = 3;
const R = 3;
const R_TOKEN = 0;
const R_METHOD = 1;
const R_PATH = 2;

const DIR1 = 1;
/** The request registers an observation (Observe 0, RFC 7641 section 2). */
const OBSERVE = 2;
/** Reachable by message ID: until the request is acknowledged, answered or rejected. */
const MID_LIVE = 4;
/** Reachable by token: until its (first) response. */
const TOKEN_LIVE = 8;
/** An established observation (RFC 7641): reachable by token until it ends or expires. */
const OBSERVING = 16;
const LIVE = MID_LIVE | TOKEN_LIVE | OBSERVING;

// The three indexes (by message ID, by token, observations by token), one per direction, share
// one Int32Array of open-addressing tables. An entry is two ints, slot + 1 (0 = empty) and the
// key's hash, so that probing compares hashes without reading the slots.
const IDX_MID = 0;
const IDX_TOKEN = 2;
const IDX_OBS = 4;

const MIN_SLOTS = 8;

/** How many answered exchanges a flow remembers to recognise retransmitted responses (RFC 7252 4.5). */
const RECENT = 16;

/** The six indexes, none made yet (each is made when first used). */
function noIndexes(): (Int32Array | null)[] {
  return [null, null, null, null, null, null];
}

function hashNumber(k: number): number {
  let h = Math.imul(k | 0, 0x9e3779b1) ^ Math.imul((k / 4294967296) | 0, 0x85ebca6b);
  h ^= h >>> 15;
  return Math.imul(h, 0xc2b2ae35) ^ (h >>> 13);
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return hashNumber(h);
}

function hashToken(k: number | string): number {
  return typeof k === 'number' ? hashNumber(k) : hashString(k);
}

/**
 * The pending-request table of one flow. Requests live in slots of two flat arrays, found
 * through open-addressing indexes by message ID and by token, and sit in one expiry queue (a
 * doubly linked list through the slots, in order of (re)queueing). An answered request frees its
 * slot at once; nothing per request is left for the garbage collector, and the bound and expiry
 * are O(1) per request.
 */
export class ExchangeTable {
  private cap = 0;
  private v = new Float64Array(0);
  private w = new Int32Array(0);
  private r: (string | undefined)[] = [];
  /** Six tables of `idxSize` two-int entries, IDX_* + direction, each made when first used. */
  private idx = noIndexes();
  private idxSize = 0;
  private free = -1;
  private head = -1;
  private tail = -1;
  /** The head's queued expiry (Infinity when empty): expire() runs per message and need not read the row. */
  private headDue = Infinity;
  private liveCount = 0;
  // Ring of recent responses: sender direction * 65536 + message ID, the request answered (slot and
  // generation, to know whether it is still that request), and what a pairing reports of it.
  private recentKey: Int32Array | null = null;
  private readonly recentSlot = new Int32Array(RECENT);
  private readonly recentGen = new Float64Array(RECENT);
  private readonly recentF = new Float64Array(RECENT * 2);
  private readonly recentR: (string | number | undefined)[] = new Array<undefined>(RECENT * R).fill(undefined);
  private recentNext = 0;
  /** Whether the bound was hit on this flow (the anomaly is reported once). */
  boundHit = false;

  constructor(
    private readonly maxPending: number,
    private readonly lifetimeUs: number,
    private readonly stats: CoapStats,
  ) {}

  get size(): number {
    return this.liveCount;
  }

  /**
   * Records a request sent in direction `dir`. A retransmission (same message ID and token as a
   * pending request, RFC 7252 4.2/4.3) is counted and keeps the original's time and frame.
   */
  add(dir: Dir, d: PairingFields, key: number | string, ts: number, frame: number, byMid: boolean): void {
    const midHash = byMid ? hashNumber(d.messageId) : 0;
    const tokenHash = hashToken(key);
    if (byMid) {
      const prev = this.find(IDX_MID + dir, d.messageId, midHash);
      if (prev >= 0 && this.tokenIs(prev, key)) {
        this.stats.retransmissions++;
        return;
      }
      if (prev >= 0) this.dropMid(prev); // message ID reused with another token
    }
    const prevTok = this.find(IDX_TOKEN + dir, key, tokenHash);
    if (prevTok >= 0) this.dropToken(prevTok); // token reused: the older request is superseded

    if (this.liveCount >= this.maxPending) this.evictOldest();
    const s = this.alloc();
    const v = this.v;
    const w = this.w;
    const b = s * S;
    v[b + S_FRAME] = frame;
    v[b + S_TS] = ts;
    v[b + S_EXPIRES] = v[b + S_QUEUED] = ts + this.lifetimeUs;
    w[s * W + W_MID] = d.messageId;
    w[s * W + W_FLAGS] = dir | (d.observe === 0 ? OBSERVE : 0) | (byMid ? MID_LIVE : 0) | TOKEN_LIVE;
    const rb = s * R;
    if (typeof key === 'number') {
      v[b + S_TOKEN] = key;
      this.r[rb + R_TOKEN] = undefined;
    } else {
      v[b + S_TOKEN] = -1;
      this.r[rb + R_TOKEN] = key;
    }
    this.r[rb + R_METHOD] = d.method;
    this.r[rb + R_PATH] = d.uriPath;
    if (byMid) this.insert(IDX_MID + dir, s, d.messageId, midHash);
    this.insert(IDX_TOKEN + dir, s, key, tokenHash);
    this.enqueue(s);
    this.liveCount++;
  }

  /** The request sent in `dir` with this message ID, if still pending by ID; else NO_REQUEST. */
  byMessageId(dir: Dir, mid: number): RequestRef {
    return this.liveCount === 0 ? NO_REQUEST : this.find(IDX_MID + dir, mid, hashNumber(mid));
  }

  /**
   * The request sent in `dir` that a response with this token answers. A notification (response
   * with Observe) belongs to the observation first: after a deregistration request with the same
   * token, late notifications still arrive (RFC 7641 3.6).
   */
  byTokenFor(dir: Dir, d: PairingFields, key: number | string): RequestRef {
    if (this.liveCount === 0) return NO_REQUEST;
    const h = hashToken(key);
    const req = this.find(IDX_TOKEN + dir, key, h);
    const obs = this.find(IDX_OBS + dir, key, h);
    return d.observe !== undefined ? (obs >= 0 ? obs : req) : (req >= 0 ? req : obs);
  }

  /** Whether the request `s` (a slot) has this token. */
  tokenIs(s: number, key: number | string): boolean {
    // Numeric keys are >= 0; a slot holding a string key has -1 there.
    return typeof key === 'number' ? this.v[s * S + S_TOKEN] === key : this.r[s * R + R_TOKEN] === key;
  }

  /** The request was acknowledged (empty ACK): its message ID no longer matches anything (5.2.2). */
  acknowledge(s: number): void {
    this.dropMid(s);
  }

  /**
   * A response arrived for `s`. RFC 7641 3.2, 4.2: a 2.xx response carrying Observe to a request
   * that registered continues the observation, which stays pending for another lifetime after each
   * notification; anything else ends the exchange.
   */
  complete(s: number, d: PairingFields, ts: number): void {
    const b = s * S;
    const v = this.v;
    const w = this.w;
    if ((w[s * W + W_FLAGS] & OBSERVE) !== 0 && d.observe !== undefined && d.code.startsWith('2.')) {
      this.dropMid(s);
      if ((w[s * W + W_FLAGS] & OBSERVING) === 0) {
        const dir = w[s * W + W_FLAGS] & DIR1;
        const key = this.tokenKeyOf(s);
        const h = hashToken(key);
        const prev = this.find(IDX_OBS + dir, key, h);
        w[s * W + W_FLAGS] |= OBSERVING; // set before dropToken so the entry stays live
        if (prev >= 0 && prev !== s) this.release(prev);
        this.insert(IDX_OBS + dir, s, key, h);
        this.dropToken(s);
      }
      v[b + S_EXPIRES] = ts + this.lifetimeUs;
    } else {
      this.release(s);
    }
  }

  /** Remembers that `s` was answered by a response with this message ID sent in direction `dir`. */
  remember(dir: Dir, mid: number, s: number): void {
    let keys = this.recentKey;
    if (keys === null) keys = this.recentKey = new Int32Array(RECENT).fill(-1);
    const i = this.recentNext;
    const b = s * S;
    keys[i] = dir * 65536 + mid;
    this.recentSlot[i] = s;
    this.recentGen[i] = this.v[b + S_GEN];
    this.recentF[i * 2] = this.v[b + S_FRAME];
    this.recentF[i * 2 + 1] = this.v[b + S_TS];
    this.recentR[i * R + R_TOKEN] = this.tokenKeyOf(s);
    this.recentR[i * R + R_METHOD] = this.r[s * R + R_METHOD];
    this.recentR[i * R + R_PATH] = this.r[s * R + R_PATH];
    this.recentNext = (i + 1) % RECENT;
  }

  /** The request answered by an earlier response with this message ID sent in `dir`, if recent; else NO_REQUEST. */
  recall(dir: Dir, mid: number): RequestRef {
    const keys = this.recentKey;
    if (keys === null) return NO_REQUEST;
    const key = dir * 65536 + mid;
    for (let i = 0; i < RECENT; i++) if (keys[i] === key) return RECENT_BASE - i;
    return NO_REQUEST;
  }

  /** Whether the recalled request (from recall) had this token. */
  recalledTokenIs(ref: RequestRef, key: number | string): boolean {
    return this.recentR[(RECENT_BASE - ref) * R + R_TOKEN] === key;
  }

  /** The recalled request's slot if it is still that request and observing, else NO_REQUEST. */
  recalledObservation(ref: RequestRef): number {
    const i = RECENT_BASE - ref;
    const s = this.recentSlot[i];
    if (s >= this.cap || this.v[s * S + S_GEN] !== this.recentGen[i]) return NO_REQUEST;
    return (this.w[s * W + W_FLAGS] & OBSERVING) !== 0 ? s : NO_REQUEST;
  }

  /** Copies what a pairing reports of request `ref` into `out`. */
  describe(ref: RequestRef, out: PairedRequest): PairedRequest {
    if (ref >= 0) {
      out.frame = this.v[ref * S + S_FRAME];
      out.ts = this.v[ref * S + S_TS];
      out.method = this.r[ref * R + R_METHOD];
      out.path = this.r[ref * R + R_PATH];
    } else {
      const i = RECENT_BASE - ref;
      out.frame = this.recentF[i * 2];
      out.ts = this.recentF[i * 2 + 1];
      out.method = this.recentR[i * R + R_METHOD] as string | undefined;
      out.path = this.recentR[i * R + R_PATH] as string | undefined;
    }
    return out;
  }

  /** Ends the exchange (or observation) of request `s`. */
  release(s: number): void {
    const flags = this.w[s * W + W_FLAGS];
    if ((flags & LIVE) === 0) return;
    const dir = flags & DIR1;
    if ((flags & MID_LIVE) !== 0) this.remove(IDX_MID + dir, s, hashNumber(this.w[s * W + W_MID]));
    if ((flags & (TOKEN_LIVE | OBSERVING)) !== 0) {
      const h = hashToken(this.tokenKeyOf(s));
      if ((flags & TOKEN_LIVE) !== 0) this.remove(IDX_TOKEN + dir, s, h);
      if ((flags & OBSERVING) !== 0) this.remove(IDX_OBS + dir, s, h);
    }
    this.w[s * W + W_FLAGS] = flags & ~LIVE;
    this.died(s);
  }

  /** Forgets requests whose lifetime ended at or before capture time `ts`. */
  expire(ts: number): void {
    if (this.headDue > ts) return;
    const v = this.v;
    for (let s = this.head; s >= 0 && v[s * S + S_QUEUED] <= ts; s = this.head) {
      if (v[s * S + S_EXPIRES] > ts) {
        // Refreshed since it was queued: requeue at its new expiry.
        v[s * S + S_QUEUED] = v[s * S + S_EXPIRES];
        this.unlink(s);
        this.enqueue(s);
        continue;
      }
      this.release(s);
      this.stats.expired++;
    }
  }

  /** Counts and forgets everything still pending (end of flow). */
  clear(): void {
    this.stats.pendingAtEnd += this.liveCount;
    this.cap = 0;
    this.v = new Float64Array(0);
    this.w = new Int32Array(0);
    this.r = [];
    this.idx = noIndexes();
    this.idxSize = 0;
    this.free = this.head = this.tail = -1;
    this.headDue = Infinity;
    this.liveCount = 0;
    this.recentKey = null;
    this.recentR.fill(undefined);
  }

  private tokenKeyOf(s: number): number | string {
    const k = this.r[s * R + R_TOKEN];
    return k === undefined ? this.v[s * S + S_TOKEN] : k;
  }

  private dropMid(s: number): void {
    const flags = this.w[s * W + W_FLAGS];
    if ((flags & MID_LIVE) === 0) return;
    this.remove(IDX_MID + (flags & DIR1), s, hashNumber(this.w[s * W + W_MID]));
    this.w[s * W + W_FLAGS] = flags & ~MID_LIVE;
    if ((flags & LIVE & ~MID_LIVE) === 0) this.died(s);
  }

  private dropToken(s: number): void {
    const flags = this.w[s * W + W_FLAGS];
    if ((flags & TOKEN_LIVE) === 0) return;
    this.remove(IDX_TOKEN + (flags & DIR1), s, hashToken(this.tokenKeyOf(s)));
    this.w[s * W + W_FLAGS] = flags & ~TOKEN_LIVE;
    if ((flags & LIVE & ~TOKEN_LIVE) === 0) this.died(s);
  }

  /** `s` is no longer reachable: out of the queue and the count; its slot is free (its fields stay readable until reused). */
  private died(s: number): void {
    this.unlink(s);
    this.liveCount--;
    this.w[s * W + W_NEXT] = this.free;
    this.free = s;
  }

  private evictOldest(): void {
    const s = this.head;
    if (s < 0) return;
    this.release(s);
    this.stats.evicted++;
    this.boundHit = true;
  }

  private enqueue(s: number): void {
    const w = this.w;
    w[s * W + W_PREV] = this.tail;
    w[s * W + W_NEXT] = -1;
    if (this.tail >= 0) w[this.tail * W + W_NEXT] = s;
    else {
      this.head = s;
      this.headDue = this.v[s * S + S_QUEUED];
    }
    this.tail = s;
  }

  private unlink(s: number): void {
    const w = this.w;
    const prev = w[s * W + W_PREV];
    const next = w[s * W + W_NEXT];
    if (prev >= 0) w[prev * W + W_NEXT] = next;
    else {
      this.head = next;
      this.headDue = next >= 0 ? this.v[next * S + S_QUEUED] : Infinity;
    }
    if (next >= 0) w[next * W + W_PREV] = prev; else this.tail = prev;
  }

  /** A free slot (its generation bumped), growing the arrays when none is left. */
  private alloc(): number {
    if (this.free < 0) this.grow();
    const s = this.free;
    this.free = this.w[s * W + W_NEXT];
    this.v[s * S + S_GEN]++;
    return s;
  }

  private grow(): void {
    const old = this.cap;
    const cap = old === 0 ? MIN_SLOTS : old * 2;
    const v = new Float64Array(cap * S);
    v.set(this.v);
    this.v = v;
    const w = new Int32Array(cap * W);
    w.set(this.w);
    this.w = w;
    for (let i = old * R; i < cap * R; i++) this.r.push(undefined);
    // New slots join the free list in order.
    for (let s = cap - 1; s >= old; s--) {
      w[s * W + W_NEXT] = this.free;
      this.free = s;
    }
    this.cap = cap;
    // Indexes at most half full: rebuild them at twice the slot count.
    this.idxSize = cap * 2;
    this.idx = noIndexes();
    for (let s = 0; s < old; s++) {
      const flags = w[s * W + W_FLAGS];
      const dir = flags & DIR1;
      if ((flags & MID_LIVE) !== 0) this.insert(IDX_MID + dir, s, w[s * W + W_MID], hashNumber(w[s * W + W_MID]));
      const key = this.tokenKeyOf(s);
      if ((flags & TOKEN_LIVE) !== 0) this.insert(IDX_TOKEN + dir, s, key, hashToken(key));
      if ((flags & OBSERVING) !== 0) this.insert(IDX_OBS + dir, s, key, hashToken(key));
    }
  }

  private keyIs(table: number, s: number, key: number | string): boolean {
    return table < IDX_TOKEN ? this.w[s * W + W_MID] === key : this.tokenIs(s, key);
  }

  /** The slot under `key` (hash `h`) in index `table`, or NO_REQUEST. */
  private find(table: number, key: number | string, h: number): number {
    const idx = this.idx[table];
    if (idx === null) return NO_REQUEST;
    const mask = this.idxSize - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = idx[i << 1];
      if (e === 0) return NO_REQUEST;
      if (idx[(i << 1) + 1] === h && this.keyIs(table, e - 1, key)) return e - 1;
    }
  }

  /** Sets `key` (hash `h`) to slot `s` in index `table`, replacing whatever it held (like Map#set). */
  private insert(table: number, s: number, key: number | string, h: number): void {
    let idx = this.idx[table];
    if (idx === null) idx = this.idx[table] = new Int32Array(this.idxSize * 2);
    const mask = this.idxSize - 1;
    let i = h & mask;
    for (; idx[i << 1] !== 0; i = (i + 1) & mask) {
      if (idx[(i << 1) + 1] === h && this.keyIs(table, idx[i << 1] - 1, key)) break;
    }
    idx[i << 1] = s + 1;
    idx[(i << 1) + 1] = h;
  }

  /**
   * Removes slot `s`, whose key hashes to `h`, from index `table` if there (backward-shift
   * deletion: no tombstones, and the stored hashes say where each entry belongs).
   */
  private remove(table: number, s: number, h: number): void {
    const idx = this.idx[table];
    if (idx === null) return;
    const mask = this.idxSize - 1;
    let i = h & mask;
    for (;; i = (i + 1) & mask) {
      const e = idx[i << 1];
      if (e === 0) return;
      if (e - 1 === s) break;
    }
    // Move later entries of the probe run back into the hole when their home allows it.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const at = j << 1;
      if (idx[at] === 0) break;
      const home = idx[at + 1] & mask;
      // The entry at j may fill the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? home > i && home <= j : home > i || home <= j) continue;
      idx[i << 1] = idx[at];
      idx[(i << 1) + 1] = idx[at + 1];
      i = j;
    }
    idx[i << 1] = 0;
  }

}

/**
 * Completes the event decoded in place (decodeCoapMessage): every field is assigned (undefined
 * when absent), so all events share one object shape; `matched` undefined for messages not
 * subject to pairing, `p` the request a response was paired with.
 */
export function setPairing(m: CoapMessageDraft, matched: boolean | undefined, p: PairedRequest | undefined): CoapMessage {
  m.matched = matched;
  if (p !== undefined) {
    m.requestFrame = p.frame;
    m.rttUs = m.ts - p.ts;
    m.requestMethod = p.method;
    m.requestPath = p.path;
  }
  return m;
}

export function coapAnomaly(code: CoapAnomalyCode, detail: string, ts: number, frame: number, flow: FlowSide): AnomalyEvent {
  return { type: 'anomaly', ts, frame, flow, code, layer: 'coap', detail };
}
