// CoAP message decoder: RFC 7252 section 3 (UDP datagrams) and RFC 8323 section 3.2 (TCP framing).
// Pure: bytes in, a decoded message or a parse error out. One pass over the bytes, no regex,
// never throws on any input; error results are preallocated constants.
import type { CoapBlock, CoapMessage, CoapOption, FlowSide } from '../../events/types';
import type { AnomalyCode } from '../../events/anomaly-codes';
import { intern } from '../../util/intern';

export type CoapMsgType = 'CON' | 'NON' | 'ACK' | 'RST';
export type CoapKind = 'request' | 'response' | 'empty' | 'signal' | 'reserved';
export type CoapAnomalyCode = Extract<AnomalyCode, `coap.${string}`>;

export interface CoapOscore {
  kid?: string;
  kidContext?: string;
  partialIv?: string;
}

/** A decoded message: the fields of a CoapMessage event that come from its bytes alone. */
export interface CoapDecoded {
  readonly ok: true;
  readonly version: number;
  readonly msgType: CoapMsgType;
  readonly code: string;
  readonly kind: CoapKind;
  readonly method: string | undefined;
  readonly messageId: number;
  readonly token: string;
  /**
   * The token as a map key: a number for tokens of up to 6 bytes (value * 8 + length, exact in a
   * double; a Smi up to 3 bytes), else the hex string. Equal keys mean equal tokens.
   */
  readonly tokenKey: number | string;
  readonly options: readonly CoapOption[];
  readonly uriHost: string | undefined;
  readonly uriPath: string | undefined;
  readonly uriQuery: string | undefined;
  readonly contentFormat: number | undefined;
  readonly observe: number | undefined;
  readonly block1: CoapBlock | undefined;
  readonly block2: CoapBlock | undefined;
  readonly size1: number | undefined;
  readonly size2: number | undefined;
  readonly oscore: CoapOscore | undefined;
  readonly payloadLength: number;
  readonly length: number;
}

export interface CoapDecodeError {
  readonly ok: false;
  readonly anomaly: CoapAnomalyCode;
  readonly detail: string;
}

export type CoapDecodeResult = CoapDecoded | CoapDecodeError;

/**
 * A message decoded straight into the coap.message event it becomes (one object per message):
 * the handler sets the pairing fields, matched to requestPath, before emitting it.
 */
export type CoapMessageDraft = { -readonly [K in keyof CoapMessage]: CoapMessage[K] };

export function isCoapError(r: CoapMessageDraft | CoapDecodeError): r is CoapDecodeError {
  return (r as { ok?: boolean }).ok === false;
}

/** CoapDecoded.tokenKey of the message decodeCoapMessage or decodeCoapTcpMessage returned last. */
let lastTokenKey: number | string = 0;

export function decodedTokenKey(): number | string {
  return lastTokenKey;
}

// ---------------------------------------------------------------- tables

/** Value formats of RFC 7252 section 3.2. */
export type CoapOptionFormat = 'empty' | 'opaque' | 'uint' | 'string';

interface OptionDef {
  readonly name: string;
  readonly format: CoapOptionFormat;
}

/** IANA "CoAP Option Numbers" registry (RFC 7252 12.2 and later RFCs). */
export const COAP_OPTIONS: Readonly<Record<number, OptionDef>> = {
  1: { name: 'If-Match', format: 'opaque' },
  3: { name: 'Uri-Host', format: 'string' },
  4: { name: 'ETag', format: 'opaque' },
  5: { name: 'If-None-Match', format: 'empty' },
  6: { name: 'Observe', format: 'uint' }, // RFC 7641
  7: { name: 'Uri-Port', format: 'uint' },
  8: { name: 'Location-Path', format: 'string' },
  9: { name: 'OSCORE', format: 'opaque' }, // RFC 8613
  11: { name: 'Uri-Path', format: 'string' },
  12: { name: 'Content-Format', format: 'uint' },
  14: { name: 'Max-Age', format: 'uint' },
  15: { name: 'Uri-Query', format: 'string' },
  16: { name: 'Hop-Limit', format: 'uint' }, // RFC 8768
  17: { name: 'Accept', format: 'uint' },
  19: { name: 'Q-Block1', format: 'uint' }, // RFC 9177
  20: { name: 'Location-Query', format: 'string' },
  21: { name: 'EDHOC', format: 'empty' }, // RFC 9668
  23: { name: 'Block2', format: 'uint' }, // RFC 7959
  27: { name: 'Block1', format: 'uint' },
  28: { name: 'Size2', format: 'uint' },
  31: { name: 'Q-Block2', format: 'uint' },
  35: { name: 'Proxy-Uri', format: 'string' },
  39: { name: 'Proxy-Scheme', format: 'string' },
  60: { name: 'Size1', format: 'uint' },
  252: { name: 'Echo', format: 'opaque' }, // RFC 9175
  258: { name: 'No-Response', format: 'uint' }, // RFC 7967
  292: { name: 'Request-Tag', format: 'opaque' }, // RFC 9175
};

