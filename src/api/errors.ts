// Stable error codes and the one error body every route answers with. Clients branch on
// `code`; `message` is for people and never carries a stack trace or a backend's own text.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export type ApiErrorCode =
  | 'bad_request'
  | 'bad_cursor'
  | 'bad_json'
  | 'unauthorized'
  | 'invalid_token'
  | 'auth_not_configured'
  | 'forbidden'
  | 'not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'too_many_streams'
  | 'store_unavailable'
  | 'internal_error';

export const API_ERROR_CODES: readonly ApiErrorCode[] = [
  'bad_request', 'bad_cursor', 'bad_json', 'unauthorized', 'invalid_token', 'auth_not_configured',
  'forbidden', 'not_found', 'payload_too_large', 'unsupported_media_type', 'rate_limited',
  'too_many_streams', 'store_unavailable', 'internal_error',
];

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const errorBodySchema = {
  $id: 'ErrorBody',
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', enum: [...API_ERROR_CODES] },
        message: { type: 'string' },
      },
    },
  },
} as const;

/** Response schemas for the error statuses a route can answer with. */
export function errorResponses(...statuses: number[]): Record<number, { $ref: string; description: string }> {
  const out: Record<number, { $ref: string; description: string }> = {};
  for (const s of statuses) out[s] = { $ref: 'ErrorBody#', description: STATUS_TEXT[s] ?? 'error' };
  return out;
}

/** Errors every route can produce: auth, rate limit, validation, server. */
export const COMMON_ERRORS = [400, 401, 429, 500, 503] as const;

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid request (bad_request, bad_cursor, bad_json)',
  401: 'No, unknown or unusable credentials (unauthorized, invalid_token, auth_not_configured)',
  403: 'Token lacks the read-write scope (forbidden)',
  404: 'No such resource (not_found)',
  413: 'Body larger than the limit (payload_too_large)',
  415: 'Body is not application/json (unsupported_media_type)',
  429: 'Rate limit exceeded; see Retry-After (rate_limited)',
  500: 'Unexpected server error (internal_error)',
  503: 'Store unreachable or stream limit reached (store_unavailable, too_many_streams)',
};

/** A store error that means "this cursor is not one of mine" (src/store/errors.ts CursorError). */
export function isBadCursorError(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown } | null;
  return !!e && typeof e === 'object' && (e.code === 'bad_cursor' || e.name === 'CursorError');
}

/** Calls the store; maps its failures to stable API errors (the original goes to the log). */
export async function storeCall<T>(req: FastifyRequest, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if (isBadCursorError(err)) throw new ApiError(400, 'bad_cursor', 'cursor is not valid for this store');
    const e = err as { code?: unknown; message?: unknown } | null;
    if (e && e.code === 'bad_query' && typeof e.message === 'string') {
      // The store's own schema validation (src/store/validate.ts): its messages name fields, not values.
      throw new ApiError(400, 'bad_request', e.message.slice(0, 200));
    }
    req.log.error({ err }, 'store call failed');
    throw new ApiError(503, 'store_unavailable', 'the alert store failed; see the server log');
  }
}

function send(reply: FastifyReply, status: number, code: ApiErrorCode, message: string): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send({ error: { code, message } });
}

interface ValidationItem { instancePath?: string; params?: Record<string, unknown>; message?: string }

/** Installs the error and not-found handlers: stable codes, no stacks, 5xx details only in the log. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    if (err instanceof ApiError) {
      for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
      return send(reply, err.statusCode, err.code, err.message);
    }
    const fe = err as FastifyError & { validation?: ValidationItem[]; validationContext?: string };
    if (fe.validation) {
      // A cursor that fails its schema is a broken cursor, whatever rule it broke.
      const cursorField = fe.validation.some((v) => /^\/(cursor|after)$/.test(v.instancePath ?? ''));
      return send(reply, 400, cursorField ? 'bad_cursor' : 'bad_request', validationMessage(fe));
    }
    const status = fe.statusCode ?? 500;
    if (status === 413) return send(reply, 413, 'payload_too_large', 'request body is larger than the limit');
    if (status === 415) return send(reply, 415, 'unsupported_media_type', 'request body must be application/json');
    if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err instanceof SyntaxError) {
      return send(reply, 400, 'bad_json', 'request body is not valid JSON');
    }
    if (status >= 400 && status < 500) {
      // Fastify's own client errors (bad content length, bad URL...): keep the status, hide the text.
      return send(reply, status === 404 ? 404 : 400, status === 404 ? 'not_found' : 'bad_request', 'request rejected');
    }
    req.log.error({ err }, 'request failed');
    return send(reply, 500, 'internal_error', 'internal error; see the server log');
  });
  app.setNotFoundHandler((req, reply) => send(reply, 404, 'not_found', 'no such route'));
}

function validationMessage(err: FastifyError & { validation?: ValidationItem[]; validationContext?: string }): string {
  const v = err.validation?.[0];
  if (!v) return 'invalid request';
  const where = `${err.validationContext ?? 'request'}${v.instancePath ?? ''}`;
  if (v.params && typeof v.params.additionalProperty === 'string') {
    // The name comes from the request: cap it so a long hostile name is not echoed whole.
    return `${where}: unknown parameter ${JSON.stringify(v.params.additionalProperty.slice(0, 64))}`;
  }
  return `${where} ${v.message ?? 'is invalid'}`;
}
