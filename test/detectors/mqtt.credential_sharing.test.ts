import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/mqtt.credential_sharing';
import { at, connack, connect, flow, run } from './helpers';
import type { InputEvent } from '../../detectors/lib/detector';

const BROKER = '10.0.0.1';

function login(addr: string, s: number, clientId: string, username: string, password: string, rc = 0): InputEvent[] {
  const f = flow(addr, BROKER);
  return [connect(f, at(s), { clientId, username, password }), connack(f, at(s + 0.01), rc, { clientId, username })];
}

/** Learning (300 s): meter-1 logs in now and then with its own id, address and password. */
const learning = () => [0, 100, 200].flatMap((s) => login('10.0.0.11', s, 'meter-1', 'meter-1', 'secret-1'));
const opts = { learningPeriod: 300 };
const clones = (n: number, sameAddress = false) =>
  Array.from({ length: n }, (_, i) => login(sameAddress ? '10.0.0.11' : `10.9.0.${i + 1}`, 400 + i, `clone-${i + 1}`, 'meter-1', 'secret-1')).flat();

describe('mqtt.credential_sharing', () => {
  it('fires when one username logs in from 3 addresses outside its baseline in a window', () => {
    const { alerts } = run(detector, [...learning(), ...clones(3)], opts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ entity: { kind: 'username', value: 'meter-1' }, mitre: 'T0859', count: 3 });
    expect(alerts[0].evidence).toMatchObject({ metric: 'new addresses', observed: 3, baseline: 1, threshold: 3, newAddresses: ['10.9.0.1', '10.9.0.2', '10.9.0.3'] });
  });

  it('not at 2; refused logins and baseline addresses do not count', () => {
    expect(run(detector, [...learning(), ...clones(2)], opts).alerts).toHaveLength(0);
    const refused = Array.from({ length: 5 }, (_, i) => login(`10.9.0.${i}`, 400 + i, `x${i}`, 'meter-1', 'bad', 5)).flat();
    expect(run(detector, [...learning(), ...refused], opts).alerts).toHaveLength(0);
  });

  it('client ids: 5 new ones from its own address fire, 4 do not', () => {
    expect(run(detector, [...learning(), ...clones(5, true)], opts).alerts[0].evidence).toMatchObject({ metric: 'new client ids', observed: 5, threshold: 5 });
    expect(run(detector, [...learning(), ...clones(4, true)], opts).alerts).toHaveLength(0);
  });

  it('a username that roams over many addresses in its baseline needs as many new ones', () => {
    const roaming = [0, 1, 2, 3, 4, 5].flatMap((i) => login(`10.1.0.${i}`, i * 10, 'app', 'app', 'pw-app'));
    const more = (n: number) => Array.from({ length: n }, (_, i) => login(`10.2.0.${i}`, 400 + i, 'app', 'app', 'pw-app')).flat();
    expect(run(detector, [...roaming, ...more(5)], opts).alerts).toHaveLength(0);
    expect(run(detector, [...roaming, ...more(6)], opts).alerts).toHaveLength(1);
  });

  it('one password behind 3 usernames outside its baseline (by keyed hash)', () => {
    const reuse = (n: number) => Array.from({ length: n }, (_, i) => login(`10.8.0.${i}`, 400 + i, `dev-${i}`, `dev-${i}`, 'secret-1')).flat();
    const { alerts } = run(detector, [...learning(), ...reuse(3)], opts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].entity.kind).toBe('password');
    expect(alerts[0].entity.value).toMatch(/^[0-9a-f]{16}$/);
    expect(alerts[0].evidence).toMatchObject({ observed: 3, baseline: 1, threshold: 3, usernames: ['dev-0', 'dev-1', 'dev-2'] });
    expect(run(detector, [...learning(), ...reuse(2)], opts).alerts).toHaveLength(0);
  });

  it('suppression: one alert, refreshed at window close', () => {
    const { alerts, log } = run(detector, [...learning(), ...clones(8)], opts);
    expect(alerts).toHaveLength(1);
    expect(log.map(([k]) => k)).toEqual(['new', 'update']);
    expect(alerts[0]).toMatchObject({ count: 8, evidence: { observed: 8 } });
  });
});
