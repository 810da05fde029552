import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipToText, ipv4ToText, ipv6ToText, parseIp } from '../../src/flow/address';

// Expected text is what tshark 4.0 prints for ipv6.src (checked with a generated capture).
const V6: Array<[string, string]> = [
  ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
  ['0000:0000:0000:0000:0000:0000:0000:0000', '::'],
  ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
  ['0001:0000:0000:0000:0000:0000:0000:0000', '1::'],
  ['2001:0db8:0000:0001:0001:0001:0001:0001', '2001:db8:0:1:1:1:1:1'], // RFC 5952 4.2.2: one zero group stays
  ['fe80:0000:0000:0000:00ff:0000:0000:0000', 'fe80::ff:0:0:0'], // first of equal runs
  ['0001:0000:0000:0002:0000:0000:0000:0003', '1:0:0:2::3'], // longest run wins
  ['0000:0000:0001:0000:0000:0001:0000:0000', '::1:0:0:1:0:0'],
  ['000a:000b:000c:000d:000e:000f:0000:0000', 'a:b:c:d:e:f::'],
  ['0000:0001:0000:0001:0000:0001:0000:0001', '0:1:0:1:0:1:0:1'],
  ['ABCD:0000:0000:0000:0000:0000:0000:0001', 'abcd::1'],
  ['0000:0000:0000:0000:0000:ffff:0102:0304', '::ffff:1.2.3.4'], // IPv4-mapped
  ['0000:0000:0000:0000:0000:0000:0102:0304', '::1.2.3.4'], // IPv4-compatible
  ['0000:0000:0000:0000:0000:ffff:0000:0000', '::ffff:0.0.0.0'],
  ['0000:0000:0000:0000:0000:ffff:ffff:ffff', '::ffff:255.255.255.255'],
  ['0000:0000:0000:0000:0000:0000:0001:0000', '::0.1.0.0'],
  ['0000:0000:0000:0000:0000:0000:0000:0100', '::100'],
  ['0000:0000:0000:0000:0000:0001:0000:0000', '::1:0:0'],
  ['0000:0000:0000:0000:ffff:0000:0102:0304', '::ffff:0:102:304'],
  ['0064:ff9b:0000:0000:0000:0000:0102:0304', '64:ff9b::102:304'],
  ['0000:0000:0000:0000:0000:fffe:0102:0304', '::fffe:102:304'],
  ['0001:0002:0003:0004:0005:0006:0007:0008', '1:2:3:4:5:6:7:8'],
];

function fullBytes(full: string): Buffer {
  return Buffer.from(full.replace(/:/g, ''), 'hex');
}

describe('ipv6ToText', () => {
  it.each(V6)('%s -> %s', (full, text) => {
    expect(ipv6ToText(fullBytes(full), 0)).toBe(text);
  });

  it('reads at an offset', () => {
    const b = Buffer.concat([Buffer.from([9, 9, 9]), fullBytes(V6[0][0])]);
    expect(ipToText(b, 3, 16)).toBe('2001:db8::1:0:0:1');
  });

  it('round-trips through parseIp for any 16 bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      const text = ipv6ToText(bytes, 0);
      expect(text).toBe(text.toLowerCase());
      expect(text).not.toMatch(/:::/);
      expect(parseIp(text)).toEqual(Buffer.from(bytes));
    }));
  });

  it('agrees with the bytes for zero-heavy addresses', () => {
    const word = fc.constantFrom(0, 0, 0, 1, 0xffff, 0x102);
    fc.assert(fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), (ws) => {
      const b = Buffer.alloc(16);
      ws.forEach((w, i) => b.writeUInt16BE(w, 2 * i));
      expect(parseIp(ipv6ToText(b, 0))).toEqual(b);
    }));
  });
});

describe('ipv4ToText', () => {
  it('prints dotted decimal', () => {
    expect(ipv4ToText(Buffer.from([0, 192, 168, 1, 254]), 1)).toBe('192.168.1.254');
    expect(ipToText(Buffer.from([0, 0, 0, 0]), 0, 4)).toBe('0.0.0.0');
  });
});

describe('parseIp', () => {
  it.each(['', '1.2.3', '1.2.3.256', '01.2.3.4', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::', '::1.2.3', '1.2.3.4::'])(
    'rejects %j', (t) => expect(parseIp(t)).toBeUndefined(),
  );
  it('accepts full, compressed and mixed forms', () => {
    expect(parseIp('10.0.0.1')).toEqual(Buffer.from([10, 0, 0, 1]));
    expect(parseIp('::ffff:1.2.3.4')).toEqual(fullBytes('0000:0000:0000:0000:0000:ffff:0102:0304'));
    expect(parseIp('1:2:3:4:5:6:7:8')).toEqual(fullBytes('0001:0002:0003:0004:0005:0006:0007:0008'));
  });
});
