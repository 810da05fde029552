// Elastic Common Schema documents, one JSON line per alert (`--format ecs`, or a TCP/TLS
// json_lines input). Standard ECS fields where one fits; the rest under `iotwatch.*`, the
// namespace ECS leaves to custom fields.
import type { Alert } from '../alerts/types';
import type { StoredAlert } from '../store/types';
import { CEF_SEVERITY } from './cef';
import { parseEndpoint } from './endpoints';
import { syslogTimestamp as usToIso } from './syslog';

export const ECS_VERSION = '8.11.0';

/** Elastic rule risk scores per severity (the detection engine's defaults; info below low). */
const RISK: Readonly<Record<string, number>> = { info: 0, low: 21, medium: 47, high: 73, critical: 99 };

export interface EcsOptions {
  readonly version?: string;
  /** Sensor id when the alert is not a StoredAlert. */
  readonly sensor?: string;
  /** observer.hostname (the machine running iotwatch). */
  readonly hostname?: string;
}

export interface EcsDocument {
  '@timestamp': string;
  ecs: { version: string };
  message: string;
  event: {
    kind: 'alert';
    category: string[];
    type: string[];
    id: string;
    code: string;
    action: string;
    dataset: string;
    module: string;
    provider: string;
    severity: number;
    risk_score: number;
    start: string;
    end: string;
  };
  rule: { id: string; name: string; category: string; ruleset: string; description: string };
  observer: { vendor: string; product: string; type: string; version: string; name?: string; hostname?: string };
  source?: { ip: string; port: number };
  destination?: { ip: string; port: number };
  related: { ip: string[] };
  network?: { community_id?: string; protocol?: string };
  threat?: { framework: string; technique: { id: string[]; reference: string[] } };
  labels: Record<string, string>;
  iotwatch: {
    entity: { kind: string; value: string };
    count: number;
    frames: number[];
    endpoints: string[];
    community_ids: string[];
    evidence: Record<string, unknown>;
    severity: string;
    status?: string;
    status_by?: string | null;
    status_note?: string | null;
  };
}

export function alertToEcs(alert: Alert | StoredAlert, opts: EcsOptions = {}): EcsDocument {
  const stored = 'seq' in alert ? (alert as StoredAlert) : null;
  const sensor = stored?.sensor ?? opts.sensor;
  const pair = alert.endpoints.length > 0 ? parseEndpoint(alert.endpoints[0]) : null;
  const ips = new Set<string>();
  for (const e of alert.endpoints) {
    const p = parseEndpoint(e);
    if (p) ips.add(p.client.ip).add(p.server.ip);
  }
  const protocol = /^(mqtt|coap|tls|dtls|websocket)\./.exec(alert.detector)?.[1];
  const doc: EcsDocument = {
    '@timestamp': usToIso(alert.lastTs),
    ecs: { version: ECS_VERSION },
    message: alert.summary,
    event: {
      kind: 'alert',
      category: alert.category === 'posture' ? ['configuration', 'network'] : ['intrusion_detection', 'network'],
      type: alert.category === 'posture' ? ['info'] : ['info', 'connection'],
      id: alert.id,
      code: alert.detector,
      action: alert.detector,
      dataset: 'iotwatch.alert',
      module: 'iotwatch',
      provider: 'iotwatch',
      severity: CEF_SEVERITY[alert.severity],
      risk_score: RISK[alert.severity],
      start: usToIso(alert.firstTs),
      end: usToIso(alert.lastTs),
    },
    rule: {
      id: alert.detector,
      name: alert.detector,
      category: alert.category,
      ruleset: 'iotwatch',
      description: alert.recommendation,
    },
    observer: {
      vendor: 'iotwatch',
      product: 'iotwatch',
      type: 'ids',
      version: opts.version ?? '0.1.0',
      ...(sensor ? { name: sensor } : {}),
      ...(opts.hostname ? { hostname: opts.hostname } : {}),
    },
    related: { ip: [...ips] },
    labels: {
      detector: alert.detector,
      severity: alert.severity,
      entity_kind: alert.entity.kind,
      ...(sensor ? { sensor } : {}),
    },
    iotwatch: {
      entity: { kind: alert.entity.kind, value: alert.entity.value },
      count: alert.count,
      frames: [...alert.frames],
      endpoints: [...alert.endpoints],
      community_ids: [...alert.communityIds],
      evidence: { ...alert.evidence },
      severity: alert.severity,
      ...(stored ? { status: stored.status, status_by: stored.statusBy, status_note: stored.statusNote } : {}),
    },
  };
  if (pair) {
    doc.source = { ip: pair.client.ip, port: pair.client.port };
    doc.destination = { ip: pair.server.ip, port: pair.server.port };
  }
  if (alert.communityIds.length > 0) doc.network = { community_id: alert.communityIds[0], ...(protocol ? { protocol } : {}) };
  else if (protocol) doc.network = { protocol };
  if (alert.mitre) {
    doc.threat = {
      framework: 'MITRE ATT&CK for ICS',
      technique: { id: [alert.mitre], reference: [`https://attack.mitre.org/techniques/${alert.mitre.replace('.', '/')}/`] },
    };
  }
  return doc;
}

/** One ECS document as a JSON line (JSON escapes every line break, so it is one line). */
export function alertToEcsLine(alert: Alert | StoredAlert, opts: EcsOptions = {}): string {
  return `${JSON.stringify(alertToEcs(alert, opts))}\n`;
}
