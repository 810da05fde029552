// Schema validation of everything that enters a store from outside: queries, cursors' owners,
// status changes, alerts and record rows. Runs before either backend sees the input, so the
// ClickHouse store's SQL only ever meets values of the types and sizes checked here.
import { SEVERITIES } from '../alerts/types';
import type { Alert, Category, Severity } from '../alerts/types';
import { StoreQueryError } from './errors';
import type {
  AlertQuery, AlertStatus, CoapExchangeRow, InventoryQuery, MqttSessionRow, StatsQuery, TlsEndpointRow, TopicMinuteRow,
} from './types';

export const ALERT_STATUSES: readonly AlertStatus[] = ['open', 'acknowledged', 'closed'];
export const CATEGORIES: readonly Category[] = ['anomaly', 'posture'];
export const SORTS = ['lastTs', 'firstTs', 'severity'] as const;
export const ORDERS = ['asc', 'desc'] as const;

export const MAX_LIMIT = 1000;
/** At most this many buckets per stats query: a bound on result size and server work. */
export const MAX_STATS_BUCKETS = 10_000;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** No lone UTF-16 surrogates: they cannot be encoded as UTF-8, so they would not round-trip. */
export function wellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

function fail(msg: string): never {
  throw new StoreQueryError(msg);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function checkString(v: unknown, field: string, max: number, opts: { empty?: boolean } = {}): string {
  if (typeof v !== 'string') fail(`${field} must be a string`);
  if (v.length > max) fail(`${field} longer than ${max}`);
  if (!opts.empty && v.length === 0) fail(`${field} must not be empty`);
  if (!wellFormed(v)) fail(`${field} is not well-formed unicode`);
  return v;
}

/** A non-negative safe integer (µs timestamps, counts). */
export function checkUint(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${field} must be a non-negative integer`);
  return v;
}

function checkEnum<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) fail(`${field} must be one of ${allowed.join(', ')}`);
  return v as T;
}

export interface NormalizedAlertQuery extends AlertQuery {
  sort: 'lastTs' | 'firstTs' | 'severity';
  order: 'asc' | 'desc';
}

export function validateAlertQuery(q: unknown): NormalizedAlertQuery {
  if (!isObject(q)) fail('query must be an object');
  const out: NormalizedAlertQuery = {
    limit: 0,
    sort: q.sort === undefined ? 'lastTs' : checkEnum(q.sort, 'sort', SORTS),
    order: q.order === undefined ? 'desc' : checkEnum(q.order, 'order', ORDERS),
  };
  if (typeof q.limit !== 'number' || !Number.isInteger(q.limit) || q.limit < 1 || q.limit > MAX_LIMIT) {
    fail(`limit must be an integer 1..${MAX_LIMIT}`);
  }
  out.limit = q.limit;
  if (q.from !== undefined) out.from = checkUint(q.from, 'from');
  if (q.to !== undefined) out.to = checkUint(q.to, 'to');
  if (q.detector !== undefined) {
    if (!Array.isArray(q.detector) || q.detector.length > 100) fail('detector must be an array of at most 100 ids');
    out.detector = q.detector.map((d, i) => checkString(d, `detector[${i}]`, 200));
  }
  if (q.category !== undefined) out.category = checkEnum(q.category, 'category', CATEGORIES);
  if (q.minSeverity !== undefined) out.minSeverity = checkEnum(q.minSeverity, 'minSeverity', SEVERITIES);
  if (q.status !== undefined) out.status = checkEnum(q.status, 'status', ALERT_STATUSES);
  if (q.entity !== undefined) out.entity = checkString(q.entity, 'entity', 4096, { empty: true });
  if (q.address !== undefined) out.address = checkString(q.address, 'address', 64);
  if (q.text !== undefined) out.text = checkString(q.text, 'text', 256, { empty: true });
  if (q.sensor !== undefined) out.sensor = checkString(q.sensor, 'sensor', 256, { empty: true });
  // Only the type here: a cursor's length and content are checked by decodeCursor (CursorError).
  if (q.cursor !== undefined) out.cursor = checkCursorType(q.cursor);
  return out;
}

function checkCursorType(c: unknown): string {
  if (typeof c !== 'string') fail('cursor must be a string');
  return c;
}

/**
 * What a cursor is bound to: the filters and sort, not the limit (a client may change page size).
 * A cursor presented with other filters is refused rather than silently giving a wrong page.
 */
export function queryFingerprint(q: NormalizedAlertQuery): string {
  const f = [q.from ?? null, q.to ?? null, q.detector ?? null, q.category ?? null, q.minSeverity ?? null, q.status ?? null,
    q.entity ?? null, q.address ?? null, q.text ?? null, q.sensor ?? null, q.sort, q.order];
  // FNV-1a over the JSON: a short tag, not a security boundary (the cursor is validated anyway).
  const s = JSON.stringify(f);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36);
}

export function checkFeedLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) fail(`limit must be an integer 1..${MAX_LIMIT}`);
  return limit;
}

export function validateStatsQuery(q: unknown): StatsQuery {
  if (!isObject(q)) fail('stats query must be an object');
  const from = checkUint(q.from, 'from');
  const to = checkUint(q.to, 'to');
  if (to < from) fail('to must not be before from');
  const b = q.bucketSeconds;
  if (typeof b !== 'number' || !Number.isSafeInteger(b) || b < 1 || b > 366 * 86400) fail('bucketSeconds must be an integer 1..31622400');
  if ((to - from) / (b * 1e6) > MAX_STATS_BUCKETS) fail(`more than ${MAX_STATS_BUCKETS} buckets`);
  const out: StatsQuery = { from, to, bucketSeconds: b };
  if (q.sensor !== undefined) out.sensor = checkString(q.sensor, 'sensor', 256, { empty: true });
  return out;
}

export function validateInventoryQuery(q: unknown): InventoryQuery {
  if (!isObject(q)) fail('inventory query must be an object');
  if (typeof q.limit !== 'number' || !Number.isInteger(q.limit) || q.limit < 1 || q.limit > MAX_LIMIT) {
    fail(`limit must be an integer 1..${MAX_LIMIT}`);
  }
  const out: InventoryQuery = { limit: q.limit };
  if (q.sensor !== undefined) out.sensor = checkString(q.sensor, 'sensor', 256, { empty: true });
  if (q.cursor !== undefined) out.cursor = checkCursorType(q.cursor);
  return out;
}

export const ALERT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function validateAlertId(id: unknown): string {
  if (typeof id !== 'string' || !ALERT_ID.test(id)) fail('alert id must be 1..128 of [A-Za-z0-9._:-]');
  return id;
}

export function validateStatusChange(status: unknown, by: unknown, note: unknown): { status: AlertStatus; by: string; note: string | null } {
  return {
    status: checkEnum(status, 'status', ALERT_STATUSES),
    by: checkString(by, 'by', 256),
    note: note === null ? null : checkString(note, 'note', 4096, { empty: true }),
  };
}

function checkStringArray(v: unknown, field: string, maxItems: number, maxLen: number): void {
  if (!Array.isArray(v) || v.length > maxItems) fail(`${field} must be an array of at most ${maxItems}`);
  v.forEach((x, i) => checkString(x, `${field}[${i}]`, maxLen, { empty: true }));
}

/** The shape a stored alert must have; evidence must be plain JSON (it is stored as JSON). */
export function validateAlert(a: unknown, i = 0): Alert {
  const at = `alerts[${i}]`;
  if (!isObject(a)) fail(`${at} must be an object`);
  validateAlertId(a.id);
  checkString(a.detector, `${at}.detector`, 200);
  checkEnum(a.category, `${at}.category`, CATEGORIES);
  checkEnum(a.severity, `${at}.severity`, SEVERITIES);
  checkUint(a.firstTs, `${at}.firstTs`);
  checkUint(a.lastTs, `${at}.lastTs`);
  checkUint(a.count, `${at}.count`);
  if (!isObject(a.entity)) fail(`${at}.entity must be an object`);
  checkString(a.entity.kind, `${at}.entity.kind`, 64);
  checkString(a.entity.value, `${at}.entity.value`, 4096, { empty: true });
  checkStringArray(a.endpoints, `${at}.endpoints`, 1000, 200);
  checkStringArray(a.communityIds, `${at}.communityIds`, 1000, 200);
  if (!Array.isArray(a.frames) || a.frames.length > 10_000) fail(`${at}.frames must be an array`);
  a.frames.forEach((f, j) => checkUint(f, `${at}.frames[${j}]`));
  checkString(a.summary, `${at}.summary`, 16_384, { empty: true });
  checkString(a.recommendation, `${at}.recommendation`, 16_384, { empty: true });
  if (a.mitre !== null) checkString(a.mitre, `${at}.mitre`, 64, { empty: true });
  if (!isObject(a.evidence)) fail(`${at}.evidence must be an object`);
  if (JSON.stringify(a.evidence).length > 65_536) fail(`${at}.evidence larger than 64 KiB`);
  return a as unknown as Alert;
}

export function validateSensor(sensor: unknown): string {
  return checkString(sensor, 'sensor', 256, { empty: true });
}

function rowCheck(row: unknown, at: string, strings: readonly string[], uints: readonly string[], bools: readonly string[] = []): Record<string, unknown> {
  if (!isObject(row)) fail(`${at} must be an object`);
  for (const f of strings) checkString(row[f], `${at}.${f}`, 65_535, { empty: true });
  for (const f of uints) checkUint(row[f], `${at}.${f}`);
  for (const f of bools) if (typeof row[f] !== 'boolean') fail(`${at}.${f} must be a boolean`);
  return row;
}

export function validateSessionRow(r: unknown, i: number): MqttSessionRow {
  const row = rowCheck(r, `sessions[${i}]`, ['sensor', 'communityId', 'clientId', 'client', 'server'],
    ['flowId', 'protocolVersion', 'firstTs', 'lastTs', 'publishes', 'subscribes', 'bytes'], ['tls']);
  if (row.username !== null) checkString(row.username, `sessions[${i}].username`, 65_535, { empty: true });
  if (row.connackCode !== null) checkUint(row.connackCode, `sessions[${i}].connackCode`);
  return row as unknown as MqttSessionRow;
}

export function validateTopicRow(r: unknown, i: number): TopicMinuteRow {
  return rowCheck(r, `topics[${i}]`, ['sensor', 'topic'], ['minute', 'publishes', 'retained', 'bytes', 'publishers']) as unknown as TopicMinuteRow;
}

export function validateCoapRow(r: unknown, i: number): CoapExchangeRow {
  const row = rowCheck(r, `coap[${i}]`, ['sensor', 'client', 'server', 'method', 'path', 'responseCode'],
    ['minute', 'requests', 'responses', 'unmatched', 'requestBytes', 'responseBytes']);
  if (row.rttUsP50 !== null) checkUint(row.rttUsP50, `coap[${i}].rttUsP50`);
  return row as unknown as CoapExchangeRow;
}

export function validateTlsRow(r: unknown, i: number): TlsEndpointRow {
  return rowCheck(r, `tls[${i}]`, ['sensor', 'server', 'sni', 'version', 'cipher', 'subject', 'issuer', 'sha256'],
    ['notBefore', 'notAfter', 'firstTs', 'lastTs'], ['clientAuth', 'selfSigned']) as unknown as TlsEndpointRow;
}

export interface RecordBatch {
  sessions: MqttSessionRow[];
  topics: TopicMinuteRow[];
  coap: CoapExchangeRow[];
  tls: TlsEndpointRow[];
}

/** Validates putRecords' argument; absent tables become empty arrays. */
export function validateRecordBatch(r: unknown): RecordBatch {
  if (!isObject(r)) fail('records must be an object');
  const arr = (v: unknown, name: string): unknown[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) fail(`${name} must be an array`);
    return v;
  };
  return {
    sessions: arr(r.sessions, 'sessions').map(validateSessionRow),
    topics: arr(r.topics, 'topics').map(validateTopicRow),
    coap: arr(r.coap, 'coap').map(validateCoapRow),
    tls: arr(r.tls, 'tls').map(validateTlsRow),
  };
}
