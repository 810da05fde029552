import { describe, expect, it } from 'vitest';
import { BoundedMap, CappedSet, LruTable } from '../../../detectors/lib/tables';

class E {
  lru = 0;
  constructor(readonly v: number) {}
}

describe('LruTable', () => {
  it('evicts the least recently used entry and counts it', () => {
    const clock = { gen: 0 };
    const evicted: string[] = [];
    const t = new LruTable<E>(2, clock, (k) => evicted.push(k));
    t.set('a', new E(1));
    t.set('b', new E(2));
    clock.gen++;
    expect(t.get('a')?.v).toBe(1); // a is now the most recent
    t.set('c', new E(3));
    expect(evicted).toEqual(['b']);
    expect(t.stats()).toEqual({ size: 2, max: 2, evictions: 1 });
    expect(t.peek('b')).toBeUndefined();
  });

  it('re-orders at most once per generation (hits within one generation keep insertion order)', () => {
    const clock = { gen: 0 };
    const t = new LruTable<E>(2, clock);
    t.set('a', new E(1));
    t.set('b', new E(2));
    t.get('a'); // same generation: no re-order
    t.set('c', new E(3));
    expect(t.peek('a')).toBeUndefined();
    expect(t.peek('b')?.v).toBe(2);
  });
});

describe('BoundedMap', () => {
  it('drops the oldest when full, counted; take() removes', () => {
    const m = new BoundedMap<number, string>(2);
    m.set(1, 'a');
    m.set(2, 'b');
    m.set(3, 'c');
    expect(m.get(1)).toBeUndefined();
    expect(m.evictions).toBe(1);
    expect(m.take(2)).toBe('b');
    expect(m.size).toBe(1);
  });
});

describe('CappedSet', () => {
  it('counts what it cannot hold', () => {
    const s = new CappedSet(2);
    expect([s.add('a'), s.add('a'), s.add('b'), s.add('c')]).toEqual([true, false, true, true]);
    expect(s.size).toBe(2);
    expect(s.distinct).toBe(3);
    s.clear();
    expect(s.distinct).toBe(0);
  });
});
