import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlowHash, FlowKey } from '../../src/flow/flow-hash';

class Entry extends FlowKey {
  hnext: Entry | null = null;
  constructor(key: FlowKey, readonly id: number) {
    super();
    this.setKey(key);
  }

  get key(): FlowKey {
    return this.copy();
  }
}

function key(x: number, a: number[], b: number[], ports: number): FlowKey {
  const k = new FlowKey();
  k.x = x;
  k.ports = ports;
  [k.a0, k.a1, k.a2, k.a3] = [a[0] | 0, (a[1] ?? 0) | 0, (a[2] ?? 0) | 0, (a[3] ?? 0) | 0];
  [k.b0, k.b1, k.b2, k.b3] = [b[0] | 0, (b[1] ?? 0) | 0, (b[2] ?? 0) | 0, (b[3] ?? 0) | 0];
  return k;
}

describe('FlowHash', () => {
  it('finds an entry by an equal key, not by the same object', () => {
    const h = new FlowHash<Entry>();
    const e = new Entry(key(6, [0x0a000001], [0x0a000002], (40000 << 16) | 1883), 1);
    h.add(e);
    expect(h.get(key(6, [0x0a000001], [0x0a000002], (40000 << 16) | 1883))).toBe(e);
    expect(h.get(key(17, [0x0a000001], [0x0a000002], (40000 << 16) | 1883))).toBeUndefined();
    expect(h.get(key(6, [0x0a000001], [0x0a000002], (40001 << 16) | 1883))).toBeUndefined();
    expect(h.size).toBe(1);
  });

  it('keeps IPv4 and IPv6 keys apart even when their words agree', () => {
    const h = new FlowHash<Entry>();
    const v4 = new Entry(key(6, [1], [2], 5), 1);
    const v6 = new Entry(key(6 + 256, [1], [2], 5), 2);
    h.add(v4);
    h.add(v6);
    expect(h.get(key(6, [1], [2], 5))).toBe(v4);
    expect(h.get(key(6 + 256, [1], [2], 5))).toBe(v6);
  });

  it('compares every IPv6 word', () => {
    const h = new FlowHash<Entry>();
    const e = new Entry(key(262, [0x20010db8, 0, 0, 1], [0x20010db8, 0, 0, 2], 7), 1);
    h.add(e);
    for (let w = 0; w < 8; w++) {
      const a = [0x20010db8, 0, 0, 1];
      const b = [0x20010db8, 0, 0, 2];
      (w < 4 ? a : b)[w % 4] ^= 1;
      expect(h.get(key(262, a, b, 7))).toBeUndefined();
    }
    expect(h.get(key(262, [0x20010db8, 0, 0, 1], [0x20010db8, 0, 0, 2], 7))).toBe(e);
  });

  it('deletes by identity and grows past its initial buckets', () => {
    const h = new FlowHash<Entry>();
    const all: Entry[] = [];
    for (let i = 0; i < 5000; i++) {
      const e = new Entry(key(17, [0x0a000000 + (i >> 4)], [0x0a0000ff], ((50000 + (i & 15)) << 16) | 5683), i);
      all.push(e);
      h.add(e);
    }
    expect(h.size).toBe(5000);
    for (const e of all) expect(h.get(e.key.copy())).toBe(e);
    for (let i = 0; i < 5000; i += 2) expect(h.delete(all[i])).toBe(true);
    expect(h.delete(all[0])).toBe(false);
    expect(h.size).toBe(2500);
    for (const e of all) expect(h.get(e.key)).toBe(e.id % 2 === 0 ? undefined : e);
  });

  it('agrees with a Map over any sequence of adds and deletes', () => {
    const op = fc.record({ add: fc.boolean(), a: fc.integer({ min: 0, max: 15 }), p: fc.integer({ min: 0, max: 3 }) });
    fc.assert(fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
      const h = new FlowHash<Entry>();
      const ref = new Map<string, Entry>();
      let id = 0;
      for (const o of ops) {
        const k = key(6, [o.a], [0x7f000001], o.p);
        const name = `${o.a}/${o.p}`;
        const have = ref.get(name);
        if (o.add && have === undefined) {
          const e = new Entry(k, id++);
          h.add(e);
          ref.set(name, e);
        } else if (!o.add && have !== undefined) {
          expect(h.delete(have)).toBe(true);
          ref.delete(name);
        }
        expect(h.get(k)).toBe(ref.get(name));
      }
      expect(h.size).toBe(ref.size);
    }));
  });
});
