import { describe, expect, it } from 'vitest';
import {
  COAP_OPTIONS, STRICT_MAX_LENGTH, coapCodeString, coapOptionName, looksLikeCoap, parseCoap, parseCoapTcp,
  type CoapDecoded, type CoapDecodeResult,
} from '../../../src/protocols/coap';
import { hex } from './helpers/encode';

const GET = '40 01 00 01'; // RFC 7252 3: ver 1, CON, TKL 0, 0.01 GET, message ID 1

function ok(r: CoapDecodeResult): CoapDecoded {
  if (!r.ok) throw new Error(`expected a message, got ${r.anomaly}: ${r.detail}`);
  return r;
}

function decode(h: string): CoapDecoded {
  return ok(parseCoap(hex(h)));
}

describe('header (RFC 7252 section 3)', () => {
  it('decodes a CON GET without token or options', () => {
    const m = decode('40 01 12 34');
    expect(m).toMatchObject({
      version: 1, msgType: 'CON', code: '0.01', kind: 'request', method: 'GET', messageId: 0x1234,
      token: '', options: [], uriPath: '/', payloadLength: 0, length: 4,
    });
  });

  it.each([
    ['50 02 00 01', 'NON', '0.02', 'request', 'POST'],
    ['60 45 00 01', 'ACK', '2.05', 'response', undefined],
    ['70 00 00 01', 'RST', '0.00', 'empty', undefined],
    ['60 00 00 01', 'ACK', '0.00', 'empty', undefined],
  ])('%s -> %s %s %s', (h, msgType, code, kind, method) => {
    expect(decode(h)).toMatchObject({ msgType, code, kind, method });
  });

  it('reads the token as lower-case hex, 0 to 8 bytes', () => {
    expect(decode('52 45 ab cd 01 0a')).toMatchObject({ msgType: 'NON', messageId: 0xabcd, token: '010a', kind: 'response' });
    expect(decode('48 01 00 01 01 02 03 04 05 06 07 08').token).toBe('0102030405060708');
  });

  it('gives equal token keys exactly to equal tokens (leading zero bytes and length count)', () => {
    const tokens = ['', '00', '0000', '01', '0001', '000001', 'ff', 'ffff', 'ffffffffffff', '00ffffffffff',
      'ffffffffffffff', '00ffffffffffff', '0102030405060708', '0002030405060708'];
    const keys = tokens.map((t) => decode(`${(0x40 | (t.length / 2)).toString(16)} 01 00 01 ${t}`).tokenKey);
    expect(new Set(keys).size).toBe(tokens.length);
    for (const [i, t] of tokens.entries()) {
      expect(decode(`${(0x40 | (t.length / 2)).toString(16)} 45 00 09 ${t}`).tokenKey).toBe(keys[i]);
      if (t.length <= 6) expect(typeof keys[i]).toBe('number'); // up to 3 bytes: a Smi
    }
  });

  it.each([
    [0x01, 'GET'], [0x02, 'POST'], [0x03, 'PUT'], [0x04, 'DELETE'],
    [0x05, 'FETCH'], [0x06, 'PATCH'], [0x07, 'iPATCH'], // RFC 8132
  ])('method code 0.%s is %s', (code, method) => {
    const m = ok(parseCoap(Buffer.from([0x40, code, 0, 1])));
    expect(m).toMatchObject({ kind: 'request', method, code: `0.0${code}` });
  });

  it.each([
    [0x08, '0.08', 'request'], [0x1f, '0.31', 'request'],
    [0x20, '1.00', 'reserved'], [0x41, '2.01', 'response'], [0x5f, '2.31', 'response'],
    [0x60, '3.00', 'response'], [0x84, '4.04', 'response'], [0xa3, '5.03', 'response'],
    [0xc0, '6.00', 'reserved'], [0xe1, '7.01', 'reserved'], [0xff, '7.31', 'reserved'],
  ])('code byte %i is "%s", kind %s over UDP (7.xx signals exist only in RFC 8323 framing)', (code, str, kind) => {
    const m = ok(parseCoap(Buffer.from([0x40, code, 0, 1])));
    expect(m.code).toBe(str);
    expect(m.kind).toBe(kind);
    expect(coapCodeString(code)).toBe(str);
    if (kind === 'request') expect(m.method).toBeUndefined();
  });

  it('counts the payload after the 0xFF marker', () => {
    expect(decode('40 02 00 01 ff 68 69')).toMatchObject({ payloadLength: 2, length: 7 });
    expect(decode('40 02 00 01 b1 61 ff 00')).toMatchObject({ payloadLength: 1, uriPath: '/a' });
  });

  it('decodes at an offset inside a larger buffer', () => {
    const buf = hex('99 99 60 45 00 07 b1 61 99');
    const m = ok(parseCoap(buf, 2, 6));
    expect(m).toMatchObject({ messageId: 7, uriPath: '/a', length: 6 });
  });
});

