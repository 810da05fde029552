// mqtt.protocol_violation: the decoder's MQTT anomalies (malformed packets, invalid QoS, reserved
// types, bad flags...), folded into one alert per flow and window with a count per code.
// Fuzzers, exploit attempts and broken clients all show up here; the codes tell them apart.
import type { AnomalyEvent } from '../src/events/types';
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { flowLabel } from './lib/endpoints';
import { EntityWindows, type WindowSlot } from './lib/windows';

export const id = 'mqtt.protocol_violation';
export const category = 'anomaly';

export const tunables = {
  window: 300,
  minCount: 1,
  mediumAt: 10,
  ignoreCodes: ['mqtt.truncated'] as readonly string[],
  maxEntities: 10_000,
};

export const schema: Schema<typeof tunables> = {
  window: { type: 'integer', min: 1, max: 86_400, description: 'window per flow, seconds' },
  minCount: { type: 'integer', min: 1, max: 1e6, description: 'anomalies on one flow in the window before an alert' },
  mediumAt: { type: 'integer', min: 1, max: 1e6, description: 'anomalies on one flow in the window that make the alert medium severity' },
  ignoreCodes: { type: 'string[]', description: 'anomaly codes not counted (truncation is usually the capture ending mid-packet)' },
  maxEntities: { type: 'integer', min: 1, max: 1e7, description: 'flows tracked (LRU, counted)' },
};

export function create(ctx: DetectorContext, t: typeof tunables) {
  const ignore = new Set(t.ignoreCodes);
  const raise = (s: WindowSlot<Map<string, number>>, ws: number): void => {
    const codes = [...s.x].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([c, n]) => `${c} x${n}`);
    ctx.alert({
      key: s.key,
      windowStart: ws,
      entity: { kind: 'flow', value: s.proof.flows.length > 0 ? flowLabel(s.proof.flows[0]) : s.key },
      severity: s.count(0) >= t.mediumAt ? 'medium' : 'low',
      summary: `${s.count(0)} MQTT protocol violation${s.count(0) === 1 ? '' : 's'} on one flow in ${t.window} s: ${codes.slice(0, 5).join(', ')}.`,
      evidence: w.evidence(s, 0, { codes: codes.slice(0, 20) }),
      proof: s.proof,
    });
  };
  const w: EntityWindows<Map<string, number>> = new EntityWindows<Map<string, number>>(ctx, 'flows', { window: t.window, maxEntities: t.maxEntities },
    [{ name: 'anomalies', minCount: t.minCount, coldThreshold: t.minCount }], {
      make: () => new Map(),
      onClose(s, ws) {
        if (s.fired !== 0) raise(s, ws);
        s.x.clear();
      },
    });

  return {
    onEvent(e: AnomalyEvent): void {
      if (!e.code.startsWith('mqtt.') || ignore.has(e.code)) return;
      const s = w.touch(e.flow.communityId || String(e.flow.flowId), e.ts);
      s.proof.add(e);
      s.x.set(e.code, (s.x.get(e.code) ?? 0) + 1);
      if (w.add(s, 0, 1)) raise(s, w.windowStart);
    },
    tick: (now: number) => w.tick(now),
    flush: () => w.flush(),
  };
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'low',
  usesBaseline: false,
  subscribes: ['anomaly'],
  description: "The decoder's MQTT anomalies (malformed packets, invalid QoS, reserved types or flags...), aggregated per flow.",
  recommendation: 'Identify the client on this flow: update or fix a broken MQTT library, or block a fuzzer; make sure the broker rejects malformed packets and is patched.',
  mitre: null, // malformed traffic alone does not show intent; exploitation would need more than this
});
