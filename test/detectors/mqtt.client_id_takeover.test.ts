import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/mqtt.client_id_takeover';
import { at, connack, connect, flow, flowEnd, run } from './helpers';
import type { InputEvent } from '../../detectors/lib/detector';

const BROKER = '10.0.0.1';
const A = '10.0.0.7';
const B = '10.0.0.8';
const cid = { clientId: 'meter-7', username: 'meter-7' };

/** A session: CONNECT + CONNACK at s; ends at `end` (seconds) when given. */
function session(addr: string, s: number, end?: number): InputEvent[] {
  const f = flow(addr, BROKER);
  const ev: InputEvent[] = [connect(f, at(s), cid), connack(f, at(s + 0.01), 0, cid)];
  if (end !== undefined) ev.push(flowEnd(f, at(end)));
  return ev;
}

/** Learning (300 s): meter-7 only ever uses address A; its session stays up. */
const learnA = () => session(A, 0);
/** Learning: meter-7 uses A and B (two interfaces); the last session (A) stays up. */
const learnAB = () => [...session(A, 0, 100), ...session(B, 100, 200), ...session(A, 200)];

/** Sessions alternating B, A, B... from `from`, each kicking the previous one off half a second later. */
function flap(n: number, from = 400) {
  const ev: InputEvent[] = [];
  for (let i = 0; i < n; i++) {
    const f = flow(i % 2 === 0 ? B : A, BROKER);
    ev.push(connect(f, at(from + i * 10), cid), connack(f, at(from + i * 10 + 0.01), 0, cid));
  }
  return ev;
}

describe('mqtt.client_id_takeover', () => {
  it('fires when the client id connects from a new address while its session is up', () => {
    const { alerts } = run(detector, [...learnA(), ...session('203.0.113.9', 400)], { learningPeriod: 300 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ entity: { kind: 'client_id', value: 'meter-7' }, severity: 'medium', count: 1 });
    expect(alerts[0].evidence).toMatchObject({ flapping: false, addresses: [A, '203.0.113.9'], baselineAddresses: [A] });
    expect(alerts[0].endpoints).toHaveLength(2);
  });

  it('not after the first session ended, nor from the same address (a reconnect)', () => {
    const ended = [...session(A, 0, 350), ...session('203.0.113.9', 400)];
    expect(run(detector, ended, { learningPeriod: 300 }).alerts).toHaveLength(0);
    const disconnected = [...learnA(), ...session(A, 400)];
    expect(run(detector, disconnected, { learningPeriod: 300 }).alerts).toHaveLength(0);
    const refused = [...learnA()];
    const f = flow('203.0.113.9', BROKER);
    refused.push(connect(f, at(390), cid), connack(f, at(390.01), 5, cid), ...session('203.0.113.10', 400, 401));
    // The refused session never took over; the later one did (from a third address).
    expect(run(detector, refused, { learningPeriod: 300 }).alerts.map((a) => a.evidence.addresses)).toEqual([[A, '203.0.113.10']]);
  });

  it('a single takeover from a baseline address is a device moving: flapping fires at 3, not 2', () => {
    expect(run(detector, [...learnAB(), ...flap(2)], { learningPeriod: 300 }).alerts).toHaveLength(0);
    const { alerts } = run(detector, [...learnAB(), ...flap(3)], { learningPeriod: 300 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'high', count: 3 });
    expect(alerts[0].evidence).toMatchObject({ flapping: true, observed: 3, threshold: 3, window: 300 });
  });

  it('suppression: a takeover that turns into flapping is one alert, raised to high', () => {
    const { alerts, log } = run(detector, [...learnA(), ...flap(8)], { learningPeriod: 300 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'high', count: 8 });
    expect(log.map(([k]) => k)).toEqual(['new', 'update', 'update']);
    expect(new Set(log.map(([, a]) => a.id)).size).toBe(1);
  });

  it('nothing during learning', () => {
    expect(run(detector, [...learnA(), ...flap(8, 10)], { learningPeriod: 300 }).alerts).toHaveLength(0);
  });
});
