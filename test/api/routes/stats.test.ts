import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { AlertStore } from '../../../src/store/types';
import { expectError } from '../assert';
import { T0, TOKENS, app, makeAlert, qs, ro, seededStore } from '../fixtures';
import { STORE_KINDS } from '../stores';

describe.each(STORE_KINDS)('GET /api/v1/stats ($name)', (kind) => {
  let store: AlertStore;
  let a: FastifyInstance;
  beforeEach(async () => {
    store = await seededStore(40, await kind.make());
    a = app(store, { tokens: TOKENS });
  });
  afterEach(async () => {
    await a.close();
    await store.close();
  });

  it('counts alerts by detector and severity per bucket', async () => {
    const res = await a.inject({ url: `/api/v1/stats?${qs({ from: String(T0), to: String(T0 + 40e6), bucket: '10s' })}`, headers: ro });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { from: number; to: number; bucketSeconds: number; buckets: { ts: number; detector: string; severity: string; count: number }[] };
    expect(body).toMatchObject({ from: T0, to: T0 + 40e6, bucketSeconds: 10 });
    const total = body.buckets.reduce((s, b) => s + b.count, 0);
    expect(total).toBe(40);
    // Alerts 0..9 start in the first 10 s bucket.
    const first = body.buckets.filter((b) => b.ts === T0);
    expect(first.reduce((s, b) => s + b.count, 0)).toBe(10);
    const want = new Map<string, number>();
    for (let i = 0; i < 10; i++) {
      const x = makeAlert(i);
      want.set(`${x.detector}/${x.severity}`, (want.get(`${x.detector}/${x.severity}`) ?? 0) + 1);
    }
    expect(new Map(first.map((b) => [`${b.detector}/${b.severity}`, b.count]))).toEqual(want);
  });

  it('takes ISO times and durations, filters by sensor, defaults to the last day', async () => {
    const iso = new Date(T0 / 1000).toISOString();
    const res = await a.inject({ url: `/api/v1/stats?${qs({ from: iso, to: '2024-05-01T13:00:00Z', bucket: '1h', sensor: 'edge-1' })}`, headers: ro });
    expect(res.statusCode).toBe(200);
    expect(res.json().buckets.reduce((s: number, b: { count: number }) => s + b.count, 0)).toBe(20);
    const def = await a.inject({ url: '/api/v1/stats', headers: ro });
    expect(def.statusCode).toBe(200);
    const d = def.json();
    expect(d.bucketSeconds).toBe(3600);
    expect(d.to - d.from).toBe(86_400e6);
  });

  it('refuses bad ranges and buckets', async () => {
    for (const p of [
      { from: '10', to: '5' }, { bucket: '0' }, { bucket: '5w' }, { bucket: '-1' }, { bucket: '99999999' },
      { from: '0', to: String(Number.MAX_SAFE_INTEGER), bucket: '1' }, { from: 'now' }, { sensor: '\u0000' },
      { bucket: ['1h', '1d'] }, { extra: '1' },
    ] as Record<string, string | string[]>[]) {
      expectError(await a.inject({ url: `/api/v1/stats?${qs(p)}`, headers: ro }), 400, 'bad_request');
    }
  });
});
