import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/tls.weak_version';
import { at, dtlsServerHello, flow, run, serverHello } from './helpers';

const tls = (n = 1) => flow(`10.0.0.${n}`, '10.0.0.1', { sport: 8883 });

describe('tls.weak_version', () => {
  it('TLS 1.1 is below the default minimum (TLS 1.2)', () => {
    const { alerts } = run(detector, [serverHello(tls(), at(1), 0x0302)]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ category: 'posture', severity: 'medium', entity: { kind: 'server', value: '10.0.0.1:8883' }, evidence: { observed: 'TLS 1.1', threshold: 'TLS 1.2' } });
  });

  it('TLS 1.2, 1.3 and DTLS 1.2 are fine; unknown versions are counted, not reported', () => {
    const ok = [serverHello(tls(), at(1), 0x0303), serverHello(tls(), at(2), 0x0304), dtlsServerHello(tls(), at(3), 0xfefd), serverHello(tls(), at(4), 0x7f1c)];
    const r = run(detector, ok);
    expect(r.alerts).toHaveLength(0);
    expect(r.engine.stats().detectors['tls.weak_version'].counters).toEqual({ unknown_version: 1 });
  });

  it('SSL 3.0 and DTLS 1.0; SSL is high; a HelloRetryRequest is not a negotiation', () => {
    expect(run(detector, [serverHello(tls(), at(1), 0x0300)]).alerts[0]).toMatchObject({ severity: 'high', evidence: { observed: 'SSL 3.0' } });
    expect(run(detector, [dtlsServerHello(tls(), at(1), 0xfeff)]).alerts[0].evidence.observed).toBe('DTLS 1.0');
    expect(run(detector, [{ ...serverHello(tls(), at(1), 0x0301), helloRetryRequest: true }]).alerts).toHaveLength(0);
  });

  it('minVersion tunable', () => {
    expect(run(detector, [serverHello(tls(), at(1), 0x0303)], { tunables: { minVersion: 'TLS 1.3' } }).alerts).toHaveLength(1);
  });

  it('one finding per server, refreshed', () => {
    const { alerts, log } = run(detector, [1, 2, 3].map((i) => serverHello(tls(i), at(i), i === 3 ? 0x0301 : 0x0302)));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ count: 3, evidence: { observed: 'TLS 1.1, TLS 1.0' } });
    expect(log.map(([k]) => k)).toEqual(['new', 'update']);
  });
});