describe('malformed and reserved cases', () => {
  it.each([
    ['empty datagram', '', 'coap.malformed'],
    ['1 byte', '40', 'coap.malformed'],
    ['3 bytes (RFC 7252 3: 4-byte header)', '40 01 00', 'coap.malformed'],
    ['version 0', '00 01 00 01', 'coap.bad_version'],
    ['version 2', '80 01 00 01', 'coap.bad_version'],
    ['version 3', 'c0 01 00 01', 'coap.bad_version'],
    ['TKL 9 reserved (RFC 7252 3)', '49 01 00 01 01 02 03 04 05 06 07 08 09', 'coap.malformed'],
    ['TKL 13 reserved (RFC 7252 3; RFC 8974 extended tokens not decoded)', '4d 01 00 01 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d', 'coap.malformed'],
    ['TKL 15 reserved', '4f 01 00 01', 'coap.malformed'],
    ['token past the end', '42 01 00 01 aa', 'coap.malformed'],
    ['Empty message with a token (RFC 7252 4.1)', '61 00 00 01 aa', 'coap.malformed'],
    ['Empty message with bytes after the message ID (RFC 7252 4.1)', '60 00 00 01 ff 00', 'coap.malformed'],
    ['payload marker and zero-length payload (RFC 7252 3)', `${GET} ff`, 'coap.malformed'],
    ['payload marker after an option, nothing after it', `${GET} b1 61 ff`, 'coap.malformed'],
    ['delta nibble 15 without length 15 (RFC 7252 3.1)', `${GET} f1 00`, 'coap.bad_option'],
    ['length nibble 15 (RFC 7252 3.1)', `${GET} 1f`, 'coap.bad_option'],
    ['delta 13 without its extension byte', `${GET} d0`, 'coap.bad_option'],
    ['delta 14 with one of its two extension bytes', `${GET} e0 00`, 'coap.bad_option'],
    ['length 13 without its extension byte', `${GET} 1d`, 'coap.bad_option'],
    ['length 14 without its extension bytes', `${GET} b1 61 0e 01`, 'coap.bad_option'],
    ['value past the end', `${GET} b5 61 62`, 'coap.bad_option'],
    ['value past the end by one byte', `${GET} b2 61`, 'coap.bad_option'],
    ['option number above 65535 (delta 14: 65535 + 269)', `${GET} e0 ff ff`, 'coap.bad_option'],
    ['option number above 65535 after several deltas', `${GET} e0 ff 00 e0 01 00`, 'coap.bad_option'],
  ])('%s -> %s', (_name, h, anomaly) => {
    const r = parseCoap(hex(h));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.anomaly).toBe(anomaly);
      expect(r.detail.length).toBeGreaterThan(0);
    }
  });

  it('the largest option number, 65535, is accepted', () => {
    // delta 14: 65266 + 269 = 65535
    expect(decode(`${GET} e0 fe f2`).options).toEqual([{ number: 65535, name: 'Unknown', value: '' }]);
  });

  it('0xFF as the very first option byte is the marker, not a reserved option', () => {
    expect(decode(`${GET} ff 00`).payloadLength).toBe(1);
  });
});

