// The REST API. build() returns the fastify app and never listens: `iotwatch serve` listens,
// tests use app.inject(). Every route has request and response schemas, collected as routes
// are added, and the OpenAPI document is generated from them.
import fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { AlertStore } from '../store/types';
import { createAuthenticator, type TokenConfig } from './auth';
import { consolePlugin } from './console';
import { ApiError, errorBodySchema, installErrorHandlers } from './errors';
import { DEFAULT_STREAM, RequestCounters, type ApiContext, type CollectedRoute, type StreamOptions } from './context';
import { createCursorCodec } from './cursor';
import { createRateLimiter, type RateLimitOptions } from './rate-limit';
import { alertRoutes } from './routes/alerts';
import { feedRoutes } from './routes/feed';
import { healthRoutes, healthSchema } from './routes/health';
import { inventoryRoutes } from './routes/inventory';
import { metricsRoutes } from './routes/metrics';
import { openapiRoutes } from './routes/openapi';
import { statsRoutes } from './routes/stats';
import { SHARED_SCHEMAS } from './schemas';
import { checkBodyTypes, checkQueryTypes } from './strict-types';
import type { HealthSource, MetricsSource } from './sources';

export const API_PREFIX = '/api/v1';
export const DEFAULT_BODY_LIMIT = 16 * 1024;

export interface BuildOptions {
  readonly store: AlertStore;
  /** API tokens; with none configured and a loopback listener the API is open. */
  readonly tokens?: TokenConfig;
  /** Host the caller will listen on; anything but loopback makes tokens mandatory. Default loopback. */
  readonly listenHost?: string;
  readonly metrics?: MetricsSource;
  readonly health?: HealthSource;
  readonly logger?: boolean;
  /** Token buckets per client address and per token; false turns limiting off. */
  readonly rateLimit?: RateLimitOptions | false;
  /** Largest request body in bytes (default 16 KiB). */
  readonly bodyLimit?: number;
  /** Keys cursor tags (e.g. the installation secret) so cursors cannot be forged. */
  readonly cursorSecret?: Buffer;
  /** SSE stream polling and limits. */
  readonly stream?: Partial<StreamOptions>;
  /** Trust X-Forwarded-For from these proxies (fastify trustProxy) for client addresses. */
  readonly trustProxy?: boolean | string | string[];
  /** Reported in /api/v1/health and the OpenAPI document. */
  readonly version?: string;
}

export function build(opts: BuildOptions): FastifyInstance {
  const ctx: ApiContext = {
    store: opts.store,
    cursors: createCursorCodec(opts.cursorSecret),
    auth: createAuthenticator(opts.tokens, opts.listenHost),
    limiter: createRateLimiter(opts.rateLimit),
    counters: new RequestCounters(),
    metrics: opts.metrics,
    health: opts.health,
    stream: { ...DEFAULT_STREAM, ...opts.stream },
    openStreams: new Set(),
    routes: [],
    version: opts.version ?? '0.1.0',
    startedAt: Date.now(),
  };

  const app = fastify({
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    trustProxy: opts.trustProxy ?? false,
    // HEAD twins of GET routes would start SSE loops and double the OpenAPI document.
    exposeHeadRoutes: false,
    return503OnClosing: true,
    // Malformed URLs and over-long path parameters fail in the router, before hooks and the
    // error handler: answer them in the one error shape too, without echoing the path.
    frameworkErrors: (err, req, reply) => {
      const r = reply as unknown as FastifyReply;
      void r.code(400).type('application/json; charset=utf-8')
        .send({ error: { code: 'bad_request', message: 'malformed URL or path parameter too long' } });
    },
    ajv: {
      // Unknown parameters are refused rather than silently dropped: a typo in a filter
      // must not widen a SOC query. Defaults still apply; one-element arrays still unwrap.
      customOptions: { removeAdditional: false, useDefaults: true, coerceTypes: 'array', allErrors: false },
    },
  });

  // JSON is the only body this API takes; anything else is 415, not a string to validate.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('principal', null);
  app.addSchema(errorBodySchema);
  app.addSchema(healthSchema);
  for (const s of SHARED_SCHEMAS) app.addSchema(s);
  installErrorHandlers(app);

  app.addHook('onRoute', (route) => {
    // Routes marked hide (the web console's files) are not part of the API document.
    if ((route.schema as { hide?: boolean } | undefined)?.hide) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const config = (route.config ?? {}) as { tag?: string; public?: boolean };
    for (const method of methods) {
      const r: CollectedRoute = {
        method: method.toUpperCase(),
        url: route.url,
        schema: route.schema as Record<string, unknown> | undefined,
        tag: config.tag ?? 'other',
        auth: !config.public,
      };
      ctx.routes.push(r);
    }
  });

  // Per-address limit first, so a flood of wrong tokens is throttled before it is hashed.
  app.addHook('onRequest', async (req) => {
    const wait = ctx.limiter.ip?.take(req.ip) ?? 0;
    if (wait > 0) throw tooMany(wait);
    const config = req.routeOptions.config as { public?: boolean } | undefined;
    if (config?.public) return;
    try {
      req.principal = ctx.auth.authenticate(req.headers.authorization);
    } catch (err) {
      ctx.counters.authFailures++;
      throw err;
    }
    if (req.principal && ctx.limiter.token) {
      const w = ctx.limiter.token.take(req.principal.name);
      if (w > 0) throw tooMany(w);
    }
  });

  app.addHook('preValidation', async (req) => {
    const schema = req.routeOptions.schema as { querystring?: object; body?: object } | undefined;
    if (!schema) return;
    checkQueryTypes(req.query, schema.querystring);
    if (schema.body) checkBodyTypes(req.body, schema.body);
  });

  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });

  app.addHook('onResponse', async (req, reply) => {
    ctx.counters.add(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode);
  });

  // End SSE streams before the server waits for connections to drain.
  app.addHook('preClose', async () => {
    for (const stop of [...ctx.openStreams]) stop();
  });

  app.register(alertRoutes, { prefix: API_PREFIX, ctx });
  app.register(feedRoutes, { prefix: API_PREFIX, ctx });
  app.register(statsRoutes, { prefix: API_PREFIX, ctx });
  app.register(inventoryRoutes, { prefix: API_PREFIX, ctx });
  app.register(healthRoutes, { prefix: API_PREFIX, ctx });
  app.register(openapiRoutes, { prefix: API_PREFIX, ctx });
  app.register(metricsRoutes, { ctx });
  app.register(consolePlugin);
  return app;
}

function tooMany(waitSeconds: number): ApiError {
  return new ApiError(429, 'rate_limited', 'too many requests; retry later', {
    'retry-after': String(Math.max(1, Math.ceil(waitSeconds))),
  });
}
