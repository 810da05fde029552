import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createCursorCodec } from '../../src/api/cursor';
import { ApiError } from '../../src/api/errors';

const bad = (fn: () => unknown): boolean => {
  try {
    fn();
    return false;
  } catch (err) {
    return err instanceof ApiError && err.code === 'bad_cursor' && err.statusCode === 400;
  }
};

describe('API cursors', () => {
  const codec = createCursorCodec();

  it('round-trip any store cursor, with and without a seq', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300, unit: 'binary' }), fc.option(fc.nat()), (store, seq) => {
      const c = seq === null ? { store } : { store, seq };
      const text = codec.encode('feed', c);
      expect(text).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{12}$/); // safe in URLs and as an SSE id
      expect(codec.decode('feed', text)).toEqual(c);
    }));
  });

  it('refuse a cursor made for another listing', () => {
    expect(bad(() => codec.decode('alerts', codec.encode('feed', { store: 'x' })))).toBe(true);
    expect(bad(() => codec.decode('tls', codec.encode('clients', { store: 'x' })))).toBe(true);
  });

  it('refuse any edit, truncation or random text, always as bad_cursor', () => {
    const good = codec.encode('alerts', { store: 'o:10' });
    fc.assert(fc.property(fc.nat(good.length - 1), fc.string({ minLength: 1, maxLength: 1 }), (i, ch) => {
      const edited = good.slice(0, i) + ch + good.slice(i + 1);
      if (edited !== good) expect(bad(() => codec.decode('alerts', edited))).toBe(true);
    }));
    fc.assert(fc.property(fc.string({ maxLength: 5000 }), (s) => {
      expect(bad(() => codec.decode('alerts', s))).toBe(true);
    }));
    expect(bad(() => codec.decode('alerts', good.slice(0, -1)))).toBe(true);
  });

  it('with a secret, refuse cursors made without it (forgery)', () => {
    const keyed = createCursorCodec(Buffer.from('0123456789abcdef0123456789abcdef'));
    const forged = codec.encode('alerts', { store: 'o:0' });
    expect(bad(() => keyed.decode('alerts', forged))).toBe(true);
    const other = createCursorCodec(Buffer.from('another secret, 32 bytes long!!!'));
    expect(bad(() => keyed.decode('alerts', other.encode('alerts', { store: 'o:0' })))).toBe(true);
    expect(keyed.decode('alerts', keyed.encode('alerts', { store: 'o:0' }))).toEqual({ store: 'o:0' });
  });

  it('refuse well-tagged payloads of the wrong shape', () => {
    // Tags are unkeyed by default, so build well-tagged payloads with the codec's own scheme.
    const { createHash } = require('node:crypto') as typeof import('node:crypto');
    const wrap = (v: unknown): string => {
      const p = Buffer.from(JSON.stringify(v)).toString('base64url');
      return `${p}.${createHash('sha256').update('iotwatch-cursor\0').update(p).digest().subarray(0, 9).toString('base64url')}`;
    };
    expect(codec.decode('feed', wrap([1, 'feed', 's:1', 5]))).toEqual({ store: 's:1', seq: 5 });
    for (const v of [[2, 'feed', 'x'], [1, 'feed', 5], [1, 'feed', 'x', -1], [1, 'feed', 'x', 1.5], [1, 'feed', 'x', 1e300], {}, null, 'x', [1, 'feed', 'x', 1, 2]]) {
      expect(bad(() => codec.decode('feed', wrap(v))), JSON.stringify(v)).toBe(true);
    }
  });
});
