// TLS over one TCP connection: record layer (RFC 5246 6.2, RFC 8446 5.1), handshake message
// reassembly across records, the server's flight held until it ends so that the
// tls.server_hello event can say whether a client certificate was requested, and once both
// directions are encrypted a fast path that only skips whole records by their length.
import type { AnomalyEvent } from '../../events/types';
import type { TlsAlert, TlsCertificate, TlsServerHello, TransportEventSink } from '../../events/tls-types';
import type { Dir, FlowInfo, TcpAppHandler } from '../../flow/types';
import { anomaly, type TransportAnomalyCode } from './anomalies';
import {
  CONTENT, HS, TLS_MAX_RECORD, TLS_RECORD_HEADER, parseAlert, parseCertificateList, parseClientHello,
  parseServerHello,
} from './parser';
import { CertificateCache, describeCertificate, type CertificateFacts } from './x509';

export interface TlsOptions {
  /** Largest handshake message reassembled (certificate chains). Default 128 KiB. */
  maxHandshakeBytes?: number;
  /** Certificates described per Certificate message; the rest are counted. Default 10. */
  maxCertificates?: number;
  /** A cache shared across flows (the same broker certificate comes on every connection). */
  certCache?: CertificateCache;
}

export interface TlsStats {
  /** Records seen per direction [to_server, to_client]. */
  records: [number, number];
  handshakeMessages: number;
  /** Records skipped by length because they were encrypted (application data included). */
  encryptedRecords: number;
  applicationDataRecords: number;
  skippedBytes: number;
  certificates: number;
  /** Certificates over maxCertificates, or in an oversized message: not described. */
  certificatesNotDescribed: number;
  /** Directions that stopped being decoded (malformed, or a gap that broke the record framing). */
  desyncs: number;
}

export interface TlsHandler extends TcpAppHandler {
  readonly stats: TlsStats;
}

const DEFAULT_MAX_HANDSHAKE = 128 * 1024;
const DEFAULT_MAX_CERTS = 10;

class SideState {
  readonly hdr = Buffer.alloc(TLS_RECORD_HEADER);
  hdrLen = 0;
  inRecord = false;
  recType = 0;
  recVersion = 0;
  recLen = 0;
  /** Bytes of the current record still to skip (encrypted or not decoded). */
  skipLeft = 0;
  /** Plaintext record spanning segments. */
  body: Buffer | null = null;
  bodyLen = 0;
  encrypted = false;
  dead = false;
  // handshake message reassembly (a message may span records)
  readonly hsHdr = Buffer.alloc(4);
  hsHdrLen = 0;
  hsMsg: Buffer | null = null;
  hsMsgLen = 0;
  hsSkip = 0;
}

interface PendingFlight {
  hello: Omit<TlsServerHello, 'clientCertificateRequested'>;
  events: TlsCertificate[];
  certificateRequested: boolean;
}

/**
 * Classifier check: does a stream start with a TLS handshake record carrying a ClientHello
 * (RFC 5246 6.2.1, 7.4.1.2)? undefined while there are too few bytes to say.
 */
export function looksLikeTlsClientHello(buf: Buffer, off: number, len: number): boolean | undefined {
  if (len < 1) return undefined;
  if (buf[off] !== CONTENT.HANDSHAKE) return false;
  if (len < 2) return undefined;
  if (buf[off + 1] !== 3) return false;
  if (len < 3) return undefined;
  if (buf[off + 2] > 4) return false;
  if (len < 5) return undefined;
  const recLen = (buf[off + 3] << 8) | buf[off + 4];
  if (recLen < 4 || recLen > TLS_MAX_RECORD) return false;
  if (len < 6) return undefined;
  if (buf[off + 5] !== HS.CLIENT_HELLO) return false;
  if (len < 9) return undefined;
  const hsLen = (buf[off + 6] << 16) | (buf[off + 7] << 8) | buf[off + 8];
  // version + random + session_id<1> + cipher_suites<2> + compression_methods<1>, each non-empty
  if (hsLen < 2 + 32 + 1 + 2 + 2 + 1 + 1) return false;
  if (len < 10) return undefined;
  return buf[off + 9] === 3;
}

