import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/mqtt.subscription_spike';
import { at, connect, flow, run, spread, subscribe } from './helpers';

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
    expect(alerts[0]).toMatchObject({ entity: { kind: 'username', value: 'dash' }, mitre: 'T0861' });
    expect(alerts[0].evidence).toMatchObject({ observed: 50, threshold: 50, baseline: 4 });
  });

  it('does not fire at 49', () => {
    expect(run(detector, [...learning(), ...enumerate(49)], { learningPeriod: 300 }).alerts).toHaveLength(0);
  });

  it('a client that connects but never subscribes has a baseline of 0', () => {
    const m = flow('10.0.0.31', '10.0.0.1');
    const s7 = { clientId: 'meter-7', username: 'meter-7' };
    const connects = [0, 60, 120, 180, 240].map((s) => connect(m, at(s + 1), s7));
    expect(run(detector, [...connects, subscribe(m, at(310), Array.from({ length: 50 }, (_, i) => `plant/m${i}/#`), s7)], { learningPeriod: 300 }).alerts).toHaveLength(1);
    expect(run(detector, [...connects, subscribe(m, at(310), Array.from({ length: 49 }, (_, i) => `plant/m${i}/#`), s7)], { learningPeriod: 300 }).alerts).toHaveLength(0);
  });

  it('suppression: a long enumeration is one alert', () => {
    const { alerts, log } = run(detector, [...learning(), ...enumerate(200, 300), ...enumerate(200, 360)], { learningPeriod: 300 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0].count).toBe(400);
    expect(log.filter(([k]) => k === 'new')).toHaveLength(1);
  });
});
