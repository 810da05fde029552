// The ClickHouse store: alerts and forensic records in ClickHouse over HTTP, written through a
// batching queue with an on-disk spool for outages (writer.ts, spool.ts), schema created and
// migrated by the service itself (schema.ts), bounded by TTL and partition drops (retention.ts).
//
// The feed (SIEM pull) is at-least-once and never skips: seqs are write-time µs, and a reader
// only sees seqs up to a horizon that no write still in flight can land below:
//   horizon = min(now - feedLagMs, this process's insert in flight - 1).
// feedLagMs must cover the longest an insert from another process can take to become visible
// (its insertTimeoutMs, after which it is spooled and replayed with a new seq) plus clock skew
// between sensors. An insert that times out yet lands late is harmless: its alert is replayed
// with a higher seq, and FINAL shows that newest version.
import { join } from 'node:path';
import { promises as fsp } from 'node:fs';
import type { Alert } from '../../alerts/types';
import { decodeAlertCursor, decodeFeedCursor, encodeAlertCursor, encodeFeedCursor } from '../alert-match';
import type { AlertKey } from '../alert-match';
import { daysToExpiry, decodeInventoryCursor, encodeInventoryCursor } from '../inventory';
import type { InventoryKey, InventoryKind } from '../inventory';
import type {
  AlertPage, AlertQuery, AlertStatus, AlertStore, CoapExchangeRow, FeedPage, InventoryQuery, MqttSessionRow, StatsBucket,
  StatsQuery, StoredAlert, StoreHealth, TlsEndpointRow, TopicMinuteRow,
} from '../types';
import type { Severity } from '../../alerts/types';
import {
  checkFeedLimit, validateAlert, validateAlertId, validateAlertQuery, validateInventoryQuery, validateRecordBatch, validateSensor,
  validateStatsQuery, validateStatusChange,
} from '../validate';
import { checkClusterName, clusterSchemaSql } from './cluster-sql';
import type { ClusterLayout } from './cluster-sql';
import { Connection, isServerError, supportsTtl } from './connection';
import type { ServerVersion } from './connection';
import { clientsSql, coapSql, feedSql, getAlertSql, queryAlertsSql, statsSql, tlsSql, topicsSql } from './queries';
import { dropExpiredPartitions } from './retention';
import { bool, num, storedAlert } from './rows';
import type { AlertReadRow } from './rows';
import { checkDatabaseName, MIGRATIONS, migrationsTableSql } from './schema';
import type { SchemaContext } from './schema';
import { Spool } from './spool';
import { clockUs, Writer } from './writer';

export interface ClickHouseStoreOptions {
  /** http(s)://[user:password@]host:port[/database] */
  url: string;
  /** Database (default: the URL's path, else 'iotwatch'). Must be a plain identifier. */
  database?: string;
  /** Directory for the outage spool (created if missing). */
  spoolDir: string;
  /** Rows per insert (default 5000) and longest wait to fill a batch (default 200 ms). */
  batchRows?: number;
  lingerMs?: number;
  /** An insert slower than this is spooled (default 10,000 ms). */
  insertTimeoutMs?: number;
  /** Timeout of reads and DDL (default 30,000 ms). */
  queryTimeoutMs?: number;
  /** Pause between replay attempts while the server is away (default 1000 ms). */
  retryMs?: number;
  /**
   * How far behind now the feed stays (default insertTimeoutMs + 5000 ms). 0 is safe only when
   * this process is the only writer (tests); see the file comment.
   */
  feedLagMs?: number;
  /** Retention (defaults 90 and 30 days): TTL on 19.6+, partition drops everywhere. */
  alertsRetentionDays?: number;
  recordsRetentionDays?: number;
  /** How often expired partitions are dropped (default hourly; 0 = only at init). */
  retentionCheckMs?: number;
  /** Spool bound in bytes (default 2 GiB); past it alerts are dropped and counted. */
  maxSpoolBytes?: number;
  /** Multi-node layout: Distributed tables over <table>_local (docs/clickhouse-cluster.md). */
  cluster?: ClusterLayout;
  /** fdatasync the spool (default true). */
  fsync?: boolean;
}

interface Resolved {
  baseUrl: string;
  username?: string;
  password?: string;
  database: string;
}

