// Certificates made with openssl 3.0 (test/protocols/tls/fixtures/*.pem); expected values are
// those `openssl x509 -noout -text -fingerprint -sha256` prints for them.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CertificateCache, decodeOid, describeCertificate, walkCertificate } from '../../../src/protocols/tls';
import { decodeTime, readTlv } from '../../../src/protocols/tls/x509';

const der = (name: string): Buffer => new X509Certificate(readFileSync(join(__dirname, 'fixtures', name))).raw;

describe('describeCertificate', () => {
  it('Ed25519, self-signed CA, GeneralizedTime notAfter (RFC 5280 4.1.2.5.2), SAN kinds', () => {
    const f = describeCertificate(der('ed25519-selfsigned.pem'));
    if (typeof f === 'string') throw new Error(f);
    expect(f).toMatchObject({
      subject: 'C=DE, O=iotwatch, CN=gateway-7',
      issuer: 'C=DE, O=iotwatch, CN=gateway-7',
      subjectCn: 'gateway-7',
      serial: '091c2a20b008cfe5fa1951ab9439a1a9ba7d8698',
      sans: ['DNS:gw7.local', 'IP Address:192.0.2.7', 'URI:urn:dev:gw7'],
      notBeforeIso: '2026-11-24T21:34:29.000Z',
      notAfterIso: '2126-10-31T21:34:29.000Z',
      keyType: 'ed25519',
      keySize: 256,
      signatureAlgorithm: 'ED25519',
      signatureAlgorithmOid: '1.3.101.112',
      selfSigned: true,
      isCa: true,
      sha256: '003f15f46b4ffec76d33cea5146cf7ea82429cc3436eabb2e736eaf8a023b8db',
    });
    expect(f.notBefore).toBe(Date.UTC(2026, 10, 24, 21, 34, 29) * 1000);
  });

  it('RSA 1024 with SHA-1, self-signed', () => {
    const f = describeCertificate(der('rsa1024-sha1.pem'));
    if (typeof f === 'string') throw new Error(f);
    expect(f).toMatchObject({
      subject: 'CN=legacy.local', keyType: 'rsa', keySize: 1024, signatureAlgorithm: 'sha1WithRSAEncryption',
      signatureAlgorithmOid: '1.2.840.113549.1.1.5', selfSigned: true, sans: [],
      sha256: 'a7aeaa0ac3cce55318792a272681e3f7c0406d3697057c8aba1b31d4f404f6d3',
    });
  });

  it('EC P-384 leaf issued by another certificate: not self-signed, curve and size', () => {
    const f = describeCertificate(der('ec384-issued.pem'));
    if (typeof f === 'string') throw new Error(f);
    expect(f).toMatchObject({
      subject: 'CN=leaf.local', issuer: 'CN=legacy.local', serial: 'ff01', keyType: 'ec', keySize: 384,
      curve: 'secp384r1', signatureAlgorithm: 'sha256WithRSAEncryption', selfSigned: false, isCa: false,
      notBeforeIso: '2026-11-24T21:34:29.000Z', notAfterIso: '2026-11-27T21:34:29.000Z',
    });
  });

  it('a certificate whose issuer equals its subject but whose signature does not verify is not self-signed', () => {
    const d = Buffer.from(der('rsa1024-sha1.pem'));
    d[d.length - 5] ^= 0xff; // inside signatureValue
    const f = describeCertificate(d);
    if (typeof f === 'string') throw new Error(f);
    expect(f.selfSigned).toBe(false);
  });

  it('garbage and truncated DER are error values', () => {
    expect(describeCertificate(Buffer.from('not a certificate'))).toBeTypeOf('string');
    const d = der('ec384-issued.pem');
    for (const n of [0, 1, 4, 50, d.length - 1]) expect(describeCertificate(d.subarray(0, n))).toBeTypeOf('string');
  });

  it('the cache returns the same facts and stays within its bound', () => {
    const c = new CertificateCache(1);
    const a = c.describe(der('ed25519-selfsigned.pem'));
    expect(c.describe(der('ed25519-selfsigned.pem'))).toBe(a);
    expect(c.hits).toBe(1);
    c.describe(der('rsa1024-sha1.pem'));
    expect(c.evictions).toBe(1);
  });
});

describe('DER walker (X.690)', () => {
  it('decodes OIDs, including multi-byte arcs and the 2.x first arc', () => {
    const oid = (h: string) => { const b = Buffer.from(h, 'hex'); return decodeOid(b, 0, b.length); };
    expect(oid('2a864886f70d01010b')).toBe('1.2.840.113549.1.1.11');
    expect(oid('2a8648ce3d040302')).toBe('1.2.840.10045.4.3.2');
    expect(oid('2b6570')).toBe('1.3.101.112');
    expect(oid('883703')).toBe('2.999.3');
  });

  it('reads long-form lengths and refuses TLVs that do not fit', () => {
    const b = Buffer.concat([Buffer.from([0x04, 0x81, 0x80]), Buffer.alloc(0x80)]);
    expect(readTlv(b, 0, b.length)).toEqual({ tag: 4, start: 3, end: 0x83 });
    expect(readTlv(b, 0, b.length - 1)).toBeNull();
    expect(readTlv(Buffer.from([0x30, 0x80]), 0, 2)).toBeNull(); // indefinite length is not DER
    expect(readTlv(Buffer.from([0x1f, 0x01, 0x00]), 0, 3)).toBeNull();
  });

  it('times: UTCTime pivots at 50 (RFC 5280 4.1.2.5.1), GeneralizedTime, garbage is NaN', () => {
    expect(decodeTime(0x17, '491231235959Z')).toBe(Date.UTC(2049, 11, 31, 23, 59, 59) * 1000);
    expect(decodeTime(0x17, '500101000000Z')).toBe(Date.UTC(1950, 0, 1) * 1000);
    expect(decodeTime(0x18, '20500101000000Z')).toBe(Date.UTC(2050, 0, 1) * 1000);
    expect(decodeTime(0x17, '5001010000Z')).toBeNaN();
    expect(decodeTime(0x04, '500101000000Z')).toBeNaN();
  });

  it('walkCertificate finds the outer signatureAlgorithm and validity', () => {
    const w = walkCertificate(der('ec384-issued.pem'));
    expect(w).toMatchObject({ signatureAlgorithmOid: '1.2.840.113549.1.1.11' });
    expect(walkCertificate(Buffer.from([0x30, 0x00]))).toBe('no tbsCertificate');
  });
});
