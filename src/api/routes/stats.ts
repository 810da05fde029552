// /api/v1/stats: alert counts by detector and severity over time buckets.
import type { FastifyPluginAsync } from 'fastify';
import { SEVERITIES } from '../../alerts/types';
import type { PluginOptions } from '../context';
import { ApiError, COMMON_ERRORS, errorResponses, storeCall } from '../errors';
import { parseBucket, parseTime } from '../params';
import { sensorParam, timeParam } from '../schemas';

/** Most buckets one request may ask for: bounds the store's work and the answer's size. */
export const MAX_BUCKETS = 10_000;
const DAY_US = 86_400_000_000;

export const statsRoutes: FastifyPluginAsync<PluginOptions> = async (app, { ctx }) => {
  app.get('/stats', {
    config: { tag: 'stats' },
    schema: {
      summary: 'Alert counts by detector and severity over time buckets',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          from: { ...timeParam, description: 'Start (µs or ISO 8601); default: 24 hours before to' },
          to: { ...timeParam, description: 'End (µs or ISO 8601); default: now' },
          bucket: { type: 'string', maxLength: 16, default: '1h', description: 'Bucket length: seconds or 5m, 1h, 1d' },
          sensor: sensorParam,
        },
      },
      response: {
        200: {
          type: 'object',
          required: ['from', 'to', 'bucketSeconds', 'buckets'],
          properties: {
            from: { type: 'integer' },
            to: { type: 'integer' },
            bucketSeconds: { type: 'integer' },
            buckets: {
              type: 'array',
              items: {
                type: 'object',
                required: ['ts', 'detector', 'severity', 'count'],
                properties: {
                  ts: { type: 'integer', description: 'Bucket start, µs' },
                  detector: { type: 'string' },
                  severity: { type: 'string', enum: [...SEVERITIES] },
                  count: { type: 'integer' },
                },
              },
            },
          },
        },
        ...errorResponses(...COMMON_ERRORS),
      },
    },
  }, async (req) => {
    const q = req.query as { from?: string; to?: string; bucket: string; sensor?: string };
    const to = q.to !== undefined ? parseTime(q.to, 'to') : Date.now() * 1000;
    const from = q.from !== undefined ? parseTime(q.from, 'from') : Math.max(0, to - DAY_US);
    if (from > to) throw new ApiError(400, 'bad_request', 'from is after to');
    const bucketSeconds = parseBucket(q.bucket);
    if ((to - from) / (bucketSeconds * 1e6) > MAX_BUCKETS) {
      throw new ApiError(400, 'bad_request', `more than ${MAX_BUCKETS} buckets: widen bucket or narrow from..to`);
    }
    const buckets = await storeCall(req, () => ctx.store.stats({ from, to, bucketSeconds, sensor: q.sensor }));
    return { from, to, bucketSeconds, buckets };
  });
};
