// Pure parsers for TLS handshake messages (RFC 5246, RFC 8446), shared with DTLS (RFC 6347),
// whose hellos differ only by the ClientHello cookie. Each returns a value or an error string.
import { Cursor, Truncated } from './cursor';
import { computeJa4 } from './ja4';

export const CONTENT = { CHANGE_CIPHER_SPEC: 20, ALERT: 21, HANDSHAKE: 22, APPLICATION_DATA: 23, HEARTBEAT: 24 } as const;

/** Handshake types (RFC 8446 section 4, RFC 5246 7.4, RFC 6347 4.3.2). */
export const HS = {
  HELLO_REQUEST: 0,
  CLIENT_HELLO: 1,
  SERVER_HELLO: 2,
  HELLO_VERIFY_REQUEST: 3,
  NEW_SESSION_TICKET: 4,
  ENCRYPTED_EXTENSIONS: 8,
  CERTIFICATE: 11,
  SERVER_KEY_EXCHANGE: 12,
  CERTIFICATE_REQUEST: 13,
  SERVER_HELLO_DONE: 14,
  CERTIFICATE_VERIFY: 15,
  CLIENT_KEY_EXCHANGE: 16,
  FINISHED: 20,
} as const;

export const EXT = {
  SERVER_NAME: 0,
  SUPPORTED_GROUPS: 10,
  SIGNATURE_ALGORITHMS: 13,
  ALPN: 16,
  PRE_SHARED_KEY: 41,
  SUPPORTED_VERSIONS: 43,
} as const;

/** TLS record header size; the plaintext limit is 2^14, ciphertext 2^14 + 2048 (RFC 5246 6.2.3). */
export const TLS_RECORD_HEADER = 5;
export const TLS_MAX_RECORD = 16384 + 2048;

/** RFC 8701: GREASE values 0x?a?a with both bytes equal. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && (v >> 8) === (v & 0xff);
}

const VERSION_NAMES: Record<number, string> = {
  0x0002: 'SSL 2.0',
  0x0300: 'SSL 3.0',
  0x0301: 'TLS 1.0',
  0x0302: 'TLS 1.1',
  0x0303: 'TLS 1.2',
  0x0304: 'TLS 1.3',
  0xfeff: 'DTLS 1.0',
  0xfefd: 'DTLS 1.2',
  0xfefc: 'DTLS 1.3',
  0x0100: 'DTLS 1.0 (OpenSSL pre-0.9.8f)',
};

export function versionName(v: number): string {
  return VERSION_NAMES[v] ?? `0x${v.toString(16).padStart(4, '0')}`;
}

/** Orders versions: DTLS versions count down (0xfeff < 0xfefd < 0xfefc). */
export function versionRank(v: number): number {
  if (v >= 0xfe00) return 0x1000 + (0xffff - v);
  return v;
}

// RFC 8446 6.2, RFC 5246 7.2, RFC 8446 6 (certificate_required 116), RFC 7301 (120).
const ALERT_NAMES: Record<number, string> = {
  0: 'close_notify', 10: 'unexpected_message', 20: 'bad_record_mac', 21: 'decryption_failed',
  22: 'record_overflow', 30: 'decompression_failure', 40: 'handshake_failure', 41: 'no_certificate',
  42: 'bad_certificate', 43: 'unsupported_certificate', 44: 'certificate_revoked',
  45: 'certificate_expired', 46: 'certificate_unknown', 47: 'illegal_parameter', 48: 'unknown_ca',
  49: 'access_denied', 50: 'decode_error', 51: 'decrypt_error', 60: 'export_restriction',
  70: 'protocol_version', 71: 'insufficient_security', 80: 'internal_error',
  86: 'inappropriate_fallback', 90: 'user_canceled', 100: 'no_renegotiation',
  109: 'missing_extension', 110: 'unsupported_extension', 111: 'certificate_unobtainable',
  112: 'unrecognized_name', 113: 'bad_certificate_status_response', 114: 'bad_certificate_hash_value',
  115: 'unknown_psk_identity', 116: 'certificate_required', 120: 'no_application_protocol',
};

export interface AlertFacts {
  level: number;
  levelName: 'warning' | 'fatal' | 'unknown';
  description: number;
  descriptionName: string;
}

/** A plaintext Alert (RFC 5246 7.2): two bytes. */
export function parseAlert(buf: Buffer, off: number, len: number): AlertFacts | string {
  if (len !== 2) return `alert record of ${len} bytes (expected 2)`;
  const level = buf[off];
  const description = buf[off + 1];
  return {
    level,
    levelName: level === 1 ? 'warning' : level === 2 ? 'fatal' : 'unknown',
    description,
    descriptionName: ALERT_NAMES[description] ?? `unknown_${description}`,
  };
}