// One option after a CON GET header; the hex is the option alone. Extended forms (RFC 7252 3.1):
// delta or length 13 = one extra byte (+13), 14 = two extra bytes (+269).
const OPTION_TABLE: [string, string, number, string, string | number][] = [
  ['If-Match, opaque', '12 ab cd', 1, 'If-Match', 'abcd'],
  ['Uri-Host, string', '36 65 78 2e 6f 72 67', 3, 'Uri-Host', 'ex.org'],
  ['ETag, opaque', '41 7f', 4, 'ETag', '7f'],
  ['If-None-Match, empty', '50', 5, 'If-None-Match', ''],
  ['Observe 0 as a zero-length uint', '60', 6, 'Observe', 0],
  ['Observe, 3-byte uint', '63 01 02 03', 6, 'Observe', 0x010203],
  ['Uri-Port, uint', '72 16 33', 7, 'Uri-Port', 5683],
  ['Location-Path, string', '81 61', 8, 'Location-Path', 'a'],
  ['OSCORE, opaque', '92 09 14', 9, 'OSCORE', '0914'],
  ['Uri-Path, string', 'b4 74 65 6d 70', 11, 'Uri-Path', 'temp'],
  ['Content-Format, uint', 'c1 32', 12, 'Content-Format', 50],
  ['Content-Format 0 with a leading-zero byte', 'c1 00', 12, 'Content-Format', 0],
  ['Max-Age, delta 13 form (13 + 1)', 'd1 01 3c', 14, 'Max-Age', 60],
  ['Uri-Query, delta 13 form', 'd3 02 61 3d 31', 15, 'Uri-Query', 'a=1'],
  ['Hop-Limit (RFC 8768)', 'd1 03 10', 16, 'Hop-Limit', 16],
  ['Accept', 'd1 04 3c', 17, 'Accept', 60],
  ['Q-Block1 (RFC 9177)', 'd1 06 0a', 19, 'Q-Block1', 10],
  ['Location-Query', 'd1 07 71', 20, 'Location-Query', 'q'],
  ['EDHOC, empty (RFC 9668)', 'd0 08', 21, 'EDHOC', ''],
  ['Block2 (RFC 7959)', 'd1 0a 0a', 23, 'Block2', 10],
  ['Block1', 'd1 0e 15', 27, 'Block1', 0x15],
  ['Size2', 'd2 0f 04 00', 28, 'Size2', 1024],
  ['Q-Block2', 'd1 12 0a', 31, 'Q-Block2', 10],
  ['Proxy-Uri', 'd8 16 63 6f 61 70 3a 2f 2f 78', 35, 'Proxy-Uri', 'coap://x'],
  ['Proxy-Scheme', 'd4 1a 63 6f 61 70', 39, 'Proxy-Scheme', 'coap'],
  ['Size1', 'd2 2f 01 2c', 60, 'Size1', 300],
  ['Echo (RFC 9175), delta 13 + 239', 'd3 ef a1 b2 c3', 252, 'Echo', 'a1b2c3'],
  ['No-Response 258 (RFC 7967), delta 13 + 245', 'd1 f5 1a', 258, 'No-Response', 26],
  ['Request-Tag 292 (RFC 9175), delta 14 form (269 + 23)', 'e2 00 17 aa bb', 292, 'Request-Tag', 'aabb'],
  ['first number needing an extension byte, 13', 'd0 00', 13, 'Unknown', ''],
  ['largest one-byte extension, 268', 'd1 ff 07', 268, 'Unknown', '07'],
  ['smallest two-byte extension, 269', 'e1 00 00 07', 269, 'Unknown', '07'],
  ['unregistered number, opaque', 'e1 fc db 01', 65000, 'Unknown', '01'],
];

