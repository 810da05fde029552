import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/mqtt.rate_anomaly';
import { flow, publish, run, spread } from './helpers';

const meter = flow('10.0.0.11', '10.0.0.1');
const session = { clientId: 'meter-1', username: 'meter-1' };

/** Five learning minutes at 60 messages a minute, then `n` messages in minute 5. */
function scenario(n: number, topic = 'plant/meters/m1/kw') {
  const baseline = spread(300, 0, 300, (t) => publish(meter, t, topic, session));
  const burst = spread(n, 300, 60, (t) => publish(meter, t, topic, session));
  return [...baseline, ...burst];
}

// Median 60, MAD 0: spread floor 25 % of 60 = 15; threshold max(120, 60 + 6 x 15) = 150.
describe('mqtt.rate_anomaly', () => {
  it('fires at 150 publishes in a minute against a baseline of 60', () => {
    const { alerts } = run(detector, scenario(150), { learningPeriod: 300 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ entity: { kind: 'client_id', value: 'meter-1' }, count: 150, severity: 'medium' });
    expect(alerts[0].evidence).toMatchObject({ observed: 150, baseline: 60, threshold: 150, window: 60, z: 6, samples: 5 });
    expect(alerts[0].frames).toHaveLength(20);
  });

  it('does not fire at 149', () => {
    expect(run(detector, scenario(149), { learningPeriod: 300 }).alerts).toHaveLength(0);
  });

  it('raises nothing while learning', () => {
    const events = spread(5000, 0, 60, (t) => publish(meter, t, 'x/y', session));
    const r = run(detector, events, { learningPeriod: 300 });
    expect(r.alerts).toHaveLength(0);
  });

  it('a client without a baseline needs the cold threshold', () => {
    const fresh = flow('10.0.0.99', '10.0.0.1');
    const events = spread(3000, 0, 60, (t, i) => publish(fresh, t, `new/${i % 100}`, { clientId: 'newcomer' }));
    const { alerts } = run(detector, events);
    expect(alerts.map((a) => a.entity.value)).toEqual(['newcomer']);
    expect(alerts[0].evidence).toMatchObject({ baseline: null, threshold: 3000 });
    expect(run(detector, events.slice(0, 2999)).alerts).toHaveLength(0);
  });

  it('a topic flooded by several clients alerts on the topic', () => {
    const others = [1, 2, 3].map((i) => flow(`10.0.1.${i}`, '10.0.0.1'));
    const events = spread(3000, 0, 60, (t, i) => publish(others[i % 3], t, 'plant/cmd', { clientId: `c${i % 3}` }));
    const { alerts } = run(detector, events);
    expect(alerts.map((a) => `${a.entity.kind}:${a.entity.value}`)).toEqual(['topic:plant/cmd']);
    expect(alerts[0].evidence.publishers).toEqual(['c0', 'c1', 'c2']);
  });

  it('broker deliveries (to_client) are not counted', () => {
    const events = spread(5000, 0, 60, (t) => publish(meter, t, 'x', { ...session, down: true }));
    expect(run(detector, events).alerts).toHaveLength(0);
  });

  it('suppression: a flood over three minutes is one alert, counted across windows', () => {
    const flood = spread(900, 300, 180, (t) => publish(meter, t, 'plant/meters/m1/kw', session));
    const events = [...scenario(0), ...flood];
    const { alerts, log } = run(detector, events, { learningPeriod: 300 });
    expect(alerts).toHaveLength(1);
    expect(new Set(log.map(([, a]) => a.id)).size).toBe(1);
    expect(log[0][0]).toBe('new');
    expect(log.slice(1).every(([k]) => k === 'update')).toBe(true);
    // Each minute of 300 crosses 150; the EWMA moves but not past 300 in three windows.
    expect(alerts[0].count).toBe(900);
  });
});
