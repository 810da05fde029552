// The ClickHouse schema, as versioned migrations the service applies itself.
//
// Written for both 18.16 (Debian, what the tests run) and 24+ (docker-compose):
//   - no DateTime64: times are µs in UInt64; each table has a DateTime `written`, MATERIALIZED
//     from the row's version (its write time), for partitioning and expiry;
//   - no LowCardinality, no Nullable (null is a has_x flag or -1), no IF NOT EXISTS on ALTER;
//   - bounds: partitions by month of `written`, and rows expire after N days. 24+ gets a TTL
//     clause (tables' TTL came in 19.6); on every version the store also drops whole partitions
//     older than the retention on a schedule (retention.ts), the only bound 18.16 has;
//   - replacement: alerts and record tables are ReplacingMergeTree(version) ordered by their
//     identity, read with FINAL (which on both versions merges across partitions at query time and
//     filters after the merge), so the same alert or row written twice is read as one.
//     Partitioning by write time rather than event time matters: an alert's firstTs can move, and
//     an old version left in an old partition is dropped with it while the newest lives on.
import { IDENTIFIER } from './escape';

export const TABLES = ['alerts', 'alert_status', 'mqtt_sessions', 'topic_minutes', 'coap_exchanges', 'tls_endpoints'] as const;
export type TableName = (typeof TABLES)[number];

export interface Column {
  name: string;
  type: string;
}

/** Columns as inserted (MATERIALIZED ones are computed by the server and never sent). */
export const COLUMNS: Record<TableName, readonly Column[]> = {
  alerts: cols('id String, sensor String, seq UInt64, detector String, category String, severity String, severity_rank UInt8, first_ts UInt64, last_ts UInt64, entity_kind String, entity_value String, addresses Array(String), summary_lc String, entity_lc String, detector_lc String, body String'),
  alert_status: cols('id String, status String, changed_by String, note String, has_note UInt8, at_ms UInt64, version UInt64'),
  mqtt_sessions: cols('sensor String, flow_id UInt64, community_id String, client_id String, username String, has_username UInt8, client String, server String, protocol_version UInt8, tls UInt8, first_ts UInt64, last_ts UInt64, connack_code Int32, publishes UInt64, subscribes UInt64, bytes UInt64, version UInt64'),
  topic_minutes: cols('sensor String, minute UInt64, topic String, publishes UInt64, retained UInt64, bytes UInt64, publishers UInt64, version UInt64'),
  coap_exchanges: cols('sensor String, minute UInt64, client String, server String, method String, path String, response_code String, requests UInt64, responses UInt64, unmatched UInt64, request_bytes UInt64, response_bytes UInt64, rtt_us_p50 UInt64, has_rtt UInt8, version UInt64'),
  tls_endpoints: cols('sensor String, server String, sni String, tls_version String, cipher String, client_auth UInt8, subject String, issuer String, sha256 String, not_before UInt64, not_after UInt64, self_signed UInt8, first_ts UInt64, last_ts UInt64, version UInt64'),
};

function cols(spec: string): Column[] {
  return spec.split(', ').map((c) => {
    const [name, ...type] = c.split(' ');
    return { name, type: type.join(' ') };
  });
}

/** The µs column whose time is the row's write time (partitions and expiry follow it). */
export const VERSION_COLUMN: Record<TableName, string> = {
  alerts: 'seq', alert_status: 'version', mqtt_sessions: 'version', topic_minutes: 'version', coap_exchanges: 'version', tls_endpoints: 'version',
};

/** Engine kind, and the sort key (= identity for the replacing tables). */
export const TABLE_LAYOUT: Record<TableName, { engine: 'ReplacingMergeTree' | 'MergeTree'; orderBy: string; records: boolean; shardBy: string }> = {
  alerts: { engine: 'ReplacingMergeTree', orderBy: 'id', records: false, shardBy: 'cityHash64(id)' },
  // Status rows are history; the latest per id (argMax by version) is the status.
  alert_status: { engine: 'MergeTree', orderBy: '(id, version)', records: false, shardBy: 'cityHash64(id)' },
  mqtt_sessions: { engine: 'ReplacingMergeTree', orderBy: '(sensor, community_id, flow_id, first_ts)', records: true, shardBy: 'cityHash64(sensor)' },
  topic_minutes: { engine: 'ReplacingMergeTree', orderBy: '(sensor, minute, topic)', records: true, shardBy: 'cityHash64(sensor)' },
  coap_exchanges: { engine: 'ReplacingMergeTree', orderBy: '(sensor, minute, client, server, method, path, response_code)', records: true, shardBy: 'cityHash64(sensor)' },
  tls_endpoints: { engine: 'ReplacingMergeTree', orderBy: '(sensor, server, sni, sha256, first_ts)', records: true, shardBy: 'cityHash64(sensor)' },
};

export interface SchemaContext {
  database: string;
  /** Server has table TTL (19.6+). */
  ttl: boolean;
  alertsRetentionDays: number;
  recordsRetentionDays: number;
}

export function retentionDays(table: TableName, ctx: Pick<SchemaContext, 'alertsRetentionDays' | 'recordsRetentionDays'>): number {
  return TABLE_LAYOUT[table].records ? ctx.recordsRetentionDays : ctx.alertsRetentionDays;
}

export function checkDatabaseName(db: string): string {
  if (!IDENTIFIER.test(db)) throw new Error(`database name ${JSON.stringify(db)} must match ${IDENTIFIER}`);
  return db;
}

/** Column list with the MATERIALIZED write time. */
export function columnsDdl(table: TableName): string {
  const c = COLUMNS[table].map((x) => `${x.name} ${x.type}`);
  c.push(`written DateTime MATERIALIZED toDateTime(intDiv(${VERSION_COLUMN[table]}, 1000000))`);
  return c.join(',\n  ');
}

/** Engine arguments: ReplacingMergeTree's version column. */
export function engineArgs(table: TableName): string {
  return TABLE_LAYOUT[table].engine === 'ReplacingMergeTree' ? VERSION_COLUMN[table] : '';
}

/** PARTITION BY / ORDER BY / TTL / SETTINGS after the engine. */
export function tableTail(table: TableName, ctx: SchemaContext): string {
  const parts = [`PARTITION BY toYYYYMM(written)`, `ORDER BY ${TABLE_LAYOUT[table].orderBy}`];
  if (ctx.ttl) parts.push(`TTL written + INTERVAL ${retentionDays(table, ctx)} DAY`);
  parts.push('SETTINGS index_granularity = 8192');
  return parts.join('\n');
}

export function createTableSql(table: TableName, ctx: SchemaContext): string {
  const args = engineArgs(table);
  return `CREATE TABLE IF NOT EXISTS ${ctx.database}.${table} (\n  ${columnsDdl(table)}\n) ENGINE = ${TABLE_LAYOUT[table].engine}(${args})\n${tableTail(table, ctx)}`;
}

export interface Migration {
  version: number;
  description: string;
  statements(ctx: SchemaContext): string[];
}

/**
 * Applied in order, each once, recorded in schema_migrations. A new schema change is a new entry
 * here (never an edit of an applied one), written so both server generations accept it.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'alerts, alert_status and the forensic record tables',
    statements: (ctx) => TABLES.map((t) => createTableSql(t, ctx)),
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export function migrationsTableSql(db: string): string {
  return `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (version UInt32, applied DateTime) ENGINE = MergeTree ORDER BY version`;
}
