import { describe, expect, it } from 'vitest';
import { escapeLabel } from '../../../src/api/routes/metrics';
import type { MetricsSnapshot } from '../../../src/api/sources';
import { expectError } from '../assert';
import { TOKENS, app, ro, seededStore } from '../fixtures';
import { MemoryStore } from '../memory-store';

const snapshot: MetricsSnapshot = {
  packets: 1_000_000, bytes: 734_000_000, drops: { kernel: 3, flow_table_full: 7 }, flowsActive: 42, flowsTotal: 1200,
  events: 250_000, alertsByDetector: { 'mqtt.auth_bruteforce': 5, 'weird"det\\x\n': 1 }, storeLagSeconds: 0.25,
};

/** Parses the exposition format strictly enough to catch malformed lines. */
function parse(text: string): { types: Map<string, string>; samples: { name: string; labels: Record<string, string>; value: number }[] } {
  const types = new Map<string, string>();
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# HELP ')) continue;
    const t = /^# TYPE ([a-z_:][a-z0-9_:]*) (counter|gauge|untyped)$/.exec(line);
    if (t) {
      types.set(t[1], t[2]);
      continue;
    }
    const m = /^([a-z_:][a-z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    expect(m, `bad line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const l of (m![3] ?? '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    expect(types.has(m![1]), `sample before TYPE: ${line}`).toBe(true);
    samples.push({ name: m![1], labels, value: Number(m![4]) });
  }
  return { types, samples };
}

describe('GET /metrics', () => {
  it('exposes the sensor counters, store backlog and API counters in Prometheus text', async () => {
    const a = app(await seededStore(2), { tokens: TOKENS, metrics: () => snapshot });
    await a.inject({ url: '/api/v1/alerts', headers: ro });
    await a.inject({ url: '/api/v1/alerts' });
    const res = await a.inject({ url: '/metrics', headers: ro });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const { types, samples } = parse(res.body);
    const get = (name: string, labels: Record<string, string> = {}): number | undefined =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(get('iotwatch_packets_total')).toBe(1_000_000);
    expect(get('iotwatch_bytes_total')).toBe(734_000_000);
    expect(get('iotwatch_drops_total', { reason: 'flow_table_full' })).toBe(7);
    expect(get('iotwatch_flows_active')).toBe(42);
    expect(get('iotwatch_flows_total')).toBe(1200);
    expect(get('iotwatch_events_total')).toBe(250_000);
    expect(get('iotwatch_alerts_total', { detector: 'mqtt.auth_bruteforce' })).toBe(5);
    expect(get('iotwatch_alerts_total', { detector: 'weird\\"det\\\\x\\n' })).toBe(1);
    expect(get('iotwatch_store_lag_seconds')).toBe(0.25);
    expect(get('iotwatch_store_up', { kind: 'embedded' })).toBe(1);
    expect(get('iotwatch_spool_bytes')).toBe(0);
    expect(get('iotwatch_api_requests_total', { method: 'GET', route: '/api/v1/alerts', code: '200' })).toBe(1);
    expect(get('iotwatch_api_requests_total', { method: 'GET', route: '/api/v1/alerts', code: '401' })).toBe(1);
    expect(get('iotwatch_api_auth_failures_total')).toBe(1);
    expect(types.get('iotwatch_packets_total')).toBe('counter');
    expect(types.get('iotwatch_flows_active')).toBe('gauge');
    await a.close();
  });

  it('takes the store lag and counters from the store\'s health when it reports them', async () => {
    const store = new MemoryStore();
    store.health = async () => ({
      ok: true, kind: 'clickhouse', detail: '', pending: 3, spoolBytes: 10, spoolRecords: 1, lagMs: 1500,
      counters: { evicted_alerts: 4, replayed: 2, 'Bad Name': 1 },
    });
    const a = app(store, { metrics: () => ({ ...snapshot, storeLagSeconds: undefined }) });
    const { samples, types } = parse((await a.inject({ url: '/metrics' })).body);
    const get = (name: string): number | undefined => samples.find((s) => s.name === name)?.value;
    expect(get('iotwatch_store_lag_seconds')).toBe(1.5);
    expect(get('iotwatch_store_pending_alerts')).toBe(3);
    expect(get('iotwatch_store_evicted_alerts')).toBe(4);
    expect(get('iotwatch_store_replayed')).toBe(2);
    expect(types.get('iotwatch_store_replayed')).toBe('untyped');
    expect(samples.some((s) => s.name.includes('bad'))).toBe(false);
    await a.close();
  });

  it('needs a token when tokens are configured; reports the store down', async () => {
    const store = new MemoryStore();
    store.failing = new Error('down');
    const a = app(store, { tokens: TOKENS });
    expectError(await a.inject({ url: '/metrics' }), 401, 'unauthorized');
    const res = await a.inject({ url: '/metrics', headers: ro });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('iotwatch_store_up{kind="embedded"} 0');
    expect(res.body).not.toContain('iotwatch_packets_total'); // no MetricsSource given
    await a.close();
  });

  it('counts unknown paths under one label, so the table stays bounded', async () => {
    const a = app(new MemoryStore());
    for (let i = 0; i < 50; i++) await a.inject({ url: `/nope/${i}` });
    const body = (await a.inject({ url: '/metrics' })).body;
    expect(body.match(/route="unmatched"/g)).toHaveLength(1);
    expect(body).toContain('iotwatch_api_requests_total{method="GET",route="unmatched",code="404"} 50');
    await a.close();
  });

  it('escapes label values', () => {
    expect(escapeLabel('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });
});
