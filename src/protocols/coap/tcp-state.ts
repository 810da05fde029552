// CoAP over TCP (RFC 8323): frames messages out of each direction's byte stream and pairs
// responses with requests by token (section 3.3: no message IDs on reliable transports).
// Events use msgType 'CON' and messageId 0 (see parseCoapTcp); flow.proto tells them apart.
import type { EventSink } from '../../events/types';
import type { Dir, FlowInfo, TcpAppHandler } from '../../flow/types';
import {
  type CoapHandlerOptions, type CoapStats, type PairedRequest,
  DEFAULT_MAX_PENDING, EXCHANGE_LIFETIME_US, ExchangeTable, NO_REQUEST, coapAnomaly, createCoapStats, setPairing,
} from './exchanges';
import { TCP_FRAME_INVALID, coapTcpFrameLength, decodeCoapTcpMessage, decodedTokenKey, isCoapError } from './parser';

/** Default bound on one message, hence on the bytes buffered per direction. */
export const DEFAULT_MAX_TCP_MESSAGE = 1 << 20;

export interface CoapTcpHandlerOptions extends CoapHandlerOptions {
  /** Messages larger than this are reported (coap.oversized) and skipped, not buffered. */
  maxMessageSize?: number;
}

export interface CoapTcpHandler extends TcpAppHandler {
  readonly app: 'coap';
  readonly stats: CoapStats;
  readonly pending: number;
}

/** Reassembly state of one direction. */
class StreamDir {
  /** Bytes of an incomplete frame (header or body), buf[0, len). */
  buf: Buffer = Buffer.alloc(0);
  len = 0;
  /** Bytes still to discard of an oversized message. */
  skip = 0;
  desynced = false;
}

/** Bytes of the Len/TKL byte plus extended length (RFC 8323 section 3.2). */
function headerBytes(b0: number): number {
  const ln = b0 >>> 4;
  return 1 + (ln === 13 ? 1 : ln === 14 ? 2 : ln === 15 ? 4 : 0);
}

