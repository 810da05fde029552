// Tumbling windows of per-entity counters, each metric judged against the entity's own
// robust baseline. Windows are aligned to multiples of their length in capture time, so
// window starts (and alert ids) do not depend on where a capture begins.
//
// An event costs one Map lookup and a comparison, and a crossing fires at once (not at window
// close). The threshold is never below the metric's absolute minimum, so the median and MAD of an
// entity are only computed once its count reaches that minimum: most entities never do.
import type { DetectorContext, Schema } from './detector';
import { BaselineError, SECOND } from './detector';
import { Proof } from './proof';
import { RobustBaseline, robustThreshold, robustZ, round2, type Threshold } from './stats';
import type { LruEntry, LruTable } from './tables';
import type { Evidence, ProofLike } from '../../src/alerts/types';
import type { FlowSide } from '../../src/events/types';
import { FlowMemo } from './flow-memo';

/** Weight of the newest window in the EWMA: about the last ten active windows. */
export const EWMA_ALPHA = 0.1;

/** Tunables every baseline-windowed detector shares. */
export type RateTunables = {
  readonly window: number;
  readonly z: number;
  readonly minSamples: number;
  readonly history: number;
  readonly maxEntities: number;
};

export const rateDefaults: RateTunables = { window: 60, z: 6, minSamples: 1, history: 64, maxEntities: 10_000 };

export const rateSchema: Schema<RateTunables> = {
  window: { type: 'integer', min: 1, max: 86_400, description: 'counting window, seconds of capture time' },
  z: { type: 'number', min: 1, max: 100, description: 'robust z-score (median/MAD) a window must reach' },
  minSamples: { type: 'integer', min: 1, max: 1000, description: 'complete active windows an entity needs before its own baseline is used (before: the cold threshold)' },
  history: { type: 'integer', min: 4, max: 10_000, description: 'window values kept per entity and metric' },
  maxEntities: { type: 'integer', min: 1, max: 10_000_000, description: 'entities tracked; least recently seen are evicted (counted)' },
};

export interface WindowOptions {
  /** Window length, seconds. */
  readonly window: number;
  readonly maxEntities: number;
  /** Judge each entity against its own baseline; without it every metric's threshold is its minCount. */
  readonly baseline?: Pick<RateTunables, 'z' | 'minSamples' | 'history'>;
}

export interface Metric {
  readonly name: string;
  /** Absolute minimum for a firing. */
  readonly minCount: number;
  /** Threshold while the entity has fewer than minSamples windows. */
  readonly coldThreshold: number;
}

/** Metrics an EntityWindows can count (each has fields of its own in WindowSlot). */
export const MAX_METRICS = 3;

/** Largest fast-path limit: above it (or for Infinity) add() and over() look at the exact threshold. */
const LIMIT_CAP = 2 ** 30;

/** A threshold value as a fast-path limit: a small integer, so that its field never holds a double. */
function limitOf(value: number): number {
  return value >= LIMIT_CAP ? LIMIT_CAP : Math.ceil(value);
}

export class WindowSlot<X> implements LruEntry {
  // Fields in the order V8 lays them out: what every event reads or writes first (lru, live,
  // fired, metric 0's count and limit) share the object's first cache line. The counts are fields,
  // not an array: an array is two more objects (the array and its elements), two more cache lines
  // an event, which were most of the detectors' cache misses on the bench capture.
  lru = 0;
  live = false;
  /** Bit i set: metric i crossed its threshold in this window. */
  fired = 0;
  /** Metric 0's count in the window (see count()). */
  c0 = 0;
  /**
   * Metric 0's limit so far: its threshold, or a lower bound of it until that is computed,
   * rounded up (counts are integers) and capped at 2^30, so a small integer. A count below it
   * has not crossed; at or above it, the exact threshold decides.
   */
  l0 = 0;
  c1 = 0;
  l1 = 0;
  c2 = 0;
  l2 = 0;
  x: X;
  readonly proof = new Proof();
  /** Bit i set: thr[i] is the entity's threshold; clear: thr[i] is only its lower bound. */
  exact = 0;
  /** The entity was active in an earlier window (or came from a loaded baseline). */
  known = false;
  /** Capture time of the entity's first event in this window. */
  first = 0;
  readonly key: string;
  readonly base: RobustBaseline[];
  readonly thr: Threshold[] = [];

  constructor(key: string, base: RobustBaseline[], x: X) {
    this.x = x;
    this.key = key;
    this.base = base;
  }

