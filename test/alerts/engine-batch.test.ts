// Batched dispatch (EngineOptions.batch) must be invisible: the same alerts, in the same order,
// with the same counts, frames and ids, the same stats and the same learned baseline as handing
// each event over at once, whatever the batch size, including raises in the middle of a batch.
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/alerts/engine';
import { DETECTORS } from '../../detectors';
import type { AnyDetector } from '../../detectors/lib/detector';
import type { AlertKind } from '../../src/alerts/types';
import type { IotEvent } from '../../src/events/types';
import { decodeCapture } from '../helpers/pipeline';

const ATTACK = 'pcaps/plant-attack.pcap';
const BENIGN = 'pcaps/plant-benign.pcap';

function run(events: readonly IotEvent[], batch: number, mode: 'detect' | 'learn' = 'detect', baseline?: unknown) {
  const sink: [string, AlertKind, number, number][] = [];
  const engine: Engine = createEngine({
    mode, batch, baseline,
    onAlert: (a, kind) => sink.push([a.id, kind, a.count, a.frames.length]),
  });
  for (const e of events) engine.onEvent(e);
  engine.flush();
  return { engine, sink, alerts: engine.alerts(), stats: engine.stats(), counts: engine.eventCounts() };
}

describe('engine batch', () => {
  it('gives the alerts, sink calls, stats and counts of unbatched dispatch', async () => {
    const benign = (await decodeCapture(BENIGN)).events;
    const learned = run(benign, 0, 'learn').engine.exportBaseline();
    const attack = (await decodeCapture(ATTACK)).events;
    const base = run(attack, 0, 'detect', learned);
    expect(base.alerts.length).toBeGreaterThan(4); // the scenario raises alerts mid-stream
    expect(base.sink.length).toBeGreaterThan(base.alerts.length); // and updates them
    for (const batch of [2, 7, 64, 1024, 100_000]) {
      const b = run(attack, batch, 'detect', learned);
      expect(b.alerts, `batch ${batch}`).toEqual(base.alerts);
      expect(b.sink, `batch ${batch}`).toEqual(base.sink);
      expect(b.stats, `batch ${batch}`).toEqual(base.stats);
      expect([...b.counts]).toEqual([...base.counts]);
    }
  });

  it('learns the same baseline', async () => {
    const benign = (await decodeCapture(BENIGN)).events;
    const base = run(benign, 0, 'learn').engine.exportBaseline();
    expect(run(benign, 13, 'learn').engine.exportBaseline()).toEqual(base);
    expect(run(benign, 4096, 'learn').engine.exportBaseline()).toEqual(base);
  });

  it('answers alerts() and stats() with every event so far, mid-batch', async () => {
    const attack = (await decodeCapture(ATTACK)).events;
    const a = createEngine({ batch: 0 });
    const b = createEngine({ batch: 1000 });
    const cut = Math.floor(attack.length * 0.7);
    for (const e of attack.slice(0, cut)) {
      a.onEvent(e);
      b.onEvent(e);
    }
    expect(b.alerts()).toEqual(a.alerts());
    expect(b.stats()).toEqual(a.stats());
  });

  it('counts a detector that throws per event and goes on, as unbatched', async () => {
    const attack = (await decodeCapture(ATTACK)).events;
    const flaky = {
      ...DETECTORS.find((d) => d.id === 'mqtt.rate_anomaly')!,
      id: 'test.flaky',
      create: () => ({ onEvent(e: IotEvent) { if (e.frame % 3 === 0) throw new Error(`frame ${e.frame}`); } }),
    } as unknown as AnyDetector;
    const detectors = [flaky, ...DETECTORS];
    const a = createEngine({ batch: 0, detectors });
    const b = createEngine({ batch: 50, detectors });
    for (const e of attack) {
      a.onEvent(e);
      b.onEvent(e);
    }
    a.flush();
    b.flush();
    expect(a.stats().detectors['test.flaky'].errors).toBeGreaterThan(10);
    expect(b.stats()).toEqual(a.stats());
    expect(b.alerts()).toEqual(a.alerts());
  });

  it('shows each event its own clock (ctx.now, ctx.learning), and raises made mid-batch keep it', async () => {
    const attack = (await decodeCapture(ATTACK)).events;
    const seen = (batch: number) => {
      const log: string[] = [];
      const clocked = {
        ...DETECTORS.find((d) => d.id === 'mqtt.rate_anomaly')!,
        id: 'test.clock',
        subscribes: ['mqtt.publish', 'mqtt.connect', 'coap.message'],
        direction: undefined,
        create: (ctx: { now: number; learning: boolean; alert(spec: unknown): void }) => ({
          onEvent(e: IotEvent) {
            log.push(`${e.frame} ${ctx.now} ${ctx.learning}`);
            if (e.frame % 7 === 0) {
              ctx.alert({
                // A window start before now: the suppression interval runs from the raise's clock.
                key: `k${e.frame % 5}`, windowStart: e.ts - 10_000_000, entity: { kind: 'client_id', value: 'x' }, summary: `at ${ctx.now}`,
                evidence: {}, proof: { frames: [e.frame], flows: [], first: e.ts, last: e.ts, n: 1 }, count: 1,
              });
            }
          },
        }),
      } as unknown as AnyDetector;
      // learningEnd falls inside the capture: ctx.learning changes mid-batch.
      const e = createEngine({ batch, detectors: [clocked], config: { learningPeriod: 5, suppress: 1 } });
      for (const ev of attack) e.onEvent(ev);
      e.flush();
      return { log, alerts: e.alerts(), stats: e.stats() };
    };
    const base = seen(0);
    expect(base.log.length).toBeGreaterThan(100);
    expect(new Set(base.log.map((l) => l.split(' ')[2]))).toEqual(new Set(['true', 'false']));
    expect(base.alerts.length).toBeGreaterThan(3); // suppression intervals end and new alerts open
    for (const batch of [3, 64, 1024]) expect(seen(batch), `batch ${batch}`).toEqual(base);
  });

  it('counts events per type, routed or not', () => {
    const e = createEngine({ batch: 16 });
    const flow = { proto: 'tcp', src: '10.0.0.1', sport: 1, dst: '10.0.0.2', dport: 1883, communityId: '', dir: 'to_server', flowId: 1, sensor: 's' };
    for (let i = 0; i < 5; i++) e.onEvent({ type: 'mqtt.pingreq', ts: 1_000_000 + i, frame: i + 1, flow } as unknown as IotEvent);
    e.onEvent({ type: 'no.such.type', ts: 2_000_000, frame: 6, flow } as unknown as IotEvent);
    expect(e.eventCounts()).toEqual(new Map([['mqtt.pingreq', 5], ['no.such.type', 1]]));
  });

  it('rejects a bad batch size', () => {
    expect(() => createEngine({ batch: -1 })).toThrow(/batch/);
    expect(() => createEngine({ batch: 1.5 })).toThrow(/batch/);
  });
});
