// coap.request_flood: CoAP requests to one server far above its baseline. Constrained devices
// answer every request, so a flood starves them; counted per server so spread-out sources add up.
import type { CoapMessage } from '../src/events/types';
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { clientAddr, serverEndpoint } from './lib/endpoints';
import { EntityWindows, rateDefaults, rateSchema, type WindowSlot } from './lib/windows';

export const id = 'coap.request_flood';
export const category = 'anomaly';

export const tunables = {
  ...rateDefaults,
  minRequests: 300,
  coldRequests: 3000,
};

export const schema: Schema<typeof tunables> = {
  ...rateSchema,
  minRequests: { type: 'integer', min: 1, max: 1e9, description: 'requests per window to one server (absolute floor)' },
  coldRequests: { type: 'integer', min: 1, max: 1e9, description: 'requests per window for a server without a mature baseline' },
};

type Sources = Map<string, number>;

const share = (n: number, of: number): string => {
  const p = (100 * n) / of;
  return p < 1 ? '<1 %' : `${Math.round(p)} %`;
};
const MAX_SOURCES = 1000;

export function create(ctx: DetectorContext, t: typeof tunables) {
  const raise = (s: WindowSlot<Sources>, ws: number): void => {
    // Sources are counted from halfway to the absolute minimum on: shares, not totals.
    let sampled = 0;
    for (const n of s.x.values()) sampled += n;
    const top = [...s.x].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 5).map(([a, n]) => `${a} (${share(n, sampled)})`);
    ctx.alert({
      key: s.key,
      windowStart: ws,
      entity: { kind: 'server', value: s.key },
      summary: `CoAP server ${s.key} received ${s.count(0)} requests in ${t.window} s; top sources ${top.join(', ')}.`,
      evidence: w.evidence(s, 0, { sourcesSeen: s.x.size, topSources: top }),
      proof: w.proofOf(s),
      count: s.count(0),
    });
  };
  const w: EntityWindows<Sources> = new EntityWindows<Sources>(ctx, 'servers', { ...t, baseline: t },
    [{ name: 'requests', minCount: t.minRequests, coldThreshold: t.coldRequests }], {
      make: () => new Map(),
      onClose(s, ws) {
        if (s.fired !== 0) raise(s, ws);
        s.x.clear();
      },
    });

  const byServer = w.bySide(serverEndpoint);

  return {
    onEvent(e: CoapMessage): void {
      if (e.kind !== 'request') return;
      const s = w.touchSide(e, byServer);
      const crossed = w.add0(s, 1);
      // Evidence (frames, sources) is kept from halfway to the absolute minimum on.
      if (w.near0(s)) {
        s.proof.add(e);
        const src = clientAddr(e.flow);
        const n = s.x.get(src);
        if (n !== undefined) s.x.set(src, n + 1);
        else if (s.x.size < MAX_SOURCES) s.x.set(src, 1);
      }
      if (crossed) raise(s, w.windowStart);
    },
    tick: (now: number) => w.tick(now),
    flush: () => w.flush(),
    exportBaseline: () => w.exportJSON(),
    importBaseline: (d: unknown) => w.importJSON(d),
  };
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'high',
  usesBaseline: true,
  subscribes: ['coap.message'],
  coapMessages: (c) => c.kind === 'request', // it returns at once on anything else
  description: 'CoAP requests to one server far above its baseline.',
  recommendation: 'Rate-limit CoAP per source at the gateway or firewall, block the top sources, and keep constrained devices off networks untrusted hosts can reach.',
  mitre: 'T0814', // Denial of Service against a constrained device
});
