// The store contract: one suite, run against every AlertStore implementation
// (embedded.test.ts and clickhouse.test.ts). A factory gives a fresh, empty, initialised store.
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/types';
import { CursorError, StoreQueryError } from '../../src/store/errors';
import type { AlertQuery, AlertStore, StoredAlert } from '../../src/store/types';
import { coapRow, HOSTILE_STRINGS, makeAlert, MIN, session, SEVERITY_ORDER, T0, tlsRow, topicRow } from './alert-fixtures';

export interface ContractOptions {
  /** How long the feed may hold back fresh alerts (ClickHouse's feed lag); the suite polls that long. */
  feedSettleMs?: number;
}

const strip = (a: StoredAlert): Alert => {
  const { sensor: _s, status: _st, statusBy: _b, statusNote: _n, statusAt: _at, seq: _q, ...alert } = a;
  return alert;
};

async function allPages(store: AlertStore, q: Omit<AlertQuery, 'cursor'>): Promise<StoredAlert[]> {
  const out: StoredAlert[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const page = await store.queryAlerts({ ...q, cursor });
    out.push(...page.alerts);
    if (page.nextCursor === null) return out;
    expect(page.alerts.length).toBe(q.limit);
    cursor = page.nextCursor;
  }
  throw new Error('pagination did not end');
}

async function expectCode(p: Promise<unknown>, code: string, type: new (...a: never[]) => Error): Promise<void> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e, `expected a ${code} error`).toBeInstanceOf(type);
  expect((e as { code: string }).code).toBe(code);
}

