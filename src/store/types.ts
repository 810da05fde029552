// The store contract: one interface, two implementations (embedded file store, ClickHouse),
// one contract test suite. Times are microseconds since the epoch unless named otherwise.
import type { Alert, Category, Severity } from '../alerts/types';

export type AlertStatus = 'open' | 'acknowledged' | 'closed';

/** An alert as stored: the detector's alert plus where it came from and the SOC's workflow. */
export interface StoredAlert extends Alert {
  readonly sensor: string;
  status: AlertStatus;
  statusBy: string | null;
  statusNote: string | null;
  /** Wall-clock time of the last status change, ms since the epoch; null if never changed. */
  statusAt: number | null;
  /**
   * Position in insertion order, assigned by the store when the alert (or a newer version
   * of it) is written; the SIEM feed pages by it. Strictly increasing per store.
   */
  seq: number;
}

export interface AlertQuery {
  /** Alerts whose lastTs >= from and firstTs <= to (µs). */
  from?: number;
  to?: number;
  detector?: readonly string[];
  category?: Category;
  minSeverity?: Severity;
  status?: AlertStatus;
  /** Exact entity value. */
  entity?: string;
  /** An address that appears in the alert's endpoints (IPv4/IPv6 text, no port). */
  address?: string;
  /** Case-insensitive substring of summary, entity value or detector. */
  text?: string;
  sensor?: string;
  sort?: 'lastTs' | 'firstTs' | 'severity';
  order?: 'asc' | 'desc';
  /** 1..1000 */
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export interface AlertPage {
  alerts: StoredAlert[];
  /** Cursor for the next page, null when this was the last. */
  nextCursor: string | null;
}

export interface FeedPage {
  alerts: StoredAlert[];
  /** Cursor to pass as `after` next time (unchanged when nothing new). */
  cursor: string;
}

export interface StatsQuery {
  from: number;
  to: number;
  bucketSeconds: number;
  sensor?: string;
}

export interface StatsBucket {
  /** Bucket start, µs. */
  ts: number;
  detector: string;
  severity: Severity;
  count: number;
}

// Forensic records: what was seen, aggregated from events (src/store/records.ts).

export interface MqttSessionRow {
  sensor: string;
  flowId: number;
  communityId: string;
  clientId: string;
  username: string | null;
  client: string; // "addr:port"
  server: string;
  protocolVersion: number;
  tls: boolean;
  firstTs: number;
  lastTs: number;
  connackCode: number | null;
  publishes: number;
  subscribes: number;
  bytes: number;
}

export interface TopicMinuteRow {
  sensor: string;
  /** Minute start, µs. */
  minute: number;
  topic: string;
  publishes: number;
  retained: number;
  bytes: number;
  publishers: number;
}

export interface CoapExchangeRow {
  sensor: string;
  minute: number;
  client: string; // address
  server: string; // "addr:port"
  method: string;
  path: string;
  responseCode: string;
  requests: number;
  responses: number;
  unmatched: number;
  requestBytes: number;
  responseBytes: number;
  rttUsP50: number | null;
}

export interface TlsEndpointRow {
  sensor: string;
  server: string; // "addr:port"
  sni: string;
  version: string;
  cipher: string;
  clientAuth: boolean;
  subject: string;
  issuer: string;
  sha256: string;
  notBefore: number; // µs
  notAfter: number; // µs
  selfSigned: boolean;
  firstTs: number;
  lastTs: number;
}

export interface InventoryQuery {
  limit: number;
  cursor?: string;
  sensor?: string;
}

export interface StoreHealth {
  ok: boolean;
  kind: 'embedded' | 'clickhouse';
  detail: string;
  /** Alerts accepted but not yet durable in the backend. */
  pending: number;
  /** Spool (ClickHouse outage) size in bytes and records. */
  spoolBytes: number;
  spoolRecords: number;
  /**
   * Age in ms of the oldest alert accepted but not yet durable in the backend (writer queue or
   * spool); 0 when none. Added for /metrics' store lag.
   */
  lagMs?: number;
  /** Named counters for /metrics (rows, evictions, drops, replays); snake_case names, stable. */
  counters?: Readonly<Record<string, number>>;
}

export interface AlertStore {
  readonly kind: 'embedded' | 'clickhouse';
  /** Create or migrate the schema (versioned migrations); idempotent. */
  init(): Promise<void>;
  /** Insert or replace alerts by id (the same id written twice stays one alert). Batched; resolves when durable or spooled. */
  putAlerts(alerts: readonly Alert[], sensor: string): Promise<void>;
  queryAlerts(q: AlertQuery): Promise<AlertPage>;
  getAlert(id: string): Promise<StoredAlert | null>;
  setStatus(id: string, status: AlertStatus, by: string, note: string | null): Promise<StoredAlert | null>;
  /** Alerts in insertion order after the cursor ('' = from the start), at-least-once. */
  feed(after: string, limit: number): Promise<FeedPage>;
  stats(q: StatsQuery): Promise<StatsBucket[]>;
  putRecords(r: {
    sessions?: readonly MqttSessionRow[];
    topics?: readonly TopicMinuteRow[];
    coap?: readonly CoapExchangeRow[];
    tls?: readonly TlsEndpointRow[];
  }): Promise<void>;
  inventoryClients(q: InventoryQuery): Promise<{ rows: MqttSessionRow[]; nextCursor: string | null }>;
  inventoryTopics(q: InventoryQuery): Promise<{ rows: TopicMinuteRow[]; nextCursor: string | null }>;
  inventoryCoapResources(q: InventoryQuery): Promise<{ rows: CoapExchangeRow[]; nextCursor: string | null }>;
  inventoryTls(q: InventoryQuery): Promise<{ rows: (TlsEndpointRow & { daysToExpiry: number | null })[]; nextCursor: string | null }>;
  health(): Promise<StoreHealth>;
  /** Flush pending writes and release resources. */
  close(): Promise<void>;
}
