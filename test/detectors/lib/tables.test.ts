import { describe, expect, it } from 'vitest';
import { BoundedMap, CappedSet, LruTable } from '../../../detectors/lib/tables';

class E {
  lru = 0;
  constructor(readonly v: number) {}
}

describe('LruTable (second chance)', () => {
  it('evicts an entry not used since it was last passed over, and counts it', () => {
    const evicted: string[] = [];
    const t = new LruTable<E>(2, (k) => evicted.push(k));
    t.set('a', new E(1));
    t.set('b', new E(2));
    t.get('a'); // a used since insertion: second chance; b (never used again) goes
    t.set('c', new E(3));
    expect(evicted).toEqual(['b']);
    t.get('c'); // c used; a has spent its second chance
    t.set('d', new E(4));
    expect(evicted).toEqual(['b', 'a']);
    expect(t.peek('c')?.v).toBe(3);
    expect(t.stats()).toEqual({ size: 2, max: 2, evictions: 2 });
  });

  it('stays within its bound under any access pattern', () => {
    const t = new LruTable<E>(16);
    for (let i = 0; i < 10_000; i++) {
      const k = String((i * 7919) % 97);
      if (t.get(k) === undefined) t.set(k, new E(i));
    }
    expect(t.size).toBe(16);
    expect(t.evictions).toBeGreaterThan(0);
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
