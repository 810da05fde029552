import { describe, expect, it } from 'vitest';
import {
  cipherSuiteName, looksLikeDtls, parsePskClientKeyExchange, parsePskServerKeyExchange, pskKeyExchange,
  readDtlsRecord, readHandshakeFragment,
} from '../../../src/protocols/dtls';
import { clientHelloBody, dtlsHs, dtlsRecord, hex, u16, vec16, vec8 } from '../tls/build';

describe('DTLS records (RFC 6347 4.1)', () => {
  it('reads type, version, epoch, 48-bit sequence and length; several records per datagram', () => {
    const d = Buffer.concat([dtlsRecord(22, Buffer.from('abc'), 0, 0x0102030405), dtlsRecord(23, Buffer.alloc(4), 1, 7)]);
    const r1 = readDtlsRecord(d, 0, d.length);
    expect(r1).toEqual({ kind: 'plain', type: 22, version: 0xfefd, epoch: 0, sequence: 0x0102030405, bodyOff: 13, bodyLen: 3, next: 16 });
    expect(readDtlsRecord(d, 16, d.length)).toMatchObject({ kind: 'plain', type: 23, epoch: 1, sequence: 7, next: d.length });
  });

  it('errors: short header, unknown version or type, length past the datagram', () => {
    const r = dtlsRecord(22, Buffer.alloc(10));
    expect(readDtlsRecord(r, 0, 12)).toMatch(/too few/);
    expect(readDtlsRecord(dtlsRecord(22, Buffer.alloc(1), 0, 0, 0x0303), 0, 14)).toMatch(/version/);
    expect(readDtlsRecord(dtlsRecord(30, Buffer.alloc(1)), 0, 14)).toMatch(/content type/);
    expect(readDtlsRecord(r, 0, r.length - 1)).toMatch(/runs past/);
  });

  it('DTLS 1.3 unified header (RFC 9147 4): 001CSLEE, with and without length, with a connection id', () => {
    // S=1 (16-bit seq), L=1, epoch bits 3
    const withLen = Buffer.concat([Buffer.from([0x2f, 0x12, 0x34]), u16(4), Buffer.alloc(4, 9), Buffer.from([0x99])]);
    expect(readDtlsRecord(withLen, 0, withLen.length)).toEqual({ kind: 'unified', epochBits: 3, cid: false, bodyOff: 5, bodyLen: 4, next: 9 });
    const noLen = Buffer.from([0x22, 0x01, 0xaa, 0xbb]); // 8-bit seq, no length: to the end
    expect(readDtlsRecord(noLen, 0, noLen.length)).toMatchObject({ bodyOff: 2, bodyLen: 2, next: 4 });
    expect(readDtlsRecord(Buffer.from([0x3c, 1, 2, 3]), 0, 4)).toMatchObject({ kind: 'unified', cid: true, next: 4 });
    expect(readDtlsRecord(Buffer.from([0x2c, 1, 0]), 0, 3)).toMatch(/truncated/);
  });

  it('RFC 9146 tls12_cid records are recognised (their CID length is not on the wire)', () => {
    expect(readDtlsRecord(dtlsRecord(25, Buffer.alloc(8), 1, 3), 0, 21)).toMatchObject({ kind: 'cid', epoch: 1, sequence: 3, next: 21 });
  });
});

describe('handshake fragments (RFC 6347 4.2.2)', () => {
  it('reads the header; errors for a fragment past its record or its message', () => {
    const body = Buffer.alloc(100, 1);
    const f = dtlsHs(11, body, 4, 30, 20);
    expect(readHandshakeFragment(f, 0, f.length)).toEqual({ type: 11, length: 100, messageSeq: 4, fragmentOffset: 30, fragmentLength: 20, dataOff: 12 });
    expect(readHandshakeFragment(f, 0, f.length - 1)).toMatch(/past the record/);
    expect(readHandshakeFragment(f, 0, 11)).toMatch(/truncated/);
    const bad = Buffer.from(f);
    bad.writeUIntBE(90, 6, 3); // offset 90 + 20 > 100
    expect(readHandshakeFragment(bad, 0, bad.length)).toMatch(/past the message length/);
  });
});

