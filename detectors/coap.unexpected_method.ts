// coap.unexpected_method: a write (PUT, POST, DELETE, PATCH, iPATCH) on a CoAP resource outside its
// baseline: a resource that was only ever read, or one never seen on a server that has a baseline.
// Reads of new resources are learned, not reported. Writes are folded per resource and window,
// with the methods used and how many the server accepted (2.xx).
import type { CoapMessage } from '../src/events/types';
import { BaselineError, SECOND, defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { methodBit, methodMask, methodsOf } from './lib/coap';
import { serverEndpoint } from './lib/endpoints';
import { FlowMemo } from './lib/flow-memo';
import type { LruEntry } from './lib/tables';
import { EntityWindows, type WindowSlot } from './lib/windows';

export const id = 'coap.unexpected_method';
export const category = 'anomaly';

export const tunables = {
  window: 300,
  entityLearning: 600,
  maxEntities: 10_000,
  maxResources: 1024,
  writeMethods: ['POST', 'PUT', 'DELETE', 'PATCH', 'iPATCH'] as readonly string[],
};

export const schema: Schema<typeof tunables> = {
  window: { type: 'integer', min: 1, max: 86_400, description: 'window over which writes to one resource are folded, seconds' },
  entityLearning: { type: 'integer', min: 0, max: 30 * 86_400, description: 'seconds a server first seen after the learning period learns its resources' },
  maxEntities: { type: 'integer', min: 1, max: 1e7, description: 'servers tracked (LRU, counted)' },
  maxResources: { type: 'integer', min: 1, max: 1e6, description: 'resources remembered per server' },
  writeMethods: { type: 'string[]', description: 'methods that change state' },
};

/** Per flow side: its server, and the last few requests found inside the baseline. */
class FlowSeen implements LruEntry {
  lru = 0;
  readonly paths: string[] = [];
  readonly methods: string[] = [];
  constructor(readonly server: Server) {}

  has(path: string, method: string): boolean {
    for (let i = 0; i < this.paths.length; i++) if (this.paths[i] === path && this.methods[i] === method) return true;
    return false;
  }

  remember(path: string, method: string): void {
    if (this.paths.length >= 4) {
      this.paths.shift();
      this.methods.shift();
    }
    this.paths.push(path);
    this.methods.push(method);
  }
}

/** A server's resources (path -> methods seen) and when it stops learning. */
class Server implements LruEntry {
  lru = 0;
  readonly paths = new Map<string, number>();
  constructor(readonly key: string, public learnUntil: number) {}
}

class Writes {
  accepted = 0;
  readonly methods = new Set<string>();
  constructor(readonly resource: string, readonly known: number) {}
}

export function create(ctx: DetectorContext, t: typeof tunables) {
  // Methods as bits (lib/coap), so a resource's baseline is one number.
  const writes = methodMask(t.writeMethods);
  const servers = ctx.lru<Server>('servers', t.maxEntities);
  const memo = new FlowMemo<FlowSeen>(ctx.flowMemo);
  const server = (key: string, ts: number): Server =>
    servers.get(key) ?? servers.set(key, new Server(key, ts < ctx.learningEnd ? ctx.learningEnd : ts + t.entityLearning * SECOND));

  const raise = (s: WindowSlot<Writes | null>, ws: number): void => {
    const x = s.x!;
    const known = methodsOf(x.known);
    const methods = [...x.methods];
    ctx.alert({
      key: s.key,
      windowStart: ws,
      entity: { kind: 'coap_resource', value: x.resource },
      severity: x.methods.has('DELETE') || x.accepted > 0 ? 'high' : 'medium',
      summary: `${s.count(0)} CoAP ${methods.join('/')} request${s.count(0) === 1 ? '' : 's'} on ${x.resource} (${x.accepted} accepted), `
        + (known.length > 0 ? `a resource only ever used with ${known.join(', ')}.` : 'a resource never seen in the baseline.'),
      evidence: { ...w.evidence(s, 0), methods, baselineMethods: known, accepted: x.accepted },
      proof: s.proof,
      count: s.count(0),
    });
  };
  const w: EntityWindows<Writes | null> = new EntityWindows<Writes | null>(ctx, 'writes', { window: t.window, maxEntities: t.maxEntities },
    [{ name: 'unexpected requests', minCount: 1, coldThreshold: 1 }], {
      make: () => null,
      onClose(s, ws) {
        if (s.fired !== 0) raise(s, ws);
        if (s.x !== null) s.x = new Writes(s.x.resource, s.x.known);
      },
    });

  return {
    onEvent(e: CoapMessage): void {
      if (e.kind === 'response') {
        // Count writes the server accepted (2.xx) on resources already being reported.
        if (e.requestMethod === undefined || (methodBit(e.requestMethod) & writes) === 0 || e.code.charCodeAt(0) !== 0x32) return;
        // No resource is live in this window (the usual case): no key to build, nothing to count.
        if (w.liveCount === 0) return;
        const s = w.table.peek(`${serverEndpoint(e.flow)}${e.requestPath ?? '/'}`);
        if (s !== undefined && s.live && s.x !== null && s.x.methods.has(e.requestMethod)) {
          s.x.accepted++;
          s.proof.add(e);
        }
        return;
      }
      if (e.kind !== 'request' || e.method === undefined) return;
      const path = e.uriPath ?? '/';
      // A FlowSeen lives in the memo only (no table evicts it): its own lru needs no check.
      let fs = memo.get(e.flow, '');
      // A client asking the same things again (a sensor read every few seconds) costs a few comparisons.
      if (fs !== null && fs.server.lru >= 0 && fs.has(path, e.method)) return;
      if (fs === null || fs.server.lru < 0) fs = memo.set(e.flow, '', new FlowSeen(server(serverEndpoint(e.flow), e.ts)));
      const sv = fs.server;
      const key = sv.key;
      const mask = sv.paths.get(path) ?? 0;
      const bit = methodBit(e.method);
      if ((mask & bit) !== 0) return fs.remember(path, e.method);
      if (ctx.learning || e.ts < sv.learnUntil || (bit & writes) === 0) {
        if (mask !== 0 || sv.paths.size < t.maxResources) sv.paths.set(path, mask | bit);
        return;
      }
      const resource = `${key}${path}`;
      const s = w.touch(resource, e.ts);
      if (s.x === null) s.x = new Writes(resource, mask);
      s.x.methods.add(e.method);
      s.proof.add(e);
      if (w.add(s, 0, 1)) raise(s, w.windowStart);
    },
    tick: (now: number) => w.tick(now),
    flush: () => w.flush(),
    exportBaseline: () => ({ servers: [...servers.entries()].map(([k, sv]) => [k, [...sv.paths].map(([p, m]) => [p, methodsOf(m)])]) }),
    importBaseline(d: unknown): void {
      const rows = (d as { servers?: unknown } | null)?.servers;
      if (!Array.isArray(rows)) throw new BaselineError('expected { servers: [...] }');
      for (const row of rows as unknown[]) {
        if (!Array.isArray(row) || typeof row[0] !== 'string' || !Array.isArray(row[1])) continue;
        // Imported servers are mature: they were learned from a known-good capture.
        const sv = servers.set(row[0], new Server(row[0], 0));
        for (const r of row[1] as unknown[]) {
          if (!Array.isArray(r) || typeof r[0] !== 'string' || !Array.isArray(r[1]) || sv.paths.size >= t.maxResources) continue;
          sv.paths.set(r[0], (r[1] as unknown[]).reduce<number>((m, x) => m | methodBit(String(x)), 0));
        }
      }
    },
  };
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'medium',
  usesBaseline: true,
  subscribes: ['coap.message'],
  // Every request with a method (the baseline of what each resource is asked), and responses to
  // writes (accepted writes are counted); it returns at once on anything else.
  coapMessages: (c, t) => c.method !== undefined
    && (c.kind === 'request' || (c.kind === 'response' && (methodBit(c.method) & methodMask(t.writeMethods)) !== 0)),
  description: 'PUT, POST, DELETE or PATCH on a CoAP resource that was only ever read, or never seen, in the baseline.',
  recommendation: 'Check who changed the resource and whether the write was legitimate; require OSCORE or DTLS with per-client authorization for writes, and make read-only resources reject them.',
  mitre: 'T0855', // Unauthorized Command Message: a state-changing request nobody used before
});
