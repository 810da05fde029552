// CoAP over UDP: one handler per 5-tuple flow. Decodes each datagram and pairs responses with
// requests (RFC 7252 section 5.3.2): piggybacked responses and RST by message ID, separate
// responses and Observe notifications (RFC 7641) by token. Time is the capture's own.
import type { EventSink } from '../../events/types';
import type { Dir, FlowInfo, UdpAppHandler } from '../../flow/types';
import {
  type CoapHandlerOptions, type CoapStats, type PendingRequest,
  DEFAULT_MAX_PENDING, EXCHANGE_LIFETIME_US, ExchangeTable, coapAnomaly, coapEvent, createCoapStats,
} from './exchanges';
import { type CoapDecoded, parseCoap } from './parser';

export interface CoapUdpHandler extends UdpAppHandler {
  readonly app: 'coap';
  readonly stats: CoapStats;
  /** Requests currently awaiting a response on this flow. */
  readonly pending: number;
}

/** Pairing outcome: the request, null for a response nothing explains, undefined when not applicable. */
type Pairing = PendingRequest | null | undefined;

export function createCoapHandler(flow: FlowInfo, emit: EventSink, opts: CoapHandlerOptions = {}): CoapUdpHandler {
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
      if (p !== undefined && p.tokenKey === d.tokenKey) {
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
    if (r === undefined || r.tokenKey !== d.tokenKey) return null;
    stats.retransmissions++;
    return r;
  }

  return {
    app: 'coap',
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
