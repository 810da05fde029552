import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/mqtt.retained_flood';
import { flow, publish, run, spread } from './helpers';

const dev = flow('10.0.0.21', '10.0.0.1');
const s = { clientId: 'gw-1', username: 'gw' };

/** Learning: one retained status every 10 s for five minutes (6 a minute, no new topic after the first). */
const learning = () => spread(30, 0, 300, (t) => publish(dev, t, 'plant/gw-1/status', { ...s, retain: true }));
const flood = (n: number, from = 300, seconds = 60) => spread(n, from, seconds, (t, i) => publish(dev, t, `plant/x/${from}/${i}`, { ...s, retain: true }));

// new_topics baseline [1, 0, 0, 0, 0]: median 0, EWMA 0.66 (the centre is the larger), spread 1;
// threshold max(50, ceil(0.66 + 6 x 1)) = 50.
describe('mqtt.retained_flood', () => {
  it('fires at 50 new retained topics in a minute', () => {
    const { alerts } = run(detector, [...learning(), ...flood(50)], { learningPeriod: 300 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ entity: { kind: 'username', value: 'gw' }, mitre: 'T0814' });
    expect(alerts[0].evidence).toMatchObject({ metric: 'new_topics', observed: 50, threshold: 50, baseline: 0.66, newTopics: 50 });
  });

  it('does not fire at 49', () => {
    expect(run(detector, [...learning(), ...flood(49)], { learningPeriod: 300 }).alerts).toHaveLength(0);
  });

  it('retained rate on known topics: threshold max(100, 6 + 6 x 1.5) = 100', () => {
    const same = (n: number) => spread(n, 300, 60, (t) => publish(dev, t, 'plant/gw-1/status', { ...s, retain: true }));
    const hit = run(detector, [...learning(), ...same(100)], { learningPeriod: 300 }).alerts;
    expect(hit.map((a) => a.evidence.metric)).toEqual(['retained']);
    expect(run(detector, [...learning(), ...same(99)], { learningPeriod: 300 }).alerts).toHaveLength(0);
  });

  it('a client that publishes but never retained has a baseline of 0, not none', () => {
    const meter = flow('10.0.0.22', '10.0.0.1');
    const m = { clientId: 'meter-6', username: 'meter-6' };
    const telemetry = spread(300, 0, 300, (t) => publish(meter, t, 'plant/meter-6/telemetry', m));
    const retained = (n: number) => spread(n, 300, 60, (t) => publish(meter, t, 'plant/meter-6/telemetry', { ...m, retain: true }));
    // retained: median 0, spread 1: threshold max(100, 6) = 100 (the cold threshold, 1000, is for clients never seen).
    expect(run(detector, [...telemetry, ...retained(100)], { learningPeriod: 300 }).alerts.map((a) => a.evidence.threshold)).toEqual([100]);
    expect(run(detector, [...telemetry, ...retained(99)], { learningPeriod: 300 }).alerts).toHaveLength(0);
  });

  it('one set of credentials over many connections (client ids) is one flood', () => {
    const many = spread(50, 300, 60, (t, i) => publish(flow(`10.9.9.${i}`, '10.0.0.1'), t, `plant/x/${i}`, { clientId: `bot-${i}`, username: 'gw', retain: true }));
    const { alerts } = run(detector, [...learning(), ...many], { learningPeriod: 300 });
    expect(alerts.map((a) => `${a.entity.kind}:${a.entity.value}`)).toEqual(['username:gw']);
  });

  it('ignores messages without the retain flag', () => {
    const plain = spread(5000, 300, 60, (t, i) => publish(dev, t, `plant/y/${i}`, s));
    expect(run(detector, [...learning(), ...plain], { learningPeriod: 300 }).alerts).toHaveLength(0);
  });

  it('suppression: one alert for a flood over two windows, count of retained messages', () => {
    const { alerts, log } = run(detector, [...learning(), ...flood(120, 300), ...flood(120, 360)], { learningPeriod: 300 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0].count).toBe(240);
    expect(log.filter(([k]) => k === 'new')).toHaveLength(1);
  });
});
