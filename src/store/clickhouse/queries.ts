// SELECTs of the ClickHouse store, built from validated input through escape.ts only.
// They implement the definitions in ../alert-match.ts and ../inventory.ts; the contract suite
// checks that both stores agree.
//
// Shapes chosen to run on 18.16 and 24+ alike: FINAL on the ReplacingMergeTree tables (both
// filter after the merge; 24 keeps WHERE out of PREWHERE under FINAL by default), status joined
// as `ANY LEFT JOIN (subquery) USING id` (unmatched rows give '' and 0), keysets spelled out as
// OR/AND chains rather than tuple comparisons.
import type { AlertKey } from '../alert-match';
import type { InventoryKey } from '../inventory';
import type { StatsQuery } from '../types';
import type { NormalizedAlertQuery } from '../validate';
import { severityRank } from '../validate';
import { sqlString, sqlStringList, sqlUint } from './escape';

type KeyPart = { expr: string; dir: 'asc' | 'desc'; value: number | string };

/** Rows strictly after `parts` in the ORDER BY the parts describe. */
export function keysetSql(parts: readonly KeyPart[]): string {
  const lit = (p: KeyPart): string => (typeof p.value === 'number' ? sqlUint(p.value) : sqlString(p.value));
  let sql = '';
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i];
    const after = `${p.expr} ${p.dir === 'asc' ? '>' : '<'} ${lit(p)}`;
    sql = sql === '' ? after : `(${after} OR (${p.expr} = ${lit(p)} AND ${sql}))`;
  }
  return sql;
}

function statusJoin(db: string, idFilter: string | null): string {
  return `ANY LEFT JOIN (
  SELECT id, argMax(status, version) AS st, argMax(changed_by, version) AS st_by, argMax(note, version) AS st_note,
         argMax(has_note, version) AS st_has_note, argMax(at_ms, version) AS st_at
  FROM ${db}.alert_status ${idFilter === null ? '' : `WHERE id = ${sqlString(idFilter)}`}
  GROUP BY id
) USING id`;
}

const READ_COLUMNS = 'body, sensor, seq, st, st_by, st_note, st_has_note, st_at';

export function getAlertSql(db: string, id: string): string {
  return `SELECT ${READ_COLUMNS} FROM (
  SELECT id, body, sensor, seq FROM ${db}.alerts FINAL WHERE id = ${sqlString(id)}
) ${statusJoin(db, id)}`;
}

function sortColumns(sort: NormalizedAlertQuery['sort']): string[] {
  return sort === 'severity' ? ['severity_rank', 'last_ts', 'id'] : [sort === 'lastTs' ? 'last_ts' : 'first_ts', 'id'];
}

export function queryAlertsSql(db: string, q: NormalizedAlertQuery, after: AlertKey | null): string {
  const where: string[] = [];
  if (q.from !== undefined) where.push(`last_ts >= ${sqlUint(q.from)}`);
  if (q.to !== undefined) where.push(`first_ts <= ${sqlUint(q.to)}`);
  if (q.detector !== undefined && q.detector.length > 0) where.push(`detector IN (${sqlStringList(q.detector)})`);
  if (q.category !== undefined) where.push(`category = ${sqlString(q.category)}`);
  if (q.minSeverity !== undefined) where.push(`severity_rank >= ${sqlUint(severityRank(q.minSeverity))}`);
  if (q.entity !== undefined) where.push(`entity_value = ${sqlString(q.entity)}`);
  if (q.sensor !== undefined) where.push(`sensor = ${sqlString(q.sensor)}`);
  if (q.address !== undefined) where.push(`has(addresses, ${sqlString(q.address.toLowerCase())})`);
  if (q.text !== undefined && q.text !== '') {
    const t = sqlString(q.text.toLowerCase());
    where.push(`(position(summary_lc, ${t}) > 0 OR position(entity_lc, ${t}) > 0 OR position(detector_lc, ${t}) > 0)`);
  }
  const cols = sortColumns(q.sort);
  if (after !== null) where.push(keysetSql(cols.map((expr, i) => ({ expr, dir: q.order, value: after[i] }))));
  const outer: string[] = [];
  if (q.status !== undefined) outer.push(`if(st = '', 'open', st) = ${sqlString(q.status)}`);
  const order = cols.map((c) => `${c} ${q.order === 'asc' ? 'ASC' : 'DESC'}`).join(', ');
  return `SELECT ${READ_COLUMNS}, first_ts, last_ts, severity_rank, id FROM (
  SELECT id, body, sensor, seq, first_ts, last_ts, severity_rank FROM ${db}.alerts FINAL
  ${where.length > 0 ? `WHERE ${where.join('\n    AND ')}` : ''}
) ${statusJoin(db, null)}
${outer.length > 0 ? `WHERE ${outer.join(' AND ')}` : ''}
ORDER BY ${order}
LIMIT ${sqlUint(q.limit + 1)}`;
}

export function feedSql(db: string, after: { seq: number; id: string }, horizon: number, limit: number): string {
  const keyset = keysetSql([{ expr: 'seq', dir: 'asc', value: after.seq }, { expr: 'id', dir: 'asc', value: after.id }]);
  return `SELECT ${READ_COLUMNS}, id FROM (
  SELECT id, body, sensor, seq FROM ${db}.alerts FINAL
  WHERE ${keyset} AND seq <= ${sqlUint(horizon)}
  ORDER BY seq, id
  LIMIT ${sqlUint(limit)}
) ${statusJoin(db, null)}
ORDER BY seq, id`;
}

