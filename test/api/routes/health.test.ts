import { describe, expect, it } from 'vitest';
import { redactDetail } from '../../../src/api/routes/health';
import type { StoreHealth } from '../../../src/store/types';
import { TOKENS, app, seededStore } from '../fixtures';
import { MemoryStore } from '../memory-store';

describe('GET /api/v1/health', () => {
  it('reports capture, store and spool, without a token even when tokens are set', async () => {
    const a = app(await seededStore(1), {
      tokens: TOKENS,
      health: () => ({ ok: true, detail: 'live eth0', packets: 1234, drops: 2, lastPacketAgeSeconds: 0.5 }),
    });
    const res = await a.inject({ url: '/api/v1/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'ok', version: '0.1.0', uptimeSeconds: expect.any(Number),
      capture: { ok: true, detail: 'live eth0', packets: 1234, drops: 2, lastPacketAgeSeconds: 0.5 },
      store: { ok: true, kind: 'embedded', detail: 'memory test double', pending: 0 },
      spool: { bytes: 0, records: 0 },
    });
    await a.close();
  });

  it('is open beyond loopback with no token configured, while everything else is refused', async () => {
    const a = app(await seededStore(1), { listenHost: '0.0.0.0' });
    expect((await a.inject({ url: '/api/v1/health' })).statusCode).toBe(200);
    expect((await a.inject({ url: '/api/v1/alerts' })).statusCode).toBe(401);
    await a.close();
  });

  it('is degraded while spooling and down (503) when the store cannot answer', async () => {
    const store = new MemoryStore();
    const spooling: StoreHealth = {
      ok: false, kind: 'clickhouse', detail: 'http://ingest:s3cret@10.0.0.5:8123 unreachable\nretrying', pending: 12, spoolBytes: 4096, spoolRecords: 12,
    };
    store.health = async () => spooling;
    const a = app(store, { health: () => ({ ok: true, detail: 'file x.pcap', packets: 1, drops: 0, lastPacketAgeSeconds: null }) });
    const res = await a.inject({ url: '/api/v1/health' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ status: 'degraded', store: { ok: false, kind: 'clickhouse', pending: 12 }, spool: { bytes: 4096, records: 12 } });
    expect(body.store.detail).not.toContain('s3cret');
    expect(body.store.detail).not.toContain('\n');
    await a.close();

    const down = new MemoryStore();
    down.failing = new Error('ECONNREFUSED');
    const b = app(down);
    const r2 = await b.inject({ url: '/api/v1/health' });
    expect(r2.statusCode).toBe(503);
    expect(r2.json()).toMatchObject({ status: 'down', store: { ok: false, detail: 'store health check failed' }, capture: null });
    await b.close();
  });

  it('asks the store at most once a second', async () => {
    const store = new MemoryStore();
    let calls = 0;
    store.health = async () => {
      calls++;
      return { ok: true, kind: 'embedded', detail: '', pending: 0, spoolBytes: 0, spoolRecords: 0 };
    };
    const a = app(store);
    for (let i = 0; i < 20; i++) await a.inject({ url: '/api/v1/health' });
    expect(calls).toBe(1);
    await a.close();
  });

  it('redacts URL credentials and control characters, and caps length', () => {
    expect(redactDetail('clickhouse://u:p@h:9000 down')).toBe('clickhouse://***@h:9000 down');
    expect(redactDetail('a\u0000b\r\nc')).toBe('a b  c');
    expect(redactDetail('x'.repeat(1000))).toHaveLength(200);
  });
});
