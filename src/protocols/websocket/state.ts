// MQTT over WebSocket (MQTT 5.0 section 6, RFC 6455): the HTTP Upgrade in each direction,
// then frames whose data payload, unmasked, is one continuous byte stream per direction fed to
// an inner TCP decoder (an MQTT packet may span frames, a frame may hold several packets:
// MQTT 5.0 section 6 / 3.1.1 section 6.0). Memory per direction: the HTTP head (bounded),
// a 14-byte frame header, a control payload of at most 125 bytes and a bounded unmask buffer.
import type { AnomalyEvent } from '../../events/types';
import type { Dir, FlowInfo, TcpAppHandler } from '../../flow/types';
import { anomaly, type TransportAnomalyCode } from '../tls/anomalies';
import { OPCODE, acceptKey, findHeadEnd, parseHttpHead, readFrameHeader, tokens, unmask, type FrameHeader } from './parser';

export interface WebSocketOptions {
  /** Largest HTTP head accepted. Default 8 KiB. */
  maxHeaderBytes?: number;
  /** Subprotocols whose payload goes to the inner decoder. Default mqtt, mqttv3.1, mqttv5. */
  subprotocols?: readonly string[];
  /** Application name reported for the flow. Default 'mqtt-ws'. */
  app?: string;
}

/**
 * An inner decoder that needs WebSocket message boundaries (CoAP over WebSocket, RFC 8323
 * section 4: one CoAP message per WebSocket message) implements onMessageEnd.
 */
export interface MessageAwareHandler extends TcpAppHandler {
  onMessageEnd?(dir: Dir, ts: number, frame: number): void;
}

export interface WebSocketInfo {
  path: string | null;
  host: string | null;
  /** Sec-WebSocket-Protocol values offered by the client and the one the server chose. */
  offeredProtocols: string[];
  protocol: string | null;
  /** Status of the server's answer (101 when the upgrade succeeded). */
  status: number | null;
  /** Frames per direction [to_server, to_client]. */
  frames: [number, number];
  dataFrames: number;
  controlFrames: number;
  /** Data bytes handed to the inner decoder per direction. */
  payloadBytes: [number, number];
  /** Close status codes sent per direction (RFC 6455 7.4), null when none. */
  closeCodes: [number | null, number | null];
  permessageDeflate: boolean;
}

export interface WebSocketHandler extends TcpAppHandler {
  readonly info: WebSocketInfo;
}

export const MQTT_SUBPROTOCOLS: readonly string[] = ['mqtt', 'mqttv3.1', 'mqttv5'];
const DEFAULT_MAX_HEADER = 8192;
const UNMASK_CHUNK = 16384;

/**
 * Classifier check: an HTTP GET asking to upgrade to websocket (RFC 6455 4.1) and offering an
 * MQTT subprotocol ([MQTT-6.0.0-3]), unless `anySubprotocol`. undefined while the head is incomplete.
 */
export function looksLikeWebSocketUpgrade(
  buf: Buffer, off: number, len: number, opts: { anySubprotocol?: boolean; maxHeaderBytes?: number } = {},
): boolean | undefined {
  const get = 'GET ';
  for (let i = 0; i < Math.min(4, len); i++) if (buf[off + i] !== get.charCodeAt(i)) return false;
  if (len < 4) return undefined;
  const end = findHeadEnd(buf, off, len);
  if (end < 0) return len < (opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER) ? undefined : false;
  const head = parseHttpHead(buf, off, end);
  if (typeof head === 'string') return false;
  if (!tokens(head.headers.get('upgrade')).includes('websocket')) return false;
  if (opts.anySubprotocol) return true;
  return tokens(head.headers.get('sec-websocket-protocol')).some((p) => MQTT_SUBPROTOCOLS.includes(p));
}

export function createWebSocketHandler(
  flow: FlowInfo,
  emit: (e: AnomalyEvent) => void,
  inner: (flow: FlowInfo) => TcpAppHandler,
  opts: WebSocketOptions = {},
): WebSocketHandler {
  return new WebSocketConnection(flow, emit, inner, opts);
}

class SideState {
  http = true;
  dead = false;
  head: Buffer[] = [];
  headLen = 0;
  readonly hdr = Buffer.alloc(14);
  hdrLen = 0;
  frame: FrameHeader | null = null;
  payloadLeft = 0;
  maskPos = 0;
  /** What happens to the current frame's payload. */
  sink: 'inner' | 'gap' | 'control' | 'skip' = 'skip';
  control = Buffer.alloc(125);
  controlLen = 0;
  messageOpen = false;
  reported = new Set<string>();
}

