import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/mqtt.topic_acl_drift';
import { at, flow, publish, run, spread, subscribe } from './helpers';
import type { InputEvent } from '../../detectors/lib/detector';

const f = flow('10.0.0.11', '10.0.0.1');
const meter = { clientId: 'meter-1', username: 'meter-1' };

/** Learning: meter-1 publishes its readings and subscribes to its command topic. */
const learning = (): InputEvent[] => [
  subscribe(f, at(1), ['plant/cmd/m1'], meter),
  ...spread(30, 0, 300, (t) => publish(f, t, 'plant/meters/m1/kw', meter)),
];
const opts = { learningPeriod: 300 };

describe('mqtt.topic_acl_drift', () => {
  it('a sensor publishing on a command topic: one message is enough', () => {
    const { alerts } = run(detector, [...learning(), publish(f, at(400), 'plant/cmd/m2', meter)], opts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ entity: { kind: 'username', value: 'meter-1' }, mitre: 'T0855', count: 1 });
    expect(alerts[0].evidence).toMatchObject({ observed: 1, threshold: 1, subtrees: ['publish plant/cmd'] });
    expect(alerts[0].evidence.baselineSubtrees).toEqual(['publish plant/meters', 'subscribe plant/cmd']);
  });

  it('inside its subtrees: nothing (0 messages outside)', () => {
    const inside = [publish(f, at(400), 'plant/meters/m1/voltage', meter), subscribe(f, at(401), ['plant/cmd/m1/#'], meter)];
    expect(run(detector, [...learning(), ...inside], opts).alerts).toHaveLength(0);
  });

  it('subscribing under a new subtree is reported as reading (T0861)', () => {
    const { alerts } = run(detector, [...learning(), subscribe(f, at(400), ['plant/meters/#'], meter)], opts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ mitre: 'T0861', evidence: { subtrees: ['subscribe plant/meters'] } });
  });

  it("root wildcards and $SYS are left to mqtt.wildcard_subscription", () => {
    expect(run(detector, [...learning(), subscribe(f, at(400), ['#', '+/kw', '$SYS/#'], meter)], opts).alerts).toHaveLength(0);
  });

  it('depth is a tunable', () => {
    const other = publish(f, at(400), 'plant/meters/m2/kw', meter);
    expect(run(detector, [...learning(), other], opts).alerts).toHaveLength(0);
    expect(run(detector, [...learning(), other], { ...opts, tunables: { depth: 3 } }).alerts).toHaveLength(1);
  });

  it('the principal is the username: a new client id of the same user shares its baseline', () => {
    const same = publish(f, at(400), 'plant/meters/m1/kw', { clientId: 'random-123', username: 'meter-1' });
    expect(run(detector, [...learning(), same], opts).alerts).toHaveLength(0);
  });

  it('suppression: 50 drifting messages in a window are one alert with count 50', () => {
    const drift = spread(50, 400, 60, (t) => publish(f, t, 'plant/cmd/m2', meter));
    const { alerts, log } = run(detector, [...learning(), ...drift], opts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].count).toBe(50);
    expect(log.map(([k]) => k)).toEqual(['new', 'update']);
  });
});
