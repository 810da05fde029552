// mqtt.device_silent: a device that publishes regularly goes quiet for far longer than its usual
// gaps: an outage, a broken sensor, or a device that can no longer connect (an expired certificate).
// Silence threshold: max(minSilence, factor x a quantile of its usual gaps), where the baseline
// keeps the longest gap of each samplePeriod (one number a period per device, not one a message).
// Reported once per silence; refreshed with the outage length when the device speaks again.
import type { FlowSide, MqttPublish } from '../src/events/types';
import { BaselineError, SECOND, defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { clientKey } from './lib/mqtt';
import { RobustBaseline, round2 } from './lib/stats';
import { FlowMemo } from './lib/flow-memo';
import type { LruEntry } from './lib/tables';

export const id = 'mqtt.device_silent';
export const category = 'anomaly';

export const tunables = {
  minSilence: 30,
  factor: 10,
  quantile: 0.95,
  samplePeriod: 30,
  minGaps: 3,
  history: 128,
  checkEvery: 30,
  maxEntities: 10_000,
};

export const schema: Schema<typeof tunables> = {
  minSilence: { type: 'integer', min: 1, max: 30 * 86_400, description: 'shortest silence reported, seconds (absolute floor)' },
  factor: { type: 'number', min: 1, max: 1000, description: 'silence must exceed this many times the usual gap' },
  quantile: { type: 'number', min: 0.5, max: 1, description: 'quantile of the sampled gaps taken as the usual gap' },
  samplePeriod: { type: 'integer', min: 1, max: 86_400, description: 'the longest gap between PUBLISHes of each period of this many seconds is one baseline sample' },
  minGaps: { type: 'integer', min: 2, max: 1e5, description: 'samples a device needs in its baseline before its silence is judged' },
  history: { type: 'integer', min: 4, max: 1e5, description: 'samples kept per device' },
  checkEvery: { type: 'integer', min: 1, max: 86_400, description: 'how often devices are checked, seconds of capture time' },
  maxEntities: { type: 'integer', min: 1, max: 1e7, description: 'devices tracked (LRU, counted)' },
};

class Device implements LruEntry {
  lru = 0;
  /** 0 for a device known only from a loaded baseline (silent since the capture began). */
  lastSeen = 0;
  lastFrame = 0;
  lastFlow: FlowSide | null = null;
  /** Start of the silence already reported, 0 if none. */
  reported = 0;
  /** The longest gap (µs) in the sampling period that ends at periodEnd. */
  maxGap = 0;
  periodEnd = 0;

  constructor(readonly key: string, readonly gaps: RobustBaseline) {}
}

export function create(ctx: DetectorContext, t: typeof tunables) {
  const devices = ctx.lru<Device>('devices', t.maxEntities);
  const memo = new FlowMemo<Device>(ctx.flowMemo);
  let nextCheck = 0;

  const limit = (d: Device): number => Math.max(t.minSilence, t.factor * d.gaps.quantile(t.quantile));

  const raise = (d: Device, silence: number, thr: number, resumed: boolean): void => {
    const since = d.lastSeen || ctx.startTs;
    ctx.alert({
      key: d.key,
      windowStart: since,
      entity: { kind: 'client_id', value: d.key },
      summary: resumed
        ? `Device ${d.key} was silent for ${Math.round(silence)} s (usual gap ${round2(d.gaps.summary().median)} s) before publishing again.`
        : `Device ${d.key} has not published for ${Math.round(silence)} s; its usual gap is ${round2(d.gaps.summary().median)} s.`,
      evidence: {
        metric: 'seconds without a PUBLISH', observed: Math.round(silence), baseline: round2(d.gaps.summary().median),
        threshold: round2(thr), window: Math.round(silence), resumed, gapQuantile: round2(d.gaps.quantile(t.quantile)),
      },
      proof: { frames: d.lastFrame ? [d.lastFrame] : [], flows: d.lastFlow ? [d.lastFlow] : [], first: since, last: since, n: 1 },
      count: 1,
    });
  };

  const check = (now: number): void => {
    if (ctx.learning) return;
    for (const d of devices.values()) {
      if (d.reported !== 0 || d.gaps.size < t.minGaps) continue;
      const silence = (now - (d.lastSeen || ctx.startTs)) / SECOND;
      // Cheap test first: the quantile is only computed for devices already quiet for minSilence.
      if (silence < t.minSilence) continue;
      const thr = limit(d);
      if (silence < thr) continue;
      d.reported = d.lastSeen || ctx.startTs;
      raise(d, silence, thr, false);
    }
  };

  return {
    onEvent(e: MqttPublish): void {
      if (e.flow.dir !== 'to_server') return;
      const key = clientKey(e);
      let d = memo.get(e.flow, key);
      if (d === null || d.lru < 0) d = memo.set(e.flow, key, devices.get(key) ?? devices.set(key, new Device(key, new RobustBaseline(t.history, 0.1))));
      else if (d.lru === 0) d.lru = 1;
      if (d.reported !== 0) {
        raise(d, (e.ts - d.reported) / SECOND, limit(d), true);
        d.reported = 0;
      } else if (d.lastSeen !== 0 && e.ts - d.lastSeen > d.maxGap) {
        d.maxGap = e.ts - d.lastSeen;
      }
      if (e.ts >= d.periodEnd) {
        if (d.maxGap > 0) {
          const gap = d.maxGap / SECOND;
          // An outage is not a usual gap: it stays out of the baseline. (Gaps under minSilence are
          // under the limit by definition, so the quantile is rarely computed here.)
          if (gap < t.minSilence || ctx.learning || d.gaps.size < t.minGaps || gap < limit(d)) d.gaps.add(gap);
        }
        d.maxGap = 0;
        d.periodEnd = e.ts + t.samplePeriod * SECOND;
      }
      d.lastSeen = e.ts;
      d.lastFrame = e.frame;
      d.lastFlow = e.flow;
    },
    tick(now: number): void {
      if (now < nextCheck) return;
      nextCheck = now + t.checkEvery * SECOND;
      check(now);
    },
    flush: (endTs: number) => check(endTs),
    exportBaseline: () => ({ devices: [...devices.entries()].filter(([, d]) => d.gaps.size > 0).map(([k, d]) => [k, d.gaps.toJSON()]) }),
    importBaseline(data: unknown): void {
      const rows = (data as { devices?: unknown } | null)?.devices;
      if (!Array.isArray(rows)) throw new BaselineError('expected { devices: [...] }');
      for (const r of rows as unknown[]) {
        if (Array.isArray(r) && typeof r[0] === 'string') devices.set(r[0], new Device(r[0], RobustBaseline.fromJSON(r[1], t.history, 0.1)));
      }
    },
  };
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'medium',
  usesBaseline: true,
  subscribes: ['mqtt.publish'],
  direction: 'to_server', // it returns at once on anything else
  description: 'A device that publishes regularly stops for far longer than its usual gaps (outage, broken sensor, expired certificate).',
  recommendation: 'Check the device, its network path and its credentials (an expired client certificate or a rotated password stops a device cold); alert on certificate expiry ahead of time.',
  mitre: 'T0815', // Denial of View: whatever the cause, operators lose this device's data
});
