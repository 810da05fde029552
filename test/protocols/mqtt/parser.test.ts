// The pure pieces: fixed header and variable byte integers, first-byte classes, string checks,
// the fast decoders, and the classifier's content checks.
import { describe, expect, it } from 'vitest';
import { looksLikeMqttConnect, looksLikeMqttStream } from '../../../src/protocols/mqtt';
import {
  AckScratch, BAD_LENGTH, HDR_BAD_FLAGS, HDR_DUP_QOS0, HDR_OK, HDR_QOS3, HDR_RESERVED_TYPE, NEED_MORE,
  PublishScratch, STR_BAD_UTF8, STR_NON_ASCII, STR_NUL, STR_WILDCARD, TopicMemo, decodeAck,
  decodeDisconnect, decodePublish, headerClass, plausibleRemaining, readFixedHeader, readVarInt, scanString,
} from '../../../src/protocols/mqtt/parser';
import { gen, hex } from './helpers/mqtt';

const header = (h: number): [number, number] => [(h - (h & 7)) / 8, h & 7];

describe('fixed header [MQTT-2.2]', () => {
  it.each([
    ['0 in one byte', '30 00', 0, 2],
    ['127, the largest one-byte value', '30 7f', 127, 2],
    ['128 in two bytes', '30 80 01', 128, 3],
    ['16383 in two bytes', '30 ff 7f', 16383, 3],
    ['16384 in three bytes', '30 80 80 01', 16384, 4],
    ['2097151 in three bytes', '30 ff ff 7f', 2097151, 4],
    ['2097152 in four bytes', '30 80 80 80 01', 2097152, 5],
    ['268435455, the largest value [MQTT-1.5.5]', '30 ff ff ff 7f', 268435455, 5],
  ])('remaining length %s', (_name, bytes, rem, hl) => {
    const b = hex(bytes);
    expect(header(readFixedHeader(b, 0, b.length))).toEqual([rem, hl]);
  });

  it('needs more bytes while the varint continues, and rejects a fifth byte [MQTT-1.5.5]', () => {
    expect(readFixedHeader(hex('30'), 0, 1)).toBe(NEED_MORE);
    expect(readFixedHeader(hex('30 80'), 0, 2)).toBe(NEED_MORE);
    expect(readFixedHeader(hex('30 80 80 80'), 0, 4)).toBe(NEED_MORE);
    expect(readFixedHeader(hex('30 80 80 80 80'), 0, 5)).toBe(BAD_LENGTH);
    expect(readFixedHeader(hex('30 ff ff ff ff 01'), 0, 6)).toBe(BAD_LENGTH);
  });

  it('reads at an offset, bounded by end', () => {
    const b = hex('aa aa 40 02 00 01');
    expect(header(readFixedHeader(b, 2, 6))).toEqual([2, 2]);
    expect(readFixedHeader(b, 2, 3)).toBe(NEED_MORE);
  });

  it('variable byte integers inside a packet', () => {
    expect(header(readVarInt(hex('c8 01'), 0, 2))).toEqual([200, 2]);
    expect(readVarInt(hex('c8'), 0, 1)).toBe(-1);
    expect(readVarInt(hex('80 80 80 80 01'), 0, 5)).toBe(-1);
  });

  it('first-byte classes (Table 2.2, Flag Bits)', () => {
    expect(headerClass(0x10, 4)).toBe(HDR_OK);
    expect(headerClass(0x62, 4)).toBe(HDR_OK);
    expect(headerClass(0x60, 4)).toBe(HDR_BAD_FLAGS);
    expect(headerClass(0x83, 4)).toBe(HDR_BAD_FLAGS);
    expect(headerClass(0x3f, 4)).toBe(HDR_QOS3);
    expect(headerClass(0x38, 4)).toBe(HDR_DUP_QOS0);
    expect(headerClass(0x3b, 4)).toBe(HDR_OK);
    expect(headerClass(0x00, 5)).toBe(HDR_RESERVED_TYPE);
    expect(headerClass(0xf0, 3)).toBe(HDR_RESERVED_TYPE);
    expect(headerClass(0xf0, 5)).toBe(HDR_OK);
    expect(headerClass(0xf0, 0)).toBe(HDR_OK);
  });

  it('remaining lengths a type can have', () => {
    expect(plausibleRemaining(12, 0, 0, 4)).toBe(true);
    expect(plausibleRemaining(12, 0, 1, 4)).toBe(false);
    expect(plausibleRemaining(4, 0, 2, 4)).toBe(true);
    expect(plausibleRemaining(4, 0, 3, 4)).toBe(false);
    expect(plausibleRemaining(4, 0, 3, 5)).toBe(true);
    expect(plausibleRemaining(14, 0, 1, 4)).toBe(false);
    expect(plausibleRemaining(14, 0, 1, 5)).toBe(true);
    expect(plausibleRemaining(3, 1, 3, 4)).toBe(false);
    expect(plausibleRemaining(1, 0, 11, 4)).toBe(false);
  });
});