class WebSocketConnection implements WebSocketHandler {
  readonly app: string;
  readonly info: WebSocketInfo = {
    path: null, host: null, offeredProtocols: [], protocol: null, status: null, frames: [0, 0], dataFrames: 0,
    controlFrames: 0, payloadBytes: [0, 0], closeCodes: [null, null], permessageDeflate: false,
  };
  private readonly sides: [SideState, SideState] = [new SideState(), new SideState()];
  private readonly maxHeader: number;
  private readonly subprotocols: readonly string[];
  private innerHandler: TcpAppHandler | null = null;
  private key: string | null = null;
  private scratch: Buffer | null = null;
  private ts = 0;
  private frameNo = 0;

  constructor(
    private readonly flow: FlowInfo,
    private readonly emit: (e: AnomalyEvent) => void,
    private readonly makeInner: (flow: FlowInfo) => TcpAppHandler,
    opts: WebSocketOptions,
  ) {
    this.maxHeader = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER;
    this.subprotocols = opts.subprotocols ?? MQTT_SUBPROTOCOLS;
    this.app = opts.app ?? 'mqtt-ws';
  }

  onData(dir: Dir, buf: Buffer, off: number, len: number, ts: number, frame: number): void {
    const s = this.sides[dir];
    if (s.dead || len <= 0) return;
    this.ts = ts;
    this.frameNo = frame;
    let p = off;
    const end = off + len;
    if (s.http) {
      p = this.httpBytes(dir, s, buf, off, len);
      if (p < 0 || s.dead) return;
    }
    while (p < end && !s.dead) {
      if (s.frame === null) {
        // frame header, possibly split across segments
        let h: FrameHeader | null | string;
        if (s.hdrLen === 0) {
          h = readFrameHeader(buf, p, end - p);
          if (h === null) {
            const n = Math.min(14, end - p);
            buf.copy(s.hdr, 0, p, p + n);
            s.hdrLen = n;
            p += n;
            break;
          }
          if (typeof h !== 'string') p += h.headerLength;
        } else {
          const n = Math.min(14 - s.hdrLen, end - p);
          buf.copy(s.hdr, s.hdrLen, p, p + n);
          const have = s.hdrLen + n;
          h = readFrameHeader(s.hdr, 0, have);
          if (h === null) {
            s.hdrLen = have;
            p += n;
            break;
          }
          if (typeof h !== 'string') p += h.headerLength - s.hdrLen;
          s.hdrLen = 0;
        }
        if (typeof h === 'string') {
          this.fail(dir, 'websocket.malformed', h);
          return;
        }
        this.startFrame(dir, s, h);
        if (s.payloadLeft === 0) this.endFrame(dir, s);
        continue;
      }
      const n = Math.min(s.payloadLeft, end - p);
      this.payload(dir, s, buf, p, n);
      p += n;
      s.payloadLeft -= n;
      s.maskPos += n;
      if (s.payloadLeft === 0) this.endFrame(dir, s);
    }
  }

  /** Buffers the HTTP head; returns the offset after it, or -1 while it is incomplete. */
  private httpBytes(dir: Dir, s: SideState, buf: Buffer, off: number, len: number): number {
    // Search the carried-over tail with the new bytes: the blank line may straddle segments.
    const prev = s.headLen;
    const joined = prev > 0 ? Buffer.concat([...s.head, buf.subarray(off, off + len)]) : buf.subarray(off, off + len);
    const endRel = findHeadEnd(joined, 0, joined.length);
    if (endRel < 0) {
      if (joined.length >= this.maxHeader) {
        this.fail(dir, 'websocket.oversized', `HTTP head over ${this.maxHeader} bytes`);
        return -1;
      }
      s.head = [Buffer.from(joined)];
      s.headLen = joined.length;
      return -1;
    }
    if (endRel > this.maxHeader) {
      this.fail(dir, 'websocket.oversized', `HTTP head of ${endRel} bytes (max ${this.maxHeader})`);
      return -1;
    }
    s.head = [];
    s.headLen = 0;
    s.http = false;
    const head = parseHttpHead(joined, 0, endRel);
    if (typeof head === 'string') {
      this.fail(dir, 'websocket.malformed', head);
      return -1;
    }
    if (dir === 0) this.request(head);
    else if (!this.response(head)) return -1;
    return off + (endRel - prev);
  }