export function createTlsHandler(flow: FlowInfo, emit: TransportEventSink, opts: TlsOptions = {}): TlsHandler {
  return new TlsConnection(flow, emit, opts);
}

class TlsConnection implements TlsHandler {
  readonly app = 'tls';
  readonly stats: TlsStats = {
    records: [0, 0], handshakeMessages: 0, encryptedRecords: 0, applicationDataRecords: 0,
    skippedBytes: 0, certificates: 0, certificatesNotDescribed: 0, desyncs: 0,
  };
  private readonly sides: [SideState, SideState] = [new SideState(), new SideState()];
  private readonly maxHs: number;
  private readonly maxCerts: number;
  private readonly cache: CertificateCache | undefined;
  /** Direction that sent the ServerHello (1 unless the flow's roles were guessed wrong). */
  private serverDir: Dir = 1;
  private tls13 = false;
  private pending: PendingFlight | null = null;
  private ts = 0;
  private frame = 0;

  constructor(private readonly flow: FlowInfo, private readonly emit: TransportEventSink, opts: TlsOptions) {
    this.maxHs = opts.maxHandshakeBytes ?? DEFAULT_MAX_HANDSHAKE;
    this.maxCerts = opts.maxCertificates ?? DEFAULT_MAX_CERTS;
    this.cache = opts.certCache;
  }

  onData(dir: Dir, buf: Buffer, off: number, len: number, ts: number, frame: number): void {
    const s = this.sides[dir];
    if (s.dead || len <= 0) return;
    this.ts = ts;
    this.frame = frame;
    let p = off;
    const end = off + len;
    while (p < end && !s.dead) {
      if (!s.inRecord) {
        let h: Buffer;
        let ho: number;
        if (s.hdrLen === 0 && end - p >= TLS_RECORD_HEADER) {
          h = buf;
          ho = p;
          p += TLS_RECORD_HEADER;
        } else {
          const n = Math.min(TLS_RECORD_HEADER - s.hdrLen, end - p);
          buf.copy(s.hdr, s.hdrLen, p, p + n);
          s.hdrLen += n;
          p += n;
          if (s.hdrLen < TLS_RECORD_HEADER) break;
          h = s.hdr;
          ho = 0;
        }
        s.hdrLen = 0;
        if (!this.startRecord(dir, s, h, ho)) return;
        if (s.inRecord) continue;
        // zero-length record: done
        continue;
      }
      if (s.skipLeft > 0) {
        const n = Math.min(s.skipLeft, end - p);
        s.skipLeft -= n;
        p += n;
        this.stats.skippedBytes += n;
        if (s.skipLeft === 0) s.inRecord = false;
        continue;
      }
      // plaintext record body
      if (s.body === null && end - p >= s.recLen) {
        s.inRecord = false;
        this.plaintextRecord(dir, s, buf, p, s.recLen);
        p += s.recLen;
        continue;
      }
      if (s.body === null) {
        s.body = Buffer.allocUnsafe(s.recLen);
        s.bodyLen = 0;
      }
      const n = Math.min(s.recLen - s.bodyLen, end - p);
      buf.copy(s.body, s.bodyLen, p, p + n);
      s.bodyLen += n;
      p += n;
      if (s.bodyLen === s.recLen) {
        const b = s.body;
        s.body = null;
        s.inRecord = false;
        this.plaintextRecord(dir, s, b, 0, b.length);
      }
    }
  }

