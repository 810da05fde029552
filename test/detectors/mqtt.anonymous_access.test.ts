import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/mqtt.anonymous_access';
import { at, connack, connect, flow, run } from './helpers';

function attempt(s: number, o: { username?: string | null; password?: string | null; rc?: number; clientId?: string }) {
  const f = flow(`10.0.0.${10 + s}`, '10.0.0.1');
  return [connect(f, at(s), { clientId: o.clientId ?? `anon-${s}`, username: o.username ?? null, password: o.password ?? null }), connack(f, at(s + 0.01), o.rc ?? 0)];
}

describe('mqtt.anonymous_access', () => {
  it('a CONNECT without credentials that the broker accepts', () => {
    const { alerts } = run(detector, attempt(1, {}));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ category: 'posture', entity: { kind: 'server', value: '10.0.0.1:1883' }, mitre: 'T0812', evidence: { clientIds: ['anon-1'] } });
    expect(alerts[0].frames).toHaveLength(2);
  });

  it('refused, or with credentials: nothing', () => {
    expect(run(detector, [...attempt(1, { rc: 5 }), ...attempt(2, { username: 'u', password: 'p' }), ...attempt(3, { username: 'u' })]).alerts).toHaveLength(0);
  });

  it('one finding per broker, refreshed', () => {
    const { alerts, log } = run(detector, [1, 2, 3].flatMap((s) => attempt(s, {})));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ count: 3, evidence: { observed: 3 } });
    expect(log.map(([k]) => k)).toEqual(['new', 'update']);
  });
});
