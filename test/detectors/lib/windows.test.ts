import { describe, expect, it } from 'vitest';
import { EntityWindows, rateDefaults } from '../../../detectors/lib/windows';
import { Findings, POSTURE_REFRESH } from '../../../detectors/lib/posture';
import { SetBaselines } from '../../../detectors/lib/sets';
import { BaselineError } from '../../../detectors/lib/detector';
import { at, fakeContext, flow, publish } from '../helpers';

const f = flow('10.0.0.1', '10.0.0.2');
const metric = [{ name: 'events', minCount: 10, coldThreshold: 100 }];

function windows(closed: [string, number, number][] = [], t = { ...rateDefaults, window: 60 }) {
  const ctx = fakeContext();
  const w = new EntityWindows<null>(ctx, 'w', { ...t, baseline: t }, metric, {
    make: () => null,
    onClose: (s, ws) => closed.push([s.key, (ws - at(0)) / 1e6, s.count(0)]),
  });
  return { ctx, w };
}

describe('EntityWindows', () => {
  it('aligns windows to multiples of their length and closes them in capture time', () => {
    const closed: [string, number, number][] = [];
    const { w } = windows(closed);
    for (const s of [5, 10, 59.9]) w.add(w.touch('a', at(s)), 0, 1);
    w.add(w.touch('b', at(61)), 0, 1); // rolls the first window
    expect(closed).toEqual([['a', 0, 3]]);
    expect(w.windowStart).toBe(at(60));
    w.tick(at(200)); // a jump: the open window closes, the next starts where the clock is
    expect(closed).toEqual([['a', 0, 3], ['b', 60, 1]]);
    expect(w.windowStart).toBe(at(180));
    w.add(w.touch('a', at(200)), 0, 2);
    w.flush();
    expect(closed.at(-1)).toEqual(['a', 180, 2]);
  });

  it('fires once, at the crossing; a window that fired stays out of the median', () => {
    const { w } = windows();
    for (let m = 0; m < 5; m++) for (let i = 0; i < 20; i++) w.add(w.touch('a', at(m * 60 + i)), 0, 1);
    const s = w.touch('a', at(300));
    expect(s.thr[0].value).toBe(10); // the absolute minimum, until the count gets there
    expect(w.threshold(s, 0).value).toBe(50); // median 20, spread 5: 20 + 6 x 5
    const crossings = Array.from({ length: 80 }, () => w.add(s, 0, 1));
    expect(crossings.indexOf(true)).toBe(49);
    expect(crossings.filter(Boolean)).toHaveLength(1);
    w.tick(at(360));
    expect(s.base[0].summary().median).toBe(20);
    expect(s.base[0].ewma).toBeGreaterThan(20);
  });

  it('export/import keeps samples; a different window length is refused', () => {
    const { w } = windows();
    for (let m = 0; m < 3; m++) w.add(w.touch('a', at(m * 60)), 0, 7);
    w.flush();
    const json = JSON.parse(JSON.stringify(w.exportJSON()));
    const other = windows().w;
    other.importJSON(json);
    // The third window was cut short by flush(): judged, not learned.
    expect(other.table.peek('a')!.base[0].samples()).toEqual([7, 7]);
    expect(() => windows([], { ...rateDefaults, window: 300 }).w.importJSON(json)).toThrow(BaselineError);
  });

  it('a window that began before the input did is not learned from', () => {
    const { ctx, w } = windows();
    ctx.startTs = at(30);
    w.add(w.touch('a', at(30)), 0, 5);
    w.add(w.touch('a', at(60)), 0, 9);
    w.tick(at(120));
    expect(w.table.peek('a')!.base[0].samples()).toEqual([9]);
  });

  it('touchFlow remembers a slot per flow side, and never hands back one its table evicted', () => {
    const { w } = windows([], { ...rateDefaults, window: 60, maxEntities: 1 });
    const a = w.touchFlow({ flow: f.up, ts: at(1) }, 'a');
    expect(w.touchFlow({ flow: f.up, ts: at(2) }, 'a')).toBe(a); // remembered: no table lookup
    expect(a.lru).toBe(1); // and marked used, as a table hit would be
    const other = flow('10.0.0.3', '10.0.0.2');
    w.touchFlow({ flow: other.up, ts: at(3) }, 'b'); // the table holds one entity: 'a' goes
    expect(a.lru).toBe(-1);
    const again = w.touchFlow({ flow: f.up, ts: at(4) }, 'a');
    expect(again).not.toBe(a);
    expect(w.table.peek('a')).toBe(again);
    w.add(again, 0, 1);
    expect(again.count(0)).toBe(1); // counted in the live slot, not the evicted one
    expect(a.count(0)).toBe(0);
  });

  it('touchSide remembers per side and per key function: one side can stand for two entities', () => {
    const { w } = windows();
    const bySrc = w.bySide((s) => s.src);
    const byDst = w.bySide((s) => s.dst);
    const src = w.touchSide({ flow: f.up, ts: at(1) }, bySrc);
    const dst = w.touchSide({ flow: f.up, ts: at(2) }, byDst);
    expect([src.key, dst.key]).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(w.touchSide({ flow: f.up, ts: at(3) }, bySrc)).toBe(src);
    expect(w.touchSide({ flow: f.up, ts: at(4) }, byDst)).toBe(dst);
    // A new window: the remembered slot is made live again, not handed back idle.
    const next = w.touchSide({ flow: f.up, ts: at(61) }, bySrc);
    expect(next).toBe(src);
    expect(next.live).toBe(true);
    expect(next.first).toBe(at(61));
  });

  it('add0 and near0 answer as add and near for metric 0, crossings and thresholds included', () => {
    // Two entities with the same history in two tables: one counted with add/near, one with add0/near0.
    let seed = 3;
    const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const a = windows();
    const b = windows();
    const seen: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const t = at(i * 0.25);
      const n = rnd() < 0.9 ? 1 : 1 + Math.floor(rnd() * 30);
      const key = rnd() < 0.5 ? 'x' : 'y';
      const sa = a.w.touch(key, t);
      const sb = b.w.touch(key, t);
      const near = [a.w.near(sa, 0), b.w.near0(sb)];
      const crossed = [a.w.add(sa, 0, n), b.w.add0(sb, n)];
      expect(near[1]).toBe(near[0]);
      expect(crossed[1]).toBe(crossed[0]);
      expect([sb.c0, sb.l0, sb.fired]).toEqual([sa.c0, sa.l0, sa.fired]);
      if (crossed[0]) seen.push(`${key}@${i}`);
    }
    expect(seen.length).toBeGreaterThan(3); // the traffic crosses thresholds, so the crossing path is compared too
    expect(b.w.exportJSON()).toEqual(a.w.exportJSON());
  });

  it('while learning, nothing crosses', () => {
    const ctx = fakeContext({ learningEnd: at(600) });
    const w = new EntityWindows<null>(ctx, 'w', { ...rateDefaults, baseline: rateDefaults }, metric, { make: () => null });
    const s = w.touch('a', at(1));
    expect(Array.from({ length: 1000 }, () => w.add(s, 0, 1)).some(Boolean)).toBe(false);
  });
});

