import { describe, expect, it } from 'vitest';
import {
  computeJa4, isGrease, parseAlert, parseCertificateList, parseClientHello, parseHelloVerifyRequest,
  parseServerHello, printable, versionName,
} from '../../../src/protocols/tls';
import {
  alpnExt, clientHelloBody, ext, groupsExt, hex, serverHelloBody, sigAlgsExt, sniExt, u16, u24, vec16, vec24,
  vec8, versionsExt,
} from './build';

describe('JA4 (FoxIO JA4 technical details)', () => {
  // The spec's worked example: ciphers and extensions in wire order.
  const ciphers = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
  const exts = [0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015];
  const sigs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];

  it('reproduces the spec example t13d1516h2_8daaf6152771_e5627efa2ab1', () => {
    const j = computeJa4('t', 0x0304, ciphers, exts, true, 'h2', sigs);
    expect(j.ja4).toBe('t13d1516h2_8daaf6152771_e5627efa2ab1');
    expect(j.ja4r).toBe('t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601');
  });

  it('hashes the extension list alone when there are no signature algorithms (spec: 6d807ffa2a79)', () => {
    expect(computeJa4('t', 0x0304, ciphers, exts, true, 'h2', []).ja4.split('_')[2]).toBe('6d807ffa2a79');
  });

  it('ignores GREASE in ciphers, extensions and signature algorithms (RFC 8701)', () => {
    const g = computeJa4('t', 0x0304, [0x0a0a, ...ciphers], [0x1a1a, ...exts, 0xfafa], true, 'h2', [0x2a2a, ...sigs]);
    expect(g.ja4).toBe('t13d1516h2_8daaf6152771_e5627efa2ab1');
  });

  it('a section: no SNI is i, no ALPN is 00, http/1.1 is h1, counts cap at 99, DTLS versions', () => {
    expect(computeJa4('t', 0x0303, [0x002f], [0x000d], false, null, []).ja4.slice(0, 10)).toBe('t12i010100');
    expect(computeJa4('t', 0x0303, [0x002f], [], false, 'http/1.1', []).ja4.slice(0, 10)).toBe('t12i0100h1');
    const many = Array.from({ length: 150 }, (_, i) => i + 1);
    expect(computeJa4('t', 0x0303, many, many, false, null, []).ja4.slice(0, 10)).toBe('t12i999900');
    expect(computeJa4('d', 0xfefd, [0xc0a8], [], false, null, []).ja4.slice(0, 4)).toBe('dd2i');
    expect(computeJa4('d', 0xfeff, [0xc0a8], [], false, null, []).ja4.slice(0, 4)).toBe('dd1i');
    expect(computeJa4('t', 0x7777, [0xc0a8], [], false, null, []).ja4.slice(0, 3)).toBe('t00');
  });

  it('non-alphanumeric ALPN edges print the first and last hex digits', () => {
    expect(computeJa4('t', 0x0304, [1], [], false, '\u00abx\u00cd', []).ja4.slice(8, 10)).toBe('ad');
    expect(computeJa4('t', 0x0304, [1], [], false, 'm', []).ja4.slice(8, 10)).toBe('mm');
  });

  it('empty cipher and extension lists hash to zeros', () => {
    expect(computeJa4('t', 0x0303, [], [], false, null, []).ja4).toBe('t12i000000_000000000000_000000000000');
  });
});

describe('ClientHello (RFC 8446 4.1.2, RFC 5246 7.4.1.2)', () => {
  const body = clientHelloBody({
    suites: [0x0a0a, 0x1301, 0xc02b, 0x00ff],
    sessionId: Buffer.alloc(32, 7),
    extensions: [
      ext(0x2a2a, Buffer.alloc(0)), sniExt('broker.example'), alpnExt(['mqtt', 'x-other']), sigAlgsExt([0x0403, 0x0804]),
      groupsExt([0x001d, 0x0017]), versionsExt([0x3a3a, 0x0304, 0x0303]),
      // RFC 8446 4.2.11 pre_shared_key: two identities, then binders
      ext(41, Buffer.concat([vec16(Buffer.concat([vec16(Buffer.from('id1')), Buffer.alloc(4), vec16(Buffer.from('id2')), Buffer.alloc(4)])), vec16(vec8(Buffer.alloc(32)))])),
    ],
  });

  it('reads versions, suites, extensions, SNI, ALPN, signature algorithms, groups, PSK identities', () => {
    const c = parseClientHello(body, 0, body.length, false);
    if (typeof c === 'string') throw new Error(c);
    expect(c.legacyVersion).toBe(0x0303);
    expect(c.supportedVersions).toEqual([0x3a3a, 0x0304, 0x0303]);
    expect(c.maxVersion).toBe(0x0304);
    expect(c.version).toBe('TLS 1.3');
    expect(c.cipherSuites).toEqual([0x0a0a, 0x1301, 0xc02b, 0x00ff]);
    expect(c.extensions).toEqual([0x2a2a, 0, 16, 13, 10, 43, 41]);
    expect(c.sni).toBe('broker.example');
    expect(c.alpn).toEqual(['mqtt', 'x-other']);
    expect(c.signatureAlgorithms).toEqual([0x0403, 0x0804]);
    expect(c.supportedGroups).toEqual([0x001d, 0x0017]);
    expect(c.sessionIdLength).toBe(32);
    expect(c.pskIdentities).toBe(2);
    expect(c.ja4.slice(0, 10)).toBe('t13d0306mt');
  });

  it('accepts a hello without an extensions block (RFC 5246 7.4.1.2) and uses legacy_version', () => {
    const b = clientHelloBody({ version: 0x0301, extensions: null });
    const c = parseClientHello(b, 0, b.length, false);
    if (typeof c === 'string') throw new Error(c);
    expect(c.extensions).toEqual([]);
    expect(c.version).toBe('TLS 1.0');
    expect(c.sni).toBeNull();
  });

  it('reads the DTLS cookie (RFC 6347 4.2.1)', () => {
    const b = clientHelloBody({ cookie: Buffer.from('c00k1e'), extensions: [] }, true);
    const c = parseClientHello(b, 0, b.length, true);
    if (typeof c === 'string') throw new Error(c);
    expect(c.cookie.toString()).toBe('c00k1e');
    expect(c.ja4.startsWith('dd2i')).toBe(true);
  });

  it('every truncation is an error value, never an exception (except the cut before the optional extensions)', () => {
    const withoutExtensions = clientHelloBody({ suites: [0x0a0a, 0x1301, 0xc02b, 0x00ff], sessionId: Buffer.alloc(32, 7), extensions: null }).length;
    for (let n = 0; n < body.length; n++) {
      expect(typeof parseClientHello(body, 0, n, false)).toBe(n === withoutExtensions ? 'object' : 'string');
    }
  });

  it('rejects an odd-length cipher list, a 33-byte session id and bytes after the extensions', () => {
    const odd = Buffer.concat([u16(0x0303), Buffer.alloc(32), vec8(Buffer.alloc(0)), vec16(Buffer.from([1, 2, 3])), vec8(Buffer.from([0]))]);
    expect(parseClientHello(odd, 0, odd.length, false)).toMatch(/odd length/);
    const sid = clientHelloBody({ sessionId: Buffer.alloc(33) });
    expect(parseClientHello(sid, 0, sid.length, false)).toMatch(/session_id/);
    const extra = Buffer.concat([clientHelloBody(), Buffer.from([0])]);
    expect(parseClientHello(extra, 0, extra.length, false)).toMatch(/after the extensions/);
  });
});