describe('options (RFC 7252 3.1, IANA CoAP Option Numbers)', () => {
  it.each(OPTION_TABLE)('%s', (_name, h, number, name, value) => {
    const m = decode(`${GET} ${h}`);
    expect(m.options).toEqual([{ number, name, value }]);
    expect(m.length).toBe(4 + hex(h).length);
  });

  it('every registered option has a fixture above', () => {
    const covered = new Set(OPTION_TABLE.map((r) => r[2]));
    for (const n of Object.keys(COAP_OPTIONS)) expect(covered.has(Number(n))).toBe(true);
    expect(coapOptionName(258)).toBe('No-Response');
    expect(coapOptionName(292)).toBe('Request-Tag');
    expect(coapOptionName(70000)).toBe('Unknown');
  });

  it('extended length 13: a 20-byte Uri-Path (13 + 7)', () => {
    const seg = 'abcdefghijklmnopqrst';
    const m = decode(`${GET} bd 07 ${Buffer.from(seg).toString('hex')}`);
    expect(m.options).toEqual([{ number: 11, name: 'Uri-Path', value: seg }]);
    expect(m.uriPath).toBe(`/${seg}`);
  });

  it('extended length 13 at its smallest: a 13-byte value (13 + 0)', () => {
    const seg = 'abcdefghijklm';
    expect(decode(`${GET} bd 00 ${Buffer.from(seg).toString('hex')}`).uriPath).toBe(`/${seg}`);
  });

  it('extended delta 13 and length 14 together: a 300-byte Proxy-Uri (delta 13 + 22, length 269 + 31)', () => {
    const uri = 'coap://h/' + 'x'.repeat(291);
    const m = decode(`${GET} de 16 00 1f ${Buffer.from(uri).toString('hex')}`);
    expect(m.options).toEqual([{ number: 35, name: 'Proxy-Uri', value: uri }]);
    expect(m.length).toBe(4 + 4 + 300);
  });

  it('accumulates deltas, joins Uri-Path with "/" and Uri-Query with "&"', () => {
    // Uri-Host "h", Uri-Path "a", Uri-Path "b", Content-Format 0 (empty), Uri-Query "c=1", Uri-Query "d"
    const m = decode(`${GET} 31 68 81 61 01 62 10 33 63 3d 31 01 64`);
    expect(m.options.map((o) => o.number)).toEqual([3, 11, 11, 12, 15, 15]);
    expect(m).toMatchObject({ uriHost: 'h', uriPath: '/a/b', uriQuery: 'c=1&d', contentFormat: 0 });
  });

  it('decodes Uri-Path as UTF-8', () => {
    expect(decode(`${GET} b3 e2 82 ac`).uriPath).toBe('/\u20ac');
  });

  it('a uint longer than 6 bytes is kept as hex, not rounded', () => {
    const m = decode(`${GET} d7 01 01 02 03 04 05 06 07`); // Max-Age with 7 bytes
    expect(m.options[0]).toEqual({ number: 14, name: 'Max-Age', value: '01020304050607' });
  });

  it('a non-empty value for an empty-format option is shown as hex', () => {
    expect(decode(`${GET} 51 01`).options[0]).toEqual({ number: 5, name: 'If-None-Match', value: '01' });
  });

  it('sets convenience fields from the options', () => {
    const m = decode(`${GET} 60 d1 04 0a 51 0a d2 13 01 2c`); // Observe 0, Block2 (delta 17), Size2 10, Size1 300
    expect(m).toMatchObject({ observe: 0, block2: { num: 0, more: true, size: 64 }, size2: 10, size1: 300 });
  });

  it('uriPath is "/" only for requests; responses without Uri-Path leave it unset', () => {
    expect(decode('40 01 00 01').uriPath).toBe('/');
    expect(decode('60 45 00 01').uriPath).toBeUndefined();
    expect(decode('60 45 00 01 b1 61').uriPath).toBe('/a');
  });

  it('keeps the first occurrence of a repeated non-repeatable option in the convenience field', () => {
    const m = decode(`${GET} c1 32 01 00`); // Content-Format 50 then 0
    expect(m.contentFormat).toBe(50);
    expect(m.options).toHaveLength(2);
  });
});

describe('Block1/Block2 values (RFC 7959 section 2.2)', () => {
  it.each([
    ['empty value: block 0, no more, 16 bytes', 'd0 0a', 'block2', { num: 0, more: false, size: 16 }],
    ['0x0a: block 0, more, 64 bytes', 'd1 0a 0a', 'block2', { num: 0, more: true, size: 64 }],
    ['0x0e: SZX 6, 1024 bytes', 'd1 0a 0e', 'block2', { num: 0, more: true, size: 1024 }],
    ['two bytes: block 300', 'd2 0a 12 c1', 'block2', { num: 300, more: false, size: 32 }],
    ['three bytes: largest block number', 'd3 0a ff ff f6', 'block2', { num: 0xfffff, more: false, size: 1024 }],
    ['Block1 0x15: block 1, no more, 512 bytes', 'd1 0e 15', 'block1', { num: 1, more: false, size: 512 }],
    ['SZX 7 is reserved over UDP: size 0', 'd1 0e 0f', 'block1', { num: 0, more: true, size: 0 }],
  ])('%s', (_name, h, field, block) => {
    expect(decode(`${GET} ${h}`)[field as 'block1' | 'block2']).toEqual(block);
  });

  it('Block1 and Block2 in one message', () => {
    const m = decode(`${GET} d1 0a 02 41 19`); // Block2 0x02, Block1 (delta 4) 0x19
    expect(m.block2).toEqual({ num: 0, more: false, size: 64 });
    expect(m.block1).toEqual({ num: 1, more: true, size: 32 });
  });
});

