import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { SEVERITIES } from '../../../src/alerts/types';
import type { AlertStore, StoredAlert } from '../../../src/store/types';
import { expectError } from '../assert';
import { T0, TOKENS, alertId, app, makeAlert, qs, ro, rw, seededStore } from '../fixtures';
import { MemoryStore } from '../memory-store';
import { STORE_KINDS } from '../stores';

const N = 50;
const all = Array.from({ length: N }, (_, i) => makeAlert(i));

async function list(a: FastifyInstance, params: Record<string, string | string[]> = {}): Promise<{ alerts: StoredAlert[]; nextCursor: string | null }> {
  const res = await a.inject({ url: `/api/v1/alerts?${qs(params)}`, headers: rw });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function listAll(a: FastifyInstance, params: Record<string, string> = {}, limit = 7): Promise<StoredAlert[]> {
  const out: StoredAlert[] = [];
  let cursor: string | null = '';
  for (let pages = 0; cursor !== null; pages++) {
    expect(pages).toBeLessThan(1000);
    const page = await list(a, { ...params, limit: String(limit), ...(cursor ? { cursor } : {}) });
    expect(page.alerts.length).toBeLessThanOrEqual(limit);
    out.push(...page.alerts);
    cursor = page.nextCursor;
  }
  return out;
}

const ids = (xs: { id: string }[]): string[] => xs.map((x) => x.id).sort();

describe.each(STORE_KINDS)('GET /api/v1/alerts ($name)', (kind) => {
  let store: AlertStore;
  let a: FastifyInstance;
  beforeEach(async () => {
    store = await seededStore(N, await kind.make());
    a = app(store, { tokens: TOKENS });
  });
  afterEach(async () => {
    await a.close();
    await store.close();
  });

  it('lists newest first with every stored field', async () => {
    const page = await list(a, { limit: '5' });
    expect(page.alerts).toHaveLength(5);
    expect(page.nextCursor).toEqual(expect.any(String));
    expect(page.alerts.map((x) => x.lastTs)).toEqual([...all].map((x) => x.lastTs).sort((x, y) => y - x).slice(0, 5));
    const top = page.alerts[0];
    const src = all[N - 1];
    expect(top).toMatchObject({
      id: src.id, detector: src.detector, category: src.category, severity: src.severity, firstTs: src.firstTs,
      lastTs: src.lastTs, entity: src.entity, endpoints: src.endpoints, communityIds: src.communityIds, frames: src.frames,
      count: src.count, summary: src.summary, evidence: src.evidence, recommendation: src.recommendation, mitre: src.mitre,
      sensor: 'edge-2', status: 'open', statusBy: null, statusNote: null, statusAt: null,
    });
    expect(top.seq).toEqual(expect.any(Number));
  });

  it('defaults to 100 per page', async () => {
    const page = await list(a);
    expect(page.alerts).toHaveLength(N);
    expect(page.nextCursor).toBeNull();
  });

  it('pages through everything exactly once with the cursor', async () => {
    for (const sort of ['lastTs', 'firstTs', 'severity']) {
      for (const order of ['asc', 'desc']) {
        const got = await listAll(a, { sort, order });
        expect(got).toHaveLength(N);
        expect(ids(got)).toEqual(ids(all));
      }
    }
  });

  it('sorts by firstTs ascending and by severity', async () => {
    const asc = await list(a, { sort: 'firstTs', order: 'asc', limit: '10' });
    expect(asc.alerts.map((x) => x.id)).toEqual(all.slice(0, 10).map((x) => x.id));
    const sev = await list(a, { sort: 'severity', order: 'desc', limit: '1000' });
    const ranks = sev.alerts.map((x) => SEVERITIES.indexOf(x.severity));
    expect(ranks).toEqual([...ranks].sort((x, y) => y - x));
  });

  it('filters by time range, in µs and ISO 8601', async () => {
    const from = all[10].lastTs;
    const to = all[19].firstTs;
    const want = all.filter((x) => x.lastTs >= from && x.firstTs <= to);
    expect(want).toHaveLength(10);
    expect(ids((await list(a, { from: String(from), to: String(to) })).alerts)).toEqual(ids(want));
    const iso = (us: number): string => new Date(us / 1000).toISOString().replace('Z', '') + String(us % 1000).padStart(3, '0') + 'Z';
    expect(ids((await list(a, { from: iso(from), to: iso(to) })).alerts)).toEqual(ids(want));
    // The same instant written with an offset.
    const plus2 = new Date(T0 / 1000 + 2 * 3600_000).toISOString().slice(0, 19) + '+02:00';
    expect((await list(a, { to: plus2 })).alerts.map((x) => x.id)).toEqual([all[0].id]);
  });

  it('filters by detector list, category, minimum severity, entity, sensor', async () => {
    const det = await list(a, { detector: 'mqtt.connect_flood,coap.amplification', limit: '1000' });
    expect(ids(det.alerts)).toEqual(ids(all.filter((x) => ['mqtt.connect_flood', 'coap.amplification'].includes(x.detector))));
    const cat = await list(a, { category: 'posture', limit: '1000' });
    expect(ids(cat.alerts)).toEqual(ids(all.filter((x) => x.category === 'posture')));
    const sev = await list(a, { minSeverity: 'high', limit: '1000' });
    expect(ids(sev.alerts)).toEqual(ids(all.filter((x) => x.severity === 'high' || x.severity === 'critical')));
    const ent = await list(a, { entity: 'sensor-7' });
    expect(ent.alerts.map((x) => x.id)).toEqual([all[7].id]);
    const sensor = await list(a, { sensor: 'edge-1', limit: '1000' });
    expect(ids(sensor.alerts)).toEqual(ids(all.slice(0, N / 2)));
  });

  it('filters by address, IPv4 and IPv6 in any spelling', async () => {
    const v4 = await list(a, { address: '10.0.0.3' });
    expect(v4.alerts.map((x) => x.id)).toEqual([all[3].id]);
    const v6 = await list(a, { address: '2001:0db8:0000::0005' });
    expect(v6.alerts.map((x) => x.id)).toEqual([all[4].id]);
    const server = await list(a, { address: '[2001:db8::1]', limit: '1000' });
    expect(server.alerts).toHaveLength(all.filter((x) => x.endpoints[0].includes('[2001:db8::1]:1883')).length);
  });

  it('searches text case-insensitively, SQL metacharacters as plain text', async () => {
    const r = await list(a, { q: 'SENSOR-12 FAILED' });
    expect(r.alerts.map((x) => x.id)).toEqual([all[12].id]);
    expect((await list(a, { q: "' OR 1=1 --" })).alerts).toEqual([]);
    expect((await list(a, { q: '%' })).alerts).toEqual([]);
    expect((await list(a, { q: '_' })).alerts.length).toBeGreaterThan(0); // "mqtt.auth_bruteforce" holds one
  });

  it('filters by status after a PATCH', async () => {
    const res = await a.inject({ method: 'PATCH', url: `/api/v1/alerts/${all[3].id}`, headers: rw, payload: { status: 'closed' } });
    expect(res.statusCode).toBe(200);
    expect((await list(a, { status: 'closed' })).alerts.map((x) => x.id)).toEqual([all[3].id]);
    expect((await list(a, { status: 'open', limit: '1000' })).alerts).toHaveLength(N - 1);
  });

  it('refuses bad parameters with 400 bad_request', async () => {
    const bad: Record<string, string | string[]>[] = [
      { limit: '0' }, { limit: '1001' }, { limit: '-1' }, { limit: 'abc' }, { limit: '1.5' }, { limit: '1e400' },
      { limit: '99999999999999999999999' }, { limit: ['1', '2'] }, { category: ['anomaly', 'posture'] },
      { category: 'ANOMALY' }, { minSeverity: 'urgent' }, { status: 'deleted' }, { sort: 'id' }, { order: 'up' },
      { from: 'yesterday' }, { from: '2024-13-01T00:00:00Z' }, { from: '2024-02-30' }, { from: '2024-05-01T12:00:00' },
      { from: '-5' }, { from: '99999999999999999999' }, { from: '2024-05-02', to: '2024-05-01' },
      { detector: ',' }, { detector: 'a b' }, { detector: Array.from({ length: 40 }, (_, i) => `d${i}`).join(',') },
      { address: 'not-an-ip' }, { address: '10.0.0.256' }, { q: 'a\u0000b' }, { entity: '\u0000' },
      { q: 'é'.repeat(257) }, { sensor: '' }, { bogus: '1' }, { 'limit[]': '5' },
    ];
    for (const p of bad) expectError(await a.inject({ url: `/api/v1/alerts?${qs(p)}`, headers: rw }), 400, 'bad_request');
  });

  it('refuses broken, forged and foreign cursors with 400 bad_cursor', async () => {
    const page = await list(a, { limit: '3' });
    const c = page.nextCursor!;
    const [payload, tag] = c.split('.');
    const forgedPayload = Buffer.from(JSON.stringify([1, 'alerts', 'o:0'])).toString('base64url');
    const inv = (await a.inject({ url: '/api/v1/inventory/clients?limit=1', headers: rw })).json().nextCursor as string;
    for (const cursor of [
      c.slice(0, -1), c.slice(1), `${payload}.${tag.replace(/./, (ch) => (ch === 'A' ? 'B' : 'A'))}`, `${forgedPayload}.${tag}`,
      'x', '.', "' OR 1=1 --", 'A'.repeat(5000), inv, `${payload}.${tag}.${tag}`, '\u0000',
    ]) {
      expectError(await a.inject({ url: `/api/v1/alerts?${qs({ cursor })}`, headers: rw }), 400, 'bad_cursor');
    }
  });
});

describe.each(STORE_KINDS)('GET and PATCH /api/v1/alerts/:id ($name)', (kind) => {
  let store: AlertStore;
  let a: FastifyInstance;
  beforeEach(async () => {
    store = await seededStore(N, await kind.make());
    a = app(store, { tokens: TOKENS });
  });
  afterEach(async () => {
    await a.close();
    await store.close();
  });

  it('returns one alert with evidence and frames', async () => {
    const res = await a.inject({ url: `/api/v1/alerts/${all[5].id}`, headers: ro });
    expect(res.statusCode).toBe(200);
    const got = res.json() as StoredAlert;
    expect(got.evidence).toEqual(all[5].evidence);
    expect(got.frames).toEqual(all[5].frames);
  });

  it('answers 404 not_found for an unknown id and 400 for a malformed one', async () => {
    expectError(await a.inject({ url: `/api/v1/alerts/${alertId(9999)}`, headers: ro }), 404, 'not_found');
    for (const id of ['abc', alertId(1).toUpperCase(), `${alertId(1)}0`, "1' OR '1'='1", '%00', '..%2F..%2Fetc', '-1', '9'.repeat(32) + 'x']) {
      expectError(await a.inject({ url: `/api/v1/alerts/${encodeURIComponent(id)}`, headers: ro }), 400, 'bad_request');
    }
  });

  it('sets status with who and a note (read-write token)', async () => {
    const before = Date.now();
    const res = await a.inject({
      method: 'PATCH', url: `/api/v1/alerts/${all[1].id}`, headers: rw,
      payload: { status: 'acknowledged', by: 'alice@soc', note: 'looking into it; ticket #42' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const got = res.json() as StoredAlert;
    expect(got).toMatchObject({ id: all[1].id, status: 'acknowledged', statusBy: 'alice@soc', statusNote: 'looking into it; ticket #42' });
    expect(got.statusAt).toBeGreaterThanOrEqual(before);
    const again = (await a.inject({ url: `/api/v1/alerts/${all[1].id}`, headers: ro })).json() as StoredAlert;
    expect(again.status).toBe('acknowledged');
  });

  it('records the token name when no one is named, and accepts a null note', async () => {
    const res = await a.inject({ method: 'PATCH', url: `/api/v1/alerts/${all[2].id}`, headers: rw, payload: { status: 'closed', note: null } });
    expect(res.json()).toMatchObject({ status: 'closed', statusBy: 'soc-rw', statusNote: null });
  });

  it('needs a read-write token: 401 without, 401 wrong, 403 read-only', async () => {
    const url = `/api/v1/alerts/${all[1].id}`;
    const payload = { status: 'closed' };
    expectError(await a.inject({ method: 'PATCH', url, payload }), 401, 'unauthorized');
    expectError(await a.inject({ method: 'PATCH', url, payload, headers: { authorization: 'Bearer wrong-token-xxxxxxxxxxxx' } }), 401, 'invalid_token');
    const res = await a.inject({ method: 'PATCH', url, payload, headers: ro });
    expectError(res, 403, 'forbidden');
    expect(res.headers['www-authenticate']).toMatch(/insufficient_scope/);
    expect(((await a.inject({ url, headers: ro })).json() as StoredAlert).status).toBe('open');
  });

  it('refuses bad bodies: schema 400, JSON 400 bad_json, media type 415, size 413', async () => {
    const url = `/api/v1/alerts/${all[1].id}`;
    for (const payload of [
      {}, { status: 'deleted' }, { status: ['closed'] }, { status: 'closed', extra: 1 }, { status: 'closed', by: '' },
      { status: 'closed', by: 'a\nb' }, { status: 'closed', by: 'x'.repeat(129) }, { status: 'closed', note: 'n\u0000' },
      { status: 'closed', note: 5 }, { status: 'closed', by: { $ne: null } }, [], ['closed'],
    ]) {
      expectError(await a.inject({ method: 'PATCH', url, headers: rw, payload: payload as object }), 400, 'bad_request');
    }
    for (const body of ['{', '{"status": "closed",}', 'null', '{"__proto__": {"x": 1}, "status": "closed"}']) {
      const res = await a.inject({ method: 'PATCH', url, headers: { ...rw, 'content-type': 'application/json' }, body });
      expect(res.statusCode).toBe(400);
      expectError(res, 400);
    }
    expectError(await a.inject({ method: 'PATCH', url, headers: { ...rw, 'content-type': 'text/plain' }, body: 'status=closed' }), 415, 'unsupported_media_type');
    const big = { status: 'closed', note: 'x'.repeat(17 * 1024) };
    expectError(await a.inject({ method: 'PATCH', url, headers: rw, payload: big }), 413, 'payload_too_large');
  });

  it('answers 404 when patching an unknown alert', async () => {
    expectError(await a.inject({ method: 'PATCH', url: `/api/v1/alerts/${alertId(777)}`, headers: rw, payload: { status: 'closed' } }), 404, 'not_found');
  });
});

describe('store failures', () => {
  it('answer 503 store_unavailable with no backend text', async () => {
    const store = (await seededStore(5)) as MemoryStore;
    const a = app(store);
    store.failing = new Error('connect ECONNREFUSED 10.1.2.3:8123 at Socket.<anonymous> (/srv/node_modules/x.js:1:1)');
    for (const url of ['/api/v1/alerts', `/api/v1/alerts/${alertId(1)}`, '/api/v1/alerts/feed', '/api/v1/stats', '/api/v1/inventory/tls']) {
      expectError(await a.inject({ url }), 503, 'store_unavailable');
    }
    expectError(await a.inject({ method: 'PATCH', url: `/api/v1/alerts/${alertId(1)}`, payload: { status: 'closed' } }), 503, 'store_unavailable');
    await a.close();
  });

  it('maps the store\'s own validation errors to 400', async () => {
    const store = (await seededStore(5)) as MemoryStore;
    const a = app(store);
    store.failing = Object.assign(new Error('entity longer than 4096'), { code: 'bad_query' });
    expectError(await a.inject({ url: '/api/v1/alerts' }), 400, 'bad_request');
    await a.close();
  });
});