  /** Validates a record header (RFC 5246 6.2.1) and chooses skip or decode. False when it stopped the side. */
  private startRecord(dir: Dir, s: SideState, h: Buffer, ho: number): boolean {
    const type = h[ho];
    const version = (h[ho + 1] << 8) | h[ho + 2];
    const len = (h[ho + 3] << 8) | h[ho + 4];
    if (type < CONTENT.CHANGE_CIPHER_SPEC || type > CONTENT.HEARTBEAT || h[ho + 1] !== 3 || h[ho + 2] > 4 ||
        len > TLS_MAX_RECORD || (len === 0 && type !== CONTENT.APPLICATION_DATA)) {
      this.fail(dir, 'tls.malformed', `bad record header ${h.subarray(ho, ho + TLS_RECORD_HEADER).toString('hex')}`);
      return false;
    }
    this.stats.records[dir]++;
    if (dir !== this.serverDir && this.pending) this.flushFlight(true);
    s.recType = type;
    s.recVersion = version;
    s.recLen = len;
    // RFC 8446 5.1: TLS 1.3 protected records always say application_data outside, so an
    // alert record there is a plaintext one (sent before the sender had keys).
    const encrypted = s.encrypted && type !== CONTENT.CHANGE_CIPHER_SPEC && !(this.tls13 && type === CONTENT.ALERT);
    if (encrypted || type === CONTENT.APPLICATION_DATA || type === CONTENT.HEARTBEAT ||
        (type === CONTENT.ALERT && len !== 2)) {
      if (type === CONTENT.APPLICATION_DATA) this.stats.applicationDataRecords++;
      else if (type === CONTENT.ALERT) this.emitAlert(dir, null);
      if (encrypted || type === CONTENT.APPLICATION_DATA) this.stats.encryptedRecords++;
      if (dir === this.serverDir && this.pending && type !== CONTENT.HANDSHAKE) this.flushFlight(true);
      s.skipLeft = len;
      s.inRecord = len > 0;
      return true;
    }
    s.skipLeft = 0;
    s.inRecord = true;
    return true;
  }

  private plaintextRecord(dir: Dir, s: SideState, buf: Buffer, off: number, len: number): void {
    switch (s.recType) {
      case CONTENT.CHANGE_CIPHER_SPEC:
        // RFC 5246 7.1: what follows from this side is protected. In TLS 1.3 it is only the
        // middlebox-compatibility record (RFC 8446 D.4) and the side is already encrypted.
        if (dir === this.serverDir && this.pending) this.flushFlight(true);
        if (!this.tls13) this.setEncrypted(s);
        break;
      case CONTENT.ALERT: {
        const a = parseAlert(buf, off, len);
        if (typeof a === 'string') this.report(dir, 'tls.malformed', a);
        else this.emitAlert(dir, a);
        break;
      }
      case CONTENT.HANDSHAKE:
        this.handshakeBytes(dir, s, buf, off, len);
        break;
      default:
        break;
    }
  }

  private setEncrypted(s: SideState): void {
    s.encrypted = true;
    s.hsHdrLen = 0;
    s.hsMsg = null;
    s.hsSkip = 0;
  }

  /** Handshake messages (RFC 5246 7.4): 1-byte type, 3-byte length; they may span records. */
  private handshakeBytes(dir: Dir, s: SideState, buf: Buffer, off: number, len: number): void {
    let p = off;
    const end = off + len;
    while (p < end && !s.dead && !s.encrypted) {
      if (s.hsSkip > 0) {
        const n = Math.min(s.hsSkip, end - p);
        s.hsSkip -= n;
        p += n;
        continue;
      }
      if (s.hsMsg === null) {
        if (s.hsHdrLen === 0 && end - p >= 4) {
          const total = 4 + ((buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]);
          if (total - 4 > this.maxHs) {
            this.oversized(dir, s, buf[p], total);
            p += 4;
            continue;
          }
          if (end - p >= total) {
            this.message(dir, buf, p, total);
            p += total;
            continue;
          }
          s.hsMsg = Buffer.allocUnsafe(total);
          buf.copy(s.hsMsg, 0, p, end);
          s.hsMsgLen = end - p;
          p = end;
          continue;
        }
        const n = Math.min(4 - s.hsHdrLen, end - p);
        buf.copy(s.hsHdr, s.hsHdrLen, p, p + n);
        s.hsHdrLen += n;
        p += n;
        if (s.hsHdrLen < 4) break;
        s.hsHdrLen = 0;
        const total = 4 + s.hsHdr.readUIntBE(1, 3);
        if (total - 4 > this.maxHs) {
          this.oversized(dir, s, s.hsHdr[0], total);
          continue;
        }
        s.hsMsg = Buffer.allocUnsafe(total);
        s.hsHdr.copy(s.hsMsg, 0);
        s.hsMsgLen = 4;
        if (total === 4) {
          const m = s.hsMsg;
          s.hsMsg = null;
          this.message(dir, m, 0, 4);
        }
        continue;
      }
      const m = s.hsMsg;
      const n = Math.min(m.length - s.hsMsgLen, end - p);
      buf.copy(m, s.hsMsgLen, p, p + n);
      s.hsMsgLen += n;
      p += n;
      if (s.hsMsgLen === m.length) {
        s.hsMsg = null;
        this.message(dir, m, 0, m.length);
      }
    }
  }

