// mqtt.retained_flood: a client storing retained messages far beyond its baseline: retained
// PUBLISH rate, retained bytes, or new retained topics per window. The broker keeps every
// retained message until it is replaced, so a flood fills its memory and what subscribers see.
// Counted per principal (username, else client id): one set of credentials over many connections
// is one flood.
import type { MqttPublish } from '../src/events/types';
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { principal, principalKind } from './lib/mqtt';
import { CappedSet } from './lib/tables';
import { EntityWindows, rateDefaults, rateSchema, type WindowSlot } from './lib/windows';

export const id = 'mqtt.retained_flood';
export const category = 'anomaly';

export const tunables = {
  ...rateDefaults,
  minRetained: 100,
  coldRetained: 1000,
  minBytes: 1_000_000,
  coldBytes: 10_000_000,
  minNewTopics: 50,
  coldNewTopics: 200,
  maxTopicsPerClient: 4096,
};

export const schema: Schema<typeof tunables> = {
  ...rateSchema,
  minRetained: { type: 'integer', min: 1, max: 1e9, description: 'retained PUBLISHes per window (absolute floor)' },
  coldRetained: { type: 'integer', min: 1, max: 1e9, description: 'retained PUBLISHes per window for a client without a mature baseline' },
  minBytes: { type: 'integer', min: 1, max: 1e12, description: 'retained payload bytes per window (absolute floor)' },
  coldBytes: { type: 'integer', min: 1, max: 1e12, description: 'retained payload bytes per window for a client without a mature baseline' },
  minNewTopics: { type: 'integer', min: 1, max: 1e9, description: 'topics the client retains for the first time, per window (absolute floor)' },
  coldNewTopics: { type: 'integer', min: 1, max: 1e9, description: 'new retained topics per window for a client without a mature baseline' },
  maxTopicsPerClient: { type: 'integer', min: 1, max: 1e7, description: 'retained topics remembered per client (beyond, every topic counts as new)' },
};

const METRIC_NAMES = ['retained messages', 'retained bytes', 'new retained topics'];

/** The topics a principal has retained (its lifetime memory, kept across windows). */
class Retained {
  readonly topics: CappedSet;
  kind: 'username' | 'client_id' = 'client_id';
  constructor(max: number) {
    this.topics = new CappedSet(max);
  }
}

export function create(ctx: DetectorContext, t: typeof tunables) {
  const raise = (s: WindowSlot<Retained>, ws: number): void => {
    const m = w.firstFired(s);
    ctx.alert({
      key: s.key,
      windowStart: ws,
      entity: { kind: s.x.kind, value: s.key },
      summary: `${s.key} sent ${s.count(0)} retained messages (${s.count(1)} bytes, ${s.count(2)} new topics) in ${t.window} s; `
        + `${METRIC_NAMES[m]} ${s.count(m)} reached ${w.threshold(s, m).value}.`,
      evidence: w.evidence(s, m, { retained: s.count(0), bytes: s.count(1), newTopics: s.count(2) }),
      proof: s.proof,
      count: s.count(0),
    });
  };
  const w: EntityWindows<Retained> = new EntityWindows<Retained>(ctx, 'principals', { ...t, baseline: t }, [
    { name: 'retained', minCount: t.minRetained, coldThreshold: t.coldRetained },
    { name: 'bytes', minCount: t.minBytes, coldThreshold: t.coldBytes },
    { name: 'new_topics', minCount: t.minNewTopics, coldThreshold: t.coldNewTopics },
  ], { make: () => new Retained(t.maxTopicsPerClient), onClose: (s, ws) => s.fired !== 0 && raise(s, ws) });

  return {
    onEvent(e: MqttPublish): void {
      if (e.flow.dir !== 'to_server') return;
      // Every PUBLISH makes the client's window active, so a window without retained messages
      // counts as 0: a client that never retained anything has a baseline of 0, not none.
      const s = w.touchFlow(e, principal(e));
      if (!e.retain) return;
      s.x.kind = principalKind(e);
      s.proof.add(e);
      const before = s.fired;
      w.add(s, 0, 1);
      w.add(s, 1, e.payloadLength);
      // The topics set is the client's lifetime memory (kept across windows), not per window.
      if (s.x.topics.add(e.topic)) w.add(s, 2, 1);
      if (before === 0 && s.fired !== 0) raise(s, w.windowStart);
    },
    tick: (now: number) => w.tick(now),
    flush: () => w.flush(),
    exportBaseline: () => w.exportJSON(),
    importBaseline: (d: unknown) => w.importJSON(d),
  };
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'medium',
  usesBaseline: true,
  subscribes: ['mqtt.publish'],
  direction: 'to_server', // it returns at once on anything else
  description: 'Retained PUBLISH rate, retained bytes or new retained topics of a client far above its baseline.',
  recommendation: 'Restrict which clients may publish retained messages (broker ACLs, retain_available=false for untrusted clients), cap retained messages and sizes, and clear the flooded topics.',
  mitre: 'T0814', // Denial of Service: the broker's retained store and every new subscriber are flooded
});