/** Options of RFC 8323 section 5 signalling messages, whose numbers are scoped by the signal code. */
const SIGNAL_OPTIONS: Readonly<Record<number, Readonly<Record<number, OptionDef>>>> = {
  0xe1: { 2: { name: 'Max-Message-Size', format: 'uint' }, 4: { name: 'Block-Wise-Transfer', format: 'empty' } }, // 7.01 CSM
  0xe2: { 2: { name: 'Custody', format: 'empty' } }, // 7.02 Ping
  0xe3: { 2: { name: 'Custody', format: 'empty' } }, // 7.03 Pong
  0xe4: { 2: { name: 'Alternative-Address', format: 'string' }, 4: { name: 'Hold-Off', format: 'uint' } }, // 7.04 Release
  0xe5: { 2: { name: 'Bad-CSM-Option', format: 'uint' } }, // 7.05 Abort
};

const NO_OPTIONS: Readonly<Record<number, OptionDef>> = {};
const UNKNOWN_OPTION: OptionDef = { name: 'Unknown', format: 'opaque' };

// Dense lookup for the registered range; numbers beyond it are unknown.
const OPTION_TABLE: (OptionDef | undefined)[] = new Array<OptionDef | undefined>(293).fill(undefined);
for (const [n, def] of Object.entries(COAP_OPTIONS)) OPTION_TABLE[Number(n)] = def;

export function coapOptionName(n: number): string {
  return (n < OPTION_TABLE.length ? OPTION_TABLE[n] : undefined)?.name ?? UNKNOWN_OPTION.name;
}

const MSG_TYPES: readonly CoapMsgType[] = ['CON', 'NON', 'ACK', 'RST'];

/** Request method names by code detail 1..7 (code 0.01 is GET): RFC 7252 12.1.1, RFC 8132 section 6. */
export const COAP_METHOD_NAMES: readonly string[] = ['GET', 'POST', 'PUT', 'DELETE', 'FETCH', 'PATCH', 'iPATCH'];

/** By code byte 0..7: a request's method name (0.00 is an empty message, not a method). */
const METHODS: readonly (string | undefined)[] = [undefined, ...COAP_METHOD_NAMES];

/** "c.dd" for every code byte (RFC 7252 section 3: 3-bit class, 5-bit detail). */
const CODE_STRINGS: readonly string[] = Array.from({ length: 256 }, (_, b) => `${b >>> 5}.${String(b & 31).padStart(2, '0')}`);

export function coapCodeString(codeByte: number): string {
  return CODE_STRINGS[codeByte & 0xff];
}

// ---------------------------------------------------------------- byte-to-string helpers
// Short values dominate (tokens of 1-8 bytes, path segments of a few characters), and for them a
// table or char loop beats the fixed cost of Buffer#toString.

const HEX_BYTES: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

function hexOf(buf: Buffer, start: number, end: number): string {
  if (end - start > 16) return buf.toString('hex', start, end);
  let out = '';
  for (let i = start; i < end; i++) out += HEX_BYTES[buf[i]];
  return out;
}

/** CoapDecoded.tokenKey: value * 8 + length for tokens of up to 6 bytes (below 2^51), else the hex. */
function tokenKeyOf(buf: Buffer, p: number, tkl: number, hex: string): number | string {
  if (tkl > 6) return hex;
  let v = 0;
  for (let i = 0; i < tkl; i++) v = v * 256 + buf[p + i];
  return v * 8 + tkl;
}

// Short ASCII strings (path segments, host names, queries) repeat from message to message, so
// they come from a small direct-mapped memo: a hit costs one pass over the bytes and allocates
// nothing, and the strings that requests keep while pending are shared. The memos only return
// what decoding would have produced, so the parser stays a function of its input.
const TEXT_MEMO_MAX = 32;
const TEXT_SLOTS = 1024;
const textMemo: string[] = new Array<string>(TEXT_SLOTS).fill('');