  private request(head: Exclude<ReturnType<typeof parseHttpHead>, string>): void {
    this.info.path = head.target ?? null;
    this.info.host = head.headers.get('host') ?? null;
    this.info.offeredProtocols = tokens(head.headers.get('sec-websocket-protocol'));
    this.key = head.headers.get('sec-websocket-key') ?? null;
    if (head.method !== 'GET' || !tokens(head.headers.get('upgrade')).includes('websocket') || this.key === null) {
      this.report(0, 'websocket.malformed', `not a WebSocket opening handshake (RFC 6455 4.1): ${head.method} without Upgrade/Sec-WebSocket-Key`);
    }
    if (this.innerHandler === null && this.info.offeredProtocols.some((p) => this.subprotocols.includes(p))) {
      this.innerHandler = this.makeInner(this.flow);
    }
  }

  /** RFC 6455 4.2.2 / 4.1: the server's answer. False when the upgrade did not happen. */
  private response(head: Exclude<ReturnType<typeof parseHttpHead>, string>): boolean {
    this.info.status = head.status ?? null;
    if (head.status !== 101) {
      this.report(1, 'websocket.bad_upgrade', `the server answered ${head.status ?? head.method} instead of 101`);
      this.sides[0].dead = true;
      this.sides[1].dead = true;
      return false;
    }
    const chosen = head.headers.get('sec-websocket-protocol');
    this.info.protocol = chosen ? chosen.trim().toLowerCase() : null;
    if (this.info.protocol !== null && !this.info.offeredProtocols.includes(this.info.protocol)) {
      this.report(1, 'websocket.bad_upgrade', `subprotocol ${this.info.protocol} was not offered`);
    }
    const accept = head.headers.get('sec-websocket-accept');
    if (this.key !== null && accept !== acceptKey(this.key)) {
      this.report(1, 'websocket.bad_upgrade', 'Sec-WebSocket-Accept does not match the key (RFC 6455 4.2.2)');
    }
    this.info.permessageDeflate = tokens(head.headers.get('sec-websocket-extensions'))
      .some((e) => e.split(';')[0].trim() === 'permessage-deflate');
    if (this.innerHandler === null && this.info.protocol !== null && this.subprotocols.includes(this.info.protocol)) {
      this.innerHandler = this.makeInner(this.flow);
    }
    return true;
  }

  private startFrame(dir: Dir, s: SideState, h: FrameHeader): void {
    s.frame = h;
    s.payloadLeft = h.payloadLength;
    s.maskPos = 0;
    s.controlLen = 0;
    this.info.frames[dir]++;
    // RFC 6455 5.1: a client masks every frame, a server never does.
    if (dir === 0 && !h.masked) this.once(dir, s, 'websocket.protocol_error', 'unmasked frame from the client (RFC 6455 5.1)');
    if (dir === 1 && h.masked) this.once(dir, s, 'websocket.protocol_error', 'masked frame from the server (RFC 6455 5.1)');
    const op = h.opcode;
    if (op >= 8) {
      this.info.controlFrames++;
      if (op > OPCODE.PONG) {
        this.report(dir, 'websocket.protocol_error', `reserved control opcode ${op} (RFC 6455 5.2)`);
        s.sink = 'skip';
      } else if (!h.fin || h.payloadLength > 125) {
        this.report(dir, 'websocket.protocol_error', `control frame ${op} fragmented or over 125 bytes (RFC 6455 5.5)`);
        s.sink = 'skip';
      } else s.sink = 'control';
      return;
    }
    this.info.dataFrames++;
    if (op > OPCODE.BINARY) {
      this.report(dir, 'websocket.protocol_error', `reserved data opcode ${op} (RFC 6455 5.2)`);
      s.sink = 'gap';
      return;
    }
    if (op === OPCODE.CONTINUATION && !s.messageOpen) {
      this.report(dir, 'websocket.protocol_error', 'continuation frame without a message to continue (RFC 6455 5.4)');
    } else if (op !== OPCODE.CONTINUATION && s.messageOpen) {
      this.report(dir, 'websocket.protocol_error', 'new data frame inside a fragmented message (RFC 6455 5.4)');
    }
    s.messageOpen = !h.fin;
    if (h.rsv !== 0) {
      if ((h.rsv & 4) !== 0 && this.info.permessageDeflate) {
        this.once(dir, s, 'websocket.unsupported', 'permessage-deflate compressed frames are not decoded');
      } else {
        this.report(dir, 'websocket.protocol_error', `reserved bits ${h.rsv} set without an extension (RFC 6455 5.2)`);
      }
      s.sink = 'gap';
      return;
    }
    if (op === OPCODE.TEXT) {
      this.once(dir, s, 'websocket.protocol_error', 'text frame: MQTT packets go in binary frames [MQTT-6.0.0-1]');
    }
    s.sink = this.innerHandler ? 'inner' : 'skip';
  }