  private oversized(dir: Dir, s: SideState, type: number, total: number): void {
    this.report(dir, 'tls.oversized', `handshake message type ${type} of ${total - 4} bytes (max ${this.maxHs})`);
    if (type === HS.CERTIFICATE) this.stats.certificatesNotDescribed++;
    s.hsSkip = total - 4;
  }

  private message(dir: Dir, buf: Buffer, off: number, total: number): void {
    this.stats.handshakeMessages++;
    const type = buf[off];
    const body = off + 4;
    const bodyLen = total - 4;
    const side = this.flow.sides[dir];
    switch (type) {
      case HS.CLIENT_HELLO: {
        const c = parseClientHello(buf, body, bodyLen, false);
        if (typeof c === 'string') {
          this.fail(dir, 'tls.malformed', c);
          return;
        }
        this.emit({
          type: 'tls.client_hello', ts: this.ts, frame: this.frame, flow: side,
          recordVersion: this.sides[dir].recVersion, legacyVersion: c.legacyVersion,
          supportedVersions: c.supportedVersions, version: c.version, cipherSuites: c.cipherSuites,
          extensions: c.extensions, sni: c.sni, alpn: c.alpn, signatureAlgorithms: c.signatureAlgorithms,
          supportedGroups: c.supportedGroups, sessionIdLength: c.sessionIdLength, ja4: c.ja4, ja4r: c.ja4r,
          pskIdentities: c.pskIdentities, length: total,
        });
        return;
      }
      case HS.SERVER_HELLO: {
        const h = parseServerHello(buf, body, bodyLen);
        if (typeof h === 'string') {
          this.fail(dir, 'tls.malformed', h);
          return;
        }
        if (this.pending) this.flushFlight(false);
        this.serverDir = dir;
        this.tls13 = h.selectedVersion === 0x0304 || h.selectedVersion === 0x7f00 + 28;
        const hello: PendingFlight['hello'] = {
          type: 'tls.server_hello', ts: this.ts, frame: this.frame, flow: side,
          legacyVersion: h.legacyVersion, selectedVersion: h.selectedVersion, version: h.version,
          cipherSuite: h.cipherSuite, compressionMethod: h.compressionMethod, extensions: h.extensions,
          alpn: h.alpn, sessionIdLength: h.sessionIdLength, helloRetryRequest: h.helloRetryRequest,
          certificatesVisible: !this.tls13,
        };
        if (this.tls13) {
          // RFC 8446 2: everything after the ServerHello is encrypted, both ways, unless it
          // is a HelloRetryRequest (the client then sends a second ClientHello in clear).
          this.emit({ ...hello, clientCertificateRequested: null });
          if (!h.helloRetryRequest) {
            this.setEncrypted(this.sides[0]);
            this.setEncrypted(this.sides[1]);
          }
        } else {
          this.pending = { hello, events: [], certificateRequested: false };
        }
        return;
      }
      case HS.CERTIFICATE:
        this.certificates(dir, buf, body, bodyLen);
        return;
      case HS.CERTIFICATE_REQUEST:
        if (this.pending && dir === this.serverDir) this.pending.certificateRequested = true;
        return;
      case HS.SERVER_HELLO_DONE:
        if (this.pending && dir === this.serverDir) this.flushFlight(true);
        return;
      default:
        return;
    }
  }

