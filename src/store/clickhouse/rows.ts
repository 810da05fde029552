// Between store types and ClickHouse rows. Inserts go as JSONEachRow (a data format, not SQL),
// so values need no SQL escaping here; reads come back as JSONEachRow, where UInt64 is a string.
import type { Alert } from '../../alerts/types';
import { addressesOf, searchTexts } from '../alert-match';
import type { AlertStatus, CoapExchangeRow, MqttSessionRow, StoredAlert, TlsEndpointRow, TopicMinuteRow } from '../types';
import { severityRank } from '../validate';

export function alertRow(a: Alert, sensor: string, seq: number): Record<string, unknown> {
  const [summaryLc, entityLc, detectorLc] = searchTexts(a);
  return {
    id: a.id,
    sensor,
    seq,
    detector: a.detector,
    category: a.category,
    severity: a.severity,
    severity_rank: severityRank(a.severity),
    first_ts: a.firstTs,
    last_ts: a.lastTs,
    entity_kind: a.entity.kind,
    entity_value: a.entity.value,
    addresses: addressesOf(a.endpoints),
    summary_lc: summaryLc,
    entity_lc: entityLc,
    detector_lc: detectorLc,
    // The whole alert as JSON: evidence is open-ended, and JSON gives back exactly what was put.
    body: JSON.stringify(a),
  };
}

/** Columns an alert read selects: the body, where it came from, and the latest status. */
export interface AlertReadRow {
  body: string;
  sensor: string;
  seq: string | number;
  st: string;
  st_by: string;
  st_note: string;
  st_has_note: number | string;
  st_at: string | number;
}

export function storedAlert(r: AlertReadRow): StoredAlert {
  const a = JSON.parse(r.body) as Alert;
  const changed = r.st !== '';
  return {
    ...a,
    sensor: r.sensor,
    status: changed ? (r.st as AlertStatus) : 'open',
    statusBy: changed ? r.st_by : null,
    statusNote: changed && Number(r.st_has_note) === 1 ? r.st_note : null,
    statusAt: changed ? Number(r.st_at) : null,
    seq: Number(r.seq),
  };
}

export function sessionRow(r: MqttSessionRow, version: number): Record<string, unknown> {
  return {
    sensor: r.sensor, flow_id: r.flowId, community_id: r.communityId, client_id: r.clientId,
    username: r.username ?? '', has_username: r.username === null ? 0 : 1, client: r.client, server: r.server,
    protocol_version: r.protocolVersion, tls: r.tls ? 1 : 0, first_ts: r.firstTs, last_ts: r.lastTs,
    connack_code: r.connackCode ?? -1, publishes: r.publishes, subscribes: r.subscribes, bytes: r.bytes, version,
  };
}

export function topicRowOut(r: TopicMinuteRow, version: number): Record<string, unknown> {
  return { sensor: r.sensor, minute: r.minute, topic: r.topic, publishes: r.publishes, retained: r.retained, bytes: r.bytes, publishers: r.publishers, version };
}

export function coapRowOut(r: CoapExchangeRow, version: number): Record<string, unknown> {
  return {
    sensor: r.sensor, minute: r.minute, client: r.client, server: r.server, method: r.method, path: r.path,
    response_code: r.responseCode, requests: r.requests, responses: r.responses, unmatched: r.unmatched,
    request_bytes: r.requestBytes, response_bytes: r.responseBytes, rtt_us_p50: r.rttUsP50 ?? 0, has_rtt: r.rttUsP50 === null ? 0 : 1, version,
  };
}

export function tlsRowOut(r: TlsEndpointRow, version: number): Record<string, unknown> {
  return {
    sensor: r.sensor, server: r.server, sni: r.sni, tls_version: r.version, cipher: r.cipher, client_auth: r.clientAuth ? 1 : 0,
    subject: r.subject, issuer: r.issuer, sha256: r.sha256, not_before: r.notBefore, not_after: r.notAfter,
    self_signed: r.selfSigned ? 1 : 0, first_ts: r.firstTs, last_ts: r.lastTs, version,
  };
}

export const num = (v: unknown): number => Number(v);
export const bool = (v: unknown): boolean => Number(v) === 1;