  /** Metric m's count in the window. */
  count(m: number): number {
    return m === 0 ? this.c0 : m === 1 ? this.c1 : this.c2;
  }

  /** Adds n to metric m's count; returns the new count. */
  addCount(m: number, n: number): number {
    if (m === 0) return (this.c0 += n);
    if (m === 1) return (this.c1 += n);
    return (this.c2 += n);
  }

  /** Metric m's fast-path limit (see l0). */
  limit(m: number): number {
    return m === 0 ? this.l0 : m === 1 ? this.l1 : this.l2;
  }

  setLimit(m: number, value: number): void {
    const l = limitOf(value);
    if (m === 0) this.l0 = l;
    else if (m === 1) this.l1 = l;
    else this.l2 = l;
  }
}

/** What renew() needs of an event: its capture time. */
export interface AtTime {
  readonly ts: number;
}

/** What touchSide() and touchFlow() need of an event: its flow side and capture time. */
export interface AtFlow extends AtTime {
  readonly flow: FlowSide;
}

/** See EntityWindows.bySide. */
export interface SideKey<X> {
  readonly keyOf: (side: FlowSide) => string;
  readonly memo: FlowMemo<WindowSlot<X>>;
}

export interface WindowHooks<X> {
  make(key: string): X;
  /** The window of a slot closes; `s.fired` tells which metrics crossed (refresh their alerts here). */
  onClose?(s: WindowSlot<X>, windowStart: number): void;
}

const NEVER: Threshold = { value: Infinity, centre: null, spread: 0, samples: 0 };

export class EntityWindows<X> {
  windowStart = 0;
  windowEnd = -Infinity;
  readonly table: LruTable<WindowSlot<X>>;
  private readonly active: WindowSlot<X>[] = [];
  private readonly len: number;
  /** Per metric, the absolute minimum as a threshold (the lower bound of any entity's). */
  private readonly floors: Threshold[];
  private readonly memo: FlowMemo<WindowSlot<X>>;

  constructor(
    private readonly ctx: DetectorContext,
    name: string,
    private readonly t: WindowOptions,
    readonly metrics: readonly Metric[],
    private readonly hooks: WindowHooks<X>,
  ) {
    if (metrics.length < 1 || metrics.length > MAX_METRICS) throw new RangeError(`EntityWindows ${name}: 1 to ${MAX_METRICS} metrics, got ${metrics.length}`);
    this.len = t.window * SECOND;
    this.table = ctx.lru<WindowSlot<X>>(name, t.maxEntities);
    this.memo = new FlowMemo(ctx.flowMemo);
    this.floors = metrics.map((m) => ({ value: m.minCount, centre: null, spread: 0, samples: 0 }));
  }

  /** Entities active in the current window (0: no slot is live, a lookup can be skipped). */
  get liveCount(): number {
    return this.active.length;
  }

  /** The entity's slot in the current window; rolls the window first when ts is past its end. */
  touch(key: string, ts: number): WindowSlot<X> {
    if (ts >= this.windowEnd) this.roll(ts);
    let s = this.table.get(key);
    if (s === undefined) s = this.table.set(key, this.newSlot(key));
    if (!s.live) this.activate(s, ts);
    return s;
  }

  /**
   * touch() for a slot the caller kept from an earlier touch (in a small cache of its own): the
   * slot made current again, or null when the table evicted it since. Takes the event rather than
   * its time: a double passed on to a call is boxed first, one allocation per event.
   */
  renew(s: WindowSlot<X>, e: AtTime): WindowSlot<X> | null {
    if (s.lru > 0 && s.live === true && e.ts < this.windowEnd) return s;
    return this.renewSlow(s, e);
  }

  private renewSlow(s: WindowSlot<X>, e: AtTime): WindowSlot<X> | null {
    if (s.lru < 0) return null;
    if (s.lru === 0) s.lru = 1;
    const ts = e.ts;
    if (ts >= this.windowEnd) this.roll(ts);
    if (!s.live) this.activate(s, ts);
    return s;
  }

  /**
   * A key that is a function of the flow side (its server, its source address), for touchSide:
   * each has a memo of its own, since one flow side can stand for two entities (a CoAP peer that
   * is client and server on one flow sends requests and responses on the same side).
   */
  bySide(keyOf: (side: FlowSide) => string): SideKey<X> {
    return { keyOf, memo: new FlowMemo(this.ctx.flowMemo) };
  }