describe('looksLikeDtls', () => {
  it('accepts DTLS records that fit the datagram, rejects CoAP and short or inconsistent input', () => {
    const ch = dtlsRecord(22, dtlsHs(1, clientHelloBody({}, true), 0), 0, 0, 0xfeff);
    expect(looksLikeDtls(ch, 0, ch.length)).toBe(true);
    expect(looksLikeDtls(dtlsRecord(23, Buffer.alloc(20), 1, 9), 0, 33)).toBe(true);
    expect(looksLikeDtls(dtlsRecord(25, Buffer.alloc(20), 1, 9), 0, 33)).toBe(true);
    expect(looksLikeDtls(hex('40010001b474657374'), 0, 9)).toBe(false); // CoAP CON GET /test
    expect(looksLikeDtls(ch, 0, 12)).toBe(false);
    expect(looksLikeDtls(ch, 0, ch.length - 1)).toBe(false);
    expect(looksLikeDtls(dtlsRecord(22, Buffer.alloc(3)), 0, 16)).toBe(false);
    expect(looksLikeDtls(dtlsRecord(22, Buffer.alloc(3), 0, 0, 0x0303), 0, 16)).toBe(false);
  });
});

describe('PSK key exchange (RFC 4279, RFC 5489)', () => {
  it('classifies suites by key exchange and names them', () => {
    expect(pskKeyExchange(0xc0a8)).toBe('psk');
    expect(pskKeyExchange(0x00b2)).toBe('dhe_psk');
    expect(pskKeyExchange(0x00b6)).toBe('rsa_psk');
    expect(pskKeyExchange(0xccac)).toBe('ecdhe_psk');
    expect(pskKeyExchange(0xc035)).toBe('ecdhe_psk');
    expect(pskKeyExchange(0xc0ae)).toBeNull();
    expect(cipherSuiteName(0xc0a8)).toBe('TLS_PSK_WITH_AES_128_CCM_8');
    expect(cipherSuiteName(0xccac)).toBe('TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256');
    expect(cipherSuiteName(0xc0ae)).toBe('TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8');
    expect(cipherSuiteName(0x9999)).toBeNull();
  });

  it('ClientKeyExchange: identity first, then what the key exchange requires', () => {
    const id = Buffer.from('device-01');
    const psk = vec16(id);
    const ecdhe = Buffer.concat([vec16(id), vec8(Buffer.alloc(32, 4))]);
    const dhe = Buffer.concat([vec16(id), vec16(Buffer.alloc(128, 5))]);
    const rsa = Buffer.concat([vec16(id), vec16(Buffer.alloc(256, 6))]);
    expect(parsePskClientKeyExchange(psk, 0, psk.length, 'psk')).toEqual(id);
    expect(parsePskClientKeyExchange(ecdhe, 0, ecdhe.length, 'ecdhe_psk')).toEqual(id);
    expect(parsePskClientKeyExchange(dhe, 0, dhe.length, 'dhe_psk')).toEqual(id);
    expect(parsePskClientKeyExchange(rsa, 0, rsa.length, 'rsa_psk')).toEqual(id);
    // parsed as the wrong family, the layout does not fit
    expect(parsePskClientKeyExchange(ecdhe, 0, ecdhe.length, 'psk')).toMatch(/bytes after/);
    expect(parsePskClientKeyExchange(psk, 0, psk.length, 'ecdhe_psk')).toMatch(/runs past/);
    expect(parsePskClientKeyExchange(Buffer.concat([vec16(id), vec8(Buffer.alloc(0))]), 0, 12, 'ecdhe_psk')).toBe('empty ecdh_Yc');
    for (let n = 0; n < ecdhe.length; n++) expect(parsePskClientKeyExchange(ecdhe, 0, n, 'ecdhe_psk')).toBeTypeOf('string');
  });

  it('ServerKeyExchange: the identity hint', () => {
    const b = Buffer.concat([vec16(Buffer.from('CoAP')), Buffer.from([3, 0, 29])]);
    expect(parsePskServerKeyExchange(b, 0, b.length)).toEqual(Buffer.from('CoAP'));
    expect(parsePskServerKeyExchange(b, 0, 3)).toMatch(/runs past/);
  });
});
