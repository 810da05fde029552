// mqtt.rate_anomaly: a client's, or a topic's, publish rate far above its own baseline.
// Counted per window of capture time; judged by robust z-score (median/MAD) with an absolute floor.
import type { MqttPublish } from '../src/events/types';
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { clientKey } from './lib/mqtt';
import { NO_VALUE } from './lib/sets';
import { CappedSet } from './lib/tables';
import { EntityWindows, rateDefaults, rateSchema, type WindowSlot } from './lib/windows';

export const id = 'mqtt.rate_anomaly';
export const category = 'anomaly';

export const tunables = {
  ...rateDefaults,
  minPublishes: 120,
  coldPublishes: 3000,
  topicMinPublishes: 120,
  topicColdPublishes: 3000,
};

export const schema: Schema<typeof tunables> = {
  ...rateSchema,
  minPublishes: { type: 'integer', min: 1, max: 1e9, description: 'PUBLISHes per window a client must reach (absolute floor)' },
  coldPublishes: { type: 'integer', min: 1, max: 1e9, description: 'PUBLISHes per window for a client without a mature baseline' },
  topicMinPublishes: { type: 'integer', min: 1, max: 1e9, description: 'PUBLISHes per window a topic must reach (absolute floor)' },
  topicColdPublishes: { type: 'integer', min: 1, max: 1e9, description: 'PUBLISHes per window for a topic without a mature baseline' },
};

/**
 * Per client: the slots of the topics it publishes (a small cache, so a message costs a lookup in
 * the client's handful of topics rather than in the table of all topics). Per topic and window:
 * who publishes to it once it nears its threshold, and whether its client's alert covers it.
 */
class Side {
  /** The client's last two topics and their slots, checked before the map (a topic string recurs as one object). */
  t0: string = NO_VALUE;
  s0: WindowSlot<Side> | null = null;
  t1: string = NO_VALUE;
  s1: WindowSlot<Side> | null = null;
  topics: Map<string, WindowSlot<Side>> | null = null;
  publishers: CappedSet | null = null;
  covered = false;
}

const TOPICS_PER_CLIENT = 64;

export function create(ctx: DetectorContext, t: typeof tunables) {
  const raise = (w: EntityWindows<Side>, s: WindowSlot<Side>, ws: number, topic: boolean): void => {
    const ev = w.evidence(s, 0, topic ? { publishers: s.x.publishers?.values(5).sort() ?? null } : {});
    ctx.alert({
      key: `${topic ? 'topic' : 'client'}:${s.key}`,
      windowStart: ws,
      entity: { kind: topic ? 'topic' : 'client_id', value: s.key },
      summary: `${topic ? 'Topic' : 'Client'} ${s.key} published ${s.count(0)} messages in ${t.window} s, `
        + (ev.baseline === null ? `above ${ev.threshold} for an entity without a baseline.` : `against a baseline of ${ev.baseline}.`),
      evidence: ev,
      proof: w.proofOf(s),
      count: s.count(0),
    });
  };
  const windows = (name: string, topic: boolean, minCount: number, coldThreshold: number): EntityWindows<Side> => {
    const w: EntityWindows<Side> = new EntityWindows<Side>(ctx, name, { ...t, baseline: t },
      [{ name: 'publishes', minCount, coldThreshold }], {
        make: () => new Side(),
        onClose(s, ws) {
          if (s.fired !== 0 && !s.x.covered) raise(w, s, ws, topic);
          s.x.publishers = null;
          s.x.covered = false;
        },
      });
    return w;
  };
  /** The topic's slot, through the client's own cache of its topics (the event, not its time: see renew). */
  const topicOf = (c: WindowSlot<Side>, e: MqttPublish): WindowSlot<Side> => {
    const x = c.x;
    const topic = e.topic;
    // (s0 and s1 are null only while t0 and t1 hold NO_VALUE, which no decoded topic equals.)
    if (x.t0 === topic) {
      const s0 = x.s0;
      // renew()'s own fast path, written out: this onEvent is too big for V8 to inline renew().
      if (s0 !== null && s0.lru > 0 && s0.live === true && e.ts < topics.windowEnd) return s0;
      const r = s0 === null ? null : topics.renew(s0, e);
      if (r !== null) return r;
    } else if (x.t1 === topic) {
      const r = x.s1 === null ? null : topics.renew(x.s1, e);
      if (r !== null) return r;
    }
    const got = topicFromMap(c, e);
    if (x.t0 === topic) x.s0 = got;
    else if (x.t1 === topic) x.s1 = got;
    else {
      x.t1 = x.t0;
      x.s1 = x.s0;
      x.t0 = topic;
      x.s0 = got;
    }
    return got;
  };
  const topicFromMap = (c: WindowSlot<Side>, e: MqttPublish): WindowSlot<Side> => {
    const cache = (c.x.topics ??= new Map());
    const topic = e.topic;
    const kept = cache.get(topic);
    const s = kept === undefined ? null : topics.renew(kept, e);
    if (s !== null) return s;
    if (cache.size >= TOPICS_PER_CLIENT) cache.clear();
    const fresh = topics.touch(topic, e.ts);
    cache.set(topic, fresh);
    return fresh;
  };
  const clients = windows('clients', false, t.minPublishes, t.coldPublishes);
  const topics = windows('topics', true, t.topicMinPublishes, t.topicColdPublishes);

  return {
    onEvent(e: MqttPublish): void {
      // Only what clients send: the broker's deliveries to subscribers are fan-out, not the publisher's rate.
      if (e.flow.dir !== 'to_server') return;
      const c = clients.touchFlow(e, clientKey(e));
      const crossedClient = clients.add0(c, 1);
      // Evidence (frames, publishers) is kept from halfway to the absolute minimum on.
      if (clients.near0(c)) c.proof.add(e);
      if (crossedClient) raise(clients, c, clients.windowStart, false);

      const tp = topicOf(c, e);
      const crossed = topics.add0(tp, 1);
      if (topics.near0(tp)) {
        tp.proof.add(e);
        (tp.x.publishers ??= new CappedSet(16)).add(c.key);
      }
      if (crossed) {
        // A topic flooded by one client that already alerted is that client's alert, not a second one.
        if (c.fired !== 0 && tp.x.publishers !== null && tp.x.publishers.size === 1) tp.x.covered = true;
        else raise(topics, tp, topics.windowStart, true);
      }
    },
    tick(now: number): void {
      clients.tick(now);
      topics.tick(now);
    },
    flush(): void {
      clients.flush();
      topics.flush();
    },
    exportBaseline: () => ({ clients: clients.exportJSON(), topics: topics.exportJSON() }),
    importBaseline(d: unknown): void {
      const b = d as { clients?: unknown; topics?: unknown };
      clients.importJSON(b.clients);
      topics.importJSON(b.topics);
    },
  };
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'medium',
  usesBaseline: true,
  subscribes: ['mqtt.publish'],
  direction: 'to_server', // it returns at once on anything else
  description: "A client's or a topic's PUBLISH rate far above its own baseline (robust z-score and an absolute floor).",
  recommendation: 'Find out what changed on the publishing device (firmware, configuration, compromise); set per-client publish rate limits and message quotas on the broker.',
  mitre: null, // the cause is open (fault, misconfiguration, flooding); no single technique fits
});
