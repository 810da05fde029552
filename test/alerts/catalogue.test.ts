import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectorCatalogue } from '../../src/alerts/catalogue';

const IDS = [
  'mqtt.retained_flood', 'mqtt.client_id_takeover', 'mqtt.credential_sharing', 'mqtt.subscription_spike', 'mqtt.wildcard_subscription',
  'mqtt.auth_bruteforce', 'mqtt.connect_flood', 'mqtt.topic_acl_drift', 'mqtt.rate_anomaly', 'mqtt.device_silent', 'mqtt.protocol_violation',
  'coap.request_flood', 'coap.amplification', 'coap.spoofed_response', 'coap.unexpected_method', 'dtls.psk_identity_reuse',
  'mqtt.plaintext_credentials', 'mqtt.anonymous_access', 'mqtt.sys_topic_exposure', 'tls.weak_version', 'tls.cert_expiring', 'tls.cert_expired',
  'tls.self_signed', 'tls.no_client_auth', 'coap.unprotected',
];
const POSTURE = new Set(IDS.slice(16));

describe('detectorCatalogue', () => {
  const cat = detectorCatalogue();

  it('lists exactly the issue\'s detector ids, sorted, each in a file named after it, each with a test', () => {
    expect(cat.map((d) => d.id)).toEqual([...IDS].sort());
    const files = readdirSync(join(__dirname, '../../detectors')).filter((f) => f.endsWith('.ts') && f !== 'index.ts').map((f) => f.slice(0, -3));
    expect(files.sort()).toEqual([...IDS].sort());
    const tests = readdirSync(join(__dirname, '../detectors')).filter((f) => f.endsWith('.test.ts')).map((f) => f.slice(0, -8));
    for (const id of IDS) expect(tests, id).toContain(id);
  });

  it('categories, and what each entry documents', () => {
    for (const d of cat) {
      expect(d.category, d.id).toBe(POSTURE.has(d.id) ? 'posture' : 'anomaly');
      expect(d.description.length, d.id).toBeGreaterThan(20);
      expect(d.recommendation.length, d.id).toBeGreaterThan(20);
      expect(d.events.length, d.id).toBeGreaterThan(0);
      expect(d.mitre === null || /^T0\d{3}$/.test(d.mitre), d.id).toBe(true);
      for (const t of d.tunables) expect(t.description.length, `${d.id}.${t.name}`).toBeGreaterThan(3);
      if (d.category === 'posture') expect(d.usesBaseline, d.id).toBe(false);
    }
  });

  it('never maps credential guessing to T0806 (Brute Force I/O is about I/O points)', () => {
    expect(cat.find((d) => d.id === 'mqtt.auth_bruteforce')!.mitre).toBeNull();
  });
});
