// Scenario captures recorded with real peers (pcaps/record-plant.sh): the analyst's workflow
// of learning from a known-good capture and analysing a suspicious one. The benign plant must
// raise no anomaly alert at all; every attack in the attack capture must raise its detector's
// alert against the right entity.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/alerts/engine';
import type { Alert } from '../../src/alerts/types';
import { readCapture } from '../../src/capture/reader';
import { Pipeline } from '../../src/pipeline';
import { TEST_SECRET } from '../helpers/pipeline';

const pcaps = join(__dirname, '..', '..', 'pcaps');

async function run(file: string, mode: 'learn' | 'detect', baseline?: unknown) {
  const engine = createEngine({ mode, baseline });
  const p = new Pipeline({ sensorId: 'scenario', secret: TEST_SECRET, emit: (e) => engine.onEvent(e) });
  await readCapture(join(pcaps, file), p.packet);
  p.finish();
  engine.flush();
  return engine;
}

/** The attacks of record-plant.sh and what each must raise (detector, entity kind, entity value). */
const EXPECTED: [string, string, string][] = [
  ['mqtt.auth_bruteforce', 'address', '127.0.66.1'],
  ['mqtt.auth_bruteforce', 'username', 'operator'],
  ['mqtt.wildcard_subscription', 'username', 'meter-04'],
  ['mqtt.sys_topic_exposure', 'server', '127.0.0.1:1883'],
  ['mqtt.client_id_takeover', 'client_id', 'meter-03'],
  ['mqtt.credential_sharing', 'username', 'meter-01'],
  ['mqtt.retained_flood', '*', '*'],
  ['mqtt.subscription_spike', '*', '*'],
  ['mqtt.connect_flood', 'server', '127.0.0.1:1883'],
  ['mqtt.topic_acl_drift', 'username', 'meter-05'],
  ['mqtt.rate_anomaly', 'topic', 'plant/meter-08/telemetry'],
  ['mqtt.device_silent', '*', '*'],
  ['coap.request_flood', 'server', '127.0.0.1:5683'],
  ['coap.amplification', '*', '*'],
  ['coap.spoofed_response', 'address', '127.0.3.1'],
  ['coap.unexpected_method', 'coap_resource', '127.0.0.1:5683/time'],
  ['coap.unprotected', 'server', '127.0.0.1:5683'],
  ['dtls.psk_identity_reuse', 'psk_identity', 'sensor-01'],
  ['mqtt.plaintext_credentials', 'server', '127.0.0.1:1883'],
];

describe('plant scenario: learn the benign capture, analyse the attack', () => {
  let baseline: unknown;
  let benign: Alert[];
  let attack: Alert[];
  beforeAll(async () => {
    baseline = (await run('plant-benign.pcap', 'learn')).exportBaseline();
    benign = (await run('plant-benign.pcap', 'detect', baseline)).alerts();
    attack = (await run('plant-attack.pcap', 'detect', baseline)).alerts();
  }, 120_000);

  it('raises no anomaly alert on the benign plant', () => {
    expect(benign.filter((a) => a.category === 'anomaly').map((a) => `${a.detector} ${a.entity.value}: ${a.summary}`)).toEqual([]);
  });

  it('raises only the posture findings that are true of the benign plant', () => {
    expect(benign.map((a) => a.detector).sort()).toEqual(['mqtt.plaintext_credentials']);
  });

  for (const [detector, kind, value] of EXPECTED) {
    it(`detects ${detector}${kind === '*' ? '' : ` on ${kind} ${value}`}`, () => {
      const hits = attack.filter((a) => a.detector === detector && (kind === '*' || (a.entity.kind === kind && a.entity.value === value)));
      expect(hits.length, attack.map((a) => `${a.detector} ${a.entity.kind}=${a.entity.value}`).join('\n')).toBeGreaterThan(0);
    });
  }

  it('gives identical alerts, ids included, when the capture is analysed twice', async () => {
    const again = (await run('plant-attack.pcap', 'detect', baseline)).alerts();
    expect(again.map((a) => a.id)).toEqual(attack.map((a) => a.id));
    expect(again).toEqual(attack);
  });

  it('raises no duplicate alerts (one per detector, key and window)', () => {
    const ids = attack.map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
