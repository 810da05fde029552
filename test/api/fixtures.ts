// Alerts and records for the API tests, and the app under test with known tokens.
import { createHash } from 'node:crypto';
import { build, type BuildOptions } from '../../src/api/app';
import { hashToken } from '../../src/api/auth';
import type { Alert, Severity } from '../../src/alerts/types';
import type { AlertStore, CoapExchangeRow, MqttSessionRow, TlsEndpointRow, TopicMinuteRow } from '../../src/store/types';
import { MemoryStore } from './memory-store';

export const T0 = Date.UTC(2024, 4, 1, 12, 0, 0) * 1000; // µs
export const RW_TOKEN = 'rw-token-0123456789abcdef';
export const RO_TOKEN = 'ro-token-0123456789abcdef';
export const TOKENS = {
  tokens: [
    { name: 'soc-rw', sha256: hashToken(RW_TOKEN), scope: 'read-write' as const },
    { name: 'grafana', sha256: hashToken(RO_TOKEN), scope: 'read' as const },
  ],
};
export const rw = { authorization: `Bearer ${RW_TOKEN}` };
export const ro = { authorization: `Bearer ${RO_TOKEN}` };

const DETECTORS = ['mqtt.auth_bruteforce', 'mqtt.connect_flood', 'mqtt.wildcard_subscription', 'coap.amplification'];
const SEV: Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

export function alertId(i: number): string {
  return createHash('sha256').update(`alert-${i}`).digest('hex').slice(0, 32);
}

export function makeAlert(i: number, over: Partial<Alert> = {}): Alert {
  const v6 = i % 5 === 4;
  const client = v6 ? `[2001:db8::${(i % 200) + 1}]:${40000 + (i % 1000)}` : `10.0.${(i >> 8) & 255}.${i & 255}:${40000 + (i % 1000)}`;
  const server = v6 ? '[2001:db8::1]:1883' : '192.168.1.10:1883';
  return {
    id: alertId(i),
    detector: DETECTORS[i % DETECTORS.length],
    category: i % 7 === 0 ? 'posture' : 'anomaly',
    severity: SEV[i % SEV.length],
    firstTs: T0 + i * 1_000_000,
    lastTs: T0 + i * 1_000_000 + 500_000,
    entity: { kind: 'client_id', value: `sensor-${i}` },
    endpoints: [`${client} -> ${server}`],
    communityIds: [`1:${Buffer.from(`cid-${i}`).toString('base64')}`],
    frames: [i * 3 + 1, i * 3 + 2],
    count: 1 + (i % 9),
    summary: `Client sensor-${i} failed to authenticate ${10 + (i % 30)} times`,
    evidence: { observed: 10 + (i % 30), baseline: 1, threshold: 10, window: 60, usernames: ['admin', 'root'] },
    recommendation: 'Lock the account and check who owns the client.',
    mitre: i % 2 === 0 ? 'T0806' : null,
    ...over,
  };
}

export function records(): {
  sessions: MqttSessionRow[]; topics: TopicMinuteRow[]; coap: CoapExchangeRow[]; tls: TlsEndpointRow[];
} {
  const sessions: MqttSessionRow[] = Array.from({ length: 5 }, (_, i) => ({
    sensor: i < 3 ? 'edge-1' : 'edge-2', flowId: i + 1, communityId: `1:cid${i}`, clientId: `dev-${i}`,
    username: i % 2 ? null : `user${i}`, client: `10.0.0.${i + 2}:5${i}000`, server: '10.0.0.1:1883', protocolVersion: 5,
    tls: i % 2 === 0, firstTs: T0, lastTs: T0 + 1e6, connackCode: i === 4 ? null : 0, publishes: 10 * i, subscribes: i, bytes: 1000 * i,
  }));
  const topics: TopicMinuteRow[] = Array.from({ length: 3 }, (_, i) => ({
    sensor: 'edge-1', minute: T0 + i * 60e6, topic: `plant/line${i}/temp`, publishes: 60, retained: i, bytes: 600, publishers: 1,
  }));
  const coap: CoapExchangeRow[] = [{
    sensor: 'edge-1', minute: T0, client: '10.0.0.9', server: '10.0.0.1:5683', method: 'GET', path: '/sensors/temp',
    responseCode: '2.05', requests: 12, responses: 12, unmatched: 0, requestBytes: 240, responseBytes: 960, rttUsP50: 1800,
  }];
  const tls: TlsEndpointRow[] = [{
    sensor: 'edge-1', server: '10.0.0.1:8883', sni: 'broker.example', version: 'TLS 1.2', cipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
    clientAuth: false, subject: 'CN=broker.example', issuer: 'CN=broker.example', sha256: 'ab'.repeat(32),
    notBefore: T0 - 86_400e6 * 300, notAfter: Date.now() * 1000 + 86_400e6 * 10.5, selfSigned: true, firstTs: T0, lastTs: T0 + 1e6,
  }];
  return { sessions, topics, coap, tls };
}

export async function seededStore(n = 50, store: AlertStore = new MemoryStore()): Promise<AlertStore> {
  await store.init();
  const alerts = Array.from({ length: n }, (_, i) => makeAlert(i));
  await store.putAlerts(alerts.slice(0, Math.ceil(n / 2)), 'edge-1');
  await store.putAlerts(alerts.slice(Math.ceil(n / 2)), 'edge-2');
  await store.putRecords(records());
  return store;
}

export function app(store: AlertStore, over: Partial<BuildOptions> = {}) {
  return build({ store, rateLimit: false, ...over });
}

/** Hostile strings every text parameter is tried with. */
export const HOSTILE: string[] = [
  "' OR 1=1 --",
  "'; DROP TABLE alerts; --",
  '" OR ""="',
  "\\' UNION SELECT * FROM system.users --",
  '%27%20OR%201%3D1',
  '\u0000',
  'a\u0000b',
  '😀'.repeat(2000),
  'ǅ'.repeat(5000),
  '9'.repeat(400),
  '-1',
  '1e308',
  '../../etc/passwd',
  '${jndi:ldap://x/a}',
  '<script>alert(1)</script>',
  '\r\nX-Injected: 1',
];

export function qs(params: Record<string, string | string[]>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) u.append(k, x);
  return u.toString();
}
