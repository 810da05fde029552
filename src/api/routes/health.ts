// /api/v1/health: capture, store and spool state; open without a token so load balancers and
// probes can use it. It says what is wrong, never where: store details are redacted of URL
// credentials and capped.
import type { FastifyPluginAsync } from 'fastify';
import type { StoreHealth } from '../../store/types';
import type { PluginOptions } from '../context';
import { errorResponses } from '../errors';

/** One store health check per interval at most: the route is open to anyone. */
const STORE_HEALTH_CACHE_MS = 1000;

export function redactDetail(detail: string): string {
  return detail.replace(/\/\/[^/@\s]*@/g, '//***@').replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 200);
}

export const healthRoutes: FastifyPluginAsync<PluginOptions> = async (app, { ctx }) => {
  let cached: { at: number; value: StoreHealth | null } | null = null;

  const storeHealth = async (): Promise<StoreHealth | null> => {
    const now = Date.now();
    if (cached && now - cached.at < STORE_HEALTH_CACHE_MS) return cached.value;
    let value: StoreHealth | null;
    try {
      value = await ctx.store.health();
    } catch (err) {
      app.log.warn({ err }, 'store health check failed');
      value = null;
    }
    cached = { at: now, value };
    return value;
  };

  app.get('/health', {
    config: { tag: 'health', public: true },
    schema: {
      summary: 'Capture, store and spool state (no token needed); 503 when the store cannot answer',
      response: {
        200: { $ref: 'Health#' },
        503: { $ref: 'Health#' },
        ...errorResponses(429, 500),
      },
    },
  }, async (req, reply) => {
    const s = await storeHealth();
    const capture = ctx.health ? ctx.health() : null;
    const store = s
      ? { ok: s.ok, kind: s.kind, detail: redactDetail(s.detail), pending: s.pending }
      : { ok: false, kind: ctx.store.kind, detail: 'store health check failed', pending: 0 };
    const status = !s ? 'down' : s.ok && (capture?.ok ?? true) ? 'ok' : 'degraded';
    reply.code(status === 'down' ? 503 : 200);
    return {
      status,
      version: ctx.version,
      uptimeSeconds: Math.floor((Date.now() - ctx.startedAt) / 1000),
      capture: capture && { ...capture, detail: redactDetail(capture.detail) },
      store,
      spool: { bytes: s?.spoolBytes ?? 0, records: s?.spoolRecords ?? 0 },
    };
  });
};

export const healthSchema = {
  $id: 'Health',
  type: 'object',
  required: ['status', 'version', 'uptimeSeconds', 'capture', 'store', 'spool'],
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded', 'down'], description: 'degraded: running but something is not ok (e.g. spooling); down: store unreachable' },
    version: { type: 'string' },
    uptimeSeconds: { type: 'integer' },
    capture: {
      type: ['object', 'null'],
      required: ['ok', 'detail', 'packets', 'drops', 'lastPacketAgeSeconds'],
      properties: {
        ok: { type: 'boolean' },
        detail: { type: 'string' },
        packets: { type: 'integer' },
        drops: { type: 'integer' },
        lastPacketAgeSeconds: { type: ['number', 'null'] },
      },
    },
    store: {
      type: 'object',
      required: ['ok', 'kind', 'detail', 'pending'],
      properties: {
        ok: { type: 'boolean' },
        kind: { type: 'string', enum: ['embedded', 'clickhouse'] },
        detail: { type: 'string' },
        pending: { type: 'integer', description: 'Alerts accepted but not yet durable' },
      },
    },
    spool: {
      type: 'object',
      required: ['bytes', 'records'],
      properties: { bytes: { type: 'integer' }, records: { type: 'integer' } },
    },
  },
} as const;