  private payload(dir: Dir, s: SideState, buf: Buffer, off: number, n: number): void {
    const h = s.frame!;
    switch (s.sink) {
      case 'inner': {
        const inner = this.innerHandler!;
        this.info.payloadBytes[dir] += n;
        if (!h.masked) {
          inner.onData(dir, buf, off, n, this.ts, this.frameNo);
          return;
        }
        for (let done = 0; done < n;) {
          const k = Math.min(n - done, UNMASK_CHUNK);
          if (this.scratch === null || this.scratch.length < k) this.scratch = Buffer.alloc(Math.min(UNMASK_CHUNK, Math.max(k, 1024)));
          unmask(buf, off + done, k, h.mask, s.maskPos + done, this.scratch);
          inner.onData(dir, this.scratch, 0, k, this.ts, this.frameNo);
          // The unmasked bytes are the client's MQTT, CONNECT passwords included: the inner
          // decoder has taken what it keeps, so they do not stay in the clear here.
          this.scratch.fill(0, 0, k);
          done += k;
        }
        return;
      }
      case 'gap':
        this.innerHandler?.onGap(dir, n, this.ts, this.frameNo);
        return;
      case 'control':
        if (h.masked) unmask(buf, off, n, h.mask, s.maskPos, s.control.subarray(s.controlLen));
        else buf.copy(s.control, s.controlLen, off, off + n);
        s.controlLen += n;
        return;
      default:
        return;
    }
  }

  private endFrame(dir: Dir, s: SideState): void {
    const h = s.frame!;
    s.frame = null;
    if (s.sink === 'inner' && h.fin && h.opcode <= OPCODE.BINARY) {
      (this.innerHandler as MessageAwareHandler).onMessageEnd?.(dir, this.ts, this.frameNo);
    }
    if (s.sink === 'control' && h.opcode === OPCODE.CLOSE) {
      // RFC 6455 5.5.1: optional 2-byte status code, then a UTF-8 reason.
      if (s.controlLen === 1) this.report(dir, 'websocket.protocol_error', 'close frame with a 1-byte body (RFC 6455 5.5.1)');
      else if (s.controlLen >= 2) this.info.closeCodes[dir] = s.control.readUInt16BE(0);
    }
  }

  private once(dir: Dir, s: SideState, code: TransportAnomalyCode, detail: string): void {
    if (s.reported.has(detail)) return;
    s.reported.add(detail);
    this.report(dir, code, detail);
  }

  private report(dir: Dir, code: TransportAnomalyCode, detail: string): void {
    this.emit(anomaly(code, this.flow.sides[dir], this.ts, this.frameNo, detail));
  }

  private fail(dir: Dir, code: TransportAnomalyCode, detail: string): void {
    const s = this.sides[dir];
    if (s.dead) return;
    this.report(dir, code, detail);
    s.dead = true;
  }

  onGap(dir: Dir, missing: number, ts: number, frame: number): void {
    const s = this.sides[dir];
    this.ts = ts;
    this.frameNo = frame;
    if (s.dead || missing <= 0) return;
    if (s.frame !== null && missing <= s.payloadLeft && s.sink !== 'control') {
      // inside a payload: framing survives, the inner decoder learns of the hole
      if (s.sink === 'inner' || s.sink === 'gap') this.innerHandler?.onGap(dir, missing, ts, frame);
      s.payloadLeft -= missing;
      s.maskPos += missing;
      if (s.payloadLeft === 0) this.endFrame(dir, s);
      return;
    }
    this.fail(dir, 'websocket.truncated', `${missing} bytes lost ${s.http ? 'in the HTTP head' : 'across a frame boundary'}; this direction is no longer decoded`);
    this.innerHandler?.onGap(dir, missing, ts, frame);
  }

  onEnd(ts: number, frame: number): void {
    this.ts = ts;
    this.frameNo = frame;
    for (const dir of [0, 1] as const) {
      const s = this.sides[dir];
      if (s.dead) continue;
      if (s.frame !== null || s.hdrLen > 0 || (s.http && s.headLen > 0)) {
        this.report(dir, 'websocket.truncated', 'the stream ended inside a WebSocket frame or the HTTP head');
      }
    }
    this.innerHandler?.onEnd(ts, frame);
  }
}
