import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/mqtt.auth_bruteforce';
import { at, connack, connect, flow, run } from './helpers';

const BROKER = '10.0.0.1';

/** One login attempt on its own connection: CONNECT then CONNACK. */
function attempt(src: string, s: number, username: string, password: string, rc = 5, version = 4) {
  const f = flow(src, BROKER);
  return [connect(f, at(s), { clientId: 'x', username, password, version }), connack(f, at(s + 0.01), rc, { username, version })];
}

const guesses = (src: string, n: number, from = 0, every = 5, user = 'admin') =>
  Array.from({ length: n }, (_, i) => attempt(src, from + i * every, user, `pw${i}`)).flat();

describe('mqtt.auth_bruteforce', () => {
  it('fires at 10 distinct refused credentials from one source in 300 s', () => {
    const { alerts } = run(detector, guesses('192.0.2.7', 10));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      detector: 'mqtt.auth_bruteforce', category: 'anomaly', severity: 'high', entity: { kind: 'address', value: '192.0.2.7' }, count: 10,
    });
    expect(alerts[0].evidence).toMatchObject({ observed: 10, threshold: 10, window: 300, kind: 'fast', usernames: ['admin'] });
    expect(alerts[0].frames.length).toBeGreaterThan(0);
    expect(alerts[0].endpoints[0]).toMatch(/^192\.0\.2\.7:\d+ -> 10\.0\.0\.1:1883$/);
  });

  it('does not fire at 9', () => {
    expect(run(detector, guesses('192.0.2.7', 9)).alerts).toHaveLength(0);
  });

  it('a device retrying one stale password is not guessing', () => {
    const events = Array.from({ length: 50 }, (_, i) => attempt('10.0.0.50', i * 5, 'meter', 'old')).flat();
    expect(run(detector, events).alerts).toHaveLength(0);
  });

  it('v5 reason codes count; success does not', () => {
    const v5 = Array.from({ length: 10 }, (_, i) => attempt('192.0.2.8', i, 'admin', `p${i}`, 0x86, 5)).flat();
    expect(run(detector, v5).alerts).toHaveLength(1);
    const ok = Array.from({ length: 10 }, (_, i) => attempt('192.0.2.8', i, 'admin', `p${i}`, 0)).flat();
    expect(run(detector, ok).alerts).toHaveLength(0);
  });

  it('suppression: one alert per source and window, updated with the final count', () => {
    const { alerts, log } = run(detector, guesses('192.0.2.7', 30, 0, 5));
    expect(alerts).toHaveLength(1);
    expect(alerts[0].count).toBe(30);
    expect(log.map(([k]) => k)).toEqual(['new', 'update']);
    expect(log[1][1].id).toBe(log[0][1].id);
    expect(log[0][1].count).toBe(10);
  });

  it('slow guessing: 30 distinct credentials over a day, never 10 in 300 s', () => {
    const slow = guesses('198.51.100.9', 30, 0, 2400);
    const { alerts } = run(detector, slow);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].evidence).toMatchObject({ kind: 'slow', observed: 30, threshold: 30, window: 86_400 });
    expect(run(detector, guesses('198.51.100.9', 29, 0, 2400)).alerts).toHaveLength(0);
  });

  it('many sources against one username', () => {
    const five = ['a', 'b', 'c', 'd', 'e'].map((x, i) => attempt(`203.0.113.${i + 1}`, i * 600, 'operator', `pw-${x}`)).flat();
    const { alerts } = run(detector, five);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].entity).toEqual({ kind: 'username', value: 'operator' });
    expect(alerts[0].evidence).toMatchObject({ kind: 'distributed', observed: 5, threshold: 5 });
    expect(run(detector, five.slice(0, 8)).alerts).toHaveLength(0);
  });

  it('tunables override', () => {
    expect(run(detector, guesses('192.0.2.7', 3), { tunables: { maxGuesses: 3 } }).alerts).toHaveLength(1);
  });
});
