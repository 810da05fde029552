// /api/v1/alerts: search, one alert with its evidence and frames, and the SOC's status workflow.
import type { FastifyPluginAsync } from 'fastify';
import { ALERT_ID_LENGTH } from '../../alerts/ids';
import { SEVERITIES, type Category, type Severity } from '../../alerts/types';
import type { AlertQuery, AlertStatus } from '../../store/types';
import { requireWrite } from '../auth';
import type { PluginOptions } from '../context';
import { ApiError, COMMON_ERRORS, errorResponses, storeCall } from '../errors';
import { NO_NUL, normalizeAddress, parseList, parseTime } from '../params';
import { CATEGORIES, STATUSES, cursorParam, limitParam, sensorParam, timeParam } from '../schemas';

interface AlertsQueryString {
  from?: string;
  to?: string;
  detector?: string;
  category?: Category;
  minSeverity?: Severity;
  status?: AlertStatus;
  entity?: string;
  address?: string;
  q?: string;
  sensor?: string;
  sort?: 'lastTs' | 'firstTs' | 'severity';
  order?: 'asc' | 'desc';
  limit: number;
  cursor?: string;
}

interface PatchBody {
  status: AlertStatus;
  by?: string;
  note?: string | null;
}

export const DETECTOR_ID = /^[A-Za-z0-9_.:-]{1,64}$/;
export const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: `^[0-9a-f]{${ALERT_ID_LENGTH}}$`, description: 'Alert id (lowercase hex)' },
  },
} as const;

export const alertsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { ...timeParam, description: 'Alerts whose lastTs >= from (µs or ISO 8601)' },
    to: { ...timeParam, description: 'Alerts whose firstTs <= to (µs or ISO 8601)' },
    detector: { type: 'string', minLength: 1, maxLength: 2048, description: 'Comma-separated detector ids' },
    category: { type: 'string', enum: [...CATEGORIES] },
    minSeverity: { type: 'string', enum: [...SEVERITIES] },
    status: { type: 'string', enum: [...STATUSES] },
    entity: { type: 'string', minLength: 1, maxLength: 1024, pattern: NO_NUL, description: 'Exact entity value' },
    address: { type: 'string', minLength: 2, maxLength: 64, description: 'IPv4 or IPv6 address in the alert endpoints' },
    q: { type: 'string', minLength: 1, maxLength: 256, pattern: NO_NUL, description: 'Case-insensitive text in summary, entity or detector' },
    sensor: sensorParam,
    sort: { type: 'string', enum: ['lastTs', 'firstTs', 'severity'], default: 'lastTs' },
    order: { type: 'string', enum: ['asc', 'desc'], default: 'desc' },
    limit: limitParam,
    cursor: cursorParam,
  },
} as const;

export const alertRoutes: FastifyPluginAsync<PluginOptions> = async (app, { ctx }) => {
  const { store, cursors } = ctx;

  app.get('/alerts', {
    config: { tag: 'alerts' },
    schema: {
      summary: 'Search alerts',
      querystring: alertsQuerySchema,
      response: {
        200: {
          type: 'object',
          required: ['alerts', 'nextCursor'],
          properties: {
            alerts: { type: 'array', items: { $ref: 'StoredAlert#' } },
            nextCursor: { type: ['string', 'null'], description: 'Pass as cursor for the next page; null on the last' },
          },
        },
        ...errorResponses(...COMMON_ERRORS),
      },
    },
  }, async (req) => {
    const qs = req.query as AlertsQueryString;
    const query: AlertQuery = { limit: qs.limit, sort: qs.sort, order: qs.order };
    if (qs.from !== undefined) query.from = parseTime(qs.from, 'from');
    if (qs.to !== undefined) query.to = parseTime(qs.to, 'to');
    if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
      throw new ApiError(400, 'bad_request', 'from is after to');
    }
    if (qs.detector !== undefined) query.detector = parseList(qs.detector, 'detector', DETECTOR_ID, 32);
    if (qs.category !== undefined) query.category = qs.category;
    if (qs.minSeverity !== undefined) query.minSeverity = qs.minSeverity;
    if (qs.status !== undefined) query.status = qs.status;
    if (qs.entity !== undefined) query.entity = qs.entity;
    if (qs.address !== undefined) query.address = normalizeAddress(qs.address);
    if (qs.q !== undefined) query.text = qs.q;
    if (qs.sensor !== undefined) query.sensor = qs.sensor;
    if (qs.cursor !== undefined && qs.cursor !== '') query.cursor = cursors.decode('alerts', qs.cursor).store;
    const page = await storeCall(req, () => store.queryAlerts(query));
    return {
      alerts: page.alerts,
      nextCursor: page.nextCursor === null ? null : cursors.encode('alerts', { store: page.nextCursor }),
    };
  });

  app.get('/alerts/:id', {
    config: { tag: 'alerts' },
    schema: {
      summary: 'One alert with its evidence, endpoints and frames',
      params: idParams,
      response: { 200: { $ref: 'StoredAlert#' }, ...errorResponses(...COMMON_ERRORS, 404) },
    },
  }, async (req) => {
    const { id } = req.params as { id: string };
    const alert = await storeCall(req, () => store.getAlert(id));
    if (!alert) throw new ApiError(404, 'not_found', 'no alert with this id');
    return alert;
  });

  app.patch('/alerts/:id', {
    config: { tag: 'alerts' },
    schema: {
      summary: 'Set an alert\'s status (SOC workflow); needs a read-write token',
      params: idParams,
      body: {
        type: 'object',
        required: ['status'],
        additionalProperties: false,
        properties: {
          status: { type: 'string', enum: [...STATUSES] },
          by: {
            type: 'string', minLength: 1, maxLength: 128,
            // No control characters: the name lands in logs and SIEM exports.
            pattern: '^[^\\u0000-\\u001f\\u007f]+$',
            description: 'Who made the change; defaults to the token\'s name',
          },
          note: { type: ['string', 'null'], maxLength: 4096, pattern: NO_NUL },
        },
      },
      response: { 200: { $ref: 'StoredAlert#' }, ...errorResponses(...COMMON_ERRORS, 403, 404, 413, 415) },
    },
  }, async (req) => {
    requireWrite(req.principal, ctx.auth.required);
    const { id } = req.params as { id: string };
    const body = req.body as PatchBody;
    const by = body.by ?? req.principal?.name ?? 'api';
    const updated = await storeCall(req, () => store.setStatus(id, body.status, by, body.note ?? null));
    if (!updated) throw new ApiError(404, 'not_found', 'no alert with this id');
    req.log.info({ id, status: body.status, by }, 'alert status changed');
    return updated;
  });
};
