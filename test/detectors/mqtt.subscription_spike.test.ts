import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/mqtt.subscription_spike';
import { flow, run, spread, subscribe } from './helpers';

const dash = flow('10.0.0.30', '10.0.0.1');
const s = { clientId: 'dashboard', username: 'dash' };

/** Learning: the dashboard subscribes to 4 filters once a minute (a reconnect), five minutes. */
const learning = () => spread(5, 0, 300, (t) => subscribe(dash, t, ['plant/+/kw', 'plant/+/status', 'alarms/#', 'ops/info'], s));
const enumerate = (n: number, from = 300) => spread(n, from, 60, (t, i) => subscribe(dash, t, [`plant/m${from}-${i}/kw`], s));

// Both metrics: median 4, MAD 0, spread max(1, 1) = 1; threshold max(50, 4 + 6) = 50.
describe('mqtt.subscription_spike', () => {
  it('fires at 50 filters in a minute', () => {
    const { alerts } = run(detector, [...learning(), ...enumerate(50)], { learningPeriod: 300 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ entity: { kind: 'client_id', value: 'dashboard' }, mitre: 'T0861' });
    expect(alerts[0].evidence).toMatchObject({ observed: 50, threshold: 50, baseline: 4 });
  });

  it('does not fire at 49', () => {
    expect(run(detector, [...learning(), ...enumerate(49)], { learningPeriod: 300 }).alerts).toHaveLength(0);
  });

  it('suppression: a long enumeration is one alert', () => {
    const { alerts, log } = run(detector, [...learning(), ...enumerate(200, 300), ...enumerate(200, 360)], { learningPeriod: 300 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0].count).toBe(400);
    expect(log.filter(([k]) => k === 'new')).toHaveLength(1);
  });
});
