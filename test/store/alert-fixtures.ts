// Alerts and record rows for the store tests: small, explicit, every field set.
import type { Alert, Severity } from '../../src/alerts/types';
import type { CoapExchangeRow, MqttSessionRow, TlsEndpointRow, TopicMinuteRow } from '../../src/store/types';

export const T0 = 1_700_000_000_000_000; // µs, 2023-11-14
export const MIN = 60_000_000;

export function makeAlert(i: number, over: Partial<Alert> = {}): Alert {
  const id = over.id ?? `a${String(i).padStart(31, '0')}`;
  return {
    id,
    detector: 'mqtt-bruteforce',
    category: 'anomaly',
    severity: 'medium',
    firstTs: T0 + i * 1_000_000,
    lastTs: T0 + i * 1_000_000 + 500_000,
    entity: { kind: 'client_id', value: `client-${i}` },
    endpoints: [`10.0.0.${i % 250}:5${String(i % 10000).padStart(4, '0')} -> 192.168.1.10:1883`],
    communityIds: [`1:abc${i}=`],
    frames: [i + 1, i + 2],
    count: 3,
    summary: `Brute force against client-${i}`,
    evidence: { observed: 12, baseline: 2, threshold: 10, window: 60, metric: 'failures' },
    recommendation: 'Lock the account',
    mitre: 'T0806',
    ...over,
  };
}

export const SEVERITY_ORDER: Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

export function session(over: Partial<MqttSessionRow> = {}): MqttSessionRow {
  return {
    sensor: 's1', flowId: 1, communityId: '1:flow1=', clientId: 'dev-1', username: 'alice',
    client: '10.0.0.1:50000', server: '192.168.1.10:1883', protocolVersion: 4, tls: false,
    firstTs: T0, lastTs: T0 + 10 * MIN, connackCode: 0, publishes: 5, subscribes: 1, bytes: 1000,
    ...over,
  };
}

export function topicRow(over: Partial<TopicMinuteRow> = {}): TopicMinuteRow {
  return { sensor: 's1', minute: T0, topic: 'plant/line1/temp', publishes: 10, retained: 1, bytes: 400, publishers: 2, ...over };
}

export function coapRow(over: Partial<CoapExchangeRow> = {}): CoapExchangeRow {
  return {
    sensor: 's1', minute: T0, client: '10.0.0.5', server: '192.168.1.20:5683', method: 'GET', path: '/sensors/temp',
    responseCode: '2.05', requests: 4, responses: 4, unmatched: 0, requestBytes: 80, responseBytes: 120, rttUsP50: 1500,
    ...over,
  };
}

export function tlsRow(over: Partial<TlsEndpointRow> = {}): TlsEndpointRow {
  return {
    sensor: 's1', server: '192.168.1.10:8883', sni: 'broker.example', version: 'TLS 1.2', cipher: '0xc02f',
    clientAuth: false, subject: 'CN=broker.example', issuer: 'CN=Example CA', sha256: 'ab'.repeat(32),
    notBefore: T0 - 100 * 86_400_000_000, notAfter: T0 + 30 * 86_400_000_000, selfSigned: false,
    firstTs: T0, lastTs: T0 + 5 * MIN,
    ...over,
  };
}

/** Strings meant to break naive SQL building, JSON handling or text encodings. */
export const HOSTILE_STRINGS: string[] = [
  "'",
  "''",
  "\\",
  "\\'",
  "a'b\"c`d",
  "'; DROP TABLE alerts; --",
  "x' OR '1'='1",
  "1); SELECT * FROM system.users; --",
  "/* comment */ SELECT 1",
  "-- line comment\nSELECT 2",
  "#hash comment",
  "a\u0000b",
  "\u0000",
  "tab\there\nnewline\rreturn",
  "\u0001\u0002\u001f\u007f",
  "\b\f\v",
  "back\\slash\\\\double",
  "trailing backslash\\",
  "\\x41\\0\\n (literal escapes)",
  "{name:String}",
  "?",
  "$1",
  "%s%n",
  "naïve café Ünïcödé",
  "日本語のトピック",
  "emoji 🦀🔥 and ZWJ 👩‍💻",
  "\u202eright-to-left override",
  "\ufeffbom",
  "𝕏 astral plane",
  'a'.repeat(3000),
];
