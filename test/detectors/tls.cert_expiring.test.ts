import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/tls.cert_expiring';
import { at, certificate, flow, run } from './helpers';

const f = flow('10.0.0.5', '10.0.0.1', { sport: 8883 });
const DAY = 86_400;

describe('tls.cert_expiring', () => {
  it('expires within 30 days of the capture time (exactly 30: reported)', () => {
    const { alerts } = run(detector, [certificate(f, at(0), { notAfter: at(30 * DAY) })]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'low', entity: { kind: 'certificate' }, evidence: { observed: 30, threshold: 30 } });
  });

  it('30 days and one second: not yet; already expired: tls.cert_expired, not this', () => {
    expect(run(detector, [certificate(f, at(0), { notAfter: at(30 * DAY + 1) })]).alerts).toHaveLength(0);
    expect(run(detector, [certificate(f, at(10), { notAfter: at(5) })]).alerts).toHaveLength(0);
  });

  it('within urgentDays (7) it is medium; days is a tunable', () => {
    expect(run(detector, [certificate(f, at(0), { notAfter: at(7 * DAY) })]).alerts[0].severity).toBe('medium');
    expect(run(detector, [certificate(f, at(0), { notAfter: at(60 * DAY) })], { tunables: { days: 90 } }).alerts).toHaveLength(1);
  });

  it('one finding per certificate, refreshed', () => {
    const { alerts, log } = run(detector, [1, 2].map((s) => certificate(f, at(s), { notAfter: at(10 * DAY) })));
    expect(alerts).toHaveLength(1);
    expect(log.map(([k]) => k)).toEqual(['new', 'update']);
  });
});
