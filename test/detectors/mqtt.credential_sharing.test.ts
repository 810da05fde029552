import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/mqtt.credential_sharing';
import { at, connack, connect, flow, run } from './helpers';
import type { InputEvent } from '../../detectors/lib/detector';

const BROKER = '10.0.0.1';

function login(addr: string, s: number, clientId: string, username: string, password: string, rc = 0): InputEvent[] {
  const f = flow(addr, BROKER);
  return [connect(f, at(s), { clientId, username, password }), connack(f, at(s + 0.01), rc, { clientId, username })];
}

/** Learning, three 60 s windows: meter-1 logs in once a minute with its own id, address and password. */
const learning = () => [0, 60, 120].flatMap((s) => login('10.0.0.11', s, 'meter-1', 'meter-1', 'secret-1'));
const opts = { learningPeriod: 180, tunables: { window: 60, minSamples: 3 } };

// client_ids and addresses: median 1, spread 1, z 3: threshold max(3, 1 + 3) = 4.
describe('mqtt.credential_sharing', () => {
  it('fires when one username logs in from 4 client ids and addresses in a window', () => {
    const shared = [1, 2, 3, 4].flatMap((i) => login(`10.9.0.${i}`, 200 + i, `clone-${i}`, 'meter-1', 'secret-1'));
    const { alerts } = run(detector, [...learning(), ...shared], opts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ entity: { kind: 'username', value: 'meter-1' }, mitre: 'T0859' });
    expect(alerts[0].evidence).toMatchObject({ metric: 'client_ids', observed: 4, baseline: 1, threshold: 4 });
  });

  it('not at 3, and refused logins do not count', () => {
    const three = [1, 2, 3].flatMap((i) => login(`10.9.0.${i}`, 200 + i, `clone-${i}`, 'meter-1', 'secret-1'));
    expect(run(detector, [...learning(), ...three], opts).alerts).toHaveLength(0);
    const refused = [1, 2, 3, 4, 5].flatMap((i) => login(`10.9.0.${i}`, 200 + i, `clone-${i}`, 'meter-1', 'x', 5));
    expect(run(detector, [...learning(), ...refused], opts).alerts).toHaveLength(0);
  });

  it('one password behind 4 usernames (by keyed hash)', () => {
    const reuse = (n: number) => Array.from({ length: n }, (_, i) => login(`10.8.0.${i}`, 200 + i, `dev-${i}`, `dev-${i}`, 'secret-1')).flat();
    const { alerts } = run(detector, [...learning(), ...reuse(4)], opts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].entity.kind).toBe('password');
    expect(alerts[0].entity.value).toMatch(/^[0-9a-f]{16}$/);
    expect(alerts[0].evidence).toMatchObject({ observed: 4, threshold: 4, usernames: ['dev-0', 'dev-1', 'dev-2', 'dev-3'] });
    expect(run(detector, [...learning(), ...reuse(3)], opts).alerts).toHaveLength(0);
  });

  it('suppression: one alert, refreshed at window close', () => {
    const shared = [1, 2, 3, 4, 5, 6, 7, 8].flatMap((i) => login(`10.9.0.${i}`, 200 + i, `clone-${i}`, 'meter-1', 'secret-1'));
    const { alerts, log } = run(detector, [...learning(), ...shared], opts);
    expect(alerts).toHaveLength(1);
    expect(log.map(([k]) => k)).toEqual(['new', 'update']);
    expect(alerts[0].evidence).toMatchObject({ observed: 8 });
  });
});
