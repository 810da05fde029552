import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/dtls.psk_identity_reuse';
import { at, flow, pskIdentity, run } from './helpers';

const hello = (addr: string, s: number, identity = 'sensor-1') => pskIdentity(flow(addr, '10.0.1.1', { sport: 5684, proto: 'udp' }), at(s), identity);
const learning = () => [hello('10.0.2.1', 10), hello('10.0.2.1', 200)];
const opts = { learningPeriod: 300 };

describe('dtls.psk_identity_reuse', () => {
  it('fires when the identity comes from a second address outside its baseline', () => {
    const { alerts } = run(detector, [...learning(), hello('10.0.2.1', 400), hello('10.0.9.9', 500)], opts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ entity: { kind: 'psk_identity', value: 'sensor-1' }, severity: 'medium', mitre: 'T0859' });
    expect(alerts[0].evidence).toMatchObject({ observed: 2, baseline: 1, threshold: 2, newAddresses: ['10.0.9.9'], baselineAddresses: ['10.0.2.1'] });
  });

  it('a device that moved (one address, new) is below minEndpoints', () => {
    expect(run(detector, [...learning(), hello('10.0.9.9', 500)], opts).alerts).toHaveLength(0);
  });

  it('minEndpoints is the absolute floor', () => {
    const three = [hello('10.0.2.1', 400), hello('10.0.9.9', 500), hello('10.0.9.10', 600)];
    expect(run(detector, [...learning(), ...three.slice(0, 2)], { ...opts, tunables: { minEndpoints: 3 } }).alerts).toHaveLength(0);
    expect(run(detector, [...learning(), ...three], { ...opts, tunables: { minEndpoints: 3 } }).alerts).toHaveLength(1);
  });

  it('suppression: one alert per identity and window, raised to high at 3 addresses', () => {
    const many = [1, 2, 3, 4, 5].map((i) => hello(`10.0.9.${i}`, 400 + i));
    const { alerts, log } = run(detector, [...learning(), ...many], opts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'high', evidence: { observed: 5 } });
    expect(log.map(([k]) => k)).toEqual(['new', 'update']);
  });
});
