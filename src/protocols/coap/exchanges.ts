// Pending CoAP requests of one flow, shared by the UDP and TCP handlers: bounded, expiring in
// capture time, looked up by message ID (piggybacked ACK, RST) and by token (separate responses).
import type { AnomalyEvent, CoapMessage, FlowSide } from '../../events/types';
import type { Dir } from '../../flow/types';
import type { CoapAnomalyCode, CoapDecoded } from './parser';

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

/** A request awaiting its response. */
export class PendingRequest {
  /** Reachable by message ID: until the request is acknowledged, answered or rejected. */
  midLive: boolean;
  /** Reachable by token: until its (first) response. */
  tokenLive = true;
  /** An established observation (RFC 7641): reachable by token until it ends or expires. */
  observing = false;
  expiresTs: number;
  /** Expiry time this entry had when it was last placed in the queue. */
  queuedExpiry: number;
  /** Links in the table's queue of live entries. */
  prev: PendingRequest | null = null;
  next: PendingRequest | null = null;

  constructor(
    readonly dir: Dir,
    readonly frame: number,
    readonly ts: number,
    readonly messageId: number,
    /** The token as a map key (CoapDecoded.tokenKey): equal keys mean equal tokens. */
    readonly tokenKey: number | string,
    readonly method: string | undefined,
    readonly path: string | undefined,
    /** The request registers an observation (Observe 0, RFC 7641 section 2). */
    readonly observe: boolean,
    byMid: boolean,
    expiresTs: number,
  ) {
    this.midLive = byMid;
    this.expiresTs = expiresTs;
    this.queuedExpiry = expiresTs;
  }

  get live(): boolean {
    return this.midLive || this.tokenLive || this.observing;
  }
}

type PerDir<T> = [T | null, T | null];
type TokenKey = number | string;

/** How many answered exchanges a flow remembers to recognise retransmitted responses (RFC 7252 4.5). */
const RECENT = 16;

/**
 * The pending-request table of one flow. Live entries sit in one queue, in order of
 * (re)queueing: an intrusive doubly linked list, so that an entry leaves it in O(1) the moment
 * it is answered and the queue never holds more than the bound.
 */
export class ExchangeTable {
  private readonly byMid: PerDir<Map<number, PendingRequest>> = [null, null];
  private readonly byToken: PerDir<Map<TokenKey, PendingRequest>> = [null, null];
  private readonly observations: PerDir<Map<TokenKey, PendingRequest>> = [null, null];
  private head: PendingRequest | null = null;
  private tail: PendingRequest | null = null;
  private liveCount = 0;
  /** Ring of recent responses: sender direction * 65536 + message ID, and the request answered. */
  private recentKey: Int32Array | null = null;
  private recentReq: (PendingRequest | undefined)[] = [];
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
   * Records a request sent in direction `dir`. Returns undefined for a retransmission (same message
   * ID and token as a pending request, RFC 7252 4.2/4.3), which keeps the original's time and frame.
   */
  add(dir: Dir, d: CoapDecoded, ts: number, frame: number, byMid: boolean): PendingRequest | undefined {
    let mids = this.byMid[dir];
    if (byMid) {
      if (mids === null) mids = this.byMid[dir] = new Map();
      const prev = mids.get(d.messageId);
      if (prev !== undefined && prev.tokenKey === d.tokenKey) {
        this.stats.retransmissions++;
        return undefined;
      }
      if (prev !== undefined) this.dropMid(prev); // message ID reused with another token
    }
    let tokens = this.byToken[dir];
    if (tokens === null) tokens = this.byToken[dir] = new Map();
    const prevTok = tokens.get(d.tokenKey);
    if (prevTok !== undefined) this.dropToken(prevTok); // token reused: the older request is superseded

    if (this.liveCount >= this.maxPending) this.evictOldest();
    const p = new PendingRequest(
      dir, frame, ts, d.messageId, d.tokenKey, d.method, d.uriPath,
      d.observe === 0, byMid, ts + this.lifetimeUs,
    );
    if (mids !== null && byMid) mids.set(d.messageId, p);
    tokens.set(d.tokenKey, p);
    this.enqueue(p);
    this.liveCount++;
    return p;
  }

  /** The request sent in `dir` with this message ID, if still pending by ID. */
  byMessageId(dir: Dir, mid: number): PendingRequest | undefined {
    const m = this.byMid[dir];
    return m === null ? undefined : m.get(mid);
  }

  /**
   * The request sent in `dir` that a response with this token answers. A notification (response
   * with Observe) belongs to the observation first: after a deregistration request with the same
   * token, late notifications still arrive (RFC 7641 3.6).
   */
  byTokenFor(dir: Dir, d: CoapDecoded): PendingRequest | undefined {
    const t = this.byToken[dir];
    const o = this.observations[dir];
    const req = t === null ? undefined : t.get(d.tokenKey);
    const obs = o === null ? undefined : o.get(d.tokenKey);
    return d.observe !== undefined ? obs ?? req : req ?? obs;
  }

  /** The request was acknowledged (empty ACK): its message ID no longer matches anything (5.2.2). */
  acknowledge(p: PendingRequest): void {
    this.dropMid(p);
  }