describe('OSCORE option value (RFC 8613 section 6.1)', () => {
  const withOscore = (value: string): CoapDecodeResult => {
    const v = hex(value);
    return parseCoap(Buffer.concat([hex(GET), Buffer.from([0x90 | v.length]), v, hex('ff 00')]));
  };

  it.each([
    ['empty value: all flags zero', '', {}],
    ['n=1, k=1: partial IV, empty kid', '09 14', { partialIv: '14', kid: '' }],
    ['n=1, k=1, kid 2 bytes', '09 05 aa bb', { partialIv: '05', kid: 'aabb' }],
    ['n=1, h=1, k=1: partial IV, kid context, kid', '19 14 02 aa bb 01', { partialIv: '14', kidContext: 'aabb', kid: '01' }],
    ['n=5: longest partial IV', '0d 01 02 03 04 05 ee', { partialIv: '0102030405', kid: 'ee' }],
    ['h=1 with a zero-length kid context', '10 00', { kidContext: '' }],
    ['n=1 only (a response)', '01 05', { partialIv: '05' }],
    ['k=1 only', '08 01', { kid: '01' }],
  ])('%s', (_name, value, oscore) => {
    const m = ok(withOscore(value));
    expect(m.oscore).toEqual(oscore);
    expect(m.options[0]).toEqual({ number: 9, name: 'OSCORE', value: value.replace(/ /g, '') });
  });

  it.each([
    ['n=6 is reserved', '06 01 02 03 04 05 06'],
    ['n=7 is reserved', '07'],
    ['reserved bit 5 set', '20'],
    ['reserved bit 7 set', '80'],
    ['partial IV past the end of the value', '03 01 02'],
    ['h=1 without the kid context length byte', '10'],
    ['kid context past the end of the value', '10 05 aa'],
    ['bytes left over without k', '01 05 ff'],
  ])('%s -> coap.bad_oscore', (_name, value) => {
    const r = withOscore(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.anomaly).toBe('coap.bad_oscore');
  });
});

describe('RFC 8323 frames (CoAP over TCP)', () => {
  it('has no type or message ID: CON and 0 are reported; 7.xx is a signal', () => {
    // Len 0, TKL 0, code 7.01 CSM
    const csm = ok(parseCoapTcp(hex('00 e1'), 0, 2));
    expect(csm).toMatchObject({ msgType: 'CON', messageId: 0, code: '7.01', kind: 'signal', token: '', length: 2 });
  });

  it('names signal options by signal code (RFC 8323 section 5)', () => {
    // CSM: Max-Message-Size (2) = 1152, Block-Wise-Transfer (4) empty
    const csm = ok(parseCoapTcp(hex('40 e1 22 04 80 20'), 0, 6));
    expect(csm.options).toEqual([
      { number: 2, name: 'Max-Message-Size', value: 1152 },
      { number: 4, name: 'Block-Wise-Transfer', value: '' },
    ]);
    expect(csm.uriPath).toBeUndefined();
    const release = ok(parseCoapTcp(hex('50 e4 24 68 6f 73 74'), 0, 7)); // 7.04 Release, Alternative-Address
    expect(release.options).toEqual([{ number: 2, name: 'Alternative-Address', value: 'host' }]);
    const unknownSignal = ok(parseCoapTcp(hex('10 e9 20'), 0, 3));
    expect(unknownSignal.options).toEqual([{ number: 2, name: 'Unknown', value: '' }]);
  });

  it('decodes a request with token, options and payload', () => {
    // Len 8 (options 5 + marker 1 + payload 2), TKL 1, 0.02 POST, token 7f, Uri-Path "temp"
    const m = ok(parseCoapTcp(hex('81 02 7f b4 74 65 6d 70 ff 32 31'), 0, 11));
    expect(m).toMatchObject({ kind: 'request', method: 'POST', token: '7f', uriPath: '/temp', payloadLength: 2, length: 11 });
  });

  it('SZX 7 in a Block option means BERT, 1024-byte blocks (RFC 8323 section 6)', () => {
    expect(ok(parseCoapTcp(hex('30 01 d1 0a 0f'), 0, 5)).block2).toEqual({ num: 0, more: true, size: 1024 });
  });

  it('reports malformed bodies like UDP', () => {
    const r = parseCoapTcp(hex('10 01 ff'), 0, 3);
    expect(r.ok === false && r.anomaly).toBe('coap.malformed');
    const t = parseCoapTcp(hex('09 01'), 0, 2);
    expect(t.ok === false && t.anomaly).toBe('coap.malformed');
  });
});