/** Whether the string equals the ASCII bytes buf[start, end). */
function sameAscii(t: string, buf: Buffer, start: number, end: number): boolean {
  if (t.length !== end - start) return false;
  for (let i = start, j = 0; i < end; i++, j++) if (t.charCodeAt(j) !== buf[i]) return false;
  return true;
}

/** Hash of the last text textOf returned from (or put in) the memo; -1 when it was not memoised. */
let textHash = -1;

/** UTF-8 text (RFC 7252 3.2 "string"); short ASCII values are memoised. */
function textOf(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  textHash = -1;
  if (n === 0) return '';
  if (n > TEXT_MEMO_MAX) return buf.toString('utf8', start, end);
  let h = n;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c >= 0x80) return buf.toString('utf8', start, end);
    h = (Math.imul(h, 31) + c) | 0;
  }
  const slot = (h ^ (h >>> 11)) & (TEXT_SLOTS - 1);
  textHash = h & 0x7fffffff;
  const t = textMemo[slot];
  if (sameAscii(t, buf, start, end)) return t;
  const text = buf.toString('latin1', start, end);
  textMemo[slot] = text;
  return text;
}

const PATH_SLOTS = 4096;
const pathMemo: string[] = new Array<string>(PATH_SLOTS).fill('');
/** The segment strings each memoised path was built from. */
const pathParts: (readonly string[])[] = new Array<readonly string[]>(PATH_SLOTS).fill([]);
/** Uri-Path segments of the message being decoded: their text and textOf hash (-1: not memoised). */
const segText: string[] = [];
const segHash: number[] = [];

/**
 * uriPath from the `n` Uri-Path segments collected in segText: "/" before each segment (RFC
 * 7252 6.5 step 8). When every segment came from the text memo, the path comes from a memo of
 * its own, keyed by the segments' hashes and checked against the segment strings it was built
 * from (on a hit they are the same memoised strings, so each comparison is a pointer check).
 */
function pathOf(n: number): string {
  let h = n;
  for (let k = 0; k < n; k++) {
    const sh = segHash[k];
    if (sh < 0) {
      h = -1;
      break;
    }
    h = (Math.imul(h, 0x01000193) ^ sh) | 0;
  }
  const slot = h === -1 ? -1 : (h ^ (h >>> 13)) & (PATH_SLOTS - 1);
  if (slot >= 0) {
    const parts = pathParts[slot];
    if (parts.length === n) {
      let k = 0;
      while (k < n && parts[k] === segText[k]) k++;
      if (k === n) return pathMemo[slot];
    }
  }
  let path = '';
  for (let k = 0; k < n; k++) path += '/' + segText[k];
  if (slot >= 0) {
    // A memoised path is handed out again for every message to the resource: interned (and so
    // flat), `===` against another path or a constant is a pointer comparison. Left as the
    // concatenation makes it, each comparison with a string of the same length walked both strings
    // in the runtime (coap.amplification's test for /.well-known/core on every response).
    path = intern(path);
    pathMemo[slot] = path;
    pathParts[slot] = segText.slice(0, n);
  }
  if (n > 64) segText.length = segHash.length = 0; // keep the scratch small
  return path;
}

/** Block size of an SZX exponent (RFC 7959 section 2.2); SZX 7 is reserved over UDP, BERT (1024) over TCP (RFC 8323 section 6). */
function blockSize(szx: number, reliable: boolean): number {
  if (szx < 7) return 16 << szx;
  return reliable ? 1024 : 0;
}

// ---------------------------------------------------------------- errors (constants: no allocation)

function fail(anomaly: CoapAnomalyCode, detail: string): CoapDecodeError {
  return Object.freeze({ ok: false, anomaly, detail });
}