export interface ClientHelloFacts {
  legacyVersion: number;
  random: Buffer;
  sessionIdLength: number;
  /** DTLS only (RFC 6347 4.2.1); empty for TLS. */
  cookie: Buffer;
  cipherSuites: number[];
  compressionMethods: number[];
  extensions: number[];
  supportedVersions: number[];
  sni: string | null;
  alpn: string[];
  signatureAlgorithms: number[];
  supportedGroups: number[];
  pskIdentities: number;
  /** Highest offered version, GREASE ignored. */
  maxVersion: number;
  version: string;
  ja4: string;
  ja4r: string;
}

function u16List(c: Cursor, lenBytes: 1 | 2, what: string): number[] {
  const v = c.vec(lenBytes, what);
  if (v.left % 2 !== 0) throw new Truncated(`${what}: odd length`);
  const out: number[] = [];
  while (v.left > 0) out.push(v.u16(what));
  return out;
}

/** RFC 6066 section 3: the first host_name entry. */
function parseSni(c: Cursor): string | null {
  const list = c.vec(2, 'server_name_list');
  while (list.left > 0) {
    const type = list.u8('name_type');
    const name = list.vec(2, 'host_name');
    if (type === 0) return name.rest().toString('latin1');
  }
  return null;
}

/** RFC 7301 section 3.1: ProtocolNameList. */
function parseAlpn(c: Cursor): string[] {
  const list = c.vec(2, 'protocol_name_list');
  const out: string[] = [];
  while (list.left > 0) out.push(list.vec(1, 'protocol_name').rest().toString('latin1'));
  return out;
}

/**
 * ClientHello body (after the handshake header). RFC 8446 4.1.2 / RFC 5246 7.4.1.2;
 * `dtls` adds the cookie (RFC 6347 4.2.1) and makes the JA4 protocol 'd'.
 */
export function parseClientHello(buf: Buffer, off: number, len: number, dtls: boolean): ClientHelloFacts | string {
  try {
    const c = new Cursor(buf, off, off + len);
    const legacyVersion = c.u16('client_version');
    const random = c.bytes(32, 'random');
    const sessionIdLength = c.vec(1, 'session_id').left;
    if (sessionIdLength > 32) return `session_id of ${sessionIdLength} bytes`;
    const cookie = dtls ? c.vec(1, 'cookie').rest() : Buffer.alloc(0);
    const cipherSuites = u16List(c, 2, 'cipher_suites');
    const compressionMethods = [...c.vec(1, 'compression_methods').rest()];
    const f: ClientHelloFacts = {
      legacyVersion, random, sessionIdLength, cookie, cipherSuites, compressionMethods,
      extensions: [], supportedVersions: [], sni: null, alpn: [], signatureAlgorithms: [],
      supportedGroups: [], pskIdentities: 0, maxVersion: legacyVersion, version: '', ja4: '', ja4r: '',
    };
    // Extensions are optional before TLS 1.3 (RFC 5246 7.4.1.2: "extensions_present").
    if (c.left > 0) {
      const exts = c.vec(2, 'extensions');
      if (c.left !== 0) return `${c.left} bytes after the extensions`;
      while (exts.left > 0) {
        const type = exts.u16('extension_type');
        const body = exts.vec(2, 'extension_data');
        f.extensions.push(type);
        switch (type) {
          case EXT.SERVER_NAME: if (body.left > 0) f.sni = parseSni(body); break;
          case EXT.ALPN: f.alpn = parseAlpn(body); break;
          case EXT.SIGNATURE_ALGORITHMS: f.signatureAlgorithms = u16List(body, 2, 'signature_algorithms'); break;
          case EXT.SUPPORTED_GROUPS: f.supportedGroups = u16List(body, 2, 'supported_groups'); break;
          case EXT.SUPPORTED_VERSIONS: f.supportedVersions = u16List(body, 1, 'supported_versions'); break;
          case EXT.PRE_SHARED_KEY: {
            // RFC 8446 4.2.11: identities<7..2^16-1>, each identity<1..2^16-1> + obfuscated_ticket_age.
            const ids = body.vec(2, 'identities');
            while (ids.left > 0) {
              ids.vec(2, 'identity');
              ids.need(4, 'obfuscated_ticket_age');
              ids.pos += 4;
              f.pskIdentities++;
            }
            break;
          }
          default:
            break;
        }
      }
    }
    let max = -1;
    for (const v of f.supportedVersions) if (!isGrease(v) && (max < 0 || versionRank(v) > versionRank(max))) max = v;
    f.maxVersion = max >= 0 ? max : legacyVersion;
    f.version = versionName(f.maxVersion);
    const j = computeJa4(dtls ? 'd' : 't', f.maxVersion, f.cipherSuites, f.extensions, f.sni !== null || f.extensions.includes(EXT.SERVER_NAME), f.alpn[0] ?? null, f.signatureAlgorithms);
    f.ja4 = j.ja4;
    f.ja4r = j.ja4r;
    return f;
  } catch (e) {
    if (e instanceof Truncated) return `ClientHello: ${e.message} runs past the message`;
    throw e;
  }
}

