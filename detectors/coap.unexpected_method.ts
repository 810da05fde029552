// coap.unexpected_method: a write (PUT, POST, DELETE, PATCH, iPATCH) on a CoAP resource outside its
// baseline: a resource that was only ever read, or one never seen on a server that has a baseline.
// Reads of new resources are learned, not reported. Writes are folded per resource and method
// per window, with how many the server accepted (2.xx).
import type { CoapMessage } from '../src/events/types';
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { serverEndpoint } from './lib/endpoints';
import { SetBaselines } from './lib/sets';
import { EntityWindows, type WindowSlot } from './lib/windows';

export const id = 'coap.unexpected_method';
export const category = 'anomaly';

export const tunables = {
  window: 300,
  entityLearning: 600,
  maxEntities: 10_000,
  writeMethods: ['POST', 'PUT', 'DELETE', 'PATCH', 'iPATCH'] as readonly string[],
};

export const schema: Schema<typeof tunables> = {
  window: { type: 'integer', min: 1, max: 86_400, description: 'window over which writes to one resource are folded, seconds' },
  entityLearning: { type: 'integer', min: 0, max: 30 * 86_400, description: 'seconds a server first seen after the learning period learns its resources' },
  maxEntities: { type: 'integer', min: 1, max: 1e7, description: 'servers and resources tracked (LRU, counted)' },
  writeMethods: { type: 'string[]', description: 'methods that change state' },
};

class Writes {
  accepted = 0;
  constructor(readonly resource: string, readonly method: string, readonly known: readonly string[]) {}
}

export function create(ctx: DetectorContext, t: typeof tunables) {
  const writes = new Set(t.writeMethods);
  const servers = new SetBaselines(ctx, 'servers', t.maxEntities, 1, t.entityLearning);
  const resources = new SetBaselines(ctx, 'resources', t.maxEntities, 16, 0);

  const raise = (s: WindowSlot<Writes>, ws: number): void => {
    const x = s.x;
    ctx.alert({
      key: s.key,
      windowStart: ws,
      entity: { kind: 'coap_resource', value: x.resource },
      severity: x.method === 'DELETE' || x.accepted > 0 ? 'high' : 'medium',
      summary: `${s.counts[0]} CoAP ${x.method} request${s.counts[0] === 1 ? '' : 's'} on ${x.resource} (${x.accepted} accepted), `
        + (x.known.length > 0 ? `a resource only ever used with ${x.known.join(', ')}.` : 'a resource never seen in the baseline.'),
      evidence: { ...w.evidence(s, 0), method: x.method, baselineMethods: x.known, accepted: x.accepted },
      proof: s.proof,
      count: s.counts[0],
    });
  };
  const w: EntityWindows<Writes> = new EntityWindows<Writes>(ctx, 'writes', { window: t.window, maxEntities: t.maxEntities },
    [{ name: 'unexpected requests', minCount: 1, coldThreshold: 1 }], {
      make: (key) => new Writes(key.slice(0, key.lastIndexOf(' ')), key.slice(key.lastIndexOf(' ') + 1), []),
      onClose(s, ws) {
        if (s.fired !== 0) raise(s, ws);
        s.x = new Writes(s.x.resource, s.x.method, s.x.known);
      },
    });

  return {
    onEvent(e: CoapMessage): void {
      if (e.kind === 'response') {
        // Count writes the server accepted (2.xx) on resources already being reported.
        if (e.requestMethod === undefined || !writes.has(e.requestMethod) || e.code[0] !== '2') return;
        const s = w.table.peek(`${serverEndpoint(e.flow)}${e.requestPath ?? '/'} ${e.requestMethod}`);
        if (s !== undefined && s.live) {
          s.x.accepted++;
          s.proof.add(e);
        }
        return;
      }
      if (e.kind !== 'request' || e.method === undefined) return;
      const server = serverEndpoint(e.flow);
      const resource = `${server}${e.uriPath ?? '/'}`;
      const sv = servers.entry(server, e.ts);
      const r = resources.entry(resource, e.ts);
      if (servers.learning(sv, e.ts) || !writes.has(e.method)) return resources.add(r, e.method);
      if (r.items.has(e.method)) return;
      const s = w.touch(`${resource} ${e.method}`, e.ts);
      if (s.x.known.length === 0 && r.items.size > 0) s.x = new Writes(resource, e.method, [...r.items]);
      s.proof.add(e);
      if (w.add(s, 0, 1)) raise(s, w.windowStart);
    },
    tick: (now: number) => w.tick(now),
    flush: () => w.flush(),
    exportBaseline: () => ({ servers: servers.exportJSON(), resources: resources.exportJSON() }),
    importBaseline(d: unknown): void {
      const b = d as { servers?: unknown; resources?: unknown };
      servers.importJSON(b.servers);
      resources.importJSON(b.resources);
    },
  };
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'medium',
  usesBaseline: true,
  subscribes: ['coap.message'],
  description: 'PUT, POST, DELETE or PATCH on a CoAP resource that was only ever read, or never seen, in the baseline.',
  recommendation: 'Check who changed the resource and whether the write was legitimate; require OSCORE or DTLS with per-client authorization for writes, and make read-only resources reject them.',
  mitre: 'T0855', // Unauthorized Command Message: a state-changing request nobody used before
});
