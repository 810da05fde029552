// mqtt.topic_acl_drift: a principal (username, else client id) publishing or subscribing under a
// topic subtree it never used in its baseline: a sensor publishing on a command topic, a device
// reading another's data. The subtree is the first `depth` levels of the topic or filter.
// Subscriptions to '#', '+/...' or $SYS are left to mqtt.wildcard_subscription.
// Hot path: each principal remembers the exact topics it has been checked on, so a steady
// publisher costs two Map lookups per message.
import type { MqttPublish, MqttSubscribe } from '../src/events/types';
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { principal, subtreeAncestors, topicSubtree, unshared } from './lib/mqtt';
import { NO_VALUE, SetBaselines, type KnownSet } from './lib/sets';
import { FlowMemo } from './lib/flow-memo';
import { CappedSet } from './lib/tables';
import { EntityWindows, type WindowSlot } from './lib/windows';

export const id = 'mqtt.topic_acl_drift';
export const category = 'anomaly';

export const tunables = {
  depth: 2,
  window: 300,
  entityLearning: 600,
  maxEntities: 10_000,
  maxSubtrees: 256,
};

export const schema: Schema<typeof tunables> = {
  depth: { type: 'integer', min: 1, max: 16, description: 'topic levels that make a subtree' },
  window: { type: 'integer', min: 1, max: 86_400, description: 'window over which drifting messages are folded into one alert, seconds' },
  entityLearning: { type: 'integer', min: 0, max: 30 * 86_400, description: 'seconds a principal first seen after the learning period learns its subtrees' },
  maxEntities: { type: 'integer', min: 1, max: 1e7, description: 'principals tracked (LRU, counted)' },
  maxSubtrees: { type: 'integer', min: 1, max: 1e5, description: 'subtrees remembered per principal' },
};

/** Subtrees outside the baseline seen in the window, and whether any was a publish. */
class Drift {
  readonly subtrees = new CappedSet(64);
  published = false;
  byUsername = false;
}

const HOT_TOPICS = 512;

/** 'p:plant/cmd' -> 'publish plant/cmd', 's:' -> 'subscribe #'. */
function label(sub: string): string {
  return `${sub.startsWith('p:') ? 'publish' : 'subscribe'} ${sub.length > 2 ? sub.slice(2) : '#'}`;
}

export function create(ctx: DetectorContext, t: typeof tunables) {
  const known = new SetBaselines(ctx, 'principals', t.maxEntities, t.maxSubtrees, t.entityLearning);
  const memo = new FlowMemo<KnownSet>(ctx.flowMemo);

  const raise = (s: WindowSlot<Drift>, ws: number): void => {
    const subs = s.x.subtrees.values(10);
    const base = [...(known.table.peek(s.key)?.items ?? [])].slice(0, 10);
    ctx.alert({
      key: s.key,
      windowStart: ws,
      entity: { kind: s.x.byUsername ? 'username' : 'client_id', value: s.key },
      summary: `${s.key} went outside the topic subtrees of its baseline: ${subs.map(label).join(', ')}.`,
      evidence: { ...w.evidence(s, 0), subtrees: subs.map(label), baselineSubtrees: base.map(label).sort() },
      proof: s.proof,
      // Publishing where it never did is a command path; subscribing is reading points.
      mitre: s.x.published ? 'T0855' : 'T0861',
    });
  };
  const w: EntityWindows<Drift> = new EntityWindows<Drift>(ctx, 'drift', { window: t.window, maxEntities: t.maxEntities },
    [{ name: 'messages outside baseline subtrees', minCount: 1, coldThreshold: 1 }], {
      make: () => new Drift(),
      onClose(s, ws) {
        if (s.fired !== 0) raise(s, ws);
        s.x = new Drift();
      },
    });

  /** Judge one topic; 'p:' and 's:' keep publish and subscribe subtrees apart. */
  const check = (e: MqttPublish | MqttSubscribe, who: string, k: KnownSet, topic: string, action: 'p:' | 's:'): void => {
    const tree = topicSubtree(topic, t.depth);
    const sub = action + tree;
    const learning = known.learning(k, e.ts);
    if (learning) known.add(k, sub);
    // Inside the baseline when the subtree or one above it was used ('plant' covers 'plant/meters').
    if (learning || subtreeAncestors(tree).some((a) => k.items.has(action + a))) {
      if (action === 'p:') remember(k, topic);
      return;
    }
    const s = w.touch(who, e.ts);
    s.proof.add(e);
    s.x.byUsername = e.username !== null && e.username !== '';
    s.x.subtrees.add(sub);
    if (action === 'p:') s.x.published = true;
    if (w.add(s, 0, 1)) raise(s, w.windowStart);
  };
  const remember = (k: KnownSet, topic: string): void => {
    if (k.hot === null) k.hot = new Set();
    else if (k.hot.size >= HOT_TOPICS) {
      k.hot.clear();
      k.h0 = k.h1 = NO_VALUE;
    }
    k.hot.add(topic);
  };

  return {
    onEvent(e: MqttPublish | MqttSubscribe): void {
      if (e.flow.dir !== 'to_server') return;
      const who = principal(e);
      let k = memo.get(e.flow, who);
      if (k === null || k.lru < 0) k = memo.set(e.flow, who, known.entry(who, e.ts));
      else if (k.lru === 0) k.lru = 1;
      if (e.type === 'mqtt.publish') {
        const topic = e.topic;
        if (topic === k.h0 || topic === k.h1) return;
        if (k.hot !== null && k.hot.has(topic)) {
          k.h1 = k.h0;
          k.h0 = topic;
          return;
        }
        check(e, who, k, e.topic, 'p:');
      } else {
        for (const sub of e.subscriptions) {
          const filter = unshared(sub.topic);
          // Root wildcards and $SYS are mqtt.wildcard_subscription's: one finding, one alert.
          if (topicSubtree(filter, 1) === '' || filter.startsWith('$SYS')) continue;
          check(e, who, k, filter, 's:');
        }
      }
    },
    tick: (now: number) => w.tick(now),
    flush: () => w.flush(),
    exportBaseline: () => known.exportJSON(),
    importBaseline: (d: unknown) => known.importJSON(d),
  };
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'medium',
  usesBaseline: true,
  subscribes: ['mqtt.publish', 'mqtt.subscribe'],
  direction: 'to_server', // it returns at once on anything else
  description: 'A client publishing or subscribing under a topic subtree it never used in its baseline (a sensor publishing on a command topic).',
  recommendation: 'Write strict per-username topic ACLs on the broker (publish only to its own data subtree, subscribe only to its own command topic) and check why this client left them.',
  mitre: 'T0855', // Unauthorized Command Message (publishing); subscribe-only drift is reported as T0861
});
