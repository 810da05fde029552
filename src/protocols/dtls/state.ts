// DTLS over one UDP flow: records of each datagram, handshake fragments reassembled per
// message_seq (RFC 6347 4.2.3) under bounds, retransmissions recognised, the PSK identity read
// from the ClientKeyExchange according to the suite the ServerHello chose.
import type { DtlsAlert, PskKeyExchange, TlsCertificate, TransportEventSink } from '../../events/tls-types';
import type { Dir, FlowInfo, UdpAppHandler } from '../../flow/types';
import { anomaly, type TransportAnomalyCode } from '../tls/anomalies';
import { HS, parseAlert, parseCertificateList, parseClientHello, parseHelloVerifyRequest, parseServerHello, printable } from '../tls/parser';
import { describeCertificate, type CertificateCache } from '../tls/x509';
import { readDtlsRecord, readHandshakeFragment, type HandshakeFragment } from './parser';
import { cipherSuiteName, parsePskClientKeyExchange, parsePskServerKeyExchange, pskKeyExchange } from './psk';

export interface DtlsOptions {
  /** Largest handshake message reassembled from fragments. Default 64 KiB. */
  maxMessageBytes?: number;
  /** Messages under reassembly at once per direction. Default 8. */
  maxPendingMessages?: number;
  /** Certificates described per Certificate message (tls.certificate events). Default 10. */
  maxCertificates?: number;
  certCache?: CertificateCache;
}

export interface DtlsStats {
  datagrams: number;
  records: number;
  /** Records at epoch > 0, DTLS 1.3 ciphertext and CID records: counted, not decoded. */
  encryptedRecords: number;
  dtls13Records: number;
  cidRecords: number;
  handshakeMessages: number;
  fragmentedMessages: number;
  retransmissions: number;
  certificates: number;
}

export interface DtlsHandler extends UdpAppHandler {
  readonly stats: DtlsStats;
}

const DEFAULT_MAX_MESSAGE = 64 * 1024;
const DEFAULT_MAX_PENDING = 8;
const MAX_DONE = 256;

interface Reassembly {
  type: number;
  length: number;
  data: Buffer;
  have: Uint8Array;
  filled: number;
}

class SideState {
  readonly pending = new Map<number, Reassembly>();
  /** message_seq values already handled (epoch 0): later copies are retransmissions. */
  readonly done = new Set<number>();
}

export function createDtlsHandler(flow: FlowInfo, emit: TransportEventSink, opts: DtlsOptions = {}): DtlsHandler {
  return new DtlsFlow(flow, emit, opts);
}

class DtlsFlow implements DtlsHandler {
  readonly app = 'dtls';
  readonly stats: DtlsStats = {
    datagrams: 0, records: 0, encryptedRecords: 0, dtls13Records: 0, cidRecords: 0, handshakeMessages: 0,
    fragmentedMessages: 0, retransmissions: 0, certificates: 0,
  };
  private readonly sides: [SideState, SideState] = [new SideState(), new SideState()];
  private readonly maxMessage: number;
  private readonly maxPending: number;
  private readonly maxCerts: number;
  private readonly cache: CertificateCache | undefined;
  private clientRandom: Buffer | null = null;
  private serverDir: Dir = 1;
  private cipherSuite = -1;
  private keyExchange: PskKeyExchange | null = null;
  private identityHint: Buffer | null = null;
  private helloVerifyRequested = false;
  private ts = 0;
  private frame = 0;
  private epoch = 0;
  private sequence = 0;
  private recVersion = 0;

  constructor(private readonly flow: FlowInfo, private readonly emit: TransportEventSink, opts: DtlsOptions) {
    this.maxMessage = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE;
    this.maxPending = opts.maxPendingMessages ?? DEFAULT_MAX_PENDING;
    this.maxCerts = opts.maxCertificates ?? 10;
    this.cache = opts.certCache;
  }

  onDatagram(dir: Dir, buf: Buffer, off: number, len: number, ts: number, frame: number): void {
    this.ts = ts;
    this.frame = frame;
    this.stats.datagrams++;
    let p = off;
    const end = off + len;
    // RFC 6347 4.1.1: several records may share one datagram.
    while (p < end) {
      const r = readDtlsRecord(buf, p, end);
      if (typeof r === 'string') {
        this.report(dir, 'dtls.malformed', r);
        return;
      }
      this.stats.records++;
      p = r.next;
      if (r.kind === 'unified') {
        this.stats.dtls13Records++;
        this.stats.encryptedRecords++;
        continue;
      }
      if (r.kind === 'cid') {
        this.stats.cidRecords++;
        this.stats.encryptedRecords++;
        continue;
      }
      this.epoch = r.epoch;
      this.sequence = r.sequence;
      this.recVersion = r.version;
      if (r.type === 20) continue; // ChangeCipherSpec: the epoch that follows is protected
      if (r.epoch > 0) {
        // RFC 6347 4.1: epoch > 0 records are protected by the negotiated cipher.
        this.stats.encryptedRecords++;
        if (r.type === 21) this.emitAlert(dir, null);
        continue;
      }
      if (r.type === 21) {
        const a = parseAlert(buf, r.bodyOff, r.bodyLen);
        if (typeof a === 'string') this.emitAlert(dir, null);
        else this.emitAlert(dir, a);
      } else if (r.type === 22) {
        this.handshakeRecord(dir, buf, r.bodyOff, r.bodyOff + r.bodyLen);
      } else {
        this.stats.encryptedRecords++; // application data / heartbeat at epoch 0: not expected, skipped
      }
    }
  }