describe('UTF-8 strings [MQTT-1.5.4]', () => {
  const flags = (s: string): number => {
    const b = hex(s);
    return scanString(b, 0, b.length);
  };

  it('ASCII, wildcards, U+0000, non-ASCII, ill-formed sequences', () => {
    expect(flags('61 2f 62')).toBe(0);
    expect(flags('61 2f 23')).toBe(STR_WILDCARD);
    expect(flags('2b')).toBe(STR_WILDCARD);
    expect(flags('61 00')).toBe(STR_NUL);
    expect(flags('c3 a9')).toBe(STR_NON_ASCII);
    expect(flags('f0 9f 98 80')).toBe(STR_NON_ASCII);
    expect(flags('c3')).toBe(STR_NON_ASCII | STR_BAD_UTF8);
    expect(flags('c0 80')).toBe(STR_NON_ASCII | STR_BAD_UTF8);
    expect(flags('ed a0 80')).toBe(STR_NON_ASCII | STR_BAD_UTF8);
    expect(flags('f4 90 80 80')).toBe(STR_NON_ASCII | STR_BAD_UTF8);
    expect(flags('f0 9f 98 41')).toBe(STR_NON_ASCII | STR_BAD_UTF8);
  });

  it('the topic memo returns the same strings and flags as a fresh decode', () => {
    const m = new TopicMemo();
    const topics = ['a/b', 'c', 'a/b', 'a/c', 'é/x', 'é/x', 'a/#', 'a/b'];
    for (const t of topics) {
      const b = Buffer.from(`xx${t}yy`);
      expect(m.get(b, 2, b.length - 2)).toBe(t);
      expect(m.lastFlags).toBe(scanString(b, 2, b.length - 2));
    }
  });

  it('the topic memo compares every byte, whatever the length, offset and buffer', () => {
    // Topics of every length mod 4 that differ from a remembered one in a single byte, at odd
    // offsets in slices of a shared pool and in buffers of their own.
    const pool = Buffer.allocUnsafe(4096).fill(0x7a);
    const m = new TopicMemo();
    let at = 1;
    for (let len = 1; len <= 12; len++) {
      const base = Buffer.from('abcdefghijkl'.slice(0, len));
      for (let i = -1; i < len; i++) {
        const t = Buffer.from(base);
        if (i >= 0) t[i] = 0x5f;
        for (const own of [false, true]) {
          const buf = own ? Buffer.concat([Buffer.from('q'), t, Buffer.from('q')]) : pool.subarray(at, at + len + 2);
          if (!own) t.copy(buf, 1);
          at += len + 3;
          expect(m.get(buf, 1, 1 + len)).toBe(t.toString('latin1'));
          expect(m.get(buf, 1, 1 + len)).toBe(t.toString('latin1'));
        }
      }
    }
    // More topics than slots, in turn: slots are replaced and the others kept intact.
    const topics = Array.from({ length: 20 }, (_, i) => `site/${i}/${'x'.repeat(i)}/t`);
    for (let round = 0; round < 3; round++) {
      for (const t of topics) {
        const b = Buffer.from(`..${t}`);
        expect(m.get(b, 2, b.length)).toBe(t);
        expect(m.lastFlags).toBe(0);
      }
    }
  });
});