/** RFC 8446 4.1.3: the random of a HelloRetryRequest is SHA-256("HelloRetryRequest"). */
const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

export interface ServerHelloFacts {
  legacyVersion: number;
  selectedVersion: number;
  version: string;
  random: Buffer;
  sessionIdLength: number;
  cipherSuite: number;
  compressionMethod: number;
  extensions: number[];
  alpn: string | null;
  helloRetryRequest: boolean;
}

/** ServerHello body: RFC 8446 4.1.3 / RFC 5246 7.4.1.3 (the same for DTLS). */
export function parseServerHello(buf: Buffer, off: number, len: number): ServerHelloFacts | string {
  try {
    const c = new Cursor(buf, off, off + len);
    const legacyVersion = c.u16('server_version');
    const random = c.bytes(32, 'random');
    const sessionIdLength = c.vec(1, 'session_id').left;
    if (sessionIdLength > 32) return `session_id of ${sessionIdLength} bytes`;
    const cipherSuite = c.u16('cipher_suite');
    const compressionMethod = c.u8('compression_method');
    const f: ServerHelloFacts = {
      legacyVersion, selectedVersion: legacyVersion, version: '', random, sessionIdLength, cipherSuite,
      compressionMethod, extensions: [], alpn: null, helloRetryRequest: random.equals(HRR_RANDOM),
    };
    if (c.left > 0) {
      const exts = c.vec(2, 'extensions');
      if (c.left !== 0) return `${c.left} bytes after the extensions`;
      while (exts.left > 0) {
        const type = exts.u16('extension_type');
        const body = exts.vec(2, 'extension_data');
        f.extensions.push(type);
        if (type === EXT.SUPPORTED_VERSIONS && body.left >= 2) f.selectedVersion = body.u16('selected_version');
        else if (type === EXT.ALPN) f.alpn = parseAlpn(body)[0] ?? null;
      }
    }
    f.version = versionName(f.selectedVersion);
    return f;
  } catch (e) {
    if (e instanceof Truncated) return `ServerHello: ${e.message} runs past the message`;
    throw e;
  }
}

/** HelloVerifyRequest (RFC 6347 4.2.1): server_version + cookie<0..2^8-1>. */
export function parseHelloVerifyRequest(buf: Buffer, off: number, len: number): { version: number; cookie: Buffer } | string {
  try {
    const c = new Cursor(buf, off, off + len);
    const version = c.u16('server_version');
    const cookie = c.vec(1, 'cookie').rest();
    return { version, cookie };
  } catch (e) {
    if (e instanceof Truncated) return `HelloVerifyRequest: ${e.message} runs past the message`;
    throw e;
  }
}

/**
 * TLS <= 1.2 Certificate body (RFC 5246 7.4.2): certificate_list<0..2^24-1> of
 * ASN.1Cert<1..2^24-1>. Returns views into `buf`.
 */
export function parseCertificateList(buf: Buffer, off: number, len: number): Buffer[] | string {
  try {
    const c = new Cursor(buf, off, off + len);
    const list = c.vec(3, 'certificate_list');
    if (c.left !== 0) return `${c.left} bytes after certificate_list`;
    const out: Buffer[] = [];
    while (list.left > 0) {
      const n = list.u24('cert length');
      if (n === 0) return 'empty ASN.1Cert';
      out.push(list.bytes(n, 'ASN.1Cert'));
    }
    return out;
  } catch (e) {
    if (e instanceof Truncated) return `Certificate: ${e.message} runs past the message`;
    throw e;
  }
}

/** Escapes bytes outside printable ASCII as \xNN (identities, hints: RFC 4279 5.1). */
export function printable(b: Buffer): string {
  let s = '';
  for (const x of b) {
    if (x >= 0x20 && x < 0x7f && x !== 0x5c) s += String.fromCharCode(x);
    else s += `\\x${x.toString(16).padStart(2, '0')}`;
  }
  return s;
}
