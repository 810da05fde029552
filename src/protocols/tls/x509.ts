// Facts about one DER certificate: node:crypto's X509Certificate for names, SANs and the key,
// plus a minimal DER walker for what Node 20 does not expose (the outer signatureAlgorithm,
// RFC 5280 section 4.1.1.2) or exposes only as locale-ish text (validity, RFC 5280 4.1.2.5).
import { createHash, X509Certificate } from 'node:crypto';

export interface CertificateFacts {
  subject: string;
  issuer: string;
  subjectCn: string | null;
  serial: string;
  sans: string[];
  notBefore: number;
  notAfter: number;
  notBeforeIso: string;
  notAfterIso: string;
  keyType: string;
  keySize: number;
  curve?: string;
  signatureAlgorithm: string;
  signatureAlgorithmOid: string;
  selfSigned: boolean;
  isCa: boolean;
  sha256: string;
  length: number;
}

interface Tlv {
  tag: number;
  /** Content start and end. */
  start: number;
  end: number;
}

/** One DER TLV at `off` (X.690 8.1), definite lengths only; null when it does not fit. */
export function readTlv(buf: Uint8Array, off: number, end: number): Tlv | null {
  if (off + 2 > end) return null;
  const tag = buf[off];
  if ((tag & 0x1f) === 0x1f) return null; // high tag numbers do not occur in certificates
  let len = buf[off + 1];
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > end) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i];
    p += n;
  }
  if (p + len > end) return null;
  return { tag, start: p, end: p + len };
}

