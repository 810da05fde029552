// Reference for the CoAP pairing property test: the UDP handler and its pending-request table
// as they were before requests moved into typed-array slots (PendingRequest objects in Maps
// keyed by message ID and hex token, an expiry queue with lazily skipped dead entries). Slow
// and simple; exchanges.test.ts checks that the handler gives the same events and counts.
import type { CoapMessage, EventSink, FlowSide } from '../../../../src/events/types';
import type { Dir, FlowInfo } from '../../../../src/flow/types';
import {
  type CoapHandlerOptions, type CoapStats, type PairedRequest, DEFAULT_MAX_PENDING, EXCHANGE_LIFETIME_US, coapAnomaly,
  createCoapStats,
} from '../../../../src/protocols/coap/exchanges';
import { type CoapDecoded, parseCoap } from '../../../../src/protocols/coap/parser';

export interface ReferenceHandler {
  readonly stats: CoapStats;
  readonly pending: number;
  onDatagram(dir: Dir, buf: Buffer, off: number, len: number, ts: number, frame: number): void;
  onEnd(ts: number): void;
}

/** Pairing outcome: the request, null for a response nothing explains, undefined when not applicable. */
type Pairing = PendingRequest | null | undefined;

/** A request awaiting its response. */
class PendingRequest {
  /** Reachable by message ID: until the request is acknowledged, answered or rejected. */
  midLive: boolean;
  /** Reachable by token: until its (first) response. */
  tokenLive = true;
  /** An established observation (RFC 7641): reachable by token until it ends or expires. */
  observing = false;
  expiresTs: number;
  /** Expiry time this entry had when it was last placed in the queue. */
  queuedExpiry: number;

  constructor(
    readonly dir: Dir,
    readonly frame: number,
    readonly ts: number,
    readonly messageId: number,
    readonly token: string,
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

/** How many answered exchanges a flow remembers to recognise retransmitted responses (RFC 7252 4.5). */
const RECENT = 16;

/** The pending-request table of one flow. */
class ExchangeTable {
  private readonly byMid: PerDir<Map<number, PendingRequest>> = [null, null];
  private readonly byToken: PerDir<Map<string, PendingRequest>> = [null, null];
  private readonly observations: PerDir<Map<string, PendingRequest>> = [null, null];
  /** Entries in order of (re)queueing; dead ones are skipped lazily and compacted away. */
  private queue: PendingRequest[] = [];
  private head = 0;
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
      if (prev !== undefined && prev.token === d.token) {
        this.stats.retransmissions++;
        return undefined;
      }
      if (prev !== undefined) this.dropMid(prev); // message ID reused with another token
    }
    let tokens = this.byToken[dir];
    if (tokens === null) tokens = this.byToken[dir] = new Map();
    const prevTok = tokens.get(d.token);
    if (prevTok !== undefined) this.dropToken(prevTok); // token reused: the older request is superseded

    if (this.liveCount >= this.maxPending) this.evictOldest();
    const p = new PendingRequest(
      dir, frame, ts, d.messageId, d.token, d.method, d.uriPath,
      d.observe === 0, byMid, ts + this.lifetimeUs,
    );
    if (mids !== null && byMid) mids.set(d.messageId, p);
    tokens.set(d.token, p);
    this.queue.push(p);
    this.liveCount++;
    this.compact();
    return p;
  }

  /** The request sent in `dir` with this message ID, if still pending by ID. */
  byMessageId(dir: Dir, mid: number): PendingRequest | undefined {
    return this.byMid[dir]?.get(mid);
  }

  /**
   * The request sent in `dir` that a response with this token answers. A notification (response
   * with Observe) belongs to the observation first: after a deregistration request with the same
   * token, late notifications still arrive (RFC 7641 3.6).
   */
  byTokenFor(dir: Dir, d: CoapDecoded): PendingRequest | undefined {
    const req = this.byToken[dir]?.get(d.token);
    const obs = this.observations[dir]?.get(d.token);
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
        const prev = obs.get(p.token);
        p.observing = true; // set before dropToken so the entry stays live
        if (prev !== undefined && prev !== p) this.release(prev);
        obs.set(p.token, p);
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
      if (m !== null && m.get(p.token) === p) m.delete(p.token);
    }
    this.liveCount--;
  }

  /** Forgets requests whose lifetime ended at or before capture time `ts`. */
  expire(ts: number): void {
    const q = this.queue;
    while (this.head < q.length) {
      const p = q[this.head];
      if (!p.live) {
        this.head++;
        continue;
      }
      if (p.queuedExpiry > ts) break;
      this.head++;
      if (p.expiresTs > ts) {
        // Refreshed since it was queued: requeue at its new expiry.
        p.queuedExpiry = p.expiresTs;
        q.push(p);
        continue;
      }
      this.release(p);
      this.stats.expired++;
    }
    this.compact();
  }

  /** Counts and forgets everything still pending (end of flow). */
  clear(): void {
    this.stats.pendingAtEnd += this.liveCount;
    this.byMid[0] = this.byMid[1] = null;
    this.byToken[0] = this.byToken[1] = null;
    this.observations[0] = this.observations[1] = null;
    this.queue = [];
    this.head = 0;
    this.liveCount = 0;
    this.recentKey = null;
    this.recentReq = [];
  }

  private dropMid(p: PendingRequest): void {
    if (!p.midLive) return;
    this.clearMid(p);
    if (!p.live) this.liveCount--;
  }

  private dropToken(p: PendingRequest): void {
    if (!p.tokenLive) return;
    this.clearToken(p);
    if (!p.live) this.liveCount--;
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
    if (m !== null && m.get(p.token) === p) m.delete(p.token);
  }

  private evictOldest(): void {
    const q = this.queue;
    while (this.head < q.length) {
      const p = q[this.head++];
      if (p.live) {
        this.release(p);
        this.stats.evicted++;
        this.boundHit = true;
        return;
      }
    }
  }

  /** Keeps the queue within a constant factor of the live entries (dead ones are dropped lazily). */
  private compact(): void {
    const q = this.queue;
    const slots = q.length - this.head;
    const manyDead = slots > 64 && slots > 2 * this.liveCount;
    const longHead = this.head > 1024 && this.head > slots;
    if (!manyDead && !longHead) return;
    const kept: PendingRequest[] = [];
    for (let i = this.head; i < q.length; i++) {
      const p = q[i];
      if (p.live) kept.push(p);
    }
    this.queue = kept;
    this.head = 0;
  }
}