export function statsSql(db: string, q: StatsQuery): string {
  const b = sqlUint(q.bucketSeconds * 1_000_000);
  const where = [`first_ts >= ${sqlUint(q.from)}`, `first_ts <= ${sqlUint(q.to)}`];
  if (q.sensor !== undefined) where.push(`sensor = ${sqlString(q.sensor)}`);
  return `SELECT intDiv(first_ts, ${b}) * ${b} AS ts, detector, severity, any(severity_rank) AS r, count() AS n
FROM ${db}.alerts FINAL
WHERE ${where.join(' AND ')}
GROUP BY ts, detector, severity
ORDER BY ts, detector, r`;
}

function inventoryPage(after: InventoryKey | null, time: string, keys: readonly string[], limit: number): { having: string; order: string; limit: string } {
  const parts: KeyPart[] = after === null ? [] : [
    { expr: time, dir: 'desc', value: after[0] },
    ...keys.map((k, i) => ({ expr: k, dir: 'asc' as const, value: after[i + 1] })),
  ];
  return {
    having: parts.length > 0 ? `HAVING ${keysetSql(parts)}` : '',
    order: `ORDER BY ${time} DESC, ${keys.join(', ')}`,
    limit: `LIMIT ${sqlUint(limit + 1)}`,
  };
}

function sensorWhere(sensor: string | undefined): string {
  return sensor === undefined ? '' : `WHERE sensor = ${sqlString(sensor)}`;
}

export function clientsSql(db: string, sensor: string | undefined, after: InventoryKey | null, limit: number): string {
  const p = inventoryPage(after, 'last_a', ['sensor', 'client_id', 'u', 'server'], limit);
  const rep = 'tuple(last_ts, first_ts, flow_id, community_id)';
  return `SELECT sensor, client_id, u, server,
  argMax(flow_id, ${rep}) AS flow_a, argMax(community_id, ${rep}) AS community_a,
  argMax(username, ${rep}) AS username_a, argMax(has_username, ${rep}) AS has_username_a,
  argMax(client, ${rep}) AS client_a, argMax(protocol_version, ${rep}) AS pv_a, argMax(tls, ${rep}) AS tls_a,
  argMax(connack_code, ${rep}) AS connack_a,
  min(first_ts) AS first_a, max(last_ts) AS last_a,
  sum(publishes) AS publishes_a, sum(subscribes) AS subscribes_a, sum(bytes) AS bytes_a
FROM (SELECT *, if(has_username = 1, username, '') AS u FROM ${db}.mqtt_sessions FINAL ${sensorWhere(sensor)})
GROUP BY sensor, client_id, u, server
${p.having}
${p.order}
${p.limit}`;
}

export function topicsSql(db: string, sensor: string | undefined, after: InventoryKey | null, limit: number): string {
  const p = inventoryPage(after, 'minute_a', ['sensor', 'topic'], limit);
  return `SELECT sensor, topic, max(minute) AS minute_a, sum(publishes) AS publishes_a, sum(retained) AS retained_a,
  sum(bytes) AS bytes_a, max(publishers) AS publishers_a
FROM ${db}.topic_minutes FINAL ${sensorWhere(sensor)}
GROUP BY sensor, topic
${p.having}
${p.order}
${p.limit}`;
}

export function coapSql(db: string, sensor: string | undefined, after: InventoryKey | null, limit: number): string {
  const p = inventoryPage(after, 'minute_a', ['sensor', 'server', 'method', 'path', 'response_code'], limit);
  return `SELECT sensor, server, method, path, response_code, max(minute) AS minute_a,
  argMax(client, tuple(minute, client)) AS client_a,
  sum(requests) AS requests_a, sum(responses) AS responses_a, sum(unmatched) AS unmatched_a,
  sum(request_bytes) AS request_bytes_a, sum(response_bytes) AS response_bytes_a,
  maxIf(rtt_us_p50, has_rtt = 1) AS rtt_a, max(has_rtt) AS has_rtt_a
FROM ${db}.coap_exchanges FINAL ${sensorWhere(sensor)}
GROUP BY sensor, server, method, path, response_code
${p.having}
${p.order}
${p.limit}`;
}

export function tlsSql(db: string, sensor: string | undefined, after: InventoryKey | null, limit: number): string {
  const p = inventoryPage(after, 'last_a', ['sensor', 'server', 'sni', 'sha256'], limit);
  const rep = 'tuple(last_ts, first_ts)';
  return `SELECT sensor, server, sni, sha256, min(first_ts) AS first_a, max(last_ts) AS last_a, max(client_auth) AS client_auth_a,
  argMax(tls_version, ${rep}) AS version_a, argMax(cipher, ${rep}) AS cipher_a, argMax(subject, ${rep}) AS subject_a,
  argMax(issuer, ${rep}) AS issuer_a, argMax(not_before, ${rep}) AS not_before_a, argMax(not_after, ${rep}) AS not_after_a,
  argMax(self_signed, ${rep}) AS self_signed_a
FROM ${db}.tls_endpoints FINAL ${sensorWhere(sensor)}
GROUP BY sensor, server, sni, sha256
${p.having}
${p.order}
${p.limit}`;
}