describe('Findings', () => {
  it('raises on first sight, then refreshes dirty findings every POSTURE_REFRESH seconds and at flush', () => {
    const ctx = fakeContext();
    const raised: string[] = [];
    const fs = new Findings<null>(ctx, () => null, (x) => raised.push(`${x.key}:${x.proof.n}`));
    const see = (key: string, s: number) => {
      const x = fs.observe(key);
      x.proof.add(publish(f, at(s), 't'));
      fs.report(x);
    };
    fs.tick(at(0));
    see('a', 1);
    see('a', 2);
    see('a', 3);
    expect(raised).toEqual(['a:1']);
    fs.tick(at(POSTURE_REFRESH - 1));
    expect(raised).toEqual(['a:1']);
    fs.tick(at(POSTURE_REFRESH));
    expect(raised).toEqual(['a:1', 'a:3']);
    fs.flush();
    expect(raised).toEqual(['a:1', 'a:3']);
    see('a', 400);
    fs.flush();
    expect(raised).toEqual(['a:1', 'a:3', 'a:4']);
  });
});

describe('SetBaselines', () => {
  it('entities seen while learning learn until it ends; later ones for entityLearning', () => {
    const ctx = fakeContext({ learningEnd: at(600) });
    const sets = new SetBaselines(ctx, 's', 10, 2, 300);
    expect(sets.entry('early', at(10)).learnUntil).toBe(at(600));
    expect(sets.entry('late', at(700)).learnUntil).toBe(at(1000));
    const k = sets.entry('early', at(10));
    for (const x of ['a', 'b', 'c']) sets.add(k, x);
    expect([...k.items]).toEqual(['a', 'b']);
    expect(sets.overflow).toBe(1);
  });
});
