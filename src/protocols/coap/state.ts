// CoAP over UDP: one handler per 5-tuple flow. Decodes each datagram and pairs responses with
// requests (RFC 7252 section 5.3.2): piggybacked responses and RST by message ID, separate
// responses and Observe notifications (RFC 7641) by token. Time is the capture's own.
import type { EventSink } from '../../events/types';
import type { Dir, FlowInfo, UdpAppHandler } from '../../flow/types';
import {
  type CoapHandlerOptions, type CoapStats, type PairedRequest, type RequestRef,
  DEFAULT_MAX_PENDING, EXCHANGE_LIFETIME_US, ExchangeTable, NOT_PAIRED, NO_REQUEST, coapAnomaly, createCoapStats,
  isRequest, setPairing,
} from './exchanges';
import { type CoapMessageDraft, decodeCoapMessage, decodedTokenKey, isCoapError } from './parser';

export interface CoapUdpHandler extends UdpAppHandler {
  readonly app: 'coap';
  readonly stats: CoapStats;
  /** Requests currently awaiting a response on this flow. */
  readonly pending: number;
}

/** Pairing outcome: the request, NO_REQUEST for a response nothing explains, NOT_PAIRED when not applicable. */
type Pairing = RequestRef;

/**
 * What the event reports of a paired request: filled by ExchangeTable.describe and read by
 * setPairing right after, so one object serves every handler.
 */
const paired: PairedRequest = { frame: 0, ts: 0, method: undefined, path: undefined };

export function createCoapHandler(flow: FlowInfo, emit: EventSink, opts: CoapHandlerOptions = {}): CoapUdpHandler {
  return new CoapUdpFlow(flow, emit, opts);
}

/** A class rather than closures: a datagram reads this object's fields, not a function and its context. */
class CoapUdpFlow implements CoapUdpHandler {
  readonly app = 'coap';
  readonly stats: CoapStats;
  private readonly table: ExchangeTable;
  private boundReported = false;

  constructor(private readonly flow: FlowInfo, private readonly emit: EventSink, opts: CoapHandlerOptions) {
    this.stats = opts.stats ?? createCoapStats();
    this.table = new ExchangeTable(opts.maxPending ?? DEFAULT_MAX_PENDING, opts.lifetimeUs ?? EXCHANGE_LIFETIME_US, this.stats);
  }

  get pending(): number {
    return this.table.size;
  }

  onDatagram(dir: Dir, buf: Buffer, off: number, len: number, ts: number, frame: number): void {
    const table = this.table;
    const stats = this.stats;
    table.expire(ts);
    const side = this.flow.sides[dir];
    const d = decodeCoapMessage(buf, off, len, ts, frame, side);
    if (isCoapError(d)) {
      stats.malformed++;
      this.emit(coapAnomaly(d.anomaly, d.detail, ts, frame, side));
      return;
    }
    const p = this.pair(dir, d, decodedTokenKey(), ts, frame);
    if (table.boundHit && !this.boundReported) {
      this.boundReported = true;
      this.emit(coapAnomaly('coap.state_limit', 'pending requests reached the per-flow bound; the oldest was forgotten', ts, frame, side));
    }
    const found = isRequest(p);
    let matched: boolean | undefined;
    if (d.kind === 'response') {
      stats.responses++;
      matched = found;
      if (matched) stats.matched++;
      else stats.unmatched++;
    } else if (found) {
      matched = true; // an empty ACK or RST answering a request
    }
    stats.messages++;
    this.emit(setPairing(d, matched, found ? table.describe(p, paired) : undefined));
  }

  onEnd(ts: number): void {
    this.table.expire(ts);
    this.table.clear();
  }

  private pair(dir: Dir, d: CoapMessageDraft, key: number | string, ts: number, frame: number): Pairing {
    const peer: Dir = dir === 0 ? 1 : 0;
    if (d.kind === 'request') {
      this.stats.requests++;
      // Both CON and NON requests can be rejected by a RST with their message ID (RFC 7252 4.2, 4.3).
      this.table.add(dir, d, key, ts, frame, d.msgType === 'CON' || d.msgType === 'NON');
      return NOT_PAIRED;
    }
    if (d.msgType === 'ACK') {
      const p = this.table.byMessageId(peer, d.messageId);
      if (d.kind === 'empty') {
        // Empty ACK: the request was received, a separate response follows by token (5.2.2).
        if (p === NO_REQUEST) return NOT_PAIRED; // acknowledges a CON response or notification
        this.table.acknowledge(p);
        return p;
      }
      if (d.kind !== 'response') return NOT_PAIRED;
      // Piggybacked response: message ID and token both match the request (5.3.2).
      if (p !== NO_REQUEST && this.table.tokenIs(p, key)) {
        this.table.complete(p, d, ts);
        this.table.remember(dir, d.messageId, p);
        return p;
      }
      return this.retransmitted(dir, d.messageId, key);
    }
    if (d.msgType === 'RST') {
      // RST rejects the message with its ID (4.2, 4.3): for a request the exchange is over; for
      // a notification, the client cancels the observation (RFC 7641 3.6).
      const p = this.table.byMessageId(peer, d.messageId);
      if (p !== NO_REQUEST) {
        this.table.release(p);
        return p;
      }
      const n = this.table.recall(peer, d.messageId);
      if (n !== NO_REQUEST) {
        const observation = this.table.recalledObservation(n);
        if (observation !== NO_REQUEST) this.table.release(observation);
      }
      return NOT_PAIRED;
    }
    if (d.kind !== 'response') return NOT_PAIRED; // CoAP ping (empty CON), reserved codes
    // Separate response or notification in a CON/NON message, matched by token (5.2.2, 5.3.2).
    // A copy of a recent response (same sender, message ID and token) is a retransmission (4.5).
    const again = this.retransmitted(dir, d.messageId, key);
    if (again !== NO_REQUEST) return again;
    const p = this.table.byTokenFor(peer, d, key);
    if (p === NO_REQUEST) return NO_REQUEST;
    this.table.complete(p, d, ts);
    this.table.remember(dir, d.messageId, p);
    return p;
  }

  private retransmitted(dir: Dir, mid: number, key: number | string): Pairing {
    const r = this.table.recall(dir, mid);
    if (r === NO_REQUEST || !this.table.recalledTokenIs(r, key)) return NO_REQUEST;
    this.stats.retransmissions++;
    return r;
  }
}