/** Splits credentials and the database out of the URL (the client gets a bare origin). */
export function parseClickHouseUrl(url: string, database?: string): Resolved {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`invalid ClickHouse URL ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`ClickHouse URL must be http(s): ${u.protocol}`);
  const path = decodeURIComponent(u.pathname.replace(/^\/+|\/+$/g, ''));
  const db = checkDatabaseName(database ?? (path === '' ? 'iotwatch' : path));
  return {
    baseUrl: `${u.protocol}//${u.host}`,
    username: u.username === '' ? undefined : decodeURIComponent(u.username),
    password: u.password === '' ? undefined : decodeURIComponent(u.password),
    database: db,
  };
}

export class ClickHouseStore implements AlertStore {
  readonly kind = 'clickhouse' as const;
  readonly database: string;
  private readonly conn: Connection;
  private readonly resolved: Resolved;
  private spool: Spool | null = null;
  private writer: Writer | null = null;
  private server: ServerVersion | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private initialized: Promise<void> | null = null;
  private closed = false;
  private readonly insertTimeoutMs: number;
  private readonly queryTimeoutMs: number;
  private readonly feedLagUs: number;
  private lastRetentionError: string | null = null;
  private schema: Promise<void> | null = null;

  constructor(private readonly opts: ClickHouseStoreOptions) {
    this.resolved = parseClickHouseUrl(opts.url, opts.database);
    this.database = this.resolved.database;
    if (opts.cluster) checkClusterName(opts.cluster.cluster);
    this.insertTimeoutMs = opts.insertTimeoutMs ?? 10_000;
    this.queryTimeoutMs = opts.queryTimeoutMs ?? 30_000;
    this.feedLagUs = (opts.feedLagMs ?? this.insertTimeoutMs + 5000) * 1000;
    this.conn = new Connection({
      url: this.resolved.baseUrl,
      username: this.resolved.username,
      password: this.resolved.password,
      requestTimeoutMs: Math.max(this.queryTimeoutMs, this.insertTimeoutMs) + 1000,
      // A Distributed insert returns only once the shards have the rows, so "resolved" keeps
      // meaning "queryable" in cluster mode too.
      settings: opts.cluster ? { insert_distributed_sync: 1 } : {},
    });
  }

  private schemaContext(): SchemaContext {
    return {
      database: this.database,
      ttl: this.server !== null && supportsTtl(this.server),
      alertsRetentionDays: this.opts.alertsRetentionDays ?? 90,
      recordsRetentionDays: this.opts.recordsRetentionDays ?? 30,
    };
  }

  init(): Promise<void> {
    this.initialized ??= this.open();
    return this.initialized;
  }

  private async open(): Promise<void> {
    // The spool first: alerts are accepted (and spooled) even when the server is down at start.
    await fsp.mkdir(this.opts.spoolDir, { recursive: true });
    this.spool = await Spool.open(join(this.opts.spoolDir, 'clickhouse.spool'), { maxBytes: this.opts.maxSpoolBytes, fsync: this.opts.fsync });
    this.writer = new Writer(this.conn, this.database, this.spool, {
      batchRows: this.opts.batchRows ?? 5000,
      lingerMs: this.opts.lingerMs ?? 200,
      insertTimeoutMs: this.insertTimeoutMs,
      retryMs: this.opts.retryMs ?? 1000,
      maxReplayErrors: 5,
      deadLetterPath: join(this.opts.spoolDir, 'clickhouse.dead.jsonl'),
      beforeInsert: () => this.ensureSchema(),
    });
    try {
      await this.ensureSchema();
      await this.enforceRetention();
    } catch (e) {
      // A server that answers with an error is a configuration problem: fail loudly. One that
      // does not answer is an outage: start anyway, spool, and migrate before the first replay.
      if (isServerError(e)) throw e;
    }
    const every = this.opts.retentionCheckMs ?? 3_600_000;
    if (every > 0) {
      this.retentionTimer = setInterval(() => void this.enforceRetention(), every);
      this.retentionTimer.unref();
    }
    this.writer.start();
  }

  /** Connects and migrates once; a failed attempt is retried by the next caller. */
  private ensureSchema(): Promise<void> {
    if (this.schema === null) {
      const attempt = (async () => {
        this.server = await this.conn.version();
        await this.migrate();
      })();
      this.schema = attempt;
      attempt.catch(() => {
        if (this.schema === attempt) this.schema = null;
      });
    }
    return this.schema;
  }

