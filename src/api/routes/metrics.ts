// GET /metrics in the Prometheus text exposition format (version 0.0.4): the sensor's counters
// from the MetricsSource, the store's backlog, and the API's own request counters.
import type { FastifyPluginAsync } from 'fastify';
import type { ApiContext, PluginOptions } from '../context';
import { COMMON_ERRORS, errorResponses } from '../errors';

type Sample = [labels: Record<string, string | number>, value: number];

/** Label values escape backslash, double quote and newline (exposition format). */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

class Exposition {
  private readonly lines: string[] = [];

  metric(name: string, type: 'counter' | 'gauge' | 'untyped', help: string, samples: Sample[] | number): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    const list: Sample[] = typeof samples === 'number' ? [[{}, samples]] : samples;
    for (const [labels, value] of list) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(String(v))}"`).join(',');
      this.lines.push(`${name}${l ? `{${l}}` : ''} ${num(value)}`);
    }
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

export async function renderMetrics(ctx: ApiContext): Promise<string> {
  const x = new Exposition();
  const m = ctx.metrics?.();
  if (m) {
    x.metric('iotwatch_packets_total', 'counter', 'Packets captured.', m.packets);
    x.metric('iotwatch_bytes_total', 'counter', 'Bytes captured.', m.bytes);
    x.metric('iotwatch_drops_total', 'counter', 'Packets or records dropped, by reason.',
      Object.entries(m.drops).map(([reason, v]): Sample => [{ reason }, v]));
    x.metric('iotwatch_flows_active', 'gauge', 'Flows in the flow table.', m.flowsActive);
    x.metric('iotwatch_flows_total', 'counter', 'Flows seen.', m.flowsTotal);
    x.metric('iotwatch_events_total', 'counter', 'Protocol events decoded.', m.events);
    x.metric('iotwatch_alerts_total', 'counter', 'Alerts raised, by detector.',
      Object.entries(m.alertsByDetector).map(([detector, v]): Sample => [{ detector }, v]));
  }
  let up = 1;
  let pending = 0;
  let spoolBytes = 0;
  let spoolRecords = 0;
  let lagSeconds = m?.storeLagSeconds;
  let counters: [string, number][] = [];
  try {
    const h = await ctx.store.health();
    up = h.ok ? 1 : 0;
    pending = h.pending;
    spoolBytes = h.spoolBytes;
    spoolRecords = h.spoolRecords;
    // The store knows its own backlog best.
    if (h.lagMs !== undefined) lagSeconds = h.lagMs / 1000;
    counters = Object.entries(h.counters ?? {}).filter(([k, v]) => /^[a-z][a-z0-9_]{0,63}$/.test(k) && typeof v === 'number');
  } catch {
    up = 0;
  }
  if (lagSeconds !== undefined) {
    x.metric('iotwatch_store_lag_seconds', 'gauge', 'Age of the oldest alert raised but not yet durable in the store.', lagSeconds);
  }
  x.metric('iotwatch_store_up', 'gauge', 'Whether the alert store answers and is healthy.', [[{ kind: ctx.store.kind }, up]]);
  x.metric('iotwatch_store_pending_alerts', 'gauge', 'Alerts accepted but not yet durable.', pending);
  x.metric('iotwatch_spool_bytes', 'gauge', 'Size of the outage spool in bytes.', spoolBytes);
  x.metric('iotwatch_spool_records', 'gauge', 'Records in the outage spool.', spoolRecords);
  for (const [name, v] of counters.sort()) {
    x.metric(`iotwatch_store_${name}`, 'untyped', `Store counter ${name} (StoreHealth.counters).`, v);
  }
  x.metric('iotwatch_api_requests_total', 'counter', 'API requests by method, route and status.',
    ctx.counters.entries().map((e): Sample => [{ method: e.method, route: e.route, code: e.status }, e.count]));
  x.metric('iotwatch_api_auth_failures_total', 'counter', 'Requests refused for a missing or invalid token.', ctx.counters.authFailures);
  x.metric('iotwatch_api_rate_limited_total', 'counter', 'Requests refused by the rate limiter.', [
    [{ by: 'ip' }, ctx.limiter.ip?.limited ?? 0],
    [{ by: 'token' }, ctx.limiter.token?.limited ?? 0],
  ]);
  x.metric('iotwatch_api_rate_limit_evictions_total', 'counter', 'Rate-limit buckets evicted at the table bound.',
    (ctx.limiter.ip?.evictions ?? 0) + (ctx.limiter.token?.evictions ?? 0));
  x.metric('iotwatch_api_streams_open', 'gauge', 'Open server-sent event streams.', ctx.openStreams.size);
  return x.text();
}

export const metricsRoutes: FastifyPluginAsync<PluginOptions> = async (app, { ctx }) => {
  app.get('/metrics', {
    config: { tag: 'metrics' },
    schema: {
      summary: 'Prometheus text exposition (packets, bytes, drops, flows, events, alerts by detector, store lag, spool)',
      response: {
        200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } },
        ...errorResponses(...COMMON_ERRORS),
      },
    },
  }, async (req, reply) => {
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return renderMetrics(ctx);
  });
};
