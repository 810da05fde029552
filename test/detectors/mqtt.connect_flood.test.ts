import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/mqtt.connect_flood';
import { connect, flow, flowEnd, flowStart, run, spread } from './helpers';

const BROKER = '10.0.0.1';

/** Learning: 10 reconnects a minute from the fleet, five minutes, each with its TCP flow. */
const learning = () => spread(50, 0, 300, (t, i) => {
  const f = flow(`10.0.0.${100 + (i % 10)}`, BROKER);
  return [flowStart(f, t), connect(f, t + 1000, { clientId: `m${i % 10}` })];
}).flat();
const connects = (n: number, src = (i: number) => `198.51.100.${i % 200}`) =>
  spread(n, 300, 60, (t, i) => {
    const f = flow(src(i), BROKER);
    return [flowStart(f, t), connect(f, t + 1000, { clientId: `bot${i}` })];
  }).flat();

// connects and flows: median 10, MAD 0, spread 2.5; threshold max(60, 10 + 15) = 60.
describe('mqtt.connect_flood', () => {
  it('fires at 60 connection attempts in a minute, naming the top sources', () => {
    const { alerts } = run(detector, [...learning(), ...connects(60, () => '198.51.100.5')], { learningPeriod: 300 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ entity: { kind: 'server', value: '10.0.0.1:1883' }, severity: 'high' });
    expect(alerts[0].evidence).toMatchObject({ threshold: 60, baseline: 10, topSources: ['198.51.100.5 (60)'] });
  });

  it('does not fire at 59', () => {
    expect(run(detector, [...learning(), ...connects(59)], { learningPeriod: 300 }).alerts).toHaveLength(0);
  });

  it('half-open handshakes (S0) count, for MQTT ports only', () => {
    const syn = (n: number, port: number) => spread(n, 300, 60, (t, i) => flowEnd(flow(`203.0.113.${i % 250}`, BROKER, { sport: port }), t, 'S0', 'idle'));
    // half_open has no baseline samples above 0 for the broker: median 0, threshold max(100, 6) = 100.
    const hit = run(detector, [...learning(), ...syn(100, 1883)], { learningPeriod: 300 }).alerts;
    expect(hit).toHaveLength(1);
    expect(hit[0].evidence).toMatchObject({ metric: 'half_open', halfOpen: 100 });
    expect(run(detector, [...learning(), ...syn(99, 1883)], { learningPeriod: 300 }).alerts).toHaveLength(0);
    expect(run(detector, [...learning(), ...syn(500, 443)], { learningPeriod: 300 }).alerts).toHaveLength(0);
  });

  it('suppression: one alert across windows', () => {
    const events = [...learning(), ...connects(200), ...connects(200).map((e) => ({ ...e, ts: e.ts + 60e6 }))];
    const { alerts, log } = run(detector, events, { learningPeriod: 300 });
    expect(alerts).toHaveLength(1);
    expect(log.filter(([k]) => k === 'new')).toHaveLength(1);
  });
});
