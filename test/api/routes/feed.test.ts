import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiContext } from '../../../src/api/context';
import { createCursorCodec } from '../../../src/api/cursor';
import { readFeed } from '../../../src/api/routes/feed';
import type { AlertStore, StoredAlert } from '../../../src/store/types';
import { expectError } from '../assert';
import { TOKENS, app, makeAlert, qs, rw } from '../fixtures';
import { MemoryStore } from '../memory-store';
import { STORE_KINDS } from '../stores';

async function feed(a: FastifyInstance, after: string, limit: number): Promise<{ alerts: StoredAlert[]; cursor: string }> {
  const res = await a.inject({ url: `/api/v1/alerts/feed?${qs({ after, limit: String(limit) })}`, headers: rw });
  expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
  return res.json();
}

describe.each(STORE_KINDS)('GET /api/v1/alerts/feed ($name)', (kind) => {
  let store: AlertStore;
  let a: FastifyInstance;
  beforeEach(async () => {
    store = await kind.make();
    await store.init();
    a = app(store, { tokens: TOKENS });
  });
  afterEach(async () => {
    await a.close();
    await store.close();
  });

  it('pages in insertion order and hands back the cursor unchanged when nothing is new', async () => {
    const alerts = Array.from({ length: 23 }, (_, i) => makeAlert(i));
    for (let i = 0; i < alerts.length; i += 5) await store.putAlerts(alerts.slice(i, i + 5), 'edge-1');
    const got: StoredAlert[] = [];
    let cursor = '';
    for (;;) {
      const page = await feed(a, cursor, 4);
      got.push(...page.alerts);
      if (page.alerts.length === 0) {
        expect(page.cursor).toBe(cursor);
        break;
      }
      cursor = page.cursor;
    }
    expect(got.map((x) => x.id)).toEqual(alerts.map((x) => x.id));
    const seqs = got.map((x) => x.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    // Still the same cursor, still nothing; then a new alert shows up after it.
    expect((await feed(a, cursor, 4)).alerts).toEqual([]);
    await store.putAlerts([makeAlert(100)], 'edge-1');
    expect((await feed(a, cursor, 4)).alerts.map((x) => x.id)).toEqual([makeAlert(100).id]);
  });

  it('delivers an updated alert again (at-least-once)', async () => {
    await store.putAlerts([makeAlert(1), makeAlert(2)], 'edge-1');
    const first = await feed(a, '', 10);
    await store.putAlerts([makeAlert(1, { count: 99 })], 'edge-1');
    const next = await feed(a, first.cursor, 10);
    expect(next.alerts.map((x) => [x.id, x.count])).toEqual([[makeAlert(1).id, 99]]);
  });

  it('never skips an alert while writers run concurrently', async () => {
    if (store instanceof MemoryStore) store.writeDelayMs = 3;
    const writers = 6;
    const batches = 15;
    const written = new Map<string, number>(); // id -> last count written
    let done = false;
    const write = async (w: number): Promise<void> => {
      for (let b = 0; b < batches; b++) {
        const batch = Array.from({ length: 1 + ((w + b) % 4) }, (_, k) => {
          // Some writes rewrite an alert another writer made: those must come through again.
          const i = k === 0 && b % 3 === 2 ? ((w + 1) % writers) * 1000 + b - 1 : w * 1000 + b * 10 + k;
          return makeAlert(i, { count: b * 100 + w * 10 + k });
        });
        await store.putAlerts(batch, `edge-${w}`);
        for (const x of batch) written.set(x.id, x.count);
      }
    };
    const seen = new Map<string, Set<number>>();
    let cursor = '';
    const read = async (): Promise<void> => {
      for (let idle = 0; idle < 3;) {
        const page = await feed(a, cursor, 7);
        for (const x of page.alerts) {
          const s = seen.get(x.id) ?? new Set<number>();
          s.add(x.count);
          seen.set(x.id, s);
        }
        cursor = page.cursor;
        if (page.alerts.length === 0 && done) idle++;
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    const reader = read();
    await Promise.all(Array.from({ length: writers }, (_, w) => write(w)));
    done = true;
    await reader;
    expect(written.size).toBeGreaterThan(writers * batches);
    for (const [id, count] of written) {
      expect(seen.has(id), `alert ${id} never delivered`).toBe(true);
      // The store keeps the last write of an id, and the feed must have delivered that version.
      const stored = await store.getAlert(id);
      expect(seen.get(id)!.has(stored!.count), `latest version of ${id} not delivered`).toBe(true);
      void count;
    }
  });

  it('refuses bad cursors and limits', async () => {
    await store.putAlerts([makeAlert(1)], 'edge-1');
    const alertsCursor = (await a.inject({ url: '/api/v1/alerts?limit=1', headers: rw })).json().nextCursor;
    for (const after of ['junk', "'; DROP TABLE alerts; --", 'A'.repeat(5000), '\u0000', ...(alertsCursor ? [alertsCursor] : [])]) {
      expectError(await a.inject({ url: `/api/v1/alerts/feed?${qs({ after })}`, headers: rw }), 400, 'bad_cursor');
    }
    for (const limit of ['0', '1001', '-5', '1e3', 'ten', '4294967297']) {
      expectError(await a.inject({ url: `/api/v1/alerts/feed?${qs({ limit })}`, headers: rw }), 400, 'bad_request');
    }
    expectError(await a.inject({ url: '/api/v1/alerts/feed' }), 401, 'unauthorized');
  });
});

// readFeed's per-alert cursors, driven directly: any interleaving of writes, rewrites and reads,
// resuming from any alert's cursor, delivers the latest version of every alert.
describe('feed cursors (property)', () => {
  const quietReq = { log: { error() {}, warn() {} } } as unknown as FastifyRequest;

  it('resuming from any delivered alert never skips one', async () => {
    type Cmd = { t: 'write'; ids: number[] } | { t: 'read'; limit: number; resumeAt: number };
    const cmd = fc.oneof(
      fc.record({ t: fc.constant('write' as const), ids: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 6 }) }),
      fc.record({ t: fc.constant('read' as const), limit: fc.integer({ min: 1, max: 6 }), resumeAt: fc.nat(10) }),
    );
    await fc.assert(fc.asyncProperty(fc.array(cmd, { maxLength: 40 }), async (cmds: Cmd[]) => {
      const store = new MemoryStore();
      const ctx = { store, cursors: createCursorCodec() } as unknown as ApiContext;
      const delivered = new Map<string, Set<number>>();
      let version = 0;
      let pos = ctx.cursors.decode('feed', ctx.cursors.encode('feed', { store: '' }));
      for (const c of cmds) {
        if (c.t === 'write') {
          await store.putAlerts(c.ids.map((i) => makeAlert(i, { count: ++version })), 's');
        } else {
          const r = await readFeed(ctx, quietReq, pos, c.limit);
          // Deliver the page, but pretend the consumer crashed after `resumeAt` alerts and
          // resumes from the last one it processed (its SSE Last-Event-ID).
          const kept = r.items.slice(0, Math.min(c.resumeAt, r.items.length));
          for (const it of kept) (delivered.get(it.alert.id) ?? delivered.set(it.alert.id, new Set()).get(it.alert.id)!).add(it.alert.count);
          if (kept.length === r.items.length) pos = r.next;
          else if (kept.length > 0) pos = ctx.cursors.decode('feed', kept[kept.length - 1].cursor);
        }
      }
      for (let guard = 0; guard < 1000; guard++) {
        const r = await readFeed(ctx, quietReq, pos, 5);
        for (const it of r.items) (delivered.get(it.alert.id) ?? delivered.set(it.alert.id, new Set()).get(it.alert.id)!).add(it.alert.count);
        if (r.items.length === 0 && !r.full) break;
        pos = r.next;
      }
      const page = await store.queryAlerts({ limit: 1000 });
      for (const x of page.alerts) expect(delivered.get(x.id)?.has(x.count), `latest ${x.id} missing`).toBe(true);
    }), { numRuns: 150 });
  });
});
