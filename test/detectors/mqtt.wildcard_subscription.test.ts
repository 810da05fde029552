import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/mqtt.wildcard_subscription';
import { at, flow, run, subscribe } from './helpers';

const f = flow('10.0.0.30', '10.0.0.1');
const dash = { clientId: 'dash-1', username: 'dash' };
const meter = { clientId: 'meter-1', username: 'meter-1' };

/** Learning: the dashboard reads plant/+/status, a meter its own command topic. */
const learning = () => [subscribe(f, at(10), ['plant/+/status'], dash), subscribe(f, at(20), ['plant/cmd/m1'], meter)];
const after = (filters: string[], s = dash, t = 400) => run(detector, [...learning(), subscribe(f, at(t), filters, s)], { learningPeriod: 300 }).alerts;

describe('mqtt.wildcard_subscription', () => {
  it("'#' from a client that never used it: high", () => {
    const alerts = after(['#']);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'high', entity: { kind: 'username', value: 'dash' }, mitre: 'T0861' });
    expect(alerts[0].evidence).toMatchObject({ filter: '#', breadth: 'everything', clientId: 'dash-1' });
    expect(after(['+/+/#'])[0].evidence.breadth).toBe('everything');
  });

  it('one SUBSCRIBE with several broad filters is one alert, named after the broadest', () => {
    const alerts = after(['$SYS/#', '#']);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'high', count: 1, evidence: { filter: '#', filters: ['#', '$SYS/#'] } });
  });

  it("'$SYS/#': medium", () => {
    expect(after(['$SYS/#'])[0]).toMatchObject({ severity: 'medium', evidence: { breadth: 'system' } });
  });

  it('broader than the baseline by minDrop (2) levels fires; by 1 level does not', () => {
    const broader = after(['plant/+/m1'], meter);
    expect(broader).toHaveLength(1);
    expect(broader[0].evidence).toMatchObject({ breadth: 'broader', observed: 1, baseline: 3, threshold: 1 });
    expect(after(['plant/cmd/+'], meter)).toHaveLength(0);
  });

  it('known filters, shared-subscription prefixes and exact topics do not fire', () => {
    expect(after(['plant/+/status', '$share/g/plant/+/status', 'plant/m1/kw'])).toHaveLength(0);
  });

  it('a principal first seen after learning: only # and $SYS while it learns', () => {
    const newcomer = { clientId: 'x', username: 'newcomer' };
    expect(after(['plant/#'], newcomer)).toHaveLength(0);
    expect(after(['#'], newcomer)).toHaveLength(1);
  });

  it('what was learned is not reported', () => {
    const events = [subscribe(f, at(10), ['#'], dash), subscribe(f, at(400), ['#'], dash)];
    expect(run(detector, events, { learningPeriod: 300 }).alerts).toHaveLength(0);
  });

  it('suppression: repeated # subscriptions within the hour are one alert', () => {
    const events = [...learning(), ...[400, 500, 600, 700, 800].map((t) => subscribe(f, at(t), ['#'], dash))];
    const { alerts, log } = run(detector, events, { learningPeriod: 300 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0].count).toBe(5);
    expect(log.map(([k]) => k)).toEqual(['new', 'update', 'update', 'update', 'update']);
    // After the suppression interval, a new alert (new window start, new id).
    const later = run(detector, [...events, subscribe(f, at(400 + 3600), ['#'], dash)], { learningPeriod: 300 }).alerts;
    expect(later).toHaveLength(2);
    expect(later[0].id).not.toBe(later[1].id);
  });
});
