// The SIEM feed: /alerts/feed (incremental pull) and /alerts/stream (server-sent events).
// Both page through store.feed() in insertion order. Every alert gets its own cursor: the
// store cursor its page started from plus its seq, meaning "resume from that page, skipping
// what has seq <= this". Seq grows with insertion order and a rewritten alert gets a new,
// larger seq, so the skip only ever drops alerts already delivered in their current version:
// resuming from any alert's cursor is at-least-once and never skips.
import { PassThrough } from 'node:stream';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { StoredAlert } from '../../store/types';
import type { ApiContext, PluginOptions } from '../context';
import type { DecodedCursor } from '../cursor';
import { ApiError, COMMON_ERRORS, errorResponses, storeCall } from '../errors';
import { cursorParam, limitParam } from '../schemas';

export interface FeedItem {
  readonly alert: StoredAlert;
  readonly cursor: string;
}

export interface FeedRead {
  readonly items: FeedItem[];
  /** Where to continue. */
  readonly next: DecodedCursor;
  /** The store had at least a full page: more may be waiting. */
  readonly full: boolean;
}

/** Store pages read at most per call while skipping already-delivered alerts. */
const MAX_SKIP_ROUNDS = 4;

export async function readFeed(ctx: ApiContext, req: FastifyRequest, from: DecodedCursor, limit: number): Promise<FeedRead> {
  let start = from.store;
  let skip = from.seq;
  for (let round = 0; ; round++) {
    const page = await storeCall(req, () => ctx.store.feed(start, limit));
    const fresh = skip === undefined ? page.alerts : page.alerts.filter((a) => a.seq > skip!);
    const full = page.alerts.length >= limit;
    if (fresh.length > 0 || !full || page.cursor === start || round === MAX_SKIP_ROUNDS - 1) {
      const pageStart = start;
      return {
        items: fresh.map((alert) => ({ alert, cursor: ctx.cursors.encode('feed', { store: pageStart, seq: alert.seq }) })),
        next: { store: page.cursor },
        full,
      };
    }
    // A full page of alerts delivered before: move on rather than answer with nothing.
    start = page.cursor;
    skip = undefined;
  }
}

/** The alert's fields as the StoredAlert schema names them (SSE bypasses the serializer). */
function alertJson(a: StoredAlert): string {
  return JSON.stringify({
    id: a.id, detector: a.detector, category: a.category, severity: a.severity, firstTs: a.firstTs,
    lastTs: a.lastTs, entity: { kind: a.entity.kind, value: a.entity.value }, endpoints: a.endpoints,
    communityIds: a.communityIds, frames: a.frames, count: a.count, summary: a.summary, evidence: a.evidence,
    recommendation: a.recommendation, mitre: a.mitre, sensor: a.sensor, status: a.status, statusBy: a.statusBy,
    statusNote: a.statusNote, statusAt: a.statusAt, seq: a.seq,
  });
}

export const feedRoutes: FastifyPluginAsync<PluginOptions> = async (app, { ctx }) => {
  const decodeAfter = (text: string | undefined): DecodedCursor =>
    text === undefined || text === '' ? { store: '' } : ctx.cursors.decode('feed', text);

  app.get('/alerts/feed', {
    config: { tag: 'feed' },
    schema: {
      summary: 'Alerts in insertion order after a cursor (at-least-once, never skips)',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          after: { ...cursorParam, description: 'Cursor from the previous call; empty or absent: from the start' },
          limit: limitParam,
        },
      },
      response: {
        200: {
          type: 'object',
          required: ['alerts', 'cursor'],
          properties: {
            alerts: { type: 'array', items: { $ref: 'StoredAlert#' } },
            cursor: { type: 'string', description: 'Pass as after next time' },
          },
        },
        ...errorResponses(...COMMON_ERRORS),
      },
    },
  }, async (req) => {
    const q = req.query as { after?: string; limit: number };
    const from = decodeAfter(q.after);
    const r = await readFeed(ctx, req, from, q.limit);
    // Nothing new: hand back the caller's cursor, so a resumed mid-page cursor keeps its skip.
    const cursor = r.items.length === 0 && r.next.store === from.store && q.after ? q.after : ctx.cursors.encode('feed', r.next);
    return { alerts: r.items.map((i) => i.alert), cursor };
  });

  app.get('/alerts/stream', {
    config: { tag: 'feed' },
    schema: {
      summary: 'Server-sent events: one `alert` event per alert, id = its feed cursor; resume with Last-Event-ID',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { after: { ...cursorParam, description: 'Start cursor when no Last-Event-ID is sent' } },
      },
      headers: {
        type: 'object',
        properties: { 'last-event-id': { ...cursorParam, description: 'Resume after this event (sent by EventSource on reconnect)' } },
      },
      response: {
        200: {
          description: 'text/event-stream: `event: alert` with `id:` and one-line JSON `data:` (a StoredAlert); `: heartbeat` comments; `event: error` when the store fails',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
        ...errorResponses(...COMMON_ERRORS),
      },
    },
  }, async (req, reply) => {
    const q = req.query as { after?: string };
    const lastId = req.headers['last-event-id'];
    // A reconnecting EventSource sends Last-Event-ID with the original URL: the header wins.
    let state = decodeAfter(typeof lastId === 'string' && lastId !== '' ? lastId : q.after);
    if (ctx.openStreams.size >= ctx.stream.maxStreams) {
      throw new ApiError(503, 'too_many_streams', 'too many open streams; retry later', { 'retry-after': '5' });
    }
    const { pollMs, heartbeatMs, batch } = ctx.stream;
    const out = new PassThrough();
    let stopped = false;
    let timer: NodeJS.Timeout | null = null;
    let lastWrite = Date.now();

    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      ctx.openStreams.delete(stop);
      out.end();
    };
    ctx.openStreams.add(stop);
    out.on('close', stop);
    out.on('error', stop);

    const write = async (chunk: string): Promise<void> => {
      lastWrite = Date.now();
      if (!out.write(chunk) && !stopped) {
        await new Promise<void>((resolve) => {
          out.once('drain', resolve);
          out.once('close', resolve);
        });
      }
    };

    const tick = async (): Promise<void> => {
      timer = null;
      if (stopped) return;
      let delay = pollMs;
      try {
        const r = await readFeed(ctx, req, state, batch);
        for (const item of r.items) {
          if (stopped) return;
          await write(`id: ${item.cursor}\nevent: alert\ndata: ${alertJson(item.alert)}\n\n`);
        }
        if (r.items.length > 0 || r.next.store !== state.store) state = r.next;
        if (r.full) delay = 0;
      } catch (err) {
        // The client keeps its last event id; polling goes on until the store is back.
        const code = err instanceof ApiError ? err.code : 'internal_error';
        if (!stopped) await write(`event: error\ndata: ${JSON.stringify({ code })}\n\n`);
      }
      if (stopped) return;
      if (Date.now() - lastWrite >= heartbeatMs) await write(`: heartbeat ${new Date().toISOString()}\n\n`);
      if (!stopped) timer = setTimeout(() => void tick(), Math.min(delay, heartbeatMs));
    };

    reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-accel-buffering', 'no');
    out.write(`retry: ${pollMs}\n: iotwatch alert stream\n\n`);
    setImmediate(() => void tick());
    return reply.send(out);
  });
};