const E_BOUNDS = fail('coap.malformed', 'offset or length outside the buffer');
const E_SHORT = fail('coap.malformed', 'shorter than the 4-byte header (RFC 7252 section 3)');
const E_VERSION = [0, 1, 2, 3].map((v) => fail('coap.bad_version', `version ${v}, expected 1 (RFC 7252 section 3)`));
const E_TKL = fail('coap.malformed', 'token length 9-15 is reserved (RFC 7252 section 3)');
const E_TOKEN = fail('coap.malformed', 'token runs past the end of the message');
const E_EMPTY = fail('coap.malformed', 'empty message (0.00) with a token or bytes after the message ID (RFC 7252 section 4.1)');
const E_MARKER = fail('coap.malformed', 'payload marker followed by a zero-length payload (RFC 7252 section 3)');
const E_NIBBLE = fail('coap.bad_option', 'option delta or length nibble 15 without the payload marker (RFC 7252 section 3.1)');
const E_EXT = fail('coap.bad_option', 'extended option delta or length runs past the end of the message');
const E_VALUE = fail('coap.bad_option', 'option value runs past the end of the message');
const E_NUMBER = fail('coap.bad_option', 'option number above 65535');
const E_OSCORE = fail('coap.bad_oscore', 'OSCORE option value does not parse (RFC 8613 section 6.1)');

// ---------------------------------------------------------------- option walking

const EXT_RESERVED = -1;
const EXT_TRUNCATED = -2;

/** Option delta/length after its extension bytes (RFC 7252 3.1): 13 adds 1 byte (+13), 14 adds 2 (+269), 15 is reserved. */
function extValue(nibble: number, buf: Buffer, p: number, end: number): number {
  if (nibble < 13) return nibble;
  if (nibble === 13) return p < end ? buf[p] + 13 : EXT_TRUNCATED;
  if (nibble === 14) return p + 1 < end ? ((buf[p] << 8) | buf[p + 1]) + 269 : EXT_TRUNCATED;
  return EXT_RESERVED;
}

function extBytes(nibble: number): number {
  return nibble === 13 ? 1 : nibble === 14 ? 2 : 0;
}

function readUint(buf: Buffer, p: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + buf[p + i];
  return v;
}

function decodeBlock(v: number, reliable: boolean): CoapBlock {
  const low = v % 16;
  return { num: Math.floor(v / 16), more: (low & 8) !== 0, size: blockSize(low & 7, reliable) };
}

/**
 * Is buf[p, p + len) a well-formed OSCORE option value (RFC 8613 section 6.1)? Flags byte with
 * reserved bits 5-7 clear, h (kid context present), k (kid present) and n (partial IV length, 6 and
 * 7 reserved); then n bytes of partial IV; if h, a length byte s and s bytes of kid context; if k,
 * the kid in the remaining bytes, else no remaining bytes. An empty value means all flags zero.
 */
function oscoreValid(buf: Buffer, p: number, len: number): boolean {
  if (len === 0) return true;
  const end = p + len;
  const flags = buf[p++];
  const n = flags & 0x07;
  if ((flags & 0xe0) !== 0 || n > 5) return false;
  p += n;
  if (p > end) return false;
  if ((flags & 0x10) !== 0) {
    if (p >= end) return false;
    p += 1 + buf[p];
    if (p > end) return false;
  }
  return (flags & 0x08) !== 0 || p === end;
}

/** Fields of a value that oscoreValid accepted. */
function decodeOscore(buf: Buffer, p: number, len: number): CoapOscore {
  const out: CoapOscore = {};
  if (len === 0) return out;
  const end = p + len;
  const flags = buf[p++];
  const n = flags & 0x07;
  if (n > 0) out.partialIv = hexOf(buf, p, p + n);
  p += n;
  if ((flags & 0x10) !== 0) {
    const s = buf[p++];
    out.kidContext = hexOf(buf, p, p + s);
    p += s;
  }
  if ((flags & 0x08) !== 0) out.kid = hexOf(buf, p, end);
  return out;
}

// ---------------------------------------------------------------- decoding

