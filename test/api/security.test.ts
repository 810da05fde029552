// The security rules across every route: tokens, the beyond-loopback rule, rate limits, body
// limits, CORS, and hostile input that must never produce a 5xx, a stack trace or a leak.
import { describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { expectError, expectNoLeak } from './assert';
import { HOSTILE, RW_TOKEN, TOKENS, alertId, app, makeAlert, qs, ro, rw, seededStore } from './fixtures';
import { MemoryStore } from './memory-store';
import { STORE_KINDS } from './stores';

interface RouteCase { method: 'GET' | 'PATCH'; url: string; payload?: object; write?: boolean; params: string[] }

const ID = alertId(3);
const ROUTES: RouteCase[] = [
  { method: 'GET', url: '/api/v1/alerts', params: ['from', 'to', 'detector', 'category', 'minSeverity', 'status', 'entity', 'address', 'q', 'sensor', 'sort', 'order', 'limit', 'cursor'] },
  { method: 'GET', url: `/api/v1/alerts/${ID}`, params: [] },
  { method: 'PATCH', url: `/api/v1/alerts/${ID}`, payload: { status: 'acknowledged' }, write: true, params: [] },
  { method: 'GET', url: '/api/v1/alerts/feed', params: ['after', 'limit'] },
  { method: 'GET', url: '/api/v1/stats', params: ['from', 'to', 'bucket', 'sensor'] },
  { method: 'GET', url: '/api/v1/inventory/clients', params: ['limit', 'cursor', 'sensor'] },
  { method: 'GET', url: '/api/v1/inventory/topics', params: ['limit', 'cursor', 'sensor'] },
  { method: 'GET', url: '/api/v1/inventory/coap-resources', params: ['limit', 'cursor', 'sensor'] },
  { method: 'GET', url: '/api/v1/inventory/tls', params: ['limit', 'cursor', 'sensor'] },
  { method: 'GET', url: '/api/v1/openapi.json', params: [] },
  { method: 'GET', url: '/metrics', params: [] },
];
// The stream is covered over a real socket in routes/stream.test.ts; here only its refusals.
const REFUSED_ONLY: RouteCase[] = [{ method: 'GET', url: '/api/v1/alerts/stream', params: [] }];

const call = (a: FastifyInstance, r: RouteCase, headers: Record<string, string> = {}, query = '') =>
  a.inject({ method: r.method, url: `${r.url}${query ? `?${query}` : ''}`, headers, ...(r.payload ? { payload: r.payload } : {}) });

describe('tokens on every route', () => {
  it('401 without a token, 401 with a wrong one, 200 with a good one; 403 read-only on writes', async () => {
    const a = app(await seededStore(10), { tokens: TOKENS });
    for (const r of [...ROUTES, ...REFUSED_ONLY]) {
      const none = await call(a, r);
      expectError(none, 401, 'unauthorized');
      expect(none.headers['www-authenticate']).toBe('Bearer realm="iotwatch"');
      for (const bad of ['Bearer nope-nope-nope-nope', `Bearer ${RW_TOKEN.slice(0, -1)}`, `Token ${RW_TOKEN}`, RW_TOKEN, `Bearer ${RW_TOKEN}\u0000`]) {
        const res = await call(a, r, { authorization: bad });
        expect(res.statusCode, `${r.url} ${bad}`).toBe(401);
        expectError(res, 401);
      }
    }
    for (const r of ROUTES) {
      expect((await call(a, r, rw)).statusCode, r.url).toBe(200);
      const res = await call(a, r, ro);
      if (r.write) expectError(res, 403, 'forbidden');
      else expect(res.statusCode, r.url).toBe(200);
    }
    await a.close();
  });

  it('leaves /api/v1/health open', async () => {
    const a = app(await seededStore(1), { tokens: TOKENS });
    expect((await a.inject({ url: '/api/v1/health' })).statusCode).toBe(200);
    expect((await a.inject({ url: '/api/v1/health', headers: { authorization: 'Bearer wrong-wrong-wrong' } })).statusCode).toBe(200);
    await a.close();
  });

  it('takes IOTWATCH_API_TOKEN (passed in opts) as a read-write token', async () => {
    const a = app(await seededStore(5), { tokens: { token: 'from-the-environment-123' } });
    expect((await a.inject({ url: '/api/v1/alerts' })).statusCode).toBe(401);
    const res = await a.inject({ method: 'PATCH', url: `/api/v1/alerts/${ID}`, headers: { authorization: 'Bearer from-the-environment-123' }, payload: { status: 'closed' } });
    expect(res.json()).toMatchObject({ status: 'closed', statusBy: 'api-token' });
    await a.close();
  });

  it('is open on loopback without tokens, including writes', async () => {
    const a = app(await seededStore(5), { listenHost: '127.0.0.1' });
    for (const r of ROUTES) expect((await call(a, r)).statusCode, r.url).toBe(200);
    await a.close();
  });
});

describe('beyond loopback', () => {
  it('with no token configured, refuses every route but health with 401 auth_not_configured', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'sensor.example']) {
      const a = app(await seededStore(2), { listenHost: host });
      for (const r of [...ROUTES, ...REFUSED_ONLY]) {
        const res = await call(a, r, rw);
        expectError(res, 401, 'auth_not_configured');
        expect(res.json().error.message).toMatch(/IOTWATCH_API_TOKEN/);
      }
      expectError(await a.inject({ url: '/no/such/route' }), 401, 'auth_not_configured');
      expect((await a.inject({ url: '/api/v1/health' })).statusCode).toBe(200);
      await a.close();
    }
  });

  it('with tokens configured, requires them', async () => {
    const a = app(await seededStore(10), { listenHost: '0.0.0.0', tokens: TOKENS });
    for (const r of ROUTES) {
      expectError(await call(a, r), 401, 'unauthorized');
      expect((await call(a, r, rw)).statusCode).toBe(200);
    }
    await a.close();
  });
});