describe('ServerHello (RFC 8446 4.1.3)', () => {
  it('TLS 1.3: selected_version from supported_versions', () => {
    const b = serverHelloBody({ suite: 0x1302, extensions: [ext(43, u16(0x0304)), ext(51, Buffer.alloc(36))] });
    const s = parseServerHello(b, 0, b.length);
    if (typeof s === 'string') throw new Error(s);
    expect(s).toMatchObject({ legacyVersion: 0x0303, selectedVersion: 0x0304, version: 'TLS 1.3', cipherSuite: 0x1302, extensions: [43, 51], helloRetryRequest: false });
  });

  it('TLS 1.2 with ALPN; HelloRetryRequest recognised by its random', () => {
    const b = serverHelloBody({ extensions: [alpnExt(['mqtt'])] });
    expect(parseServerHello(b, 0, b.length)).toMatchObject({ selectedVersion: 0x0303, alpn: 'mqtt' });
    const hrr = serverHelloBody({ random: hex('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c'), extensions: [ext(43, u16(0x0304))] });
    expect(parseServerHello(hrr, 0, hrr.length)).toMatchObject({ helloRetryRequest: true });
  });

  it('truncations are error values', () => {
    const b = serverHelloBody({ extensions: [ext(43, u16(0x0304))] });
    const withoutExtensions = serverHelloBody().length;
    for (let n = 0; n < b.length; n++) expect(typeof parseServerHello(b, 0, n)).toBe(n === withoutExtensions ? 'object' : 'string');
  });
});

describe('alerts, certificates, HelloVerifyRequest, helpers', () => {
  it('parseAlert (RFC 5246 7.2)', () => {
    expect(parseAlert(hex('022d'), 0, 2)).toEqual({ level: 2, levelName: 'fatal', description: 45, descriptionName: 'certificate_expired' });
    expect(parseAlert(hex('0100'), 0, 2)).toMatchObject({ levelName: 'warning', descriptionName: 'close_notify' });
    expect(parseAlert(hex('09fe'), 0, 2)).toMatchObject({ levelName: 'unknown', descriptionName: 'unknown_254' });
    expect(parseAlert(hex('020a00'), 0, 3)).toMatch(/3 bytes/);
  });

  it('parseCertificateList (RFC 5246 7.4.2)', () => {
    const list = vec24(Buffer.concat([vec24(Buffer.from('AAAA')), vec24(Buffer.from('BB'))]));
    const r = parseCertificateList(list, 0, list.length);
    expect(Array.isArray(r) && r.map((b) => b.toString())).toEqual(['AAAA', 'BB']);
    expect(parseCertificateList(list, 0, list.length - 1)).toMatch(/runs past/);
    const empty = vec24(u24(0));
    expect(parseCertificateList(empty, 0, empty.length)).toBe('empty ASN.1Cert');
    expect(parseCertificateList(vec24(Buffer.alloc(0)), 0, 3)).toEqual([]);
  });

  it('parseHelloVerifyRequest (RFC 6347 4.2.1)', () => {
    const b = Buffer.concat([u16(0xfeff), vec8(Buffer.from('abc'))]);
    expect(parseHelloVerifyRequest(b, 0, b.length)).toEqual({ version: 0xfeff, cookie: Buffer.from('abc') });
    expect(parseHelloVerifyRequest(b, 0, 3)).toMatch(/runs past/);
  });

  it('isGrease, versionName, printable', () => {
    expect([0x0a0a, 0x1a1a, 0xfafa].every(isGrease)).toBe(true);
    expect([0x0a1a, 0x0303, 0x1301].some(isGrease)).toBe(false);
    expect(versionName(0x0303)).toBe('TLS 1.2');
    expect(versionName(0xfefd)).toBe('DTLS 1.2');
    expect(versionName(0x1234)).toBe('0x1234');
    expect(printable(Buffer.from([0x61, 0x00, 0x5c, 0xff]))).toBe('a\\x00\\x5c\\xff');
  });
});
