import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/coap.request_flood';
import { coapFlow, coapRequest, run, spread } from './helpers';

const reader = coapFlow('10.0.0.50', '10.0.1.5');
/** Learning: the dashboard reads a sensor every 5 s (12 a minute) for five minutes. */
const learning = () => spread(60, 0, 300, (t) => coapRequest(reader, t, 'GET', '/temp'));
const flood = (n: number, from = 300) => {
  const f = coapFlow('198.51.100.7', '10.0.1.5', 5000 + from);
  return spread(n, from, 60, (t) => coapRequest(f, t, 'GET', '/temp'));
};
const opts = { learningPeriod: 300 };

// Median 12, MAD 0, spread 3: threshold max(300, 12 + 18) = 300.
describe('coap.request_flood', () => {
  it('fires at 300 requests a minute to one server', () => {
    const { alerts } = run(detector, [...learning(), ...flood(300)], opts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ entity: { kind: 'server', value: '10.0.1.5:5683' }, severity: 'high', mitre: 'T0814' });
    expect(alerts[0].evidence).toMatchObject({ observed: 300, baseline: 12, threshold: 300, topSources: ['198.51.100.7 (100 %)'] });
  });

  it('not at 299', () => {
    expect(run(detector, [...learning(), ...flood(299)], opts).alerts).toHaveLength(0);
  });

  it('suppression: a two-minute flood is one alert', () => {
    const { alerts, log } = run(detector, [...learning(), ...flood(600, 300), ...flood(600, 360)], opts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].count).toBe(1200);
    expect(log.filter(([k]) => k === 'new')).toHaveLength(1);
  });
});
