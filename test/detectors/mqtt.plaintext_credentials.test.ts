import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/mqtt.plaintext_credentials';
import { at, connect, flow, run } from './helpers';

const login = (s: number, username: string | null, password: string | null, server = '10.0.0.1') =>
  connect(flow(`10.0.0.${10 + s}`, server), at(s), { clientId: `c${s}`, username, password });

describe('mqtt.plaintext_credentials', () => {
  it('a CONNECT with a password over cleartext MQTT', () => {
    const { alerts } = run(detector, [login(1, 'meter-1', 'secret')], { learningPeriod: 600 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      category: 'posture', severity: 'high', entity: { kind: 'server', value: '10.0.0.1:1883' }, mitre: 'T0842', count: 1,
      evidence: { observed: 1, threshold: 1, usernames: ['meter-1'] },
    });
  });

  it('no password: nothing, unless usernameOnly', () => {
    expect(run(detector, [login(1, 'meter-1', null), login(2, null, null)]).alerts).toHaveLength(0);
    expect(run(detector, [login(1, 'meter-1', null)], { tunables: { usernameOnly: true } }).alerts).toHaveLength(1);
  });

  it('one finding per broker for the whole run, refreshed not repeated', () => {
    const events = [1, 2, 3, 4, 5].map((s) => login(s, `meter-${s}`, 'pw'));
    const { alerts, log } = run(detector, [...events, login(9, 'x', 'pw', '10.0.0.2')]);
    expect(alerts).toHaveLength(2);
    expect(alerts[0]).toMatchObject({ count: 5, evidence: { distinctUsernames: 5 } });
    expect(log.filter(([, a]) => a.id === alerts[0].id).map(([k]) => k)).toEqual(['new', 'update']);
  });
});
