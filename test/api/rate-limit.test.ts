import { describe, expect, it } from 'vitest';
import { TokenBuckets, createRateLimiter } from '../../src/api/rate-limit';

describe('TokenBuckets', () => {
  it('allows a burst of capacity, then one per refill interval', () => {
    let now = 0;
    const b = new TokenBuckets({ capacity: 3, refillPerSecond: 2 }, 100, () => now);
    expect([b.take('a'), b.take('a'), b.take('a')]).toEqual([0, 0, 0]);
    expect(b.take('a')).toBeCloseTo(0.5);
    now += 499;
    expect(b.take('a')).toBeGreaterThan(0);
    now += 2;
    expect(b.take('a')).toBe(0);
    now += 60_000; // refills to capacity, never beyond
    expect([b.take('a'), b.take('a'), b.take('a'), b.take('a') > 0]).toEqual([0, 0, 0, true]);
    expect(b.limited).toBe(3);
  });

  it('keeps at most maxKeys buckets, evicting the least recently used, and counts it', () => {
    const b = new TokenBuckets({ capacity: 1, refillPerSecond: 0.001 }, 3, () => 0);
    for (const k of ['a', 'b', 'c']) b.take(k);
    b.take('a'); // a is now most recent
    b.take('d'); // evicts b
    expect(b.size).toBe(3);
    expect(b.evictions).toBe(1);
    expect(b.take('a')).toBeGreaterThan(0); // a kept its empty bucket
    expect(b.take('b')).toBe(0); // b came back full
  });

  it('refuses nonsense configuration and can be turned off', () => {
    expect(() => new TokenBuckets({ capacity: 0, refillPerSecond: 1 }, 10, Date.now)).toThrow();
    expect(() => new TokenBuckets({ capacity: 1, refillPerSecond: 0 }, 10, Date.now)).toThrow();
    expect(createRateLimiter(false)).toEqual({ ip: null, token: null });
    const d = createRateLimiter(undefined);
    expect(d.ip).not.toBeNull();
    expect(d.token).not.toBeNull();
  });
});
