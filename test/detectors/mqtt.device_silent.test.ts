import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/mqtt.device_silent';
import { at, flow, publish, run, spread } from './helpers';

const f = flow('10.0.0.11', '10.0.0.1');
const meter = { clientId: 'meter-1', username: 'meter-1' };
/** One reading every 5 s from 0 to 600 s (the last at 595). */
const steady = () => spread(120, 0, 600, (t) => publish(f, t, 'plant/meters/m1/kw', meter));
const opts = { learningPeriod: 300 };

// Longest gap of each 30 s period 5 s: limit max(minSilence 30, 10 x 5) = 50 s after the last reading (595 s).
describe('mqtt.device_silent', () => {
  it('fires after 50 s without a reading', () => {
    const { alerts } = run(detector, steady(), { ...opts, end: at(595 + 50) });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ entity: { kind: 'client_id', value: 'meter-1' }, mitre: 'T0815', firstTs: at(595) });
    expect(alerts[0].evidence).toMatchObject({ observed: 50, baseline: 5, threshold: 50, resumed: false });
    expect(alerts[0].frames).toHaveLength(1);
  });

  it('not at 49 s', () => {
    expect(run(detector, steady(), { ...opts, end: at(595 + 49) }).alerts).toHaveLength(0);
  });

  it('a slower device gets a longer limit (factor x its gap quantile)', () => {
    const slow = spread(40, 0, 2400, (t) => publish(f, t, 'x', meter)); // every 60 s, last at 2340
    expect(run(detector, slow, { ...opts, end: at(2340 + 599) }).alerts).toHaveLength(0);
    expect(run(detector, slow, { ...opts, end: at(2340 + 600) }).alerts).toHaveLength(1);
  });

  it('suppression: reported once per silence, refreshed (same id) when it speaks again', () => {
    const back = publish(f, at(2000), 'plant/meters/m1/kw', meter);
    const other = flow('10.0.0.12', '10.0.0.1');
    const clock = spread(100, 600, 1400, (t) => publish(other, t, 'plant/meters/m2/kw', { clientId: 'meter-2' }));
    const { alerts, log } = run(detector, [...steady(), ...clock, back], opts);
    const mine = log.filter(([, a]) => a.entity.value === 'meter-1');
    expect(mine.map(([k]) => k)).toEqual(['new', 'update']);
    expect(mine[1][1]).toMatchObject({ id: mine[0][1].id, evidence: { resumed: true, observed: 1405 } });
    expect(alerts.filter((a) => a.entity.value === 'meter-1')).toHaveLength(1);
  });

  it('too few gaps to judge, or still learning: nothing', () => {
    const few = spread(10, 0, 50, (t) => publish(f, t, 'x', meter));
    expect(run(detector, few, { end: at(5000) }).alerts).toHaveLength(0);
    expect(run(detector, steady(), { learningPeriod: 5000, end: at(4000) }).alerts).toHaveLength(0);
  });
});
