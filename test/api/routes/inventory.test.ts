import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { AlertStore } from '../../../src/store/types';
import { expectError } from '../assert';
import { TOKENS, app, qs, records, ro, seededStore } from '../fixtures';
import { STORE_KINDS } from '../stores';

const ROUTES = ['clients', 'topics', 'coap-resources', 'tls'] as const;

describe.each(STORE_KINDS)('GET /api/v1/inventory/* ($name)', (kind) => {
  let store: AlertStore;
  let a: FastifyInstance;
  beforeEach(async () => {
    store = await seededStore(3, await kind.make());
    a = app(store, { tokens: TOKENS });
  });
  afterEach(async () => {
    await a.close();
    await store.close();
  });

  it('lists MQTT clients with paging and a sensor filter', async () => {
    const want = records().sessions;
    const p1 = (await a.inject({ url: '/api/v1/inventory/clients?limit=3', headers: ro })).json();
    expect(p1.rows).toHaveLength(3);
    expect(p1.nextCursor).toEqual(expect.any(String));
    const p2 = (await a.inject({ url: `/api/v1/inventory/clients?${qs({ limit: '3', cursor: p1.nextCursor })}`, headers: ro })).json();
    expect(p2.nextCursor).toBeNull();
    const got = [...p1.rows, ...p2.rows];
    expect(got.map((r: { clientId: string }) => r.clientId).sort()).toEqual(want.map((r) => r.clientId).sort());
    expect(got.find((r: { clientId: string }) => r.clientId === 'dev-1')).toEqual(want[1]);
    const e2 = (await a.inject({ url: '/api/v1/inventory/clients?sensor=edge-2', headers: ro })).json();
    expect(e2.rows.map((r: { clientId: string }) => r.clientId).sort()).toEqual(['dev-3', 'dev-4']);
  });

  it('lists topics and CoAP resources', async () => {
    const t = (await a.inject({ url: '/api/v1/inventory/topics', headers: ro })).json();
    expect(t.rows.map((r: { topic: string }) => r.topic).sort()).toEqual(records().topics.map((r) => r.topic).sort());
    const c = (await a.inject({ url: '/api/v1/inventory/coap-resources', headers: ro })).json();
    expect(c.rows).toEqual(records().coap);
  });

  it('lists TLS certificates with days to expiry', async () => {
    const res = await a.inject({ url: '/api/v1/inventory/tls', headers: ro });
    expect(res.statusCode).toBe(200);
    const [row] = res.json().rows;
    expect(row).toMatchObject({ server: '10.0.0.1:8883', sni: 'broker.example', selfSigned: true, subject: 'CN=broker.example' });
    expect(row.daysToExpiry).toBeGreaterThanOrEqual(10);
    expect(row.daysToExpiry).toBeLessThanOrEqual(11);
  });

  it('refuses bad limits, foreign and broken cursors, unknown parameters', async () => {
    const topicsCursor = (await a.inject({ url: '/api/v1/inventory/topics?limit=1', headers: ro })).json().nextCursor;
    for (const r of ROUTES) {
      for (const p of [{ limit: '0' }, { limit: '5000' }, { limit: 'x' }, { sensor: '' }, { q: 'x' }, { limit: ['1', '2'] }] as Record<string, string | string[]>[]) {
        expectError(await a.inject({ url: `/api/v1/inventory/${r}?${qs(p)}`, headers: ro }), 400, 'bad_request');
      }
      for (const cursor of ['x', "1' OR '1'='1", ...(r === 'topics' ? [] : [topicsCursor])]) {
        expectError(await a.inject({ url: `/api/v1/inventory/${r}?${qs({ cursor })}`, headers: ro }), 400, 'bad_cursor');
      }
    }
  });
});
