import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/tls.cert_expired';
import { at, certificate, flow, run } from './helpers';

// Capture time is T0 = 2023-11-14T00:00:00Z.
const f = flow('10.0.0.5', '10.0.0.1', { sport: 8883 });

describe('tls.cert_expired', () => {
  it('a certificate past its notAfter, judged at capture time', () => {
    const { alerts } = run(detector, [certificate(f, at(1), { notAfter: '2023-11-13T23:59:59Z', subject: 'CN=broker' })]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ category: 'posture', severity: 'high', entity: { kind: 'certificate', value: 'aa'.repeat(32) } });
    expect(alerts[0].evidence).toMatchObject({ subject: 'CN=broker', notAfter: '2023-11-13T23:59:59.000Z', presentedBy: 'server' });
    expect(alerts[0].summary).toMatch(/expired 0 days before the capture/);
  });

  it('valid at capture time (even by one second): nothing', () => {
    expect(run(detector, [certificate(f, at(1), { notAfter: '2023-11-14T00:00:02Z' })]).alerts).toHaveLength(0);
  });

  it('not yet valid, and µs times', () => {
    const early = certificate(f, at(1), { notBefore: at(86_400 * 3), notAfter: at(86_400 * 400) });
    expect(run(detector, [early]).alerts[0].evidence).toMatchObject({ metric: 'days until notBefore', observed: 3 });
    expect(run(detector, [early], { tunables: { includeNotYetValid: false } }).alerts).toHaveLength(0);
  });

  it('unparsable times are counted, not reported', () => {
    const r = run(detector, [certificate(f, at(1), { notAfter: 'soon' })]);
    expect(r.alerts).toHaveLength(0);
    expect(r.engine.stats().detectors['tls.cert_expired'].counters.unparsable_validity).toBe(1);
  });

  it('one finding per certificate, refreshed', () => {
    const old = { notAfter: '2023-01-01T00:00:00Z' };
    const { alerts, log } = run(detector, [1, 2, 3].map((s) => certificate(flow(`10.0.0.${s}`, '10.0.0.1', { sport: 8883 }), at(s), old)));
    expect(alerts).toHaveLength(1);
    expect(alerts[0].count).toBe(3);
    expect(log.map(([k]) => k)).toEqual(['new', 'update']);
  });
});
