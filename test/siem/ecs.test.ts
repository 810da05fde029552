import { describe, expect, it } from 'vitest';
import { alertToEcs, alertToEcsLine } from '../../src/siem/ecs';
import { parseEndpoint } from '../../src/siem/endpoints';
import type { StoredAlert } from '../../src/store/types';
import { makeAlert } from '../api/fixtures';

describe('Elastic Common Schema', () => {
  it('maps an alert to ECS fields', () => {
    const a = makeAlert(2, { firstTs: 1714564800123456, lastTs: 1714564860654321 });
    const d = alertToEcs(a, { sensor: 'edge-1', hostname: 'probe-7', version: '1.2.3' });
    expect(d['@timestamp']).toBe('2024-05-01T12:01:00.654321Z');
    expect(d.ecs.version).toMatch(/^8\./);
    expect(d.message).toBe(a.summary);
    expect(d.event).toEqual({
      kind: 'alert', category: ['intrusion_detection', 'network'], type: ['info', 'connection'], id: a.id, code: a.detector,
      action: a.detector, dataset: 'iotwatch.alert', module: 'iotwatch', provider: 'iotwatch', severity: 5, risk_score: 47,
      start: '2024-05-01T12:00:00.123456Z', end: '2024-05-01T12:01:00.654321Z',
    });
    expect(d.rule).toEqual({ id: a.detector, name: a.detector, category: 'anomaly', ruleset: 'iotwatch', description: a.recommendation });
    expect(d.observer).toEqual({ vendor: 'iotwatch', product: 'iotwatch', type: 'ids', version: '1.2.3', name: 'edge-1', hostname: 'probe-7' });
    expect(d.source).toEqual({ ip: '10.0.0.2', port: 40002 });
    expect(d.destination).toEqual({ ip: '192.168.1.10', port: 1883 });
    expect(d.related.ip).toEqual(['10.0.0.2', '192.168.1.10']);
    expect(d.network).toEqual({ community_id: a.communityIds[0], protocol: 'mqtt' });
    expect(d.threat).toEqual({ framework: 'MITRE ATT&CK for ICS', technique: { id: ['T0806'], reference: ['https://attack.mitre.org/techniques/T0806/'] } });
    expect(d.labels).toEqual({ detector: a.detector, severity: 'medium', entity_kind: 'client_id', sensor: 'edge-1' });
    expect(d.iotwatch).toMatchObject({ entity: a.entity, count: a.count, frames: a.frames, evidence: a.evidence, severity: 'medium' });
  });

  it('handles IPv6, posture findings, no MITRE, no endpoints, and stored alerts', () => {
    const v6 = alertToEcs(makeAlert(4));
    expect(v6.source).toEqual({ ip: '2001:db8::5', port: 40004 });
    const posture = alertToEcs(makeAlert(7, { endpoints: [], communityIds: [], mitre: null }));
    expect(posture.event.category).toEqual(['configuration', 'network']);
    expect(posture.source).toBeUndefined();
    expect(posture.threat).toBeUndefined();
    expect(posture.network).toEqual({ protocol: 'coap' });
    const s: StoredAlert = { ...makeAlert(1), sensor: 'edge-2', status: 'closed', statusBy: 'bob', statusNote: 'fp', statusAt: 5, seq: 3 };
    expect(alertToEcs(s).iotwatch).toMatchObject({ status: 'closed', status_by: 'bob', status_note: 'fp' });
    expect(alertToEcs(s).observer.name).toBe('edge-2');
  });

  it('writes one line per alert whatever the text holds', () => {
    const line = alertToEcsLine(makeAlert(1, { summary: 'a\nb\r\nc\u2028d' }));
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toMatch(/[\r\n]/);
    expect(JSON.parse(line).message).toBe('a\nb\r\nc\u2028d');
  });

  it('parses endpoint labels strictly', () => {
    expect(parseEndpoint('10.0.0.1:1 -> [::1]:65535')).toEqual({ client: { ip: '10.0.0.1', port: 1 }, server: { ip: '::1', port: 65535 } });
    for (const bad of ['10.0.0.1:1', 'a:1 -> b:2', '10.0.0.1:70000 -> 10.0.0.2:1', '[::1]:1->[::1]:2', '']) expect(parseEndpoint(bad)).toBeNull();
  });
});
