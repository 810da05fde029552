import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RobustBaseline, robustThreshold, robustZ, spreadOf, MAD_SCALE, REL_SPREAD_FLOOR } from '../../../detectors/lib/stats';

const params = { z: 6, minCount: 10, coldThreshold: 1000, minSamples: 5 };

describe('RobustBaseline', () => {
  it('keeps median and MAD of the last `capacity` samples', () => {
    const b = new RobustBaseline(5, 0.1);
    for (const x of [100, 1, 2, 3, 4, 5]) b.add(x);
    expect(b.samples()).toEqual([1, 2, 3, 4, 5]);
    expect(b.summary().median).toBe(3);
    expect(b.summary().mad).toBe(1);
    expect(b.total).toBe(6);
  });

  it('ignores an outlier in the median but follows it in the EWMA', () => {
    const b = new RobustBaseline(64, 0.5);
    for (let i = 0; i < 9; i++) b.add(10);
    b.add(1000);
    expect(b.summary().median).toBe(10);
    expect(b.ewma).toBeCloseTo(505);
  });

  it('drift() moves only the EWMA', () => {
    const b = new RobustBaseline(8, 0.1);
    for (let i = 0; i < 5; i++) b.add(60);
    b.drift(600);
    expect(b.size).toBe(5);
    expect(b.summary().median).toBe(60);
    expect(b.ewma).toBeCloseTo(114);
  });

  it('quantile', () => {
    const b = new RobustBaseline(100, 0.1);
    for (let i = 1; i <= 100; i++) b.add(i);
    expect(b.quantile(0.95)).toBeCloseTo(95.05); // linear interpolation between order statistics
    expect(new RobustBaseline(4, 0.1).quantile(0.5)).toBe(0);
  });

  it('round-trips through JSON, in order, bounded by capacity', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 1e6 }), { maxLength: 40 }), fc.integer({ min: 4, max: 16 }), (xs, cap) => {
      const b = new RobustBaseline(cap, 0.1);
      for (const x of xs) b.add(x);
      const c = RobustBaseline.fromJSON(JSON.parse(JSON.stringify(b.toJSON())), cap, 0.1);
      expect(c.samples()).toEqual(b.samples());
      expect(c.ewma).toBe(b.ewma);
      expect(c.summary()).toEqual(b.summary());
      expect(b.size).toBeLessThanOrEqual(cap);
    }));
  });

  it('fromJSON tolerates garbage', () => {
    expect(RobustBaseline.fromJSON('nope', 4, 0.1).size).toBe(0);
    expect(RobustBaseline.fromJSON([[1, 'x', null, 2]], 4, 0.1).samples()).toEqual([1, 2]);
  });
});

describe('robustThreshold', () => {
  it('uses the cold threshold until minSamples', () => {
    const b = new RobustBaseline(64, 0.1);
    for (let i = 0; i < 4; i++) b.add(60);
    expect(robustThreshold(b, params)).toMatchObject({ value: 1000, centre: null });
    expect(robustThreshold(undefined, params).value).toBe(1000);
  });

  it('needs both a deviation and the absolute minimum', () => {
    const b = new RobustBaseline(64, 0.1);
    for (let i = 0; i < 5; i++) b.add(60);
    // MAD 0: spread is 25 % of the centre, 15; 60 + 6 x 15 = 150.
    expect(robustThreshold(b, params).value).toBe(150);
    const tiny = new RobustBaseline(64, 0.1);
    for (let i = 0; i < 5; i++) tiny.add(0);
    // 0 + 6 x 1 = 6 is noise: the absolute minimum (10) decides.
    expect(robustThreshold(tiny, params).value).toBe(10);
  });

  it('widens with the MAD', () => {
    const b = new RobustBaseline(64, 0.1);
    for (const x of [20, 40, 60, 80, 100]) b.add(x);
    const t = robustThreshold(b, params);
    expect(t.spread).toBeCloseTo(MAD_SCALE * 20);
    expect(t.value).toBe(Math.ceil(60 + 6 * MAD_SCALE * 20));
    expect(robustZ(t.value, t)).toBeGreaterThanOrEqual(6);
    expect(robustZ(t.value - 1, t)).toBeLessThan(6);
  });

  it('spread floors', () => {
    expect(spreadOf(0, 0)).toBe(1);
    expect(spreadOf(0, 100)).toBe(REL_SPREAD_FLOOR * 100);
  });

  it('the threshold is the smallest value whose z reaches z (property)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 5, maxLength: 30 }), fc.double({ min: 1, max: 10, noNaN: true }), (xs, z) => {
      const b = new RobustBaseline(64, 0.1);
      for (const x of xs) b.add(x);
      const t = robustThreshold(b, { z, minCount: 0, coldThreshold: 0, minSamples: 5 });
      const centre = t.centre!;
      expect(t.value).toBeGreaterThanOrEqual(centre + z * t.spread - 1e-9);
      expect(t.value - 1).toBeLessThan(centre + z * t.spread);
    }));
  });
});
