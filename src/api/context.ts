// What every route plugin gets: the store and the API's own shared state.
import type { AlertStore } from '../store/types';
import type { Authenticator, Principal } from './auth';
import type { CursorCodec } from './cursor';
import type { RateLimiter } from './rate-limit';
import type { HealthSource, MetricsSource } from './sources';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; null when no token is required. */
    principal: Principal | null;
  }
}

export interface StreamOptions {
  /** How often an idle stream asks the store for new alerts. */
  readonly pollMs: number;
  /** SSE comment sent after this long without an event, so proxies keep the connection. */
  readonly heartbeatMs: number;
  /** Alerts fetched per store call. */
  readonly batch: number;
  /** Open streams allowed at once (each holds a poll loop). */
  readonly maxStreams: number;
}

export const DEFAULT_STREAM: StreamOptions = { pollMs: 1000, heartbeatMs: 15_000, batch: 200, maxStreams: 32 };

/** Request counts by method, route template and status: bounded by the routes that exist. */
export class RequestCounters {
  private readonly counts = new Map<string, number>();
  authFailures = 0;

  add(method: string, route: string, status: number): void {
    const k = `${method}\0${route}\0${status}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  entries(): { method: string; route: string; status: number; count: number }[] {
    return [...this.counts].map(([k, count]) => {
      const [method, route, status] = k.split('\0');
      return { method, route, status: Number(status), count };
    });
  }
}

export interface CollectedRoute {
  readonly method: string;
  readonly url: string;
  readonly schema: Record<string, unknown> | undefined;
  readonly tag: string;
  readonly auth: boolean;
}

export interface ApiContext {
  readonly store: AlertStore;
  readonly cursors: CursorCodec;
  readonly auth: Authenticator;
  readonly limiter: RateLimiter;
  readonly counters: RequestCounters;
  readonly metrics?: MetricsSource;
  readonly health?: HealthSource;
  readonly stream: StreamOptions;
  /** Ends every open SSE stream (app.close()). */
  readonly openStreams: Set<() => void>;
  readonly routes: CollectedRoute[];
  readonly version: string;
  readonly startedAt: number;
}

export interface PluginOptions {
  readonly ctx: ApiContext;
}