describe('fast decoders', () => {
  it('PUBLISH: topic, packet identifier, MQTT 5 property block, payload', () => {
    const s = new PublishScratch();
    const b = gen({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('xyz'), qos: 1, messageId: 513, properties: { contentType: 'c' } }, 5);
    expect(decodePublish(b, 2, b.length, 1, true, s)).toBeNull();
    expect(s).toMatchObject({ topic: 'a/b', messageId: 513, hasProps: true });
    expect(b.length - s.payloadStart).toBe(3);
    expect(s.propsEnd - s.propsStart).toBe(4);
  });

  it('PUBLISH errors: topic or packet identifier past the end, property length past the end', () => {
    const s = new PublishScratch();
    expect(decodePublish(hex('00'), 0, 1, 0, false, s)).toMatch(/topic length/);
    expect(decodePublish(hex('00 05 61'), 0, 3, 0, false, s)).toMatch(/runs past/);
    expect(decodePublish(hex('00 01 61 00'), 0, 4, 1, false, s)).toMatch(/packet identifier/);
    expect(decodePublish(hex('00 01 61 05 01'), 0, 5, 0, true, s)).toMatch(/property length/);
  });

  it('acknowledgements: 3.1.1 exactly 2 bytes; MQTT 5 reason code and properties optional [MQTT-3.4.2-1]', () => {
    const s = new AckScratch();
    expect(decodeAck(hex('00 07'), 0, 2, false, s)).toBeNull();
    expect(s).toMatchObject({ messageId: 7, reasonCode: -1 });
    expect(decodeAck(hex('00 07 10'), 0, 3, false, s)).toMatch(/must be 2/);
    expect(decodeAck(hex('00 07'), 0, 2, true, s)).toBeNull();
    expect(s.reasonCode).toBe(0);
    expect(decodeAck(hex('00 07 10 00'), 0, 4, true, s)).toBeNull();
    expect(s).toMatchObject({ reasonCode: 0x10, hasProps: true });
    expect(decodeAck(hex('00 07 10 03 1f 00'), 0, 6, true, s)).toMatch(/runs past/);
    expect(decodeAck(hex('00 07 10 00 ff'), 0, 5, true, s)).toMatch(/after the properties/);
  });

  it('DISCONNECT: empty before MQTT 5 [MQTT-3.14.1-1]', () => {
    const s = new AckScratch();
    expect(decodeDisconnect(hex(''), 0, 0, false, s)).toBeNull();
    expect(decodeDisconnect(hex('00'), 0, 1, false, s)).toMatch(/must be 0/);
    expect(decodeDisconnect(hex('04'), 0, 1, true, s)).toBeNull();
    expect(s.reasonCode).toBe(4);
  });
});

describe('classifier checks', () => {
  const c4 = gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 10, clientId: 'x' }, 4);
  const c3 = gen({ cmd: 'connect', protocolId: 'MQIsdp', protocolVersion: 3, clean: true, keepalive: 10, clientId: 'x' }, 3);

  it('looksLikeMqttConnect: true for 3.1, 3.1.1, 5; undefined until the level byte; false otherwise', () => {
    expect(looksLikeMqttConnect(c4, 0, c4.length)).toBe(true);
    expect(looksLikeMqttConnect(c3, 0, c3.length)).toBe(true);
    const c5 = gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, keepalive: 10, clientId: 'x' }, 5);
    expect(looksLikeMqttConnect(c5, 0, c5.length)).toBe(true);
    for (let n = 0; n < 9; n++) expect(looksLikeMqttConnect(c4, 0, n), `${n} bytes`).toBeUndefined();
    expect(looksLikeMqttConnect(Buffer.from('GET / HTTP/1.1\r\n'), 0, 16)).toBe(false);
    expect(looksLikeMqttConnect(hex('10 0c 00 04 4d 51 54 58 04'), 0, 9)).toBe(false);
    expect(looksLikeMqttConnect(hex('10 0c 00 04 4d 51 54 54 06'), 0, 9)).toBe(false);
    expect(looksLikeMqttConnect(hex('10 05 00 04 4d 51 54 54 04'), 0, 9)).toBe(false);
    const shifted = Buffer.concat([Buffer.from('zz'), c4]);
    expect(looksLikeMqttConnect(shifted, 2, c4.length)).toBe(true);
  });

  it('looksLikeMqttStream: chained valid fixed headers, or a partial last packet', () => {
    const pub = gen({ cmd: 'publish', topic: 'a', payload: Buffer.from('x'), qos: 1, messageId: 1 }, 4);
    const stream = Buffer.concat([pub, hex('40 02 00 01'), hex('d0 00'), pub]);
    expect(looksLikeMqttStream(stream, 0, stream.length)).toBe(true);
    expect(looksLikeMqttStream(stream, 0, stream.length - 3)).toBe(true);
    expect(looksLikeMqttStream(hex('20'), 0, 1)).toBe(true);
    expect(looksLikeMqttStream(Buffer.from('GET / HTTP/1.1\r\n'), 0, 16)).toBe(false);
    expect(looksLikeMqttStream(hex('c0 05 00 00 00 00 00'), 0, 7)).toBe(false);
    expect(looksLikeMqttStream(hex('36 02 00 00'), 0, 4)).toBe(false);
    expect(looksLikeMqttStream(hex('30 04 00 09 61 62'), 0, 6)).toBe(false);
    expect(looksLikeMqttStream(hex(''), 0, 0)).toBe(false);
  });
});
