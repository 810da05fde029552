import { describe, expect, it } from 'vitest';
import { acceptKey, findHeadEnd, parseHttpHead, readFrameHeader, tokens, unmask } from '../../../src/protocols/websocket';
import { frame, upgradeRequest } from './build';

describe('opening handshake (RFC 6455 4)', () => {
  it('Sec-WebSocket-Accept of the RFC 6455 1.3 example', () => {
    expect(acceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('parses a request head; header names are case-insensitive, repeats are joined', () => {
    const b = Buffer.concat([upgradeRequest('mqtt, mqttv3.1', 'X-A: 1\r\nx-a: 2\r\n'), Buffer.from([0x82])]);
    const end = findHeadEnd(b, 0, b.length);
    expect(end).toBe(b.length - 1);
    const h = parseHttpHead(b, 0, end);
    if (typeof h === 'string') throw new Error(h);
    expect([h.method, h.target, h.version]).toEqual(['GET', '/mqtt', '1.1']);
    expect(h.headers.get('sec-websocket-protocol')).toBe('mqtt, mqttv3.1');
    expect(h.headers.get('x-a')).toBe('1, 2');
    expect(tokens(h.headers.get('sec-websocket-protocol'))).toEqual(['mqtt', 'mqttv3.1']);
  });

  it('parses a response head; rejects other start lines and header lines without a colon', () => {
    const r = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n');
    expect(parseHttpHead(r, 0, r.length)).toMatchObject({ status: 101, reason: 'Switching Protocols' });
    const bad = Buffer.from('\x10\x20MQTT\r\n\r\n');
    expect(parseHttpHead(bad, 0, bad.length)).toMatch(/not an HTTP start line/);
    const noColon = Buffer.from('GET / HTTP/1.1\r\nbroken header\r\n\r\n');
    expect(parseHttpHead(noColon, 0, noColon.length)).toMatch(/bad header line/);
    expect(findHeadEnd(Buffer.from('GET / HTTP/1.1\r\n'), 0, 16)).toBe(-1);
  });
});

describe('frame headers (RFC 6455 5.2)', () => {
  const mask = Buffer.from([1, 2, 3, 4]);
  it('7-, 16- and 64-bit lengths, masked and not', () => {
    expect(readFrameHeader(frame({ opcode: 2, payload: Buffer.alloc(5) }), 0, 7)).toEqual({ fin: true, rsv: 0, opcode: 2, masked: false, mask: 0, payloadLength: 5, headerLength: 2 });
    expect(readFrameHeader(frame({ opcode: 2, payload: Buffer.alloc(300), mask }), 0, 308)).toMatchObject({ masked: true, mask: 0x01020304, payloadLength: 300, headerLength: 8 });
    expect(readFrameHeader(frame({ opcode: 0, fin: false, payload: Buffer.alloc(70000) }), 0, 70010)).toMatchObject({ fin: false, opcode: 0, payloadLength: 70000, headerLength: 10 });
    expect(readFrameHeader(frame({ opcode: 2, payload: Buffer.alloc(3), lengthForm: 64, rsv: 4 }), 0, 13)).toMatchObject({ rsv: 4, payloadLength: 3, headerLength: 10 });
  });

  it('null while incomplete, an error for a 64-bit length with the top bit set', () => {
    const f = frame({ opcode: 2, payload: Buffer.alloc(70000), mask });
    for (const n of [0, 1, 2, 9, 10, 13]) expect(readFrameHeader(f, 0, n)).toBeNull();
    const bad = Buffer.from([0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1]);
    expect(readFrameHeader(bad, 0, bad.length)).toMatch(/most significant bit/);
    const huge = Buffer.from([0x82, 0x7f, 0x7f, 0, 0, 0, 0, 0, 0, 1]);
    expect(readFrameHeader(huge, 0, huge.length)).toMatch(/2\^32/);
  });

  it('unmask continues the key across chunks (RFC 6455 5.3)', () => {
    const payload = Buffer.from('0123456789');
    const f = frame({ opcode: 2, payload, mask: Buffer.from([9, 8, 7, 6]) });
    const out = Buffer.alloc(10);
    unmask(f, 6, 3, 0x09080706, 0, out);
    unmask(f, 9, 7, 0x09080706, 3, out.subarray(3));
    expect(out.toString()).toBe('0123456789');
  });
});
