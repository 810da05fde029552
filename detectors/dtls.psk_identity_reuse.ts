// dtls.psk_identity_reuse: one DTLS PSK identity (sent in the clear, RFC 4279 section 2) used from
// more addresses than its baseline: a key copied off a device, or one key shared by many.
// Fires when, within a window, the identity comes from at least minNew addresses outside its
// baseline and from at least minEndpoints addresses in all (a device that moved is one address).
import { duration } from './lib/format';
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { SetBaselines } from './lib/sets';
import { CappedSet } from './lib/tables';
import type { DtlsPskIdentity } from '../src/events/tls-types';
import { EntityWindows, type WindowSlot } from './lib/windows';

export const id = 'dtls.psk_identity_reuse';
export const category = 'anomaly';

export const tunables = {
  window: 3600,
  minNew: 1,
  minEndpoints: 2,
  entityLearning: 600,
  maxEntities: 10_000,
  maxAddresses: 64,
};

export const schema: Schema<typeof tunables> = {
  window: { type: 'integer', min: 1, max: 30 * 86_400, description: 'window, seconds' },
  minNew: { type: 'integer', min: 1, max: 1e6, description: 'addresses outside the baseline using the identity in the window' },
  minEndpoints: { type: 'integer', min: 2, max: 1e6, description: 'addresses using the identity in the window, baseline ones included (absolute floor)' },
  entityLearning: { type: 'integer', min: 0, max: 30 * 86_400, description: 'seconds an identity first seen after the learning period learns its addresses' },
  maxEntities: { type: 'integer', min: 1, max: 1e7, description: 'identities tracked (LRU, counted)' },
  maxAddresses: { type: 'integer', min: 1, max: 1e5, description: 'addresses remembered per identity' },
};

class Seen {
  readonly all = new CappedSet(1024);
  readonly fresh = new CappedSet(1024);
}

export function create(ctx: DetectorContext, t: typeof tunables) {
  const known = new SetBaselines(ctx, 'identities', t.maxEntities, t.maxAddresses, t.entityLearning);
  const raise = (s: WindowSlot<Seen>, ws: number): void => {
    const base = [...(known.table.peek(s.key)?.items ?? [])];
    ctx.alert({
      key: s.key,
      windowStart: ws,
      entity: { kind: 'psk_identity', value: s.key },
      severity: s.x.all.distinct >= 3 ? 'high' : 'medium',
      summary: `PSK identity "${s.key}" was used from ${s.x.all.distinct} addresses in ${duration(t.window)}, ${s.x.fresh.distinct} of them new (baseline: ${base.slice(0, 5).join(', ') || 'none'}).`,
      evidence: {
        metric: 'addresses', observed: s.x.all.distinct, baseline: base.length, threshold: Math.max(t.minEndpoints, base.length + t.minNew), window: t.window,
        newAddresses: s.x.fresh.values(10), baselineAddresses: base.slice(0, 10),
      },
      proof: s.proof,
    });
  };
  const w: EntityWindows<Seen> = new EntityWindows<Seen>(ctx, 'windows', { window: t.window, maxEntities: t.maxEntities },
    [{ name: 'new addresses', minCount: t.minNew, coldThreshold: t.minNew }], {
      make: () => new Seen(),
      onClose(s, ws) {
        if (s.fired !== 0) raise(s, ws);
        s.x = new Seen();
      },
    });

  return {
    onEvent(e: DtlsPskIdentity): void {
      const addr = e.flow.dir === 'to_server' ? e.flow.src : e.flow.dst;
      const k = known.entry(e.identity, e.ts);
      if (known.learning(k, e.ts)) return known.add(k, addr);
      const s = w.touch(e.identity, e.ts);
      s.proof.add(e);
      s.x.all.add(addr);
      if (!k.items.has(addr) && s.x.fresh.add(addr)) s.c0++;
      if (s.c0 >= t.minNew && s.x.all.distinct >= t.minEndpoints && w.fire(s, 0)) raise(s, w.windowStart);
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
  subscribes: ['dtls.psk_identity'],
  description: 'One DTLS PSK identity used from more addresses than its baseline.',
  recommendation: 'Provision a unique PSK per device, revoke and rotate this one, and find where the key was copied from.',
  mitre: 'T0859', // Valid Accounts: a device credential used from somewhere it was not issued to
});