  private handshakeRecord(dir: Dir, buf: Buffer, off: number, end: number): void {
    let p = off;
    // RFC 6347 4.2.3: one record may hold several handshake messages or fragments.
    while (p < end) {
      const f = readHandshakeFragment(buf, p, end);
      if (typeof f === 'string') {
        this.report(dir, 'dtls.malformed', f);
        return;
      }
      p = f.dataOff + f.fragmentLength;
      this.fragment(dir, buf, f);
    }
  }

  private fragment(dir: Dir, buf: Buffer, f: HandshakeFragment): void {
    const s = this.sides[dir];
    if (f.type === HS.CLIENT_HELLO && f.messageSeq === 0 && f.fragmentOffset === 0 && f.fragmentLength >= 34) {
      // A ClientHello with a new random starts a new handshake on this 5-tuple.
      const random = buf.subarray(f.dataOff + 2, f.dataOff + 34);
      if (this.clientRandom !== null && !random.equals(this.clientRandom)) this.reset();
    }
    if (s.done.has(f.messageSeq)) {
      this.stats.retransmissions++;
      return;
    }
    if (f.fragmentOffset === 0 && f.fragmentLength === f.length && !s.pending.has(f.messageSeq)) {
      this.complete(dir, f.type, f.messageSeq, buf, f.dataOff, f.length);
      return;
    }
    // RFC 6347 4.2.3: reassemble; fragments may overlap and arrive in any order.
    if (f.length > this.maxMessage) {
      this.report(dir, 'dtls.oversized', `handshake message type ${f.type} of ${f.length} bytes (max ${this.maxMessage})`);
      s.done.add(f.messageSeq);
      return;
    }
    let r = s.pending.get(f.messageSeq);
    if (r && (r.type !== f.type || r.length !== f.length)) {
      this.report(dir, 'dtls.bad_fragment', `message_seq ${f.messageSeq}: type/length ${f.type}/${f.length} after ${r.type}/${r.length}`);
      s.pending.delete(f.messageSeq);
      return;
    }
    if (!r) {
      if (s.pending.size >= this.maxPending) {
        const oldest = s.pending.keys().next();
        if (!oldest.done) s.pending.delete(oldest.value);
        this.report(dir, 'dtls.oversized', `more than ${this.maxPending} handshake messages under reassembly; the oldest was dropped`);
      }
      r = { type: f.type, length: f.length, data: Buffer.alloc(f.length), have: new Uint8Array(f.length), filled: 0 };
      s.pending.set(f.messageSeq, r);
      this.stats.fragmentedMessages++;
    }
    buf.copy(r.data, f.fragmentOffset, f.dataOff, f.dataOff + f.fragmentLength);
    const have = r.have;
    for (let i = f.fragmentOffset, e = f.fragmentOffset + f.fragmentLength; i < e; i++) {
      if (have[i] === 0) {
        have[i] = 1;
        r.filled++;
      }
    }
    if (r.filled === r.length) {
      s.pending.delete(f.messageSeq);
      this.complete(dir, r.type, f.messageSeq, r.data, 0, r.length);
    }
  }

  private reset(): void {
    for (const s of this.sides) {
      s.pending.clear();
      s.done.clear();
    }
    this.cipherSuite = -1;
    this.keyExchange = null;
    this.identityHint = null;
    this.helloVerifyRequested = false;
  }

