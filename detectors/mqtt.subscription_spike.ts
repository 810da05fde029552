// mqtt.subscription_spike: a client subscribing far more than it usually does: subscription
// requests or distinct filters per window (topic enumeration, or churn that loads the broker).
// Counted per principal (username, else client id), like the broker's ACLs.
import type { MqttConnect, MqttSubscribe } from '../src/events/types';
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { principal, principalKind } from './lib/mqtt';
import { CappedSet } from './lib/tables';
import { EntityWindows, rateDefaults, rateSchema, type WindowSlot } from './lib/windows';

export const id = 'mqtt.subscription_spike';
export const category = 'anomaly';

export const tunables = {
  ...rateDefaults,
  minSubscriptions: 50,
  coldSubscriptions: 500,
  minDistinct: 50,
  coldDistinct: 200,
};

export const schema: Schema<typeof tunables> = {
  ...rateSchema,
  minSubscriptions: { type: 'integer', min: 1, max: 1e9, description: 'topic filters requested per window, repeats included (absolute floor)' },
  coldSubscriptions: { type: 'integer', min: 1, max: 1e9, description: 'filters requested per window for a client without a mature baseline' },
  minDistinct: { type: 'integer', min: 1, max: 1e9, description: 'distinct topic filters per window (absolute floor)' },
  coldDistinct: { type: 'integer', min: 1, max: 1e9, description: 'distinct filters per window for a client without a mature baseline' },
};

/** Distinct filters of the window, and whether the principal is a username. */
class Filters {
  readonly filters = new CappedSet(4096);
  kind: 'username' | 'client_id' = 'client_id';
}

export function create(ctx: DetectorContext, t: typeof tunables) {
  const raise = (s: WindowSlot<Filters>, ws: number): void => {
    const m = w.firstFired(s);
    ctx.alert({
      key: s.key,
      windowStart: ws,
      entity: { kind: s.x.kind, value: s.key },
      summary: `${s.key} requested ${s.count(0)} subscriptions (${s.count(1)} distinct filters) in ${t.window} s.`,
      evidence: w.evidence(s, m, { subscriptions: s.count(0), distinct: s.count(1), filters: s.x.filters.values(10) }),
      proof: s.proof,
      count: s.count(0),
    });
  };
  const w: EntityWindows<Filters> = new EntityWindows<Filters>(ctx, 'principals', { ...t, baseline: t }, [
    { name: 'subscriptions', minCount: t.minSubscriptions, coldThreshold: t.coldSubscriptions },
    { name: 'distinct_filters', minCount: t.minDistinct, coldThreshold: t.coldDistinct },
  ], {
    make: () => new Filters(),
    onClose(s, ws) {
      if (s.fired !== 0) raise(s, ws);
      s.x.filters.clear();
    },
  });

  return {
    onEvent(e: MqttSubscribe | MqttConnect): void {
      if (e.flow.dir !== 'to_server') return;
      const s = w.touch(principal(e), e.ts);
      s.x.kind = principalKind(e);
      // A CONNECT makes the client's window active: a client that never subscribes has a baseline of 0.
      if (e.type === 'mqtt.connect') return;
      s.proof.add(e);
      const before = s.fired;
      w.add(s, 0, e.subscriptions.length);
      for (const sub of e.subscriptions) if (s.x.filters.add(sub.topic)) w.add(s, 1, 1);
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
  subscribes: ['mqtt.subscribe', 'mqtt.connect'],
  description: 'SUBSCRIBE requests or distinct topic filters of a client far above its baseline (topic enumeration).',
  recommendation: 'Check the client: limit which topics it may read with per-client ACLs, and cap subscriptions per client on the broker.',
  mitre: 'T0861', // Point & Tag Identification: subscribing broadly to learn which topics (points) exist
});