export function createCoapTcpHandler(flow: FlowInfo, emit: EventSink, opts: CoapTcpHandlerOptions = {}): CoapTcpHandler {
  const stats = opts.stats ?? createCoapStats();
  const table = new ExchangeTable(opts.maxPending ?? DEFAULT_MAX_PENDING, opts.lifetimeUs ?? EXCHANGE_LIFETIME_US, stats);
  const maxMessage = opts.maxMessageSize ?? DEFAULT_MAX_TCP_MESSAGE;
  const dirs: [StreamDir, StreamDir] = [new StreamDir(), new StreamDir()];
  let boundReported = false;
  /** What the event reports of the paired request. */
  const paired: PairedRequest = { frame: 0, ts: 0, method: undefined, path: undefined };

  function desync(dir: Dir, detail: string, ts: number, frame: number): void {
    const s = dirs[dir];
    s.desynced = true;
    s.len = 0;
    s.buf = Buffer.alloc(0);
    emit(coapAnomaly('coap.desync', detail, ts, frame, flow.sides[dir]));
  }

  /** Decodes one complete frame. */
  function message(dir: Dir, buf: Buffer, off: number, len: number, ts: number, frame: number): void {
    const side = flow.sides[dir];
    const d = decodeCoapTcpMessage(buf, off, len, ts, frame, side);
    if (isCoapError(d)) {
      stats.malformed++;
      emit(coapAnomaly(d.anomaly, d.detail, ts, frame, side));
      return;
    }
    let matched: boolean | undefined;
    let p: PairedRequest | undefined;
    if (d.kind === 'request') {
      stats.requests++;
      table.add(dir, d, decodedTokenKey(), ts, frame, false);
      if (table.boundHit && !boundReported) {
        boundReported = true;
        emit(coapAnomaly('coap.state_limit', 'pending requests reached the per-flow bound; the oldest was forgotten', ts, frame, side));
      }
    } else if (d.kind === 'response') {
      stats.responses++;
      const r = table.byTokenFor(dir === 0 ? 1 : 0, d, decodedTokenKey());
      matched = r !== NO_REQUEST;
      if (r !== NO_REQUEST) {
        stats.matched++;
        table.complete(r, d, ts);
        p = table.describe(r, paired);
      } else {
        stats.unmatched++;
      }
    }
    stats.messages++;
    emit(setPairing(d, matched, p));
  }

  /** Frames and decodes buf[off, off + len) from a frame boundary; returns the bytes consumed. */
  function drain(dir: Dir, buf: Buffer, off: number, len: number, ts: number, frame: number): number {
    const s = dirs[dir];
    let used = 0;
    while (used < len) {
      const n = coapTcpFrameLength(buf, off + used, len - used);
      if (n === TCP_FRAME_INVALID) {
        desync(dir, 'reserved token length 9-15 in a CoAP-over-TCP frame header (RFC 8323 section 3.2)', ts, frame);
        return len;
      }
      if (n === 0) break; // header incomplete
      if (n > maxMessage) {
        emit(coapAnomaly('coap.oversized', `message of ${n} bytes exceeds the ${maxMessage}-byte maximum`, ts, frame, flow.sides[dir]));
        const here = Math.min(n, len - used);
        s.skip = n - here;
        used += here;
        continue;
      }
      if (n > len - used) break; // body incomplete
      message(dir, buf, off + used, n, ts, frame);
      used += n;
    }
    return used;
  }

  /** Appends src to the direction's buffer, growing it to at least `need` bytes. */
  function append(s: StreamDir, src: Buffer, off: number, n: number, need: number): void {
    if (s.buf.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(need, 64));
      s.buf.copy(grown, 0, 0, s.len);
      s.buf = grown;
    }
    src.copy(s.buf, s.len, off, off + n);
    s.len += n;
  }

  return {
    app: 'coap',
    stats,
    get pending(): number {
      return table.size;
    },
    onData(dir: Dir, buf: Buffer, off: number, len: number, ts: number, frame: number): void {
      const s = dirs[dir];
      if (s.desynced) return;
      table.expire(ts);
      if (s.skip > 0) {
        const n = Math.min(s.skip, len);
        s.skip -= n;
        off += n;
        len -= n;
      }
      // Complete a frame started in an earlier segment, copying only the bytes it needs.
      while (len > 0 && s.len > 0) {
        const hdr = headerBytes(s.buf[0]);
        if (s.len < hdr) {
          const n = Math.min(hdr - s.len, len);
          append(s, buf, off, n, hdr);
          off += n;
          len -= n;
          continue;
        }
        const need = coapTcpFrameLength(s.buf, 0, s.len);
        if (need === TCP_FRAME_INVALID) {
          desync(dir, 'reserved token length 9-15 in a CoAP-over-TCP frame header (RFC 8323 section 3.2)', ts, frame);
          return;
        }
        if (need > maxMessage) {
          emit(coapAnomaly('coap.oversized', `message of ${need} bytes exceeds the ${maxMessage}-byte maximum`, ts, frame, flow.sides[dir]));
          const n = Math.min(need - s.len, len);
          s.skip = need - s.len - n;
          s.len = 0;
          off += n;
          len -= n;
          continue;
        }
        const n = Math.min(need - s.len, len);
        append(s, buf, off, n, need);
        off += n;
        len -= n;
        if (s.len === need) {
          s.len = 0;
          message(dir, s.buf, 0, need, ts, frame);
          if (s.buf.length > 4096) s.buf = Buffer.alloc(0); // do not hold a large message's buffer
        }
      }
      if (len === 0 || s.desynced) return;
      const used = drain(dir, buf, off, len, ts, frame);
      if (s.desynced) return;
      if (s.skip > 0) return; // an oversized message runs past this segment
      if (used < len) append(s, buf, off + used, len - used, len - used);
    },
    onGap(dir: Dir, missing: number, ts: number, frame: number): void {
      const s = dirs[dir];
      if (s.desynced) return;
      if (s.len === 0 && s.skip >= missing) {
        s.skip -= missing; // the hole lies inside a message being skipped anyway
        return;
      }
      desync(dir, `${missing} bytes missing from the stream; CoAP framing lost in this direction`, ts, frame);
    },
    onEnd(ts: number, frame: number): void {
      for (const dir of [0, 1] as const) {
        const s = dirs[dir];
        if (!s.desynced && s.len > 0) {
          emit(coapAnomaly('coap.truncated', `stream ended ${s.len} bytes into a message`, ts, frame, flow.sides[dir]));
          s.len = 0;
        }
      }
      table.expire(ts);
      table.clear();
    },
  };
}
