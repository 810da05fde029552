// CoAP over WebSocket (RFC 8323 section 4): one CoAP message per WebSocket message, with the
// same header as CoAP over TCP except that Len is 0 and the length is the WebSocket message's.
// Each message is re-framed with its real length and handed to the CoAP-over-TCP handler, so
// decoding, token pairing and events are exactly those of CoAP over TCP.
import type { EventSink } from '../../events/types';
import type { Dir, FlowInfo } from '../../flow/types';
import type { MessageAwareHandler } from '../websocket/state';
import { coapAnomaly } from './exchanges';
import { createCoapTcpHandler, type CoapTcpHandlerOptions } from './tcp-state';

/** RFC 8323 section 4.2 leaves the size to the WebSocket layer; this bounds what is buffered. */
export const DEFAULT_MAX_WS_MESSAGE = 64 * 1024;

/** The subprotocol a CoAP-over-WebSocket client offers (RFC 8323 section 4.1). */
export const COAP_WS_SUBPROTOCOL = 'coap';

class MessageDir {
  parts: Buffer[] = [];
  len = 0;
  tooBig = false;
}

/** The RFC 8323 section 3.2 framing of a body of `bodyLen` bytes: Len nibble and extended length. */
export function tcpLengthHeader(bodyLen: number, tkl: number): Buffer {
  if (bodyLen < 13) return Buffer.from([(bodyLen << 4) | tkl]);
  if (bodyLen < 269) return Buffer.from([(13 << 4) | tkl, bodyLen - 13]);
  if (bodyLen < 65805) {
    const b = Buffer.alloc(3);
    b[0] = (14 << 4) | tkl;
    b.writeUInt16BE(bodyLen - 269, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = (15 << 4) | tkl;
  b.writeUInt32BE(bodyLen - 65805, 1);
  return b;
}

export function createCoapWsHandler(flow: FlowInfo, emit: EventSink, opts: CoapTcpHandlerOptions = {}): MessageAwareHandler {
  const maxMessage = opts.maxMessageSize ?? DEFAULT_MAX_WS_MESSAGE;
  const tcp = createCoapTcpHandler(flow, emit, { ...opts, maxMessageSize: maxMessage + 8 });
  const dirs: [MessageDir, MessageDir] = [new MessageDir(), new MessageDir()];

  return {
    app: 'coap',
    onData(dir: Dir, buf: Buffer, off: number, len: number): void {
      const m = dirs[dir];
      if (m.tooBig) return;
      if (m.len + len > maxMessage) {
        m.tooBig = true;
        m.parts = [];
        return;
      }
      m.parts.push(Buffer.from(buf.subarray(off, off + len)));
      m.len += len;
    },
    onMessageEnd(dir: Dir, ts: number, frame: number): void {
      const m = dirs[dir];
      const msg = m.parts.length === 1 ? m.parts[0] : Buffer.concat(m.parts, m.len);
      const tooBig = m.tooBig;
      dirs[dir] = new MessageDir();
      if (tooBig) {
        emit(coapAnomaly('coap.oversized', `CoAP-over-WebSocket message over ${maxMessage} bytes skipped`, ts, frame, flow.sides[dir]));
        return;
      }
      if (msg.length < 2) {
        emit(coapAnomaly('coap.malformed', `CoAP-over-WebSocket message of ${msg.length} bytes (RFC 8323 4.2: at least Len/TKL and Code)`, ts, frame, flow.sides[dir]));
        return;
      }
      const len = msg[0] >>> 4;
      const tkl = msg[0] & 0x0f;
      if (len !== 0) {
        emit(coapAnomaly('coap.malformed', `Len is ${len}: it must be 0 over WebSocket (RFC 8323 4.2)`, ts, frame, flow.sides[dir]));
        return;
      }
      const bodyLen = msg.length - 2 - tkl;
      if (tkl > 8 || bodyLen < 0) {
        emit(coapAnomaly('coap.malformed', `token length ${tkl} does not fit a ${msg.length}-byte message`, ts, frame, flow.sides[dir]));
        return;
      }
      const framed = Buffer.concat([tcpLengthHeader(bodyLen, tkl), msg.subarray(1)]);
      tcp.onData(dir, framed, 0, framed.length, ts, frame);
    },
    onGap(dir: Dir, missing: number, ts: number, frame: number): void {
      // The message in progress lost bytes: drop it; the next WebSocket message starts clean.
      dirs[dir] = new MessageDir();
      dirs[dir].tooBig = false;
      emit(coapAnomaly('coap.truncated', `${missing} bytes of a CoAP-over-WebSocket message missing`, ts, frame, flow.sides[dir]));
    },
    onEnd(ts: number, frame: number): void {
      tcp.onEnd(ts, frame);
    },
  };
}