/** Dotted text of an OBJECT IDENTIFIER's content octets (X.690 8.19). */
export function decodeOid(buf: Uint8Array, start: number, end: number): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = start; i < end; i++) {
    v = v * 128 + (buf[i] & 0x7f);
    if ((buf[i] & 0x80) === 0) {
      if (parts.length === 0) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        parts.push(first, v - first * 40);
      } else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

const SIG_ALGS: Record<string, string> = {
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.2.840.10040.4.3': 'dsa-with-SHA1',
  '2.16.840.1.101.3.4.3.2': 'dsa-with-SHA256',
  '1.3.101.112': 'ED25519',
  '1.3.101.113': 'ED448',
  '1.2.156.10197.1.501': 'SM2-with-SM3',
};

const CURVE_BITS: Record<string, number> = {
  prime192v1: 192, secp224r1: 224, prime256v1: 256, secp256k1: 256, secp384r1: 384, secp521r1: 521,
  brainpoolP256r1: 256, brainpoolP384r1: 384, brainpoolP512r1: 512, SM2: 256,
};

/** UTCTime / GeneralizedTime content (RFC 5280 4.1.2.5.1-2) to microseconds; NaN if malformed. */
export function decodeTime(tag: number, s: string): number {
  let m: RegExpExecArray | null;
  let year: number;
  if (tag === 0x17) {
    m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
    if (!m) return NaN;
    const yy = Number(m[1]);
    year = yy < 50 ? 2000 + yy : 1900 + yy; // RFC 5280 4.1.2.5.1
  } else if (tag === 0x18) {
    m = /^(\d\d\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
    if (!m) return NaN;
    year = Number(m[1]);
  } else return NaN;
  const ms = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return ms * 1000;
}

interface DerFields {
  signatureAlgorithmOid: string;
  notBefore: number;
  notAfter: number;
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } (RFC 5280 4.1). */
export function walkCertificate(der: Uint8Array): DerFields | string {
  const cert = readTlv(der, 0, der.length);
  if (!cert || cert.tag !== 0x30) return 'not a DER SEQUENCE';
  const tbs = readTlv(der, cert.start, cert.end);
  if (!tbs || tbs.tag !== 0x30) return 'no tbsCertificate';
  const sigAlg = readTlv(der, tbs.end, cert.end);
  if (!sigAlg || sigAlg.tag !== 0x30) return 'no signatureAlgorithm';
  const oid = readTlv(der, sigAlg.start, sigAlg.end);
  if (!oid || oid.tag !== 0x06) return 'signatureAlgorithm without an OID';
  // tbsCertificate: [0] version OPTIONAL, serialNumber, signature, issuer, validity, ...
  let p = tbs.start;
  let f = readTlv(der, p, tbs.end);
  if (f && f.tag === 0xa0) {
    p = f.end;
    f = readTlv(der, p, tbs.end);
  }
  for (let i = 0; i < 3; i++) { // serialNumber, signature, issuer
    if (!f) return 'tbsCertificate truncated';
    p = f.end;
    f = readTlv(der, p, tbs.end);
  }
  if (!f || f.tag !== 0x30) return 'no validity';
  const nb = readTlv(der, f.start, f.end);
  const na = nb ? readTlv(der, nb.end, f.end) : null;
  if (!nb || !na) return 'validity truncated';
  const text = (t: Tlv): string => Buffer.from(der.buffer, der.byteOffset + t.start, t.end - t.start).toString('latin1');
  const notBefore = decodeTime(nb.tag, text(nb));
  const notAfter = decodeTime(na.tag, text(na));
  if (Number.isNaN(notBefore) || Number.isNaN(notAfter)) return 'validity times do not parse';
  return { signatureAlgorithmOid: decodeOid(der, oid.start, oid.end), notBefore, notAfter };
}

/** Splits Node's "DNS:a, IP Address:1.2.3.4" (values with ", " come JSON-quoted). */
function splitSans(s: string | undefined): string[] {
  if (!s) return [];
  return s.split(/, (?=[A-Za-z][A-Za-z ]*:)/);
}

const oneLine = (dn: string): string => dn.split('\n').filter((x) => x.length > 0).join(', ');

/** Parses one certificate; returns an error text when it is not one. Never throws. */
export function describeCertificate(der: Buffer): CertificateFacts | string {
  const walked = walkCertificate(der);
  if (typeof walked === 'string') return walked;
  let x: X509Certificate;
  try {
    x = new X509Certificate(der);
  } catch (e) {
    return `X509Certificate: ${(e as Error).message}`;
  }
  const subjectLines = x.subject.split('\n');
  const cn = subjectLines.find((l) => l.startsWith('CN='));
  let keyType = 'unknown';
  let keySize = 0;
  let curve: string | undefined;
  try {
    const k = x.publicKey;
    keyType = k.asymmetricKeyType ?? 'unknown';
    const d = k.asymmetricKeyDetails;
    if (d?.modulusLength) keySize = d.modulusLength;
    else if (d?.namedCurve) {
      curve = d.namedCurve;
      keySize = CURVE_BITS[d.namedCurve] ?? 0;
    } else if (keyType === 'ed25519' || keyType === 'x25519') keySize = 256;
    else if (keyType === 'ed448') keySize = 456;
    else if (keyType === 'x448') keySize = 448;
  } catch {
    // unsupported key algorithm: keep 'unknown'
  }
  let selfSigned = false;
  if (x.issuer === x.subject) {
    try {
      selfSigned = x.verify(x.publicKey);
    } catch {
      selfSigned = false;
    }
  }
  const iso = (us: number): string => new Date(us / 1000).toISOString();
  const facts: CertificateFacts = {
    subject: oneLine(x.subject),
    issuer: oneLine(x.issuer),
    subjectCn: cn ? cn.slice(3) : null,
    serial: x.serialNumber.toLowerCase(),
    sans: splitSans(x.subjectAltName),
    notBefore: walked.notBefore,
    notAfter: walked.notAfter,
    notBeforeIso: iso(walked.notBefore),
    notAfterIso: iso(walked.notAfter),
    keyType,
    keySize,
    signatureAlgorithm: SIG_ALGS[walked.signatureAlgorithmOid] ?? walked.signatureAlgorithmOid,
    signatureAlgorithmOid: walked.signatureAlgorithmOid,
    selfSigned,
    isCa: x.ca,
    sha256: createHash('sha256').update(der).digest('hex'),
    length: der.length,
  };
  if (curve !== undefined) facts.curve = curve;
  return facts;
}

/**
 * A bounded cache of parsed certificates by SHA-256, shared across flows by whoever builds the
 * handlers: the same broker certificate is seen on every connection. Oldest entry goes first.
 */
export class CertificateCache {
  private readonly map = new Map<string, CertificateFacts | string>();
  hits = 0;
  evictions = 0;
  constructor(readonly maxEntries = 1024) {}

  describe(der: Buffer): CertificateFacts | string {
    const key = createHash('sha256').update(der).digest('hex');
    const hit = this.map.get(key);
    if (hit !== undefined) {
      this.hits++;
      return hit;
    }
    const facts = describeCertificate(der);
    if (this.map.size >= this.maxEntries) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
      this.evictions++;
    }
    this.map.set(key, facts);
    return facts;
  }
}