/** Decodes options and payload from `p` to `end` into the event; header fields are passed through. */
function decodeBody(
  buf: Buffer, p: number, end: number, length: number,
  msgType: CoapMsgType, codeByte: number, messageId: number, token: string, tokenKey: number | string,
  reliable: boolean, ts: number, frame: number, flow: FlowSide,
): CoapMessageDraft | CoapDecodeError {
  const cls = codeByte >>> 5;
  // RFC 7252 12.1: 0.01-0.31 requests, 2.00-5.31 the response registry (3.xx unassigned but in
  // range), 1.xx/6.xx/7.xx reserved; RFC 8323 5 gives 7.xx to signals on reliable transports.
  const kind: CoapKind = codeByte === 0 ? 'empty'
    : cls === 0 ? 'request'
    : cls >= 2 && cls <= 5 ? 'response'
    : reliable && cls === 7 ? 'signal'
    : 'reserved';
  const table = kind === 'signal' ? SIGNAL_OPTIONS[codeByte] ?? NO_OPTIONS : undefined;

  const options: CoapOption[] = [];
  let num = 0;
  let payloadLength = 0;
  let uriHost: string | undefined;
  let uriPath: string | undefined;
  let segments = 0;
  let uriQuery: string | undefined;
  let contentFormat: number | undefined;
  let observe: number | undefined;
  let block1: CoapBlock | undefined;
  let block2: CoapBlock | undefined;
  let size1: number | undefined;
  let size2: number | undefined;
  let oscore: CoapOscore | undefined;

  while (p < end) {
    const ob = buf[p];
    if (ob === 0xff) {
      if (p + 1 === end) return E_MARKER;
      payloadLength = end - p - 1;
      break;
    }
    const dn = ob >>> 4;
    const ln = ob & 0x0f;
    p++;
    const delta = extValue(dn, buf, p, end);
    if (delta < 0) return delta === EXT_RESERVED ? E_NIBBLE : E_EXT;
    p += extBytes(dn);
    const olen = extValue(ln, buf, p, end);
    if (olen < 0) return olen === EXT_RESERVED ? E_NIBBLE : E_EXT;
    p += extBytes(ln);
    num += delta;
    if (num > 0xffff) return E_NUMBER;
    if (p + olen > end) return E_VALUE;

    const def = (table !== undefined ? table[num] : num < OPTION_TABLE.length ? OPTION_TABLE[num] : undefined) ?? UNKNOWN_OPTION;
    let value: string | number;
    switch (def.format) {
      case 'uint':
        // uint values longer than 6 bytes cannot be held exactly in a number: kept as hex.
        value = olen <= 6 ? readUint(buf, p, olen) : hexOf(buf, p, p + olen);
        break;
      case 'string':
        value = textOf(buf, p, p + olen);
        break;
      case 'empty':
        value = olen === 0 ? '' : hexOf(buf, p, p + olen);
        break;
      default:
        value = hexOf(buf, p, p + olen);
    }
    options.push({ number: num, name: def.name, value });

    if (table === undefined) {
      // Convenience fields: first occurrence of non-repeatable options, all of Uri-Path/Uri-Query.
      switch (num) {
        case 3: if (uriHost === undefined) uriHost = value as string; break;
        case 11:
          // The value came from textOf just above (Uri-Path is a string option).
          segHash[segments] = textHash;
          segText[segments++] = value as string;
          break;
        case 15: uriQuery = uriQuery === undefined ? (value as string) : uriQuery + '&' + (value as string); break;
        case 12: if (contentFormat === undefined && typeof value === 'number') contentFormat = value; break;
        case 6: if (observe === undefined && typeof value === 'number') observe = value; break;
        case 23: if (block2 === undefined && typeof value === 'number') block2 = decodeBlock(value, reliable); break;
        case 27: if (block1 === undefined && typeof value === 'number') block1 = decodeBlock(value, reliable); break;
        case 28: if (size2 === undefined && typeof value === 'number') size2 = value; break;
        case 60: if (size1 === undefined && typeof value === 'number') size1 = value; break;
        case 9:
          if (!oscoreValid(buf, p, olen)) return E_OSCORE;
          if (oscore === undefined) oscore = decodeOscore(buf, p, olen);
          break;
        default:
      }
    }
    p += olen;
  }

  if (segments > 0) uriPath = pathOf(segments);
  // RFC 7252 6.4 step 7: a request without Uri-Path addresses the root, '/'.
  else if (kind === 'request') uriPath = '/';

  lastTokenKey = tokenKey;
  // Every field assigned (undefined when absent), in the order of CoapMessage: one object shape
  // for all messages, and the JSON lists the fields in that order.
  return {
    type: 'coap.message',
    ts,
    frame,
    flow,
    version: 1,
    msgType,
    code: CODE_STRINGS[codeByte],
    kind,
    method: kind === 'request' ? METHODS[codeByte] : undefined,
    messageId,
    token,
    options,
    uriHost,
    uriPath,
    uriQuery,
    contentFormat,
    observe,
    block1,
    block2,
    size1,
    size2,
    oscore,
    payloadLength,
    length,
    matched: undefined,
    requestFrame: undefined,
    rttUs: undefined,
    requestMethod: undefined,
    requestPath: undefined,
  };
}

