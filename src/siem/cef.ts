// ArcSight Common Event Format (CEF:0): one line per alert.
//   CEF:0|Vendor|Product|Version|Signature ID|Name|Severity|Extension
// Escaping follows the CEF spec: in the header, backslash and pipe are escaped and line breaks
// are not allowed; in extension values, backslash and equals are escaped and line breaks are
// written as \n and \r. Extension keys are fixed identifiers of our own choosing.
import { isIP } from 'node:net';
import type { Alert, Severity } from '../alerts/types';
import type { StoredAlert } from '../store/types';
import { parseEndpoint } from './endpoints';

/** CEF severity 0-10 (0-3 low, 4-6 medium, 7-8 high, 9-10 very high). */
export const CEF_SEVERITY: Readonly<Record<Severity, number>> = { info: 1, low: 3, medium: 5, high: 8, critical: 10 };

export const CEF_VENDOR = 'iotwatch';
export const CEF_PRODUCT = 'iotwatch';

export function escapeCefHeader(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r\n|[\r\n]/g, ' ');
}

export function escapeCefValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/=/g, '\\=').replace(/\r\n|\n/g, '\\n').replace(/\r/g, '\\r');
}

export interface CefOptions {
  /** Device version in the header (the iotwatch version). */
  readonly version?: string;
  /** Sensor id when the alert is not a StoredAlert. */
  readonly sensor?: string;
}

function ms(us: number): string {
  return String(Math.floor(us / 1000));
}

export function alertToCef(alert: Alert | StoredAlert, opts: CefOptions = {}): string {
  const ext: [string, string][] = [];
  const add = (k: string, v: string | number | null | undefined): void => {
    if (v !== null && v !== undefined && v !== '') ext.push([k, typeof v === 'number' ? String(v) : v]);
  };
  add('rt', ms(alert.lastTs));
  add('start', ms(alert.firstTs));
  add('end', ms(alert.lastTs));
  add('cnt', alert.count);
  add('externalId', alert.id);
  add('cat', alert.category);
  const sensor = 'sensor' in alert ? alert.sensor : opts.sensor;
  add('deviceExternalId', sensor);
  const pair = alert.endpoints.length > 0 ? parseEndpoint(alert.endpoints[0]) : null;
  if (pair) {
    // src/dst are IPv4 fields; IPv6 goes to c6a2 (source) and c6a3 (destination).
    if (isIP(pair.client.ip) === 4) add('src', pair.client.ip);
    else add('c6a2', pair.client.ip);
    add('spt', pair.client.port);
    if (isIP(pair.server.ip) === 4) add('dst', pair.server.ip);
    else add('c6a3', pair.server.ip);
    add('dpt', pair.server.port);
  }
  const ev = alert.evidence;
  const numeric = (label: string, key: string, v: unknown): void => {
    if (typeof v === 'number' && Number.isFinite(v)) {
      add(`${key}Label`, label);
      add(key, v);
    }
  };
  numeric('observed', 'cfp1', ev.observed);
  numeric('baseline', 'cfp2', ev.baseline);
  numeric('threshold', 'cfp3', ev.threshold);
  const custom = (n: number, label: string, v: string | null | undefined): void => {
    if (v) {
      add(`cs${n}Label`, label);
      add(`cs${n}`, v);
    }
  };
  custom(1, 'entity', `${alert.entity.kind}:${alert.entity.value}`);
  custom(2, 'communityId', alert.communityIds[0]);
  custom(3, 'mitreTechnique', alert.mitre);
  custom(4, 'frames', alert.frames.join(','));
  custom(5, 'status', 'status' in alert ? alert.status : null);
  custom(6, 'recommendation', alert.recommendation);
  add('msg', alert.summary);

  const header = [
    'CEF:0', CEF_VENDOR, CEF_PRODUCT, opts.version ?? '0.1.0', alert.detector, alert.summary, String(CEF_SEVERITY[alert.severity]),
  ].map((h, i) => (i === 0 ? h : escapeCefHeader(h)));
  return `${header.join('|')}|${ext.map(([k, v]) => `${k}=${escapeCefValue(v)}`).join(' ')}`;
}
