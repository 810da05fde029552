// mqtt.wildcard_subscription: a wildcard filter a client has not used before that covers everything
// ('#', '+/#'), the broker's own tree ('$SYS/#'), or far more than the client's baseline (its literal
// prefix at least `minDrop` levels shorter than the shortest it used). Baselines are per principal
// (username, else client id), as broker ACLs are; a principal first seen after the learning period
// is only reported for the first two kinds while it learns.
import type { MqttSubscribe } from '../src/events/types';
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { hasWildcard, literalDepth, principal, unshared } from './lib/mqtt';
import { proofOf } from './lib/proof';
import { SetBaselines } from './lib/sets';

export const id = 'mqtt.wildcard_subscription';
export const category = 'anomaly';

export const tunables = {
  minDrop: 2,
  entityLearning: 600,
  maxEntities: 10_000,
  maxFilters: 256,
};

export const schema: Schema<typeof tunables> = {
  minDrop: { type: 'integer', min: 1, max: 32, description: 'levels a new filter\'s literal prefix must be shorter than the shortest in the baseline' },
  entityLearning: { type: 'integer', min: 0, max: 30 * 86_400, description: 'seconds a principal first seen after the learning period learns its filters' },
  maxEntities: { type: 'integer', min: 1, max: 1e7, description: 'principals tracked (LRU, counted)' },
  maxFilters: { type: 'integer', min: 1, max: 1e5, description: 'filters remembered per principal' },
};

type Breadth = 'everything' | 'system' | 'broader';

/** '#', '+/#', '+/+/#'...: every topic (except $-topics, [MQTT-4.7.2-1]). */
function coversEverything(f: string): boolean {
  return /^(\+\/)*#$/.test(f);
}

export function create(ctx: DetectorContext, t: typeof tunables) {
  const known = new SetBaselines(ctx, 'principals', t.maxEntities, t.maxFilters, t.entityLearning);

  const breadth = (f: string, items: Set<string>, mature: boolean): Breadth | null => {
    if (coversEverything(f)) return 'everything';
    if (f.startsWith('$SYS/') || f === '$SYS') return 'system';
    if (!mature || items.size === 0) return null;
    let min = Infinity;
    for (const k of items) min = Math.min(min, literalDepth(k));
    return literalDepth(f) <= min - t.minDrop ? 'broader' : null;
  };

  const RANK: Record<Breadth, number> = { everything: 0, system: 1, broader: 2 };

  return {
    onEvent(e: MqttSubscribe): void {
      const who = principal(e);
      const k = known.entry(who, e.ts);
      const learning = known.learning(k, e.ts);
      const flagged: [string, Breadth][] = [];
      for (const sub of e.subscriptions) {
        const f = unshared(sub.topic);
        if (ctx.learning) known.add(k, f);
        if (ctx.learning || k.items.has(f)) continue;
        const b = hasWildcard(f) ? breadth(f, k.items, !learning) : null;
        if (b !== null) flagged.push([f, b]);
        else if (learning) known.add(k, f);
      }
      if (flagged.length === 0) return;
      // One alert per SUBSCRIBE, named after its broadest filter.
      flagged.sort((x, y) => RANK[x[1]] - RANK[y[1]]);
      const [f, b] = flagged[0];
      const filters = flagged.map(([x]) => x);
      const shortest = [...k.items].sort((x, y) => literalDepth(x) - literalDepth(y)).slice(0, 5);
      ctx.alert({
        key: who,
        windowStart: e.ts,
        entity: e.username ? { kind: 'username', value: who } : { kind: 'client_id', value: who },
        severity: b === 'everything' ? 'high' : 'medium',
        summary: b === 'broader'
          ? `${who} subscribed to ${filters.join(', ')}, far broader than any filter in its baseline (${shortest.join(', ')}).`
          : `${who} subscribed to ${filters.join(', ')} (${b === 'everything' ? 'every topic' : "the broker's $SYS tree"}), which it had not done before.`,
        evidence: {
          metric: 'literal prefix levels', observed: literalDepth(f), baseline: shortest.length ? literalDepth(shortest[0]) : null,
          threshold: b === 'broader' ? literalDepth(shortest[0]) - t.minDrop : null, window: 0,
          filter: f, filters, breadth: b, clientId: e.clientId, baselineFilters: shortest,
        },
        proof: proofOf(e),
      });
    },
    exportBaseline: () => known.exportJSON(),
    importBaseline: (d: unknown) => known.importJSON(d),
  };
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'medium',
  usesBaseline: true,
  subscribes: ['mqtt.subscribe'],
  description: "A wildcard subscription to every topic, to $SYS, or far broader than the client's baseline, from a client that has not used it before.",
  recommendation: 'Deny # and $SYS/# in the broker ACLs for device and application accounts; grant each client only the subtrees it needs.',
  mitre: 'T0861', // Point & Tag Identification: one broad subscription lists every topic (point) and its values
});
