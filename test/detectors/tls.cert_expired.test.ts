import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/tls.cert_expired';
import { at, certificate, flow, run } from './helpers';

// Capture time is T0 = 2023-11-14T00:00:00Z.
const f = flow('10.0.0.5', '10.0.0.1', { sport: 8883 });

describe('tls.cert_expired', () => {
  it('a certificate past its notAfter, judged at capture time', () => {
    const { alerts } = run(detector, [certificate(f, at(1), { notAfter: at(-1), subject: 'CN=broker' })]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ category: 'posture', severity: 'high', entity: { kind: 'certificate', value: 'aa'.repeat(32) } });
    expect(alerts[0].evidence).toMatchObject({ subject: 'CN=broker', notAfter: '2023-11-13T23:59:59.000Z', presentedBy: 'server' });
    expect(alerts[0].summary).toMatch(/expired 0 days before the capture/);
  });

  it('valid at capture time (even by one second): nothing', () => {
    expect(run(detector, [certificate(f, at(1), { notAfter: at(2) })]).alerts).toHaveLength(0);
  });

  it('not yet valid', () => {
    const early = certificate(f, at(1), { notBefore: at(86_400 * 3), notAfter: at(86_400 * 400) });
    expect(run(detector, [early]).alerts[0].evidence).toMatchObject({ metric: 'days until notBefore', observed: 3 });
    expect(run(detector, [early], { tunables: { includeNotYetValid: false } }).alerts).toHaveLength(0);
  });

  it('a client certificate is named as the client\'s', () => {
    const r = run(detector, [certificate(f, at(1), { notAfter: at(-86_400), fromClient: true })]);
    expect(r.alerts[0].summary).toBe('Certificate "CN=broker.plant.local" presented by client 10.0.0.5 expired 1 days before the capture.');
  });

  it('one finding per certificate, refreshed', () => {
    const old = { notAfter: at(-86_400 * 300) };
    const { alerts, log } = run(detector, [1, 2, 3].map((s) => certificate(flow(`10.0.0.${s}`, '10.0.0.1', { sport: 8883 }), at(s), old)));
    expect(alerts).toHaveLength(1);
    expect(alerts[0].count).toBe(3);
    expect(log.map(([k]) => k)).toEqual(['new', 'update']);
  });
});
