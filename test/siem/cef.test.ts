import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CEF_SEVERITY, alertToCef, escapeCefHeader, escapeCefValue } from '../../src/siem/cef';
import type { StoredAlert } from '../../src/store/types';
import { makeAlert } from '../api/fixtures';
import { parseCef } from './receivers';

describe('CEF', () => {
  it('writes the header and the extension for an IPv4 alert', () => {
    const a = makeAlert(3);
    const line = alertToCef(a, { version: '0.1.0', sensor: 'edge-1' });
    expect(line.startsWith(`CEF:0|iotwatch|iotwatch|0.1.0|${a.detector}|${a.summary}|${CEF_SEVERITY[a.severity]}|`)).toBe(true);
    const c = parseCef(line);
    expect(c).toMatchObject({ version: 0, vendor: 'iotwatch', product: 'iotwatch', signatureId: a.detector, name: a.summary, severity: 8 });
    expect(c.ext).toMatchObject({
      rt: String(Math.floor(a.lastTs / 1000)), start: String(Math.floor(a.firstTs / 1000)), end: String(Math.floor(a.lastTs / 1000)),
      cnt: String(a.count), externalId: a.id, cat: 'anomaly', deviceExternalId: 'edge-1',
      src: '10.0.0.3', spt: '40003', dst: '192.168.1.10', dpt: '1883',
      cfp1Label: 'observed', cfp1: '13', cfp2Label: 'baseline', cfp2: '1', cfp3Label: 'threshold', cfp3: '10',
      cs1Label: 'entity', cs1: 'client_id:sensor-3', cs2Label: 'communityId', cs2: a.communityIds[0],
      cs4Label: 'frames', cs4: '10,11', cs6Label: 'recommendation', cs6: a.recommendation, msg: a.summary,
    });
    expect(c.ext.cs3).toBeUndefined(); // no MITRE technique on odd fixtures
    expect(parseCef(alertToCef(makeAlert(2))).ext).toMatchObject({ cs3Label: 'mitreTechnique', cs3: 'T0806' });
  });

  it('puts IPv6 endpoints in c6a2 / c6a3 and carries a stored alert\'s sensor and status', () => {
    const a: StoredAlert = { ...makeAlert(4), sensor: 'edge-9', status: 'acknowledged', statusBy: 'x', statusNote: null, statusAt: 1, seq: 7 };
    const c = parseCef(alertToCef(a));
    expect(c.ext).toMatchObject({ c6a2: '2001:db8::5', spt: '40004', c6a3: '2001:db8::1', dpt: '1883', deviceExternalId: 'edge-9', cs5Label: 'status', cs5: 'acknowledged' });
    expect(c.ext.src).toBeUndefined();
  });

  it('maps severities to 0-10', () => {
    expect(CEF_SEVERITY).toEqual({ info: 1, low: 3, medium: 5, high: 8, critical: 10 });
  });

  it('escapes per the spec: pipes and backslashes in the header, equals, backslashes and line breaks in values', () => {
    expect(escapeCefHeader('a|b\\c\nd')).toBe('a\\|b\\\\c d');
    expect(escapeCefValue('a=b\\c\nd\re|f')).toBe('a\\=b\\\\c\\nd\\re|f');
    const a = makeAlert(1, {
      detector: 'mqtt.x|y', summary: 'pipe | back\\slash = equals\nnew line',
      entity: { kind: 'topic', value: 'a=b c=d \\ |\r\n' }, recommendation: 'k=v msg=spoof',
    });
    const line = alertToCef(a);
    expect(line).not.toMatch(/[\r\n]/);
    const c = parseCef(line);
    expect(c.signatureId).toBe('mqtt.x|y');
    expect(c.name).toBe('pipe | back\\slash = equals new line');
    expect(c.ext.msg).toBe('pipe | back\\slash = equals\nnew line');
    expect(c.ext.cs1).toBe('topic:a=b c=d \\ |\n');
    expect(c.ext.cs6).toBe('k=v msg=spoof'); // no injected keys
    expect(Object.keys(c.ext)).not.toContain('c');
  });

  it('round-trips any text through a strict parser (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 80, unit: 'grapheme' }), fc.string({ maxLength: 80 }), (summary, value) => {
      const c = parseCef(alertToCef(makeAlert(1, { summary, entity: { kind: 'client_id', value } })));
      expect(c.name).toBe(summary.replace(/\r\n|[\r\n]/g, ' '));
      if (summary) expect(c.ext.msg).toBe(summary.replace(/\r\n/g, '\n'));
      expect(c.ext.cs1).toBe(`client_id:${value.replace(/\r\n/g, '\n')}`);
      expect(c.severity).toBe(3);
    }));
  });
});