describe('rate limits', () => {
  it('answer 429 with Retry-After per client address, and refill with time', async () => {
    let now = 1_000_000;
    const a = app(await seededStore(2), { rateLimit: { perIp: { capacity: 5, refillPerSecond: 1 }, perToken: false, now: () => now } });
    for (let i = 0; i < 5; i++) expect((await a.inject({ url: '/api/v1/alerts' })).statusCode).toBe(200);
    const res = await a.inject({ url: '/api/v1/alerts' });
    expectError(res, 429, 'rate_limited');
    expect(res.headers['retry-after']).toBe('1');
    // Another address has its own bucket.
    expect((await a.inject({ url: '/api/v1/alerts', remoteAddress: '10.9.9.9' })).statusCode).toBe(200);
    now += 2000;
    expect((await a.inject({ url: '/api/v1/alerts' })).statusCode).toBe(200);
    expect((await a.inject({ url: '/api/v1/alerts' })).statusCode).toBe(200);
    expect((await a.inject({ url: '/api/v1/alerts' })).statusCode).toBe(429);
    // Health is limited too: it is open to anyone.
    expect((await a.inject({ url: '/api/v1/health' })).statusCode).toBe(429);
    const metrics = (await a.inject({ url: '/metrics', remoteAddress: '10.1.1.1' })).body;
    expect(metrics).toContain('iotwatch_api_rate_limited_total{by="ip"} 3');
    await a.close();
  });

  it('limit per token across addresses', async () => {
    const a = app(await seededStore(2), { tokens: TOKENS, rateLimit: { perIp: false, perToken: { capacity: 3, refillPerSecond: 0.1 } } });
    for (let i = 0; i < 3; i++) expect((await a.inject({ url: '/api/v1/alerts', headers: ro, remoteAddress: `10.0.0.${i}` })).statusCode).toBe(200);
    const res = await a.inject({ url: '/api/v1/alerts', headers: ro, remoteAddress: '10.0.0.99' });
    expectError(res, 429, 'rate_limited');
    expect(Number(res.headers['retry-after'])).toBe(10);
    expect((await a.inject({ url: '/api/v1/alerts', headers: rw })).statusCode).toBe(200);
    await a.close();
  });

  it('throttle a flood of wrong tokens before checking them', async () => {
    const a = app(await seededStore(1), { tokens: TOKENS, rateLimit: { perIp: { capacity: 3, refillPerSecond: 0.001 } } });
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await a.inject({ url: '/api/v1/alerts', headers: { authorization: `Bearer guess-${i}-xxxxxxxxxxxx` } })).statusCode);
    expect(codes).toEqual([401, 401, 401, 429, 429, 429]);
    await a.close();
  });
});

describe('body limit, CORS, unknown routes', () => {
  it('answers 413 above the body limit (default 16 KiB, configurable)', async () => {
    const a = app(await seededStore(5));
    const url = `/api/v1/alerts/${ID}`;
    expect((await a.inject({ method: 'PATCH', url, payload: { status: 'closed', note: 'x'.repeat(4000) } })).statusCode).toBe(200);
    expectError(await a.inject({ method: 'PATCH', url, payload: { status: 'closed', note: 'x'.repeat(16 * 1024) } }), 413, 'payload_too_large');
    await a.close();
    const b = app(await seededStore(5), { bodyLimit: 100 });
    expectError(await b.inject({ method: 'PATCH', url, payload: { status: 'closed', note: 'x'.repeat(200) } }), 413, 'payload_too_large');
    await b.close();
  });

  it('sends no CORS headers and answers preflights 404', async () => {
    const a = app(await seededStore(1));
    const res = await a.inject({ url: '/api/v1/alerts', headers: { origin: 'https://evil.example' } });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const pre = await a.inject({ method: 'OPTIONS', url: '/api/v1/alerts', headers: { origin: 'https://evil.example', 'access-control-request-method': 'PATCH' } });
    expect(pre.statusCode).toBe(404);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    await a.close();
  });

  it('answers unknown routes and methods with 404 not_found', async () => {
    const a = app(await seededStore(1));
    expectError(await a.inject({ url: '/api/v2/alerts' }), 404, 'not_found');
    expectError(await a.inject({ method: 'DELETE', url: `/api/v1/alerts/${ID}` }), 404, 'not_found');
    expectError(await a.inject({ url: `/api/v1/alerts/${'a'.repeat(300)}` }), 400, 'bad_request');
    expectError(await a.inject({ url: '/api/v1/alerts/%E0%A4%A' }), 400, 'bad_request');
    await a.close();
  });
});