  /**
   * touch() for the entity `by` makes of the event's flow side: its key is only computed when the
   * side is not remembered yet.
   */
  touchSide(e: AtFlow, by: SideKey<X>): WindowSlot<X> {
    const s = by.memo.getSide(e.flow);
    // The usual case, small enough to be inlined into the detector: remembered, live, current.
    if (s !== null && s.lru > 0 && s.live === true && e.ts < this.windowEnd) return s;
    return this.renewMemo(by.memo, e, '', s, by.keyOf);
  }

  /** touch() for the entity of the event's flow: remembered per flow side, so a flow's next event skips the lookup. */
  touchFlow(e: AtFlow, key: string): WindowSlot<X> {
    const s = this.memo.get(e.flow, key);
    if (s !== null && s.lru > 0 && s.live === true && e.ts < this.windowEnd) return s;
    return this.renewMemo(this.memo, e, key, s, undefined);
  }

  /**
   * The rest of touchSide and touchFlow, out of line: a remembered slot made current as renew()
   * does, or, for a miss or an evicted slot, the entity looked up by its key and remembered.
   */
  private renewMemo(
    memo: FlowMemo<WindowSlot<X>>, e: AtFlow, key: string, s: WindowSlot<X> | null, keyOf: ((side: FlowSide) => string) | undefined,
  ): WindowSlot<X> {
    const kept = s === null ? null : this.renewSlow(s, e);
    return kept ?? memo.set(e.flow, key, this.touch(keyOf === undefined ? key : keyOf(e.flow), e.ts));
  }

  /**
   * Whether metric m is at least halfway to its absolute minimum: where a hot detector starts
   * keeping evidence (frames, sources), so quiet entities cost a count and nothing more.
   */
  near(s: WindowSlot<X>, m: number): boolean {
    return s.count(m) * 2 >= s.limit(m);
  }

  /**
   * The slot's proof, timed from the entity's first event in the window. Frames may start later
   * (from halfway to the threshold); from then on every event is recorded, so last is exact.
   */
  proofOf(s: WindowSlot<X>): ProofLike {
    const p = s.proof;
    return { frames: p.frames, flows: p.flows, first: s.first, last: p.n > 0 ? p.last : s.first, n: p.n };
  }

  /**
   * near(s, 0), spelt for metric 0. A detector's onEvent is compiled with what it calls inlined,
   * within a budget of bytecode: near() brings count() and limit() with it, each a three-way
   * branch on m; this is one comparison (about a sixth of the bytecode).
   */
  near0(s: WindowSlot<X>): boolean {
    return s.c0 * 2 >= s.l0;
  }

  /** add(s, 0, n), spelt for metric 0 (see near0): about half of add() with addCount() and limit(). */
  add0(s: WindowSlot<X>, n: number): boolean {
    const c = (s.c0 += n);
    if (c < s.l0 || (s.fired & 1) !== 0 || c < this.threshold(s, 0).value) return false;
    s.fired |= 1;
    return true;
  }

  /** Count n for metric m; true exactly when this crosses the metric's threshold. */
  add(s: WindowSlot<X>, m: number, n: number): boolean {
    const c = s.addCount(m, n);
    if (c < s.limit(m) || (s.fired & (1 << m)) !== 0 || c < this.threshold(s, m).value) return false;
    s.fired |= 1 << m;
    return true;
  }

  /** Whether metric m is at or above its threshold (for a detector with its own condition). */
  over(s: WindowSlot<X>, m: number): boolean {
    const c = s.count(m);
    return c >= s.limit(m) && c >= this.threshold(s, m).value;
  }

  /** The entity's threshold for metric m in this window (computed on first need). */
  threshold(s: WindowSlot<X>, m: number): Threshold {
    const bit = 1 << m;
    if ((s.exact & bit) === 0) {
      s.exact |= bit;
      const h = this.t.baseline;
      const mt = this.metrics[m];
      if (h !== undefined) s.thr[m] = robustThreshold(s.base[m], { z: h.z, minCount: mt.minCount, coldThreshold: mt.coldThreshold, minSamples: h.minSamples }, s.known);
      s.setLimit(m, s.thr[m].value);
    }
    return s.thr[m];
  }

  /** Mark metric m fired (for a detector with its own condition); true the first time in the window. */
  fire(s: WindowSlot<X>, m: number): boolean {
    if ((s.fired & (1 << m)) !== 0) return false;
    s.fired |= 1 << m;
    return true;
  }

  tick(now: number): void {
    if (now >= this.windowEnd) this.roll(now);
  }