  private complete(dir: Dir, type: number, messageSeq: number, buf: Buffer, off: number, len: number): void {
    const s = this.sides[dir];
    if (s.done.size >= MAX_DONE) s.done.clear();
    s.done.add(messageSeq);
    this.stats.handshakeMessages++;
    const base = { ts: this.ts, frame: this.frame, flow: this.flow.sides[dir], epoch: this.epoch, sequence: this.sequence };
    switch (type) {
      case HS.CLIENT_HELLO: {
        const c = parseClientHello(buf, off, len, true);
        if (typeof c === 'string') {
          this.report(dir, 'dtls.malformed', c);
          return;
        }
        this.clientRandom = Buffer.from(c.random);
        this.emit({
          type: 'dtls.client_hello', ...base, recordVersion: this.recVersion, legacyVersion: c.legacyVersion,
          supportedVersions: c.supportedVersions, version: c.version, cipherSuites: c.cipherSuites,
          extensions: c.extensions, sni: c.sni, alpn: c.alpn, signatureAlgorithms: c.signatureAlgorithms,
          supportedGroups: c.supportedGroups, sessionIdLength: c.sessionIdLength, ja4: c.ja4, ja4r: c.ja4r,
          pskIdentities: c.pskIdentities, cookie: c.cookie.toString('hex'), messageSeq, length: len + 12,
        });
        return;
      }
      case HS.HELLO_VERIFY_REQUEST: {
        const h = parseHelloVerifyRequest(buf, off, len);
        if (typeof h === 'string') this.report(dir, 'dtls.malformed', h);
        else this.helloVerifyRequested = true;
        // the client answers with a new ClientHello (message_seq 1) carrying the cookie
        return;
      }
      case HS.SERVER_HELLO: {
        const h = parseServerHello(buf, off, len);
        if (typeof h === 'string') {
          this.report(dir, 'dtls.malformed', h);
          return;
        }
        this.serverDir = dir;
        this.cipherSuite = h.cipherSuite;
        this.keyExchange = pskKeyExchange(h.cipherSuite);
        this.emit({
          type: 'dtls.server_hello', ...base, legacyVersion: h.legacyVersion, selectedVersion: h.selectedVersion,
          version: h.version, cipherSuite: h.cipherSuite, cipherSuiteName: cipherSuiteName(h.cipherSuite),
          keyExchange: this.keyExchange ?? 'other', extensions: h.extensions, sessionIdLength: h.sessionIdLength,
          helloVerifyRequested: this.helloVerifyRequested, certificatesVisible: h.selectedVersion !== 0xfefc,
        });
        return;
      }
      case HS.CERTIFICATE: {
        // DTLS 1.0/1.2 send the chain in clear, as TLS 1.2 does (RFC 6347 4.2, RFC 5246 7.4.2).
        const list = parseCertificateList(buf, off, len);
        if (typeof list === 'string') {
          this.report(dir, 'dtls.malformed', list);
          return;
        }
        const sender: TlsCertificate['sender'] = dir === this.serverDir ? 'server' : 'client';
        for (let i = 0; i < list.length && i < this.maxCerts; i++) {
          const f = this.cache ? this.cache.describe(list[i]) : describeCertificate(list[i]);
          if (typeof f === 'string') {
            this.report(dir, 'tls.bad_certificate', `${sender} certificate ${i} in DTLS: ${f}`);
            continue;
          }
          this.stats.certificates++;
          this.emit({ type: 'tls.certificate', ts: this.ts, frame: this.frame, flow: this.flow.sides[dir], position: i, chainLength: list.length, sender, ...f });
        }
        return;
      }
      case HS.SERVER_KEY_EXCHANGE: {
        if (this.keyExchange === null || dir !== this.serverDir) return;
        const hint = parsePskServerKeyExchange(buf, off, len);
        if (typeof hint === 'string') this.report(dir, 'dtls.malformed', hint);
        else this.identityHint = Buffer.from(hint);
        return;
      }
      case HS.CLIENT_KEY_EXCHANGE: {
        if (this.keyExchange === null || dir === this.serverDir) return;
        const id = parsePskClientKeyExchange(buf, off, len, this.keyExchange);
        if (typeof id === 'string') {
          this.report(dir, 'dtls.malformed', id);
          return;
        }
        this.emit({
          type: 'dtls.psk_identity', ...base, identity: printable(id), identityHex: id.toString('hex'),
          identityLength: id.length, identityHint: this.identityHint ? printable(this.identityHint) : null,
          keyExchange: this.keyExchange, cipherSuite: this.cipherSuite,
        });
        return;
      }
      default:
        return;
    }
  }

  private emitAlert(dir: Dir, a: ReturnType<typeof parseAlert> | null): void {
    // Whole literals, not spreads of a common part: a spread made a new hidden class for nearly
    // every alert, and every site reading alerts megamorphic.
    const { ts, frame, epoch, sequence } = this;
    const flow = this.flow.sides[dir];
    const ev: DtlsAlert = a === null || typeof a === 'string'
      ? { type: 'dtls.alert', ts, frame, flow, epoch, sequence, encrypted: true, level: null, levelName: null, description: null, descriptionName: null }
      : { type: 'dtls.alert', ts, frame, flow, epoch, sequence, encrypted: false, level: a.level, levelName: a.levelName, description: a.description, descriptionName: a.descriptionName };
    this.emit(ev);
  }

  private report(dir: Dir, code: TransportAnomalyCode, detail: string): void {
    this.emit(anomaly(code, this.flow.sides[dir], this.ts, this.frame, detail));
  }

  onEnd(_ts: number, _frame: number): void {
    for (const s of this.sides) s.pending.clear();
  }
}