export function storeContract(name: string, factory: () => Promise<AlertStore>, opts: ContractOptions = {}): void {
  const settle = opts.feedSettleMs ?? 0;

  /** Reads the feed from `after` until `until` says it has everything (or the settle time is up). */
  async function drainFeed(store: AlertStore, after: string, until: (seen: StoredAlert[]) => boolean): Promise<{ seen: StoredAlert[]; cursor: string }> {
    const seen: StoredAlert[] = [];
    let cursor = after;
    const deadline = Date.now() + settle + 10_000;
    for (;;) {
      const page = await store.feed(cursor, 100);
      seen.push(...page.alerts);
      if (page.alerts.length === 0) expect(page.cursor).toBe(cursor);
      cursor = page.cursor;
      if (page.alerts.length === 0) {
        if (until(seen) || Date.now() > deadline) return { seen, cursor };
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  describe(`store contract: ${name}`, () => {
    const open: AlertStore[] = [];
    const fresh = async (): Promise<AlertStore> => {
      const s = await factory();
      open.push(s);
      return s;
    };
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
    });

    it('puts and gets an alert with every field intact', async () => {
      const store = await fresh();
      const a = makeAlert(1, { evidence: { observed: [1, 'two'], baseline: null, threshold: 0.5, window: 0, flag: true } });
      await store.putAlerts([a], 'sensor-a');
      const got = await store.getAlert(a.id);
      expect(got).not.toBeNull();
      expect(strip(got as StoredAlert)).toEqual(a);
      expect(got).toMatchObject({ sensor: 'sensor-a', status: 'open', statusBy: null, statusNote: null, statusAt: null });
      expect(got?.seq).toBeGreaterThan(0);
      expect(await store.getAlert('f'.repeat(32))).toBeNull();
      expect(store.kind).toBe(name.startsWith('clickhouse') ? 'clickhouse' : 'embedded');
    });

    it('replaces by id: the same id written twice stays one alert, the newer version wins', async () => {
      const store = await fresh();
      const a = makeAlert(1);
      await store.putAlerts([a], 's1');
      const first = await store.getAlert(a.id);
      await store.putAlerts([a], 's1');
      const b = { ...a, count: 99, lastTs: a.lastTs + 5, summary: 'updated' };
      await store.putAlerts([b], 's1');
      const got = await store.getAlert(a.id);
      expect(strip(got as StoredAlert)).toEqual(b);
      expect(got!.seq).toBeGreaterThan(first!.seq);
      const page = await store.queryAlerts({ limit: 100 });
      expect(page.alerts.map((x) => x.id)).toEqual([a.id]);
      expect(page.alerts[0].count).toBe(99);
    });

    it('does not see later changes to the caller\'s objects', async () => {
      const store = await fresh();
      const a = makeAlert(1);
      await store.putAlerts([a], 's1');
      (a.endpoints as string[]).push('1.1.1.1:1 -> 2.2.2.2:2');
      a.count = 1000;
      const got = await store.getAlert(a.id);
      expect(got?.count).toBe(3);
      expect(got?.endpoints).toHaveLength(1);
    });

    it('rejects invalid alerts and writes none of the batch', async () => {
      const store = await fresh();
      const bad = { ...makeAlert(2), severity: 'extreme' } as unknown as Alert;
      await expectCode(store.putAlerts([makeAlert(1), bad], 's1'), 'bad_query', StoreQueryError);
      await expectCode(store.putAlerts([{ ...makeAlert(3), id: "x'; DROP TABLE alerts; --" }], 's1'), 'bad_query', StoreQueryError);
      await expectCode(store.putAlerts([{ ...makeAlert(4), firstTs: Number.NaN }], 's1'), 'bad_query', StoreQueryError);
      expect((await store.queryAlerts({ limit: 10 })).alerts).toEqual([]);
    });

    describe('filters', () => {
      // Twelve alerts whose fields vary one at a time, so each filter's expected set is explicit.
      const data: { a: Alert; sensor: string }[] = [
        { a: makeAlert(0, { detector: 'mqtt-bruteforce', severity: 'low' }), sensor: 's1' },
        { a: makeAlert(1, { detector: 'coap-scan', category: 'anomaly', severity: 'high', endpoints: ['10.9.9.9:40000 -> 192.168.1.20:5683'] }), sensor: 's1' },
        { a: makeAlert(2, { detector: 'tls-expired', category: 'posture', severity: 'critical', endpoints: ['[2001:DB8::1]:50000 -> [2001:db8::2]:8883'] }), sensor: 's2' },
        { a: makeAlert(3, { severity: 'info', summary: 'Wildcard SUBSCRIBE to # by Scanner' }), sensor: 's1' },
        { a: makeAlert(4, { entity: { kind: 'topic', value: 'plant/line1/temp' } }), sensor: 's2' },
        { a: makeAlert(5, { firstTs: T0 + 100 * MIN, lastTs: T0 + 110 * MIN }), sensor: 's1' },
        { a: makeAlert(6, { firstTs: T0 + 200 * MIN, lastTs: T0 + 300 * MIN, severity: 'high' }), sensor: 's1' },
        { a: makeAlert(7, { detector: 'coap-scan', severity: 'medium' }), sensor: 's2' },
        { a: makeAlert(8, { category: 'posture', detector: 'mqtt-anonymous', severity: 'medium', entity: { kind: 'username', value: "o'brien\\admin" } }), sensor: 's1' },
        { a: makeAlert(9, { summary: 'Payload flood on TOPIC plant/#' }), sensor: 's3' },
        { a: makeAlert(10, { endpoints: ['10.0.0.77:1 -> 192.168.1.10:1883', '10.0.0.78:2 -> 192.168.1.11:1883'] }), sensor: 's3' },
        { a: makeAlert(11, { severity: 'critical', mitre: null }), sensor: 's1' },
      ];
      const ids = (...n: number[]): string[] => n.map((i) => data[i].a.id).sort();
      let store: AlertStore;
      const run = async (q: Omit<AlertQuery, 'limit'>): Promise<string[]> =>
        (await allPages(store, { limit: 3, ...q })).map((x) => x.id).sort();

      it('every filter selects exactly its alerts', async () => {
        store = await fresh();
        for (const d of data) await store.putAlerts([d.a], d.sensor);
        await store.setStatus(data[3].a.id, 'acknowledged', 'analyst', 'looking');
        await store.setStatus(data[4].a.id, 'closed', 'analyst', null);

        expect(await run({})).toEqual(ids(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11));
        // Time range: lastTs >= from and firstTs <= to.
        expect(await run({ from: T0 + 100 * MIN })).toEqual(ids(5, 6));
        expect(await run({ from: T0 + 110 * MIN, to: T0 + 150 * MIN })).toEqual(ids(5));
        expect(await run({ to: T0 + 2_000_000 })).toEqual(ids(0, 1, 2));
        expect(await run({ from: T0 + 250 * MIN, to: T0 + 260 * MIN })).toEqual(ids(6));
        expect(await run({ detector: ['coap-scan'] })).toEqual(ids(1, 7));
        expect(await run({ detector: ['coap-scan', 'tls-expired'] })).toEqual(ids(1, 2, 7));
        expect(await run({ detector: [] })).toHaveLength(12);
        expect(await run({ detector: ['nope'] })).toEqual([]);
        expect(await run({ category: 'posture' })).toEqual(ids(2, 8));
        expect(await run({ minSeverity: 'high' })).toEqual(ids(1, 2, 6, 11));
        expect(await run({ minSeverity: 'critical' })).toEqual(ids(2, 11));
        expect(await run({ minSeverity: 'info' })).toHaveLength(12);
        expect(await run({ status: 'acknowledged' })).toEqual(ids(3));
        expect(await run({ status: 'closed' })).toEqual(ids(4));
        expect(await run({ status: 'open' })).toEqual(ids(0, 1, 2, 5, 6, 7, 8, 9, 10, 11));
        expect(await run({ entity: 'plant/line1/temp' })).toEqual(ids(4));
        expect(await run({ entity: "o'brien\\admin" })).toEqual(ids(8));
        expect(await run({ entity: 'plant/line1' })).toEqual([]);
        expect(await run({ address: '10.9.9.9' })).toEqual(ids(1));
        expect(await run({ address: '192.168.1.20' })).toEqual(ids(1));
        expect(await run({ address: '2001:db8::1' })).toEqual(ids(2));
        expect(await run({ address: '2001:DB8::2' })).toEqual(ids(2));
        expect(await run({ address: '10.0.0.78' })).toEqual(ids(10));
        expect(await run({ address: '10.0.0.7' })).toEqual(ids(7));
        expect(await run({ text: 'wildcard' })).toEqual(ids(3));
        expect(await run({ text: 'PLANT/' })).toEqual(ids(4, 9));
        expect(await run({ text: 'O\'BRIEN' })).toEqual(ids(8));
        expect(await run({ text: 'coap-SCAN' })).toEqual(ids(1, 7));
        expect(await run({ text: '' })).toHaveLength(12);
        expect(await run({ sensor: 's3' })).toEqual(ids(9, 10));
        expect(await run({ sensor: 's2', minSeverity: 'medium', detector: ['coap-scan', 'tls-expired'] })).toEqual(ids(2, 7));
        expect(await run({ sensor: 's1', status: 'open', category: 'anomaly', minSeverity: 'high' })).toEqual(ids(1, 6, 11));
        // Hostile filter values are data, never SQL.
        for (const h of HOSTILE_STRINGS) {
          expect(await run({ entity: h })).toEqual([]);
          if (h.length <= 256) {
            expect(await run({ sensor: h })).toEqual([]);
            const t = h.toLowerCase();
            const hits = data.map((d, i) => ({ d, i }))
              .filter(({ d }) => [d.a.summary, d.a.entity.value, d.a.detector].some((s) => s.toLowerCase().includes(t)))
              .map(({ i }) => i);
            expect(await run({ text: h }), JSON.stringify(h)).toEqual(ids(...hits));
            expect(await run({ detector: [h, 'coap-scan'] })).toEqual(ids(1, 7));
          }
        }
      });
    });

    it('stores and finds hostile strings exactly', async () => {
      const store = await fresh();
      const alerts = HOSTILE_STRINGS.map((h, i) => makeAlert(i, {
        entity: { kind: 'topic', value: h }, summary: `summary ${h}`, detector: `det-${i}`,
        evidence: { observed: h, baseline: null, threshold: 1, window: 0, [h.slice(0, 20)]: h },
      }));
      await store.putAlerts(alerts, "sensor'\\\u0000");
      for (const a of alerts) {
        expect(strip((await store.getAlert(a.id))!)).toEqual(a);
        const page = await store.queryAlerts({ entity: a.entity.value, limit: 10 });
        expect(page.alerts.map((x) => x.id)).toEqual([a.id]);
        expect(page.alerts[0].sensor).toBe("sensor'\\\u0000");
      }
      const q = await store.queryAlerts({ sensor: "sensor'\\\u0000", text: "'; drop table", limit: 10 });
      expect(q.alerts.map((x) => x.id)).toEqual([alerts[5].id]);
    });

    describe('sort and pagination', () => {
      it('sorts by each field in both orders, ties broken by id, and pages without gaps or duplicates', async () => {
        const store = await fresh();
        const alerts: Alert[] = [];
        for (let i = 0; i < 53; i++) {
          // Few distinct values, so ties (and the id tie-break) are everywhere.
          alerts.push(makeAlert(i, {
            firstTs: T0 + (i % 7) * MIN,
            lastTs: T0 + (i % 5) * MIN + 100 * MIN,
            severity: SEVERITY_ORDER[i % 5],
          }));
        }
        // Several batches, written out of order.
        await store.putAlerts(alerts.slice(30), 's1');
        await store.putAlerts(alerts.slice(0, 30).reverse(), 's1');
        const rank = (a: Alert): number => SEVERITY_ORDER.indexOf(a.severity);
        const cmp = (x: (number | string)[], y: (number | string)[]): number => {
          for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
          return 0;
        };
        const keys = {
          lastTs: (a: Alert) => [a.lastTs, a.id],
          firstTs: (a: Alert) => [a.firstTs, a.id],
          severity: (a: Alert) => [rank(a), a.lastTs, a.id],
        };
        for (const sort of ['lastTs', 'firstTs', 'severity'] as const) {
          for (const order of ['asc', 'desc'] as const) {
            const expected = alerts.slice().sort((x, y) => cmp(keys[sort](x), keys[sort](y)) * (order === 'asc' ? 1 : -1)).map((a) => a.id);
            for (const limit of [1, 7, 10, 53, 100]) {
              const got = (await allPages(store, { sort, order, limit })).map((a) => a.id);
              expect(got, `${sort} ${order} limit ${limit}`).toEqual(expected);
            }
          }
        }
        // Default: lastTs descending.
        const def = await store.queryAlerts({ limit: 3 });
        expect(def.alerts.map((a) => a.id)).toEqual(alerts.slice().sort((x, y) => -cmp(keys.lastTs(x), keys.lastTs(y))).slice(0, 3).map((a) => a.id));
      });

      it('keeps paging consistent while alerts are added behind the cursor', async () => {
        const store = await fresh();
        await store.putAlerts(Array.from({ length: 20 }, (_, i) => makeAlert(i)), 's1');
        const p1 = await store.queryAlerts({ sort: 'firstTs', order: 'asc', limit: 10 });
        // New alerts sort after everything seen so far; the next pages must still be gapless.
        await store.putAlerts(Array.from({ length: 5 }, (_, i) => makeAlert(100 + i)), 's1');
        const rest: StoredAlert[] = [];
        let c = p1.nextCursor;
        while (c !== null) {
          const p = await store.queryAlerts({ sort: 'firstTs', order: 'asc', limit: 10, cursor: c });
          rest.push(...p.alerts);
          c = p.nextCursor;
        }
        const seen = [...p1.alerts, ...rest].map((a) => a.id);
        expect(new Set(seen).size).toBe(seen.length);
        expect(seen).toHaveLength(25);
      });

      it('refuses broken cursors and invalid queries with typed errors', async () => {
        const store = await fresh();
        await store.putAlerts(Array.from({ length: 5 }, (_, i) => makeAlert(i)), 's1');
        const page = await store.queryAlerts({ limit: 2 });
        expect(page.nextCursor).not.toBeNull();
        const broken = [
          'not a cursor!', 'AAAA', '%%%', Buffer.from('{"v":1}').toString('base64url'),
          Buffer.from('{"v":2,"k":"alerts"}').toString('base64url'),
          Buffer.from('[1,2,3]').toString('base64url'),
          Buffer.from(JSON.stringify({ v: 1, k: 'alerts', f: 'x', p: ["'; DROP TABLE alerts; --", 'x'] })).toString('base64url'),
          `${page.nextCursor!}x`, page.nextCursor!.slice(0, -3), 'A'.repeat(5000),
        ];
        for (const c of broken) await expectCode(store.queryAlerts({ limit: 2, cursor: c }), 'bad_cursor', CursorError);
        // A real cursor presented with other filters or another sort.
        await expectCode(store.queryAlerts({ limit: 2, cursor: page.nextCursor!, sensor: 's2' }), 'bad_cursor', CursorError);
        await expectCode(store.queryAlerts({ limit: 2, cursor: page.nextCursor!, sort: 'severity' }), 'bad_cursor', CursorError);
        // A feed cursor is not an alerts cursor and vice versa.
        const f = await store.feed('', 2);
        await expectCode(store.queryAlerts({ limit: 2, cursor: f.cursor }), 'bad_cursor', CursorError);
        await expectCode(store.feed(page.nextCursor!, 2), 'bad_cursor', CursorError);
        for (const c of broken) await expectCode(store.feed(c, 2), 'bad_cursor', CursorError);
        // The same cursor with a different page size is fine.
        expect((await store.queryAlerts({ limit: 3, cursor: page.nextCursor! })).alerts).toHaveLength(3);

        for (const q of [{ limit: 0 }, { limit: 1001 }, { limit: 1.5 }, { limit: 10, sort: 'id' }, { limit: 10, order: 'sideways' },
          { limit: 10, minSeverity: 'apocalyptic' }, { limit: 10, from: -1 }, { limit: 10, to: Number.POSITIVE_INFINITY },
          { limit: 10, detector: 'not-an-array' }, { limit: 10, status: 'deleted' }, { limit: 10, text: 'x'.repeat(300) },
          { limit: 10, entity: '\ud800' }]) {
          await expectCode(store.queryAlerts(q as AlertQuery), 'bad_query', StoreQueryError);
        }
        await expectCode(store.feed('', 0), 'bad_query', StoreQueryError);
        await expectCode(store.getAlert("'"), 'bad_query', StoreQueryError);
        await expectCode(store.stats({ from: 10, to: 0, bucketSeconds: 60 }), 'bad_query', StoreQueryError);
        await expectCode(store.stats({ from: 0, to: T0, bucketSeconds: 1 }), 'bad_query', StoreQueryError);
        await expectCode(store.inventoryTopics({ limit: 5, cursor: 'garbage!' }), 'bad_cursor', CursorError);
        await expectCode(store.inventoryTopics({ limit: 0 }), 'bad_query', StoreQueryError);
      });
    });

    it('records status changes, keeps them across newer versions, and filters on them', async () => {
      const store = await fresh();
      const a = makeAlert(1);
      await store.putAlerts([a, makeAlert(2)], 's1');
      const before = Date.now();
      const changed = await store.setStatus(a.id, 'acknowledged', 'alice', "on it ' \\ --");
      expect(changed).toMatchObject({ id: a.id, status: 'acknowledged', statusBy: 'alice', statusNote: "on it ' \\ --" });
      expect(changed!.statusAt).toBeGreaterThanOrEqual(before - 1000);
      expect(strip(changed!)).toEqual(a);
      expect(await store.getAlert(a.id)).toMatchObject({ status: 'acknowledged', statusBy: 'alice' });
      const closed = await store.setStatus(a.id, 'closed', 'bob', null);
      expect(closed).toMatchObject({ status: 'closed', statusBy: 'bob', statusNote: null });
      // A newer version from the detector keeps the SOC's workflow state.
      await store.putAlerts([{ ...a, count: 50 }], 's1');
      expect(await store.getAlert(a.id)).toMatchObject({ status: 'closed', statusBy: 'bob', count: 50 });
      expect((await store.queryAlerts({ limit: 10, status: 'closed' })).alerts.map((x) => x.id)).toEqual([a.id]);
      expect(await store.setStatus('0'.repeat(32), 'closed', 'bob', null)).toBeNull();
      await expectCode(store.setStatus(a.id, 'deleted' as never, 'bob', null), 'bad_query', StoreQueryError);
      await expectCode(store.setStatus(a.id, 'open', '', null), 'bad_query', StoreQueryError);
    });

    describe('feed', () => {
      it('returns alerts in insertion order, resumes from its cursor and shows newer versions again', async () => {
        const store = await fresh();
        const first = [makeAlert(5), makeAlert(1), makeAlert(9)];
        await store.putAlerts(first, 's1');
        await store.putAlerts([makeAlert(3)], 's1');
        const r1 = await drainFeed(store, '', (s) => s.length >= 4);
        expect(r1.seen.map((a) => a.id)).toEqual([...first, makeAlert(3)].map((a) => a.id));
        const seqs = r1.seen.map((a) => a.seq);
        expect(seqs).toEqual(seqs.slice().sort((x, y) => x - y));
        expect(new Set(seqs).size).toBe(seqs.length);
        // Nothing new: the cursor comes back unchanged.
        const idle = await store.feed(r1.cursor, 10);
        expect(idle).toEqual({ alerts: [], cursor: r1.cursor });
        // An updated alert comes again, after the cursor.
        await store.putAlerts([{ ...makeAlert(1), count: 7 }], 's1');
        const r2 = await drainFeed(store, r1.cursor, (s) => s.length >= 1);
        expect(r2.seen.map((a) => [a.id, a.count])).toEqual([[makeAlert(1).id, 7]]);
        // Small pages walk the same sequence.
        const small: string[] = [];
        let c = '';
        for (;;) {
          const p = await store.feed(c, 1);
          if (p.alerts.length === 0) break;
          small.push(...p.alerts.map((a) => a.id));
          c = p.cursor;
        }
        expect(small).toEqual([5, 9, 3, 1].map((i) => makeAlert(i).id));
      });

      it('never skips an alert while concurrent writers insert', async () => {
        const store = await fresh();
        const writers = 5;
        const batches = 30;
        const perBatch = 4;
        const expected = new Set<string>();
        const seen = new Set<string>();
        let lastSeq = -1;
        let cursor = '';
        let writing = true;
        let deadline = Number.POSITIVE_INFINITY;
        const reader = (async () => {
          while (writing || seen.size < expected.size) {
            const p = await store.feed(cursor, 37);
            for (const a of p.alerts) {
              // Within the feed, seq only grows.
              expect(a.seq).toBeGreaterThan(lastSeq);
              lastSeq = a.seq;
              seen.add(a.id);
            }
            cursor = p.cursor;
            if (p.alerts.length === 0) await new Promise((r) => setTimeout(r, writing ? 1 : 20));
            if (!writing && Date.now() > deadline) break;
          }
        })();
        await Promise.all(Array.from({ length: writers }, async (_, w) => {
          for (let b = 0; b < batches; b++) {
            const batch = Array.from({ length: perBatch }, (_, i) => makeAlert(w * 10_000 + b * 100 + i));
            for (const a of batch) expected.add(a.id);
            await store.putAlerts(batch, `w${w}`);
            if (b % 3 === 0) await new Promise((r) => setTimeout(r, 0));
          }
        }));
        deadline = Date.now() + settle + 15_000;
        writing = false;
        await reader;
        expect(expected.size).toBe(writers * batches * perBatch);
        expect([...expected].filter((id) => !seen.has(id))).toEqual([]);
      });
    });

    it('counts alerts by detector and severity in time buckets', async () => {
      const store = await fresh();
      const H = 3600 * 1_000_000;
      const base = Math.floor(T0 / H) * H;
      await store.putAlerts([
        makeAlert(1, { detector: 'd1', severity: 'high', firstTs: base + 1, lastTs: base + 2 }),
        makeAlert(2, { detector: 'd1', severity: 'high', firstTs: base + H - 1, lastTs: base + H }),
        makeAlert(3, { detector: 'd1', severity: 'low', firstTs: base + 5, lastTs: base + 6 }),
        makeAlert(4, { detector: 'd2', severity: 'high', firstTs: base + H + 5, lastTs: base + H + 6 }),
        makeAlert(5, { detector: 'd1', severity: 'high', firstTs: base + 2 * H, lastTs: base + 2 * H }),
        makeAlert(6, { detector: 'd1', severity: 'high', firstTs: base + 10 * H, lastTs: base + 10 * H }),
      ], 's1');
      await store.putAlerts([makeAlert(7, { detector: 'd2', severity: 'high', firstTs: base + 10, lastTs: base + 11 })], 's2');
      const all = await store.stats({ from: base, to: base + 2 * H, bucketSeconds: 3600 });
      expect(all).toEqual([
        { ts: base, detector: 'd1', severity: 'low', count: 1 },
        { ts: base, detector: 'd1', severity: 'high', count: 2 },
        { ts: base, detector: 'd2', severity: 'high', count: 1 },
        { ts: base + H, detector: 'd2', severity: 'high', count: 1 },
        { ts: base + 2 * H, detector: 'd1', severity: 'high', count: 1 },
      ]);
      const s2 = await store.stats({ from: base, to: base + 20 * H, bucketSeconds: 86400, sensor: 's2' });
      expect(s2).toEqual([{ ts: Math.floor(base / (86400 * 1e6)) * 86400 * 1e6, detector: 'd2', severity: 'high', count: 1 }]);
      expect(await store.stats({ from: base + 100 * H, to: base + 101 * H, bucketSeconds: 60 })).toEqual([]);
    });

    it('stores forensic records and serves the inventories', async () => {
      const store = await fresh();
      await store.putRecords({
        sessions: [
          session({ flowId: 1, communityId: '1:a=', firstTs: T0, lastTs: T0 + MIN, publishes: 5, bytes: 100, client: '10.0.0.1:50000' }),
          session({ flowId: 2, communityId: '1:b=', firstTs: T0 + 2 * MIN, lastTs: T0 + 3 * MIN, publishes: 7, bytes: 200, client: '10.0.0.1:50001', protocolVersion: 5 }),
          session({ flowId: 3, communityId: '1:c=', clientId: "evil'client\\", username: null, firstTs: T0, lastTs: T0 + 9 * MIN, connackCode: null, tls: true }),
          session({ sensor: 's2', flowId: 1, communityId: '1:d=', clientId: 'dev-9', firstTs: T0, lastTs: T0 + 4 * MIN }),
        ],
        topics: [
          topicRow({ minute: T0, topic: 'a/b', publishes: 3, publishers: 2 }),
          topicRow({ minute: T0 + MIN, topic: 'a/b', publishes: 4, publishers: 1 }),
          topicRow({ minute: T0, topic: 'c/#', publishes: 1 }),
        ],
        coap: [
          coapRow({ minute: T0, client: '10.0.0.5', rttUsP50: 1000 }),
          coapRow({ minute: T0 + MIN, client: '10.0.0.6', rttUsP50: 3000, requests: 1 }),
          coapRow({ minute: T0, path: '/.well-known/core', rttUsP50: null }),
        ],
        tls: [
          tlsRow({ firstTs: T0, lastTs: T0 + MIN }),
          tlsRow({ firstTs: T0 + 2 * MIN, lastTs: T0 + 8 * MIN, clientAuth: true }),
          tlsRow({ server: '192.168.1.99:8883', sni: '', sha256: '', subject: '', issuer: '', notBefore: 0, notAfter: 0, version: 'TLS 1.3', firstTs: T0, lastTs: T0 + 2 * MIN }),
        ],
      });
      // Re-putting a row with the same key replaces it (the recorder re-emits growing rows).
      await store.putRecords({ sessions: [session({ flowId: 1, communityId: '1:a=', firstTs: T0, lastTs: T0 + MIN, publishes: 6, bytes: 150, client: '10.0.0.1:50000' })] });

      const clients = await store.inventoryClients({ limit: 10 });
      expect(clients.nextCursor).toBeNull();
      expect(clients.rows).toEqual([
        session({ flowId: 3, communityId: '1:c=', clientId: "evil'client\\", username: null, firstTs: T0, lastTs: T0 + 9 * MIN, connackCode: null, tls: true }),
        session({ sensor: 's2', flowId: 1, communityId: '1:d=', clientId: 'dev-9', firstTs: T0, lastTs: T0 + 4 * MIN }),
        session({ flowId: 2, communityId: '1:b=', client: '10.0.0.1:50001', protocolVersion: 5, firstTs: T0, lastTs: T0 + 3 * MIN, publishes: 13, subscribes: 2, bytes: 350 }),
      ]);
      expect((await store.inventoryClients({ limit: 10, sensor: 's2' })).rows.map((r) => r.clientId)).toEqual(['dev-9']);

      const topics = await store.inventoryTopics({ limit: 10 });
      expect(topics.rows).toEqual([
        topicRow({ minute: T0 + MIN, topic: 'a/b', publishes: 7, retained: 2, bytes: 800, publishers: 2 }),
        topicRow({ minute: T0, topic: 'c/#', publishes: 1 }),
      ]);

      const coap = await store.inventoryCoapResources({ limit: 10 });
      expect(coap.rows).toEqual([
        coapRow({ minute: T0 + MIN, client: '10.0.0.6', rttUsP50: 3000, requests: 5, responses: 8, requestBytes: 160, responseBytes: 240 }),
        coapRow({ minute: T0, path: '/.well-known/core', rttUsP50: null }),
      ]);

      const tls = await store.inventoryTls({ limit: 10 });
      expect(tls.rows.map((r) => ({ ...r, daysToExpiry: undefined }))).toEqual([
        { ...tlsRow({ firstTs: T0, lastTs: T0 + 8 * MIN, clientAuth: true }), daysToExpiry: undefined },
        { ...tlsRow({ server: '192.168.1.99:8883', sni: '', sha256: '', subject: '', issuer: '', notBefore: 0, notAfter: 0, version: 'TLS 1.3', firstTs: T0, lastTs: T0 + 2 * MIN }), daysToExpiry: undefined },
      ]);
      const expect0 = Math.floor((tlsRow().notAfter / 1000 - Date.now()) / 86_400_000);
      expect(Math.abs(tls.rows[0].daysToExpiry - expect0)).toBeLessThanOrEqual(1);

      // Pagination over an inventory: every topic once, in order.
      await store.putRecords({ topics: Array.from({ length: 25 }, (_, i) => topicRow({ minute: T0 + (i % 4) * MIN, topic: `t/${String(i).padStart(2, '0')}` })) });
      const pages: string[] = [];
      let c: string | undefined;
      do {
        const p = await store.inventoryTopics({ limit: 4, cursor: c });
        pages.push(...p.rows.map((r) => r.topic));
        c = p.nextCursor ?? undefined;
      } while (c !== undefined);
      expect(pages).toHaveLength(27);
      expect(new Set(pages).size).toBe(27);
      expect(pages[0]).toBe('t/03');
    });

    it('reports health', async () => {
      const store = await fresh();
      await store.putAlerts([makeAlert(1)], 's1');
      const h = await store.health();
      expect(h.ok).toBe(true);
      expect(h.kind).toBe(store.kind);
      expect(h.pending).toBe(0);
      expect(h.spoolRecords).toBe(0);
      expect(typeof h.detail).toBe('string');
      expect(h.spoolBytes).toBeGreaterThanOrEqual(0);
    });
  });
}