  /**
   * A response arrived for `p`. RFC 7641 3.2, 4.2: a 2.xx response carrying Observe to a request
   * that registered continues the observation, which stays pending for another lifetime after each
   * notification; anything else ends the exchange.
   */
  complete(p: PendingRequest, d: CoapDecoded, ts: number): void {
    if (p.observe && d.observe !== undefined && d.code.startsWith('2.')) {
      this.dropMid(p);
      if (!p.observing) {
        let obs = this.observations[p.dir];
        if (obs === null) obs = this.observations[p.dir] = new Map();
        const prev = obs.get(p.tokenKey);
        p.observing = true; // set before dropToken so the entry stays live
        if (prev !== undefined && prev !== p) this.release(prev);
        obs.set(p.tokenKey, p);
        this.dropToken(p);
      }
      p.expiresTs = ts + this.lifetimeUs;
    } else {
      this.release(p);
    }
  }

  /** Remembers that `p` was answered by a response with this message ID sent in direction `dir`. */
  remember(dir: Dir, mid: number, p: PendingRequest): void {
    let keys = this.recentKey;
    if (keys === null) keys = this.recentKey = new Int32Array(RECENT).fill(-1);
    keys[this.recentNext] = dir * 65536 + mid;
    this.recentReq[this.recentNext] = p;
    this.recentNext = (this.recentNext + 1) % RECENT;
  }

  /** The request answered by an earlier response with this message ID sent in `dir`, if recent. */
  recall(dir: Dir, mid: number): PendingRequest | undefined {
    const keys = this.recentKey;
    if (keys === null) return undefined;
    const key = dir * 65536 + mid;
    for (let i = 0; i < RECENT; i++) if (keys[i] === key) return this.recentReq[i];
    return undefined;
  }

  /** Ends the exchange (or observation) of `p`. */
  release(p: PendingRequest): void {
    if (!p.live) return;
    this.clearMid(p);
    this.clearToken(p);
    if (p.observing) {
      p.observing = false;
      const m = this.observations[p.dir];
      if (m !== null && m.get(p.tokenKey) === p) m.delete(p.tokenKey);
    }
    this.died(p);
  }

  /** Forgets requests whose lifetime ended at or before capture time `ts`. */
  expire(ts: number): void {
    for (let p = this.head; p !== null && p.queuedExpiry <= ts; p = this.head) {
      if (p.expiresTs > ts) {
        // Refreshed since it was queued: requeue at its new expiry.
        p.queuedExpiry = p.expiresTs;
        this.unlink(p);
        this.enqueue(p);
        continue;
      }
      this.release(p);
      this.stats.expired++;
    }
  }

  /** Counts and forgets everything still pending (end of flow). */
  clear(): void {
    this.stats.pendingAtEnd += this.liveCount;
    this.byMid[0] = this.byMid[1] = null;
    this.byToken[0] = this.byToken[1] = null;
    this.observations[0] = this.observations[1] = null;
    this.head = this.tail = null;
    this.liveCount = 0;
    this.recentKey = null;
    this.recentReq = [];
  }

  private dropMid(p: PendingRequest): void {
    if (!p.midLive) return;
    this.clearMid(p);
    if (!p.live) this.died(p);
  }

  private dropToken(p: PendingRequest): void {
    if (!p.tokenLive) return;
    this.clearToken(p);
    if (!p.live) this.died(p);
  }

  private clearMid(p: PendingRequest): void {
    if (!p.midLive) return;
    p.midLive = false;
    const m = this.byMid[p.dir];
    if (m !== null && m.get(p.messageId) === p) m.delete(p.messageId);
  }

  private clearToken(p: PendingRequest): void {
    if (!p.tokenLive) return;
    p.tokenLive = false;
    const m = this.byToken[p.dir];
    if (m !== null && m.get(p.tokenKey) === p) m.delete(p.tokenKey);
  }

  /** `p` is no longer reachable: out of the queue and the count. */
  private died(p: PendingRequest): void {
    this.unlink(p);
    this.liveCount--;
  }

  private evictOldest(): void {
    const p = this.head;
    if (p === null) return;
    this.release(p);
    this.stats.evicted++;
    this.boundHit = true;
  }

  private enqueue(p: PendingRequest): void {
    p.prev = this.tail;
    p.next = null;
    if (this.tail !== null) this.tail.next = p; else this.head = p;
    this.tail = p;
  }

  private unlink(p: PendingRequest): void {
    if (p.prev !== null) p.prev.next = p.next; else this.head = p.next;
    if (p.next !== null) p.next.prev = p.prev; else this.tail = p.prev;
    p.prev = p.next = null;
  }
}

/**
 * Builds the coap.message event. Every field is assigned (undefined when absent) so that all
 * events share one object shape; `p` is the request a response was paired with, `matched`
 * undefined for messages that are not subject to pairing.
 */
export function coapEvent(
  d: CoapDecoded, ts: number, frame: number, flow: FlowSide,
  matched: boolean | undefined, p: PendingRequest | undefined,
): CoapMessage {
  return {
    type: 'coap.message',
    ts,
    frame,
    flow,
    version: d.version,
    msgType: d.msgType,
    code: d.code,
    kind: d.kind,
    method: d.method,
    messageId: d.messageId,
    token: d.token,
    options: d.options,
    uriHost: d.uriHost,
    uriPath: d.uriPath,
    uriQuery: d.uriQuery,
    contentFormat: d.contentFormat,
    observe: d.observe,
    block1: d.block1,
    block2: d.block2,
    size1: d.size1,
    size2: d.size2,
    oscore: d.oscore,
    payloadLength: d.payloadLength,
    length: d.length,
    matched,
    requestFrame: p?.frame,
    rttUs: p === undefined ? undefined : ts - p.ts,
    requestMethod: p?.method,
    requestPath: p?.path,
  };
}

export function coapAnomaly(code: CoapAnomalyCode, detail: string, ts: number, frame: number, flow: FlowSide): AnomalyEvent {
  return { type: 'anomaly', ts, frame, flow, code, layer: 'coap', detail };
}