  /** RFC 5246 7.4.2: the sender's certificate first, each following one certifying the one before. */
  private certificates(dir: Dir, buf: Buffer, off: number, len: number): void {
    if (this.tls13) return; // TLS 1.3 Certificate is encrypted; a clear one would be a different format
    const list = parseCertificateList(buf, off, len);
    if (typeof list === 'string') {
      this.report(dir, 'tls.malformed', list);
      return;
    }
    const sender: TlsCertificate['sender'] = dir === this.serverDir ? 'server' : 'client';
    const side = this.flow.sides[dir];
    for (let i = 0; i < list.length; i++) {
      if (i >= this.maxCerts) {
        this.stats.certificatesNotDescribed += list.length - i;
        break;
      }
      const der = list[i];
      const f: CertificateFacts | string = this.cache ? this.cache.describe(der) : describeCertificate(der);
      if (typeof f === 'string') {
        this.report(dir, 'tls.bad_certificate', `${sender} certificate ${i}: ${f}`);
        continue;
      }
      this.stats.certificates++;
      const ev: TlsCertificate = {
        type: 'tls.certificate', ts: this.ts, frame: this.frame, flow: side, position: i,
        chainLength: list.length, sender, ...f,
      };
      if (this.pending && dir === this.serverDir) this.pending.events.push(ev);
      else this.emit(ev);
    }
  }

  private emitAlert(dir: Dir, a: ReturnType<typeof parseAlert> | null): void {
    // Whole literals, not spreads of a common part (see the DTLS handler's emitAlert).
    const { ts, frame } = this;
    const flow = this.flow.sides[dir];
    let ev: TlsAlert;
    if (a === null || typeof a === 'string') {
      ev = { type: 'tls.alert', ts, frame, flow, encrypted: true, level: null, levelName: null, description: null, descriptionName: null };
    } else {
      ev = { type: 'tls.alert', ts, frame, flow, encrypted: false, level: a.level, levelName: a.levelName, description: a.description, descriptionName: a.descriptionName };
    }
    if (dir === this.serverDir && this.pending) this.flushFlight(true);
    this.emit(ev);
  }

  /** Emits the held ServerHello, then the server's certificates. */
  private flushFlight(flightEnded: boolean): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    this.emit({ ...p.hello, clientCertificateRequested: p.certificateRequested ? true : flightEnded ? false : null });
    for (const e of p.events) this.emit(e);
  }

  private report(dir: Dir, code: TransportAnomalyCode, detail: string): void {
    const e: AnomalyEvent = anomaly(code, this.flow.sides[dir], this.ts, this.frame, detail);
    this.emit(e);
  }

  /** Reports and stops decoding this direction. */
  private fail(dir: Dir, code: TransportAnomalyCode, detail: string): void {
    const s = this.sides[dir];
    if (s.dead) return;
    this.report(dir, code, detail);
    s.dead = true;
    this.stats.desyncs++;
    if (dir === this.serverDir && this.pending) this.flushFlight(false);
  }

  onGap(dir: Dir, missing: number, ts: number, frame: number): void {
    const s = this.sides[dir];
    if (s.dead || missing <= 0) return;
    this.ts = ts;
    this.frame = frame;
    if (s.inRecord && s.skipLeft >= missing) {
      // Inside a record we skip anyway: framing survives.
      s.skipLeft -= missing;
      this.stats.skippedBytes += missing;
      if (s.skipLeft === 0) s.inRecord = false;
      return;
    }
    if (s.encrypted) {
      s.dead = true;
      this.stats.desyncs++;
      return;
    }
    this.fail(dir, 'tls.truncated', `${missing} bytes lost inside the ${s.inRecord || s.hdrLen > 0 ? 'record' : 'record stream'} before encryption`);
  }

  onEnd(ts: number, frame: number): void {
    this.ts = ts;
    this.frame = frame;
    for (const dir of [0, 1] as const) {
      const s = this.sides[dir];
      if (s.dead || s.encrypted) continue;
      if (s.hdrLen > 0 || (s.inRecord && s.skipLeft === 0) || s.hsMsg !== null || s.hsHdrLen > 0 || s.hsSkip > 0) {
        this.report(dir, 'tls.truncated', 'the stream ended inside a record or handshake message');
      }
    }
    this.flushFlight(false);
  }
}