describe('looksLikeCoap (content check for the classifier)', () => {
  const check = (h: string, strict: boolean): boolean => {
    const b = hex(h);
    return looksLikeCoap(b, 0, b.length, strict);
  };

  it.each([
    ['CON GET /temp', '40 01 00 01 b4 74 65 6d 70', true, true],
    ['ACK 2.05 with token and payload', '61 45 00 01 aa c1 00 ff 68 69', true, true],
    ['Empty ACK, exactly 4 bytes (RFC 7252 4.1)', '60 00 00 01', true, true],
    ['Empty message with trailing bytes (4.1)', '60 00 00 01 00', true, false],
    ['version 2', '80 01 00 01', false, false],
    ['TKL 9', '49 01 00 01 01 02 03 04 05 06 07 08 09', false, false],
    ['token longer than the datagram', '44 01 00 01 aa', false, false],
    ['3 bytes', '40 01 00', false, false],
    ['code class 1 (reserved)', '40 21 00 01', true, false],
    ['code class 3', '40 61 00 01', true, false],
    ['code class 7', '40 e1 00 01', true, false],
    ['request in an ACK (4.2)', '60 01 00 01', true, false],
    ['non-empty RST (4.3)', '70 45 00 01', true, false],
    ['option nibble 15', '40 01 00 01 f1 00', true, false],
    ['option value past the end', '40 01 00 01 b5 74', true, false],
    ['payload marker without payload', '40 01 00 01 ff', true, false],
    ['malformed OSCORE value', '40 01 00 01 91 07', true, false],
  ])('%s: lenient %s, strict %s', (_name, h, lenient, strict) => {
    expect(check(h, false)).toBe(lenient);
    expect(check(h, true)).toBe(strict);
  });

  it('strict rejects datagrams over one Ethernet MTU', () => {
    const big = Buffer.concat([hex('40 02 00 01 ff'), Buffer.alloc(STRICT_MAX_LENGTH)]);
    expect(looksLikeCoap(big, 0, big.length, false)).toBe(true);
    expect(looksLikeCoap(big, 0, big.length, true)).toBe(false);
  });

  it('respects offset and length and never reads past the buffer', () => {
    const b = hex('ff ff 40 01 00 01 b1 61 ff');
    expect(looksLikeCoap(b, 2, 6, true)).toBe(true);
    expect(looksLikeCoap(b, 2, 7, true)).toBe(false); // includes a marker with nothing after it
    expect(looksLikeCoap(b, 2, 100, false)).toBe(false);
  });
});

describe('caller errors', () => {
  it('an offset or length outside the buffer is coap.malformed, not a throw or a read past the end', () => {
    const b = hex('40 01 00 01');
    for (const [off, len] of [[0, 5], [2, 4], [-1, 4], [0, -1]]) {
      const r = parseCoap(b, off, len);
      expect(r.ok === false && r.anomaly).toBe('coap.malformed');
      const t = parseCoapTcp(b, off, len);
      expect(t.ok === false && t.anomaly).toBe('coap.malformed');
    }
  });
});
