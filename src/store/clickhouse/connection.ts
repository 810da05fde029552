// Talking to ClickHouse over HTTP through @clickhouse/client, in a way that works on Debian's
// 18.16 as well as on 24+.
//
// What 18.16 needed (checked against the real server; see test/store/clickhouse.test.ts):
//   - Nothing to get through: @clickhouse/client 1.x sends its settings as URL parameters and
//     18.16 accepts the ones it sends by default (query_id, and enable_http_compression when
//     compression is on). We never use `query_params` ({name:Type} placeholders): 18.16 answers
//     "Unknown setting param_x". Values are escaped into the text instead (escape.ts).
//   - Formats: JSONEachRow only (JSONCompactEachRow and friends are 19.x+).
//   - Errors: 18.16 words them "Code: 60, e.displayText() = DB::Exception: ..." which the
//     client's parser (made for "Code: 60. DB::Exception: ... (TYPE)") does not recognise, so
//     they arrive as plain Errors; isServerError() recognises both wordings.
//   - The client logs every failed request at ERROR by default; a store that expects outages and
//     spools through them reports through health() instead, so its logging is turned off.
//   - Compression off: loopback and LAN traffic gains little, and it keeps 18.16's gzip path
//     out of the picture.
import { ClickHouseError, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';

export interface ConnectionOptions {
  /** http(s)://[user:password@]host:port — the path, if any, is taken by the caller as the database. */
  url: string;
  username?: string;
  password?: string;
  /** Default timeout of a request (ms). */
  requestTimeoutMs?: number;
  /** Settings sent with every request (cluster mode adds distributed ones). */
  settings?: ClickHouseSettings;
}

export interface ServerVersion {
  text: string;
  major: number;
  minor: number;
}

/** True for an answer from the server (a SQL error), false for "could not reach it" or a timeout. */
export function isServerError(e: unknown): boolean {
  if (e instanceof ClickHouseError) return true;
  const m = e instanceof Error ? e.message : String(e);
  return /\bCode: \d+[.,]/.test(m);
}

/** ClickHouse's error code of a server answer (both wordings), or null. */
export function serverErrorCode(e: unknown): number | null {
  if (e instanceof ClickHouseError) return Number(e.code);
  const m = /\bCode: (\d+)[.,]/.exec(e instanceof Error ? e.message : String(e));
  return m ? Number(m[1]) : null;
}

// Codes that mean "these rows can never be inserted" (parse and type errors), as opposed to
// overload or outage answers (TOO_MANY_PARTS, MEMORY_LIMIT_EXCEEDED, TIMEOUT_EXCEEDED, ...)
// that a later retry can get past.
const DATA_ERROR_CODES = new Set([6, 16, 26, 27, 32, 33, 38, 41, 53, 69, 70, 72, 117, 130, 131]);

/** A server error about the data itself: retrying the same rows cannot succeed. */
export function isDataError(e: unknown): boolean {
  const c = serverErrorCode(e);
  return c !== null && DATA_ERROR_CODES.has(c);
}

export class Connection {
  readonly client: ClickHouseClient;
  private readonly timeoutMs: number;

  constructor(private readonly opts: ConnectionOptions) {
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.client = createClient({
      url: opts.url,
      username: opts.username ?? 'default',
      password: opts.password ?? '',
      request_timeout: this.timeoutMs,
      compression: { request: false, response: false },
      log: { level: ClickHouseLogLevel.OFF },
      keep_alive: { enabled: true },
      clickhouse_settings: opts.settings ?? {},
    });
  }

  /** Runs a SELECT and returns its rows (JSONEachRow). */
  async query<T>(sql: string, timeoutMs = this.timeoutMs): Promise<T[]> {
    const rs = await this.client.query({ query: sql, format: 'JSONEachRow', abort_signal: AbortSignal.timeout(timeoutMs) });
    return rs.json<T>();
  }

  /** Runs DDL or another statement without a result. */
  async command(sql: string, timeoutMs = this.timeoutMs): Promise<void> {
    await this.client.command({ query: sql, abort_signal: AbortSignal.timeout(timeoutMs) });
  }

  /** Inserts rows as JSONEachRow into a whitelisted, qualified table with the given columns. */
  async insert(table: string, columns: readonly string[], rows: readonly Record<string, unknown>[], timeoutMs = this.timeoutMs): Promise<void> {
    if (rows.length === 0) return;
    await this.client.insert({
      table,
      columns: columns as [string, ...string[]],
      values: rows as Record<string, unknown>[],
      format: 'JSONEachRow',
      abort_signal: AbortSignal.timeout(timeoutMs),
    });
  }

  async ping(timeoutMs = 2000): Promise<boolean> {
    try {
      await this.query('SELECT 1', timeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  async version(): Promise<ServerVersion> {
    const rows = await this.query<{ v: string }>('SELECT version() AS v');
    const text = rows[0]?.v ?? '0.0';
    const [major, minor] = text.split('.').map((x) => Number.parseInt(x, 10));
    return { text, major: major || 0, minor: minor || 0 };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** Whether a server has table TTL clauses (19.6+); older ones get partition dropping only. */
export function supportsTtl(v: ServerVersion): boolean {
  return v.major > 19 || (v.major === 19 && v.minor >= 6);
}