export function createReferenceCoapHandler(flow: FlowInfo, emit: EventSink, opts: CoapHandlerOptions = {}): ReferenceHandler {
  const stats = opts.stats ?? createCoapStats();
  const table = new ExchangeTable(opts.maxPending ?? DEFAULT_MAX_PENDING, opts.lifetimeUs ?? EXCHANGE_LIFETIME_US, stats);
  let boundReported = false;

  function pair(dir: Dir, d: CoapDecoded, ts: number, frame: number): Pairing {
    const peer: Dir = dir === 0 ? 1 : 0;
    if (d.kind === 'request') {
      stats.requests++;
      // Both CON and NON requests can be rejected by a RST with their message ID (RFC 7252 4.2, 4.3).
      table.add(dir, d, ts, frame, d.msgType === 'CON' || d.msgType === 'NON');
      return undefined;
    }
    if (d.msgType === 'ACK') {
      const p = table.byMessageId(peer, d.messageId);
      if (d.kind === 'empty') {
        // Empty ACK: the request was received, a separate response follows by token (5.2.2).
        if (p === undefined) return undefined; // acknowledges a CON response or notification
        table.acknowledge(p);
        return p;
      }
      if (d.kind !== 'response') return undefined;
      // Piggybacked response: message ID and token both match the request (5.3.2).
      if (p !== undefined && p.token === d.token) {
        table.complete(p, d, ts);
        table.remember(dir, d.messageId, p);
        return p;
      }
      return retransmitted(dir, d);
    }
    if (d.msgType === 'RST') {
      // RST rejects the message with its ID (4.2, 4.3): for a request the exchange is over; for
      // a notification, the client cancels the observation (RFC 7641 3.6).
      const p = table.byMessageId(peer, d.messageId);
      if (p !== undefined) {
        table.release(p);
        return p;
      }
      const n = table.recall(peer, d.messageId);
      if (n !== undefined && n.observing) table.release(n);
      return undefined;
    }
    if (d.kind !== 'response') return undefined; // CoAP ping (empty CON), reserved codes
    // Separate response or notification in a CON/NON message, matched by token (5.2.2, 5.3.2).
    // A copy of a recent response (same sender, message ID and token) is a retransmission (4.5).
    const again = retransmitted(dir, d);
    if (again != null) return again;
    const p = table.byTokenFor(peer, d);
    if (p === undefined) return null;
    table.complete(p, d, ts);
    table.remember(dir, d.messageId, p);
    return p;
  }

  function retransmitted(dir: Dir, d: CoapDecoded): Pairing {
    const r = table.recall(dir, d.messageId);
    if (r === undefined || r.token !== d.token) return null;
    stats.retransmissions++;
    return r;
  }

  return {
    stats,
    get pending(): number {
      return table.size;
    },
    onDatagram(dir: Dir, buf: Buffer, off: number, len: number, ts: number, frame: number): void {
      table.expire(ts);
      const side = flow.sides[dir];
      const d = parseCoap(buf, off, len);
      if (!d.ok) {
        stats.malformed++;
        emit(coapAnomaly(d.anomaly, d.detail, ts, frame, side));
        return;
      }
      const p = pair(dir, d, ts, frame);
      if (table.boundHit && !boundReported) {
        boundReported = true;
        emit(coapAnomaly('coap.state_limit', 'pending requests reached the per-flow bound; the oldest was forgotten', ts, frame, side));
      }
      let matched: boolean | undefined;
      if (d.kind === 'response') {
        stats.responses++;
        matched = p != null;
        if (matched) stats.matched++;
        else stats.unmatched++;
      } else if (p != null) {
        matched = true; // an empty ACK or RST answering a request
      }
      stats.messages++;
      emit(coapEvent(d, ts, frame, side, matched, p ?? undefined));
    },
    onEnd(ts: number): void {
      table.expire(ts);
      table.clear();
    },
  };
}

/**
 * Builds the coap.message event from a CoapDecoded, field by field (the handler decodes straight
 * into its event; building it apart here keeps the reference independent of that). Every field is assigned (undefined when absent) so that all
 * events share one object shape; `p` is the request a response was paired with, `matched`
 * undefined for messages that are not subject to pairing.
 */
function coapEvent(
  d: CoapDecoded, ts: number, frame: number, flow: FlowSide,
  matched: boolean | undefined, p: PairedRequest | undefined,
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