/** The event fields of a decoded message, as CoapDecoded (the pure parse API). */
function toDecoded(r: CoapMessageDraft | CoapDecodeError): CoapDecodeResult {
  if (isCoapError(r)) return r;
  return {
    ok: true,
    version: r.version,
    msgType: r.msgType,
    code: r.code,
    kind: r.kind,
    method: r.method,
    messageId: r.messageId,
    token: r.token,
    tokenKey: lastTokenKey,
    options: r.options,
    uriHost: r.uriHost,
    uriPath: r.uriPath,
    uriQuery: r.uriQuery,
    contentFormat: r.contentFormat,
    observe: r.observe,
    block1: r.block1,
    block2: r.block2,
    size1: r.size1,
    size2: r.size2,
    oscore: r.oscore,
    payloadLength: r.payloadLength,
    length: r.length,
  };
}

/** Placeholder flow of messages decoded outside a handler (parseCoap, parseCoapTcp). */
const NO_FLOW: FlowSide = {
  proto: 'udp', src: '', sport: 0, dst: '', dport: 0, communityId: '', dir: 'to_server', flowId: 0, sensor: '',
};

/**
 * Decodes one CoAP message carried in a UDP datagram, buf[off, off + len) (RFC 7252 section 3).
 * uriPath is set for requests ('/' when no Uri-Path) and for other messages only when they carry Uri-Path.
 */
export function parseCoap(buf: Buffer, off = 0, len = buf.length - off): CoapDecodeResult {
  return toDecoded(decodeCoapMessage(buf, off, len, 0, 0, NO_FLOW));
}

/**
 * parseCoap, decoding into the coap.message event of frame `frame` at `ts` on `flow`; the
 * message's token key is then decodedTokenKey().
 */
export function decodeCoapMessage(
  buf: Buffer, off: number, len: number, ts: number, frame: number, flow: FlowSide,
): CoapMessageDraft | CoapDecodeError {
  if (off < 0 || len < 0 || off + len > buf.length) return E_BOUNDS;
  if (len < 4) return E_SHORT;
  const b0 = buf[off];
  const version = b0 >>> 6;
  if (version !== 1) return E_VERSION[version];
  const tkl = b0 & 0x0f;
  // RFC 8974 later gave TKL 13/14 a meaning (extended tokens); RFC 7252 treats 9-15 as a format error.
  if (tkl > 8) return E_TKL;
  const codeByte = buf[off + 1];
  const end = off + len;
  const tokenOff = off + 4;
  if (tokenOff + tkl > end) return E_TOKEN;
  if (codeByte === 0 && len !== 4) return E_EMPTY;
  const token = tkl === 0 ? '' : hexOf(buf, tokenOff, tokenOff + tkl);
  const messageId = (buf[off + 2] << 8) | buf[off + 3];
  return decodeBody(buf, tokenOff + tkl, end, len, MSG_TYPES[(b0 >>> 4) & 3], codeByte, messageId, token,
    tokenKeyOf(buf, tokenOff, tkl, token), false, ts, frame, flow);
}

// ---------------------------------------------------------------- CoAP over TCP (RFC 8323)

/** Result of coapTcpFrameLength when more bytes are needed. */
export const TCP_FRAME_INCOMPLETE = 0;
/** Result of coapTcpFrameLength when the header cannot frame a message (TKL 9-15). */
export const TCP_FRAME_INVALID = -1;

/**
 * Total length of the RFC 8323 section 3.2 frame starting at buf[off], from its Len/TKL byte and the
 * extended length (13: +1 byte, +13; 14: +2 bytes, +269; 15: +4 bytes, +65805). Returns
 * TCP_FRAME_INCOMPLETE while the header is incomplete, TCP_FRAME_INVALID for a reserved TKL.
 */
export function coapTcpFrameLength(buf: Buffer, off: number, len: number): number {
  if (len < 1) return TCP_FRAME_INCOMPLETE;
  const b0 = buf[off];
  const tkl = b0 & 0x0f;
  if (tkl > 8) return TCP_FRAME_INVALID;
  const ln = b0 >>> 4;
  const ext = ln === 13 ? 1 : ln === 14 ? 2 : ln === 15 ? 4 : 0;
  if (len < 1 + ext) return TCP_FRAME_INCOMPLETE;
  let body: number;
  if (ln < 13) body = ln;
  else if (ln === 13) body = buf[off + 1] + 13;
  else if (ln === 14) body = ((buf[off + 1] << 8) | buf[off + 2]) + 269;
  else body = buf.readUInt32BE(off + 1) + 65805;
  return 1 + ext + 1 + tkl + body;
}

