import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ApiError } from '../../src/api/errors';
import { normalizeAddress, parseBucket, parseList, parseTime } from '../../src/api/params';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err.code;
    throw err;
  }
  return undefined;
};

describe('parseTime', () => {
  it.each([
    ['0', 0],
    ['1714564800000000', 1714564800000000],
    ['2024-05-01', 1714521600000000],
    ['2024-05-01T12:00:00Z', 1714564800000000],
    ['2024-05-01T12:00Z', 1714564800000000],
    ['2024-05-01T12:00:00.123456Z', 1714564800123456],
    ['2024-05-01T12:00:00.1234567Z', 1714564800123456],
    ['2024-05-01t12:00:00z', 1714564800000000],
    ['2024-05-01T14:00:00+02:00', 1714564800000000],
    ['2024-05-01T07:30:00-0430', 1714564800000000],
    ['2024-02-29T00:00:00Z', 1709164800000000],
    [String(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER],
  ])('%s -> %d µs', (text, us) => {
    expect(parseTime(text, 'from')).toBe(us);
  });

  it.each([
    '', '-1', '1.5', '9007199254740992', '99999999999999999999', '2024-05-01T12:00:00', '2023-02-29', '2024-13-01',
    '2024-05-01T24:00:00Z', '2024-05-01T12:60:00Z', '2024-05-01T12:00:00+25:00', 'now', '1e6', '0x10', '1969-12-31T23:59:59Z',
    "2024-05-01' OR 1=1", '２０２４-05-01',
  ])('refuses %j', (text) => {
    expect(code(() => parseTime(text, 'from'))).toBe('bad_request');
  });

  it('never throws anything but a 400 on random text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (s) => {
      try {
        const v = parseTime(s, 'x');
        expect(Number.isSafeInteger(v) && v >= 0).toBe(true);
      } catch (err) {
        expect(err).toBeInstanceOf(ApiError);
      }
    }));
  });
});

describe('parseList, normalizeAddress, parseBucket', () => {
  it('splits, trims, dedups and checks list items', () => {
    expect(parseList(' a, b ,a,,', 'd', /^[a-z]+$/, 5)).toEqual(['a', 'b']);
    expect(code(() => parseList('a,B', 'd', /^[a-z]+$/, 5))).toBe('bad_request');
    expect(code(() => parseList('a,b,c', 'd', /^[a-z]+$/, 2))).toBe('bad_request');
    expect(code(() => parseList(' , ', 'd', /^[a-z]+$/, 2))).toBe('bad_request');
  });

  it('writes addresses the way alerts do (RFC 5952)', () => {
    expect(normalizeAddress('10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeAddress('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(normalizeAddress('[::1]')).toBe('::1');
    for (const bad of ['10.0.0', '10.0.0.1:80', '::g', 'localhost', "1' OR 1=1", '1.2.3.4/24']) {
      expect(code(() => normalizeAddress(bad))).toBe('bad_request');
    }
  });

  it('reads bucket lengths', () => {
    expect([parseBucket('30'), parseBucket('30s'), parseBucket('5m'), parseBucket('2h'), parseBucket('1d')]).toEqual([30, 30, 300, 7200, 86400]);
    for (const bad of ['0', '0m', '367d', '1w', '-1', '1.5h', '', 'h']) expect(code(() => parseBucket(bad))).toBe('bad_request');
  });
});
