// Pure parsers for the WebSocket opening handshake (RFC 6455 section 4, an HTTP/1.1 Upgrade)
// and the base framing protocol (RFC 6455 section 5.2).
import { createHash } from 'node:crypto';

export interface HttpHead {
  /** Request: method and target; response: status. */
  method?: string;
  target?: string;
  status?: number;
  reason?: string;
  version: string;
  /** Header names lower-cased; repeated headers joined with ', ' (RFC 9110 5.3). */
  headers: Map<string, string>;
  /** Bytes of the head including the blank line. */
  length: number;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Offset just past the blank line ending an HTTP head, or -1 when it is not there yet. */
export function findHeadEnd(buf: Buffer, off: number, len: number): number {
  const i = buf.subarray(off, off + len).indexOf(CRLFCRLF);
  return i < 0 ? -1 : off + i + 4;
}

/** Parses an HTTP/1.x request or response head (RFC 9112 sections 3, 4, 5). */
export function parseHttpHead(buf: Buffer, off: number, end: number): HttpHead | string {
  const text = buf.toString('latin1', off, end);
  const lines = text.split('\r\n');
  const start = lines[0];
  const head: HttpHead = { version: '', headers: new Map(), length: end - off };
  let m = /^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(start);
  if (m) {
    head.version = m[1];
    head.status = Number(m[2]);
    head.reason = m[3] ?? '';
  } else {
    m = /^([A-Z]+) (\S+) HTTP\/(\d\.\d)$/.exec(start);
    if (!m) return `not an HTTP start line: ${JSON.stringify(start.slice(0, 60))}`;
    head.method = m[1];
    head.target = m[2];
    head.version = m[3];
  }
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i];
    if (l === '') continue;
    const c = l.indexOf(':');
    if (c <= 0) return `bad header line ${JSON.stringify(l.slice(0, 60))}`;
    const name = l.slice(0, c).trim().toLowerCase();
    const value = l.slice(c + 1).trim();
    const prev = head.headers.get(name);
    head.headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
  }
  return head;
}

/** Comma-separated header tokens, lower-cased where the RFC says they are case-insensitive. */
export function tokens(value: string | undefined, lower = true): string[] {
  if (!value) return [];
  return value.split(',').map((t) => (lower ? t.trim().toLowerCase() : t.trim())).filter((t) => t.length > 0);
}

/** RFC 6455 4.2.2 step 5.4: base64(SHA-1(key + GUID)). */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
}

export const OPCODE = { CONTINUATION: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;

export interface FrameHeader {
  fin: boolean;
  /** RSV1-3 as a 3-bit number (RSV1 = 4). */
  rsv: number;
  opcode: number;
  masked: boolean;
  /** Masking key as a 32-bit big-endian number (0 when unmasked). */
  mask: number;
  payloadLength: number;
  headerLength: number;
}

/**
 * Frame header at `off` (RFC 6455 5.2): null while incomplete, an error text when it breaks
 * the base framing (64-bit length with the high bit set, non-minimal lengths are accepted).
 */
export function readFrameHeader(buf: Buffer, off: number, len: number): FrameHeader | null | string {
  if (len < 2) return null;
  const b0 = buf[off];
  const b1 = buf[off + 1];
  const masked = (b1 & 0x80) !== 0;
  let plen = b1 & 0x7f;
  let p = 2;
  if (plen === 126) {
    if (len < 4) return null;
    plen = buf.readUInt16BE(off + 2);
    p = 4;
  } else if (plen === 127) {
    if (len < 10) return null;
    const hi = buf.readUInt32BE(off + 2);
    if (hi & 0x80000000) return 'payload length with the most significant bit set (RFC 6455 5.2)';
    if (hi > 0x1fffff) return `payload length of ${hi} * 2^32 bytes`;
    plen = hi * 0x100000000 + buf.readUInt32BE(off + 6);
    p = 10;
  }
  let mask = 0;
  if (masked) {
    if (len < p + 4) return null;
    mask = buf.readUInt32BE(off + p);
    p += 4;
  }
  return { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, mask, payloadLength: plen, headerLength: p };
}

/** XORs src[off, off+n) with the mask starting at mask byte `pos` into dst[0, n) (RFC 6455 5.3). */
export function unmask(src: Buffer, off: number, n: number, mask: number, pos: number, dst: Buffer): void {
  const k0 = (mask >>> 24) & 0xff;
  const k1 = (mask >>> 16) & 0xff;
  const k2 = (mask >>> 8) & 0xff;
  const k3 = mask & 0xff;
  const key = [k0, k1, k2, k3];
  for (let i = 0; i < n; i++) dst[i] = src[off + i] ^ key[(pos + i) & 3];
}