/**
 * Decodes one complete RFC 8323 frame, buf[off, off + len), len as given by coapTcpFrameLength.
 * There is no type or message ID on a reliable transport: msgType is reported as 'CON' (delivery
 * is acknowledged by the transport, RFC 8323 section 2) and messageId as 0; version as 1.
 * Code class 7 is a signal (RFC 8323 section 5); SZX 7 in Block options is BERT (section 6).
 */
export function parseCoapTcp(buf: Buffer, off: number, len: number): CoapDecodeResult {
  return toDecoded(decodeCoapTcpMessage(buf, off, len, 0, 0, NO_FLOW));
}

/** parseCoapTcp, decoding into the event (see decodeCoapMessage). */
export function decodeCoapTcpMessage(
  buf: Buffer, off: number, len: number, ts: number, frame: number, flow: FlowSide,
): CoapMessageDraft | CoapDecodeError {
  if (off < 0 || len < 0 || off + len > buf.length) return E_BOUNDS;
  if (len < 2) return E_SHORT;
  const b0 = buf[off];
  const tkl = b0 & 0x0f;
  if (tkl > 8) return E_TKL;
  const ln = b0 >>> 4;
  const p = off + 1 + (ln === 13 ? 1 : ln === 14 ? 2 : ln === 15 ? 4 : 0);
  const end = off + len;
  if (p + 1 + tkl > end) return E_TOKEN;
  const codeByte = buf[p];
  const tokenOff = p + 1;
  const token = tkl === 0 ? '' : hexOf(buf, tokenOff, tokenOff + tkl);
  return decodeBody(buf, tokenOff + tkl, end, len, 'CON', codeByte, 0, token, tokenKeyOf(buf, tokenOff, tkl, token), true,
    ts, frame, flow);
}

// ---------------------------------------------------------------- content check

/** Largest message the strict check accepts: one Ethernet MTU (RFC 7252 4.6 recommends 1152). */
export const STRICT_MAX_LENGTH = 1500;

/**
 * Does buf[off, off + len) look like a CoAP UDP message? Lenient (for the registered port):
 * version 1, a token length of 0-8 that fits. Strict (other ports): also a code class of 0, 2, 4
 * or 5, an Empty message of exactly 4 bytes (RFC 7252 4.1), no request in an ACK and nothing but
 * Empty in a RST (4.2, 4.3), options (OSCORE values included) that parse to the end, and at most
 * STRICT_MAX_LENGTH bytes. A message that passes the strict check decodes. Allocates nothing.
 */
export function looksLikeCoap(buf: Buffer, off: number, len: number, strict: boolean): boolean {
  if (len < 4 || off < 0 || off + len > buf.length) return false;
  const b0 = buf[off];
  if (b0 >>> 6 !== 1) return false;
  const tkl = b0 & 0x0f;
  if (tkl > 8 || 4 + tkl > len) return false;
  if (!strict) return true;
  if (len > STRICT_MAX_LENGTH) return false;
  const codeByte = buf[off + 1];
  const cls = codeByte >>> 5;
  if (cls !== 0 && cls !== 2 && cls !== 4 && cls !== 5) return false;
  const type = (b0 >>> 4) & 3;
  if (codeByte === 0) return len === 4;
  if (type === 3) return false;
  if (type === 2 && cls === 0) return false;
  let p = off + 4 + tkl;
  const end = off + len;
  let num = 0;
  while (p < end) {
    const ob = buf[p];
    if (ob === 0xff) return p + 1 < end;
    const dn = ob >>> 4;
    const ln = ob & 0x0f;
    p++;
    const delta = extValue(dn, buf, p, end);
    if (delta < 0) return false;
    p += extBytes(dn);
    const olen = extValue(ln, buf, p, end);
    if (olen < 0) return false;
    p += extBytes(ln);
    num += delta;
    if (num > 0xffff || p + olen > end) return false;
    if (num === 9 && !oscoreValid(buf, p, olen)) return false;
    p += olen;
  }
  return true;
}
