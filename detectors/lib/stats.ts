// Robust statistics for per-entity baselines: median and MAD over a bounded history of
// window values, quantiles, and an EWMA that follows rates which drift.

type SimpleStatistics = typeof import('simple-statistics');
let simpleStatistics: SimpleStatistics | null = null;

/**
 * simple-statistics, loaded on first use: a run only needs it once an entity's window closes
 * with a history to judge, and loading it (one large module) is a measurable share of start-up.
 */
function ss(): SimpleStatistics {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (simpleStatistics ??= require('simple-statistics') as SimpleStatistics);
}

/** MAD of a normal distribution is 0.6745 sigma; scaling by 1.4826 makes it comparable to sigma. */
export const MAD_SCALE = 1.4826;

/**
 * Smallest spread used, as a fraction of the centre. A perfectly regular meter has MAD 0;
 * without a floor, 61 messages against a baseline of 60 would be "infinitely" anomalous.
 */
export const REL_SPREAD_FLOOR = 0.25;

export interface RobustSummary {
  readonly median: number;
  readonly mad: number;
  readonly ewma: number;
  readonly samples: number;
}

/** Serialised form: samples oldest first, EWMA, total samples ever added. */
export type RobustBaselineJSON = [samples: number[], ewma: number, total: number];

/** A bounded history of numeric samples for one entity and one metric. */
export class RobustBaseline {
  private readonly ring: number[] = [];
  private pos = 0;
  total = 0;
  ewma = 0;
  private cached: RobustSummary | null = null;

  constructor(readonly capacity: number, readonly alpha: number) {}

  add(x: number): void {
    if (this.ring.length < this.capacity) this.ring.push(x);
    else {
      this.ring[this.pos] = x;
      this.pos = (this.pos + 1) % this.capacity;
    }
    this.ewma = this.total === 0 ? x : this.ewma + this.alpha * (x - this.ewma);
    this.total++;
    this.cached = null;
  }

  /** Move only the EWMA (a value too unusual for the median's history). */
  drift(x: number): void {
    this.ewma = this.total === 0 ? x : this.ewma + this.alpha * (x - this.ewma);
    this.cached = null;
  }

  get size(): number {
    return this.ring.length;
  }

  summary(): RobustSummary {
    if (this.cached !== null) return this.cached;
    const n = this.ring.length;
    this.cached = n === 0
      ? { median: 0, mad: 0, ewma: 0, samples: 0 }
      : { median: ss().median(this.ring), mad: ss().medianAbsoluteDeviation(this.ring), ewma: this.ewma, samples: n };
    return this.cached;
  }

  quantile(p: number): number {
    return this.ring.length === 0 ? 0 : ss().quantile(this.ring, p);
  }

  /** Samples oldest first. */
  samples(): number[] {
    return this.ring.length < this.capacity ? this.ring.slice() : [...this.ring.slice(this.pos), ...this.ring.slice(0, this.pos)];
  }

  toJSON(): RobustBaselineJSON {
    return [this.samples(), this.ewma, this.total];
  }

  static fromJSON(j: unknown, capacity: number, alpha: number): RobustBaseline {
    const b = new RobustBaseline(capacity, alpha);
    if (!Array.isArray(j) || !Array.isArray(j[0])) return b;
    const xs = (j[0] as unknown[]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    for (const x of xs.slice(-capacity)) b.add(x);
    if (typeof j[1] === 'number' && Number.isFinite(j[1])) b.ewma = j[1];
    if (typeof j[2] === 'number' && j[2] >= b.total) b.total = j[2];
    return b;
  }
}

export interface ThresholdParams {
  /** Robust z-score the observed value must reach. */
  readonly z: number;
  /** Absolute minimum, so tiny baselines do not alert on noise. */
  readonly minCount: number;
  /** Threshold for an entity with fewer than minSamples samples (no trustworthy baseline yet). */
  readonly coldThreshold: number;
  readonly minSamples: number;
}

export interface Threshold {
  /** Fire when observed >= value. */
  readonly value: number;
  /** null when the entity has no mature baseline. */
  readonly centre: number | null;
  readonly spread: number;
  readonly samples: number;
}

/**
 * The threshold that needs BOTH a large deviation and a minimum absolute size:
 * max(minCount, ceil(centre + z * spread)), where the centre is the larger of the median
 * and the EWMA (the EWMA catches up first when a fleet grows) and the spread is the scaled
 * MAD, floored at REL_SPREAD_FLOOR of the centre and at 1.
 */
export function robustThreshold(b: RobustBaseline | undefined, p: ThresholdParams, known = false): Threshold {
  if (b === undefined || b.size < p.minSamples) {
    // An entity seen before but never in a complete window of this metric (a client that
    // connects but never subscribes) has a baseline of 0; only a new one gets the cold threshold.
    if (known && (b === undefined || b.size === 0)) return { value: Math.max(p.minCount, Math.ceil(p.z)), centre: 0, spread: 1, samples: 0 };
    return { value: Math.max(p.minCount, p.coldThreshold), centre: null, spread: 0, samples: b?.size ?? 0 };
  }
  const s = b.summary();
  const centre = Math.max(s.median, s.ewma);
  const spread = spreadOf(s.mad, centre);
  return { value: Math.max(p.minCount, Math.ceil(centre + p.z * spread)), centre, spread, samples: s.samples };
}

export function spreadOf(mad: number, centre: number): number {
  return Math.max(MAD_SCALE * mad, REL_SPREAD_FLOOR * centre, 1);
}

/** Robust z-score of x against a threshold's centre and spread (null without a baseline). */
export function robustZ(x: number, t: Threshold): number | null {
  if (t.centre === null) return null;
  return round2((x - t.centre) / t.spread);
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