describe.each(STORE_KINDS)('hostile input on every route ($name)', (kind) => {
  it('never answers 5xx, never leaks, and keeps the error shape', async () => {
    const store = await seededStore(20, await kind.make());
    const a = app(store, { tokens: TOKENS });
    let tried = 0;
    for (const r of ROUTES) {
      for (const param of r.params) {
        for (const v of [...HOSTILE, ['1', '2'] as unknown as string]) {
          const res = await call(a, r, rw, qs({ [param]: v }));
          tried++;
          expect(res.statusCode, `${r.url} ${param}=${String(v).slice(0, 40)}`).toBeLessThan(500);
          expectNoLeak(res.body);
          if (res.statusCode !== 200) expectError(res, res.statusCode);
        }
      }
      // Unknown parameters and odd query syntax.
      for (const q of ['%zz=1', 'a[b]=1', '__proto__[x]=1', 'constructor=1', '&&&', '=', 'limit=1&limit=1']) {
        const res = await call(a, r, rw, q);
        expect(res.statusCode, `${r.url}?${q}`).toBeLessThan(500);
        expectNoLeak(res.body);
      }
    }
    // The stream refuses every hostile start cursor before it starts streaming (else inject would hang).
    for (const v of [...HOSTILE, ['1', '2'] as unknown as string]) {
      for (const [q, headers] of [[qs({ after: v }), rw], ['', { ...rw, 'last-event-id': String(v).replace(/[\r\n\u0000]/g, '') || 'x' }]] as const) {
        const res = await a.inject({ url: `/api/v1/alerts/stream${q ? `?${q}` : ''}`, headers });
        expect(res.statusCode, `stream ${String(v).slice(0, 40)}`).toBe(400);
        expectError(res, 400);
        tried++;
      }
    }
    // Hostile ids and bodies on the id routes.
    for (const v of HOSTILE) {
      for (const method of ['GET', 'PATCH'] as const) {
        const res = await a.inject({ method, url: `/api/v1/alerts/${encodeURIComponent(v)}`, headers: rw, ...(method === 'PATCH' ? { payload: { status: 'closed' } } : {}) });
        expect([400, 404]).toContain(res.statusCode);
        expectError(res, res.statusCode);
      }
      for (const payload of [{ status: v }, { status: 'closed', by: v }, { status: 'closed', note: v }, { [v]: 'closed' }]) {
        const res = await a.inject({ method: 'PATCH', url: `/api/v1/alerts/${ID}`, headers: rw, payload });
        expect(res.statusCode, JSON.stringify(payload).slice(0, 60)).toBeLessThan(500);
        expectNoLeak(res.body);
      }
    }
    for (const payload of [
      { status: 'closed', by: 1e308 }, { status: 'closed', note: -1 }, { status: 'closed', note: ['a'] },
      { status: 'closed', note: { a: 1 } }, { status: true }, { status: 'closed', note: 'x'.repeat(4097) },
    ]) {
      expectError(await a.inject({ method: 'PATCH', url: `/api/v1/alerts/${ID}`, headers: rw, payload }), 400, 'bad_request');
    }
    expect(tried).toBeGreaterThan(400);
    // The alert is untouched by all of that, apart from writes that were legitimate text.
    expect((await store.getAlert(ID))!.status).toMatch(/^(open|closed)$/);
    await a.close();
    await store.close();
  });

  it('treats SQL metacharacters in text filters as plain text', async () => {
    const store = await seededStore(5, await kind.make());
    await store.putAlerts([makeAlert(3, { summary: "it's a \"quoted\" 50% _match_; DROP TABLE x --" })], 'edge-1');
    const a = app(store);
    for (const q of ["it's", '"quoted"', '50%', '_match_', '; DROP TABLE x --']) {
      const res = await a.inject({ url: `/api/v1/alerts?${qs({ q })}` });
      expect(res.json().alerts.map((x: { id: string }) => x.id), q).toEqual([ID]);
    }
    await a.close();
    await store.close();
  });
});

describe('unexpected store failures', () => {

  it('answers a store that throws unexpectedly with 500/503 and no detail', async () => {
    const store = new MemoryStore();
    store.queryAlerts = () => { throw new TypeError("Cannot read properties of undefined (reading 'x') at /srv/app.js:1:1"); };
    const a = app(store);
    expectError(await a.inject({ url: '/api/v1/alerts' }), 503, 'store_unavailable');
    await a.close();
  });
});