  /** Close the current window even though it is not over (end of input). */
  flush(): void {
    // The window is cut short by the end of input: judged, not learned from.
    this.close(false);
    this.windowEnd = -Infinity;
  }

  evidence(s: WindowSlot<X>, m: number, extra?: Record<string, Evidence[string]>): Evidence {
    const t = this.threshold(s, m);
    const observed = s.count(m);
    if (this.t.baseline === undefined) return { metric: this.metrics[m].name, observed, baseline: null, threshold: t.value, window: this.t.window, ...extra };
    return {
      metric: this.metrics[m].name,
      observed,
      baseline: t.centre === null ? null : round2(t.centre),
      threshold: t.value,
      window: this.t.window,
      z: robustZ(observed, t),
      spread: round2(t.spread),
      samples: t.samples,
      ...extra,
    };
  }

  /** First metric that fired in this window, -1 if none. */
  firstFired(s: WindowSlot<X>): number {
    for (let m = 0; m < this.metrics.length; m++) if ((s.fired & (1 << m)) !== 0) return m;
    return -1;
  }

  exportJSON(): unknown {
    if (this.t.baseline === undefined) return null;
    const entities: [string, unknown[]][] = [];
    // Entities without a sample yet are kept too: known, they are judged against 0, not as new.
    for (const [key, s] of this.table.entries()) if (s.known) entities.push([key, s.base.map((b) => b.toJSON())]);
    return { window: this.t.window, metrics: this.metrics.map((m) => m.name), entities };
  }

  importJSON(data: unknown): void {
    const h = this.t.baseline;
    if (h === undefined) return;
    const d = data as { window?: unknown; metrics?: unknown; entities?: unknown };
    const names = this.metrics.map((m) => m.name).join(',');
    if (d === null || typeof d !== 'object' || !Array.isArray(d.entities)) throw new BaselineError('not a windowed baseline');
    if (d.window !== this.t.window) throw new BaselineError(`baseline was learned with ${String(d.window)} s windows, this run uses ${this.t.window} s`);
    if (!Array.isArray(d.metrics) || d.metrics.join(',') !== names) throw new BaselineError(`baseline metrics ${String(d.metrics)} differ from ${names}`);
    for (const row of d.entities as unknown[]) {
      if (!Array.isArray(row) || typeof row[0] !== 'string' || !Array.isArray(row[1])) continue;
      const key = row[0];
      const base = this.metrics.map((_, i) => RobustBaseline.fromJSON((row[1] as unknown[])[i], h.history, EWMA_ALPHA));
      this.table.set(key, new WindowSlot(key, base, this.hooks.make(key))).known = true;
    }
  }

  private newSlot(key: string): WindowSlot<X> {
    const h = this.t.baseline;
    const base = h === undefined ? [] : this.metrics.map(() => new RobustBaseline(h.history, EWMA_ALPHA));
    return new WindowSlot(key, base, this.hooks.make(key));
  }

  private activate(s: WindowSlot<X>, ts: number): void {
    s.live = true;
    s.first = ts;
    // Fixed thresholds are exact from the start; learning never fires.
    const learning = this.ctx.learning;
    s.exact = this.t.baseline === undefined || learning ? -1 : 0;
    const n = this.metrics.length;
    for (let m = 0; m < n; m++) {
      s.thr[m] = learning && this.t.baseline !== undefined ? NEVER : this.floors[m];
      s.setLimit(m, s.thr[m].value);
    }
    this.active.push(s);
  }

  private roll(ts: number): void {
    // A window that began before the input did is partial: it is judged but not learned from.
    this.close(this.windowStart >= this.ctx.startTs);
    this.windowStart = Math.floor(ts / this.len) * this.len;
    this.windowEnd = this.windowStart + this.len;
  }

  private close(learn: boolean): void {
    const ws = this.windowStart;
    for (const s of this.active) {
      this.hooks.onClose?.(s, ws);
      // A window that crossed its threshold does not enter the median: an attack must not become
      // the baseline. It still moves the EWMA, so a lasting change of rate stops alerting after a while.
      for (let m = 0; m < this.metrics.length; m++) {
        if (learn && s.base.length > 0) {
          if ((s.fired & (1 << m)) === 0) s.base[m].add(s.count(m));
          else s.base[m].drift(s.count(m));
        }
      }
      s.c0 = 0;
      s.c1 = 0;
      s.c2 = 0;
      s.fired = 0;
      s.live = false;
      s.known = true;
      s.proof.reset();
    }
    this.active.length = 0;
  }
}