  /** Applies the migrations not yet recorded in schema_migrations, in order. */
  private async migrate(): Promise<void> {
    const db = this.database;
    const ctx = this.schemaContext();
    const cluster = this.opts.cluster;
    const t = this.queryTimeoutMs;
    if (cluster) {
      // Database and migrations table come with the cluster DDL (first two statements).
      const [createDb, createMigrations] = clusterSchemaSql(ctx, cluster);
      await this.conn.command(createDb, t);
      await this.conn.command(createMigrations, t);
    } else {
      await this.conn.command(`CREATE DATABASE IF NOT EXISTS ${db}`, t);
      await this.conn.command(migrationsTableSql(db), t);
    }
    const applied = new Set((await this.conn.query<{ version: number }>(`SELECT DISTINCT version FROM ${db}.schema_migrations`, t)).map((r) => Number(r.version)));
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      const statements = cluster && m.version === 1 ? clusterSchemaSql(ctx, cluster).slice(2) : m.statements(ctx);
      for (const s of statements) await this.conn.command(s, t);
      await this.conn.insert(`${db}.schema_migrations`, ['version', 'applied'], [{ version: m.version, applied: Math.floor(Date.now() / 1000) }], t);
    }
  }

  /** Drops expired partitions now; errors are kept for health(), never thrown. */
  async enforceRetention(nowMs = Date.now()): Promise<{ table: string; partition: string }[]> {
    try {
      const ctx = this.schemaContext();
      const dropped = await dropExpiredPartitions(this.conn, {
        database: this.database,
        alertsRetentionDays: ctx.alertsRetentionDays,
        recordsRetentionDays: ctx.recordsRetentionDays,
        cluster: this.opts.cluster ? { name: this.opts.cluster.cluster, onCluster: this.opts.cluster.onCluster !== false } : undefined,
      }, nowMs);
      this.lastRetentionError = null;
      return dropped;
    } catch (e) {
      this.lastRetentionError = (e as Error).message;
      return [];
    }
  }

  private ready(): Writer {
    if (this.closed) throw new Error('store is closed');
    if (!this.writer) throw new Error('store not initialised: call init() first');
    return this.writer;
  }

  /** Server version seen at init (e.g. "18.16.1"). */
  serverVersion(): string | null {
    return this.server?.text ?? null;
  }

  // ------------------------------------------------------------------ writes

  async putAlerts(alerts: readonly Alert[], sensor: string): Promise<void> {
    const w = this.ready();
    validateSensor(sensor);
    alerts.forEach((a, i) => validateAlert(a, i));
    if (alerts.length === 0) return;
    // A copy: the caller's alert objects keep changing after this call.
    const copy = JSON.parse(JSON.stringify(alerts)) as Alert[];
    await w.enqueue({ k: 'a', s: sensor, a: copy, t: Date.now() });
  }

  async putRecords(r: { sessions?: readonly MqttSessionRow[]; topics?: readonly TopicMinuteRow[]; coap?: readonly CoapExchangeRow[]; tls?: readonly TlsEndpointRow[] }): Promise<void> {
    const w = this.ready();
    const b = validateRecordBatch(r);
    if (b.sessions.length + b.topics.length + b.coap.length + b.tls.length === 0) return;
    await w.enqueue({ k: 'r', b: JSON.parse(JSON.stringify(b)) as typeof b, t: Date.now() });
  }

  async setStatus(id: string, status: AlertStatus, by: string, note: string | null): Promise<StoredAlert | null> {
    const w = this.ready();
    validateAlertId(id);
    const v = validateStatusChange(status, by, note);
    const current = await this.getAlert(id);
    if (current === null) return null;
    const at = Date.now();
    // Written directly, not queued: the SOC's click must be durable when the API answers.
    await this.conn.insert(`${this.database}.alert_status`, ['id', 'status', 'changed_by', 'note', 'has_note', 'at_ms', 'version'], [{
      id, status: v.status, changed_by: v.by, note: v.note ?? '', has_note: v.note === null ? 0 : 1, at_ms: at, version: w.nextSeq(),
    }], this.insertTimeoutMs);
    return { ...current, status: v.status, statusBy: v.by, statusNote: v.note, statusAt: at };
  }

  /** Waits until everything accepted so far is inserted or spooled. */
  async flush(): Promise<void> {
    await this.ready().flush();
  }

  // ------------------------------------------------------------------ reads

  async getAlert(id: string): Promise<StoredAlert | null> {
    this.ready();
    validateAlertId(id);
    const rows = await this.conn.query<AlertReadRow>(getAlertSql(this.database, id), this.queryTimeoutMs);
    return rows.length > 0 ? storedAlert(rows[0]) : null;
  }

  async queryAlerts(query: AlertQuery): Promise<AlertPage> {
    this.ready();
    const q = validateAlertQuery(query);
    const after = decodeAlertCursor(q);
    type Row = AlertReadRow & { first_ts: string; last_ts: string; severity_rank: number; id: string };
    const rows = await this.conn.query<Row>(queryAlertsSql(this.database, q, after), this.queryTimeoutMs);
    const page = rows.slice(0, q.limit).map(storedAlert);
    let nextCursor: string | null = null;
    if (rows.length > q.limit) {
      const r = rows[q.limit - 1];
      const key: AlertKey = q.sort === 'severity'
        ? [num(r.severity_rank), num(r.last_ts), r.id]
        : [num(q.sort === 'lastTs' ? r.last_ts : r.first_ts), r.id];
      nextCursor = encodeAlertCursor(q, key);
    }
    return { alerts: page, nextCursor };
  }

  /** The newest seq the feed may show now (see the file comment). */
  private feedHorizon(): number {
    const w = this.ready();
    let h = clockUs() - this.feedLagUs - 1;
    if (w.inflightMinSeq !== null) h = Math.min(h, w.inflightMinSeq - 1);
    return Math.max(0, h);
  }

  async feed(after: string, limit: number): Promise<FeedPage> {
    this.ready();
    const pos = decodeFeedCursor(after);
    const n = checkFeedLimit(limit);
    const horizon = this.feedHorizon();
    if (horizon <= pos.seq) return { alerts: [], cursor: after };
    const rows = await this.conn.query<AlertReadRow & { id: string }>(feedSql(this.database, pos, horizon, n), this.queryTimeoutMs);
    if (rows.length === 0) return { alerts: [], cursor: after };
    const alerts = rows.map(storedAlert);
    const last = alerts[alerts.length - 1];
    return { alerts, cursor: encodeFeedCursor({ seq: last.seq, id: last.id }) };
  }

  async stats(query: StatsQuery): Promise<StatsBucket[]> {
    this.ready();
    const q = validateStatsQuery(query);
    const rows = await this.conn.query<{ ts: string; detector: string; severity: string; n: string }>(statsSql(this.database, q), this.queryTimeoutMs);
    return rows.map((r) => ({ ts: num(r.ts), detector: r.detector, severity: r.severity as Severity, count: num(r.n) }));
  }

  private async inventory<R, T>(kind: InventoryKind, query: InventoryQuery, sql: (db: string, sensor: string | undefined, after: InventoryKey | null, limit: number) => string,
    map: (r: R) => T, key: (t: T) => InventoryKey): Promise<{ rows: T[]; nextCursor: string | null }> {
    this.ready();
    const q = validateInventoryQuery(query);
    const after = decodeInventoryCursor(kind, q.cursor);
    const rows = (await this.conn.query<R>(sql(this.database, q.sensor, after, q.limit), this.queryTimeoutMs)).map(map);
    const page = rows.slice(0, q.limit);
    return { rows: page, nextCursor: rows.length > q.limit ? encodeInventoryCursor(kind, key(page[page.length - 1])) : null };
  }

  inventoryClients(q: InventoryQuery): Promise<{ rows: MqttSessionRow[]; nextCursor: string | null }> {
    type R = Record<string, string | number>;
    return this.inventory<R, MqttSessionRow>('clients', q, clientsSql, (r) => ({
      sensor: String(r.sensor), flowId: num(r.flow_a), communityId: String(r.community_a), clientId: String(r.client_id),
      username: bool(r.has_username_a) ? String(r.username_a) : null, client: String(r.client_a), server: String(r.server),
      protocolVersion: num(r.pv_a), tls: bool(r.tls_a), firstTs: num(r.first_a), lastTs: num(r.last_a),
      connackCode: num(r.connack_a) < 0 ? null : num(r.connack_a),
      publishes: num(r.publishes_a), subscribes: num(r.subscribes_a), bytes: num(r.bytes_a),
    }), (t) => [t.lastTs, t.sensor, t.clientId, t.username ?? '', t.server]);
  }

  inventoryTopics(q: InventoryQuery): Promise<{ rows: TopicMinuteRow[]; nextCursor: string | null }> {
    type R = Record<string, string | number>;
    return this.inventory<R, TopicMinuteRow>('topics', q, topicsSql, (r) => ({
      sensor: String(r.sensor), minute: num(r.minute_a), topic: String(r.topic), publishes: num(r.publishes_a),
      retained: num(r.retained_a), bytes: num(r.bytes_a), publishers: num(r.publishers_a),
    }), (t) => [t.minute, t.sensor, t.topic]);
  }

  inventoryCoapResources(q: InventoryQuery): Promise<{ rows: CoapExchangeRow[]; nextCursor: string | null }> {
    type R = Record<string, string | number>;
    return this.inventory<R, CoapExchangeRow>('coap', q, coapSql, (r) => ({
      sensor: String(r.sensor), minute: num(r.minute_a), client: String(r.client_a), server: String(r.server),
      method: String(r.method), path: String(r.path), responseCode: String(r.response_code),
      requests: num(r.requests_a), responses: num(r.responses_a), unmatched: num(r.unmatched_a),
      requestBytes: num(r.request_bytes_a), responseBytes: num(r.response_bytes_a),
      rttUsP50: bool(r.has_rtt_a) ? num(r.rtt_a) : null,
    }), (t) => [t.minute, t.sensor, t.server, t.method, t.path, t.responseCode]);
  }

  async inventoryTls(q: InventoryQuery): Promise<{ rows: (TlsEndpointRow & { daysToExpiry: number | null })[]; nextCursor: string | null }> {
    type R = Record<string, string | number>;
    const now = Date.now();
    return this.inventory<R, TlsEndpointRow & { daysToExpiry: number | null }>('tls', q, tlsSql, (r) => ({
      sensor: String(r.sensor), server: String(r.server), sni: String(r.sni), version: String(r.version_a), cipher: String(r.cipher_a),
      clientAuth: bool(r.client_auth_a), subject: String(r.subject_a), issuer: String(r.issuer_a), sha256: String(r.sha256),
      notBefore: num(r.not_before_a), notAfter: num(r.not_after_a), selfSigned: bool(r.self_signed_a),
      firstTs: num(r.first_a), lastTs: num(r.last_a), daysToExpiry: daysToExpiry(num(r.not_after_a), now),
    }), (t) => [t.lastTs, t.sensor, t.server, t.sni, t.sha256]);
  }

  async health(): Promise<StoreHealth> {
    const w = this.writer;
    const spool = this.spool;
    const reachable = !this.closed && (await this.conn.ping(2000));
    const parts = [
      `clickhouse ${this.server?.text ?? '?'} at ${this.resolved.baseUrl}/${this.database}: ${reachable ? 'reachable' : 'unreachable'}`,
    ];
    if (this.opts.cluster) parts.push(`cluster ${this.opts.cluster.cluster}`);
    if (spool && spool.records > 0) parts.push(`spooling: ${spool.rows} rows in ${spool.records} batches waiting for replay`);
    const dropped = w ? w.counters.alerts_dropped + w.counters.record_rows_dropped : 0;
    if (dropped > 0) parts.push(`${dropped} rows dropped: spool full`);
    if (w?.lastError) parts.push(`last write error: ${w.lastError}`);
    if (this.lastRetentionError) parts.push(`retention error: ${this.lastRetentionError}`);
    const oldest = [w?.oldestQueuedMs ?? null, spool?.oldestMs ?? null].filter((x): x is number => x !== null);
    return {
      ok: reachable && dropped === 0 && (spool?.records ?? 0) === 0,
      kind: 'clickhouse',
      detail: parts.join('; '),
      pending: w?.pendingRows ?? 0,
      spoolBytes: spool?.bytes ?? 0,
      spoolRecords: spool?.rows ?? 0,
      lagMs: oldest.length > 0 ? Math.max(0, Date.now() - Math.min(...oldest)) : 0,
      counters: { ...(w?.counters ?? {}), spool_batches: spool?.records ?? 0 },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.initialized) await this.initialized.catch(() => undefined);
    this.closed = true;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    await this.writer?.close();
    await this.spool?.close();
    await this.conn.close();
  }
}

export function createClickHouseStore(opts: ClickHouseStoreOptions): ClickHouseStore {
  return new ClickHouseStore(opts);
}
