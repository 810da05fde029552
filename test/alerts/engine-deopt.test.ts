import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/alerts/engine';
import { detector as rateAnomaly } from '../../detectors/mqtt.rate_anomaly';
import { detector as anonymousAccess } from '../../detectors/mqtt.anonymous_access';
import type { InputEvent } from '../../detectors/lib/detector';
import {
  anomaly, at, coapFlow, coapRequest, connack, connect, disconnect, flow, flowEnd, flowStart, publish, subscribe,
} from '../detectors/helpers';

// Every event passes through the engine's onEvent, and each event type has a hidden class of its
// own. Rare types first turn up anywhere in a capture; read at a site that only knew the shapes
// seen before, each new one threw the optimised onEvent (and the pipeline code it is inlined into)
// back to the interpreter, to be compiled again: four times on the bench capture. The engine reads
// the type, time and flow of such events at sites made megamorphic beforehand, which never deopt.
setFlagsFromString('--allow-natives-syntax');
/* eslint-disable @typescript-eslint/no-implied-eval */
const status = new Function('f', 'return %GetOptimizationStatus(f)') as (f: unknown) => number;
const prepare = new Function('f', '%PrepareFunctionForOptimization(f)') as (f: unknown) => void;
const optimizeNext = new Function('f', '%OptimizeFunctionOnNextCall(f)') as (f: unknown) => void;
/* eslint-enable @typescript-eslint/no-implied-eval */
/** V8's OptimizationStatus bit for code made by TurboFan. */
const TURBOFANNED = 1 << 6;

describe('engine.onEvent and events of types it has not seen', () => {
  it('sanity: the status check sees a deoptimisation', () => {
    const f = (o: { x: number }): number => o.x + 1;
    prepare(f);
    f({ x: 1 });
    optimizeNext(f);
    f({ x: 1 });
    expect(status(f) & TURBOFANNED).not.toBe(0);
    f({ y: 1, x: 1 } as unknown as { x: number }); // a new map at a monomorphic site deoptimises
    expect(status(f) & TURBOFANNED).toBe(0);
  });

  it('stays optimised when new event types arrive', () => {
    const engine = createEngine({ detectors: [rateAnomaly, anonymousAccess] });
    const onEvent = Object.getPrototypeOf(engine).onEvent as (e: InputEvent) => void;
    const mq = flow('10.0.0.1', '10.0.0.9');
    const cf = coapFlow('10.0.0.2', '10.0.0.9');
    prepare(onEvent);
    // Warm-up: the frequent types, two routed rare types and one no detector takes.
    const warm: InputEvent[] = [flowStart(mq, at(0)), connect(mq, at(0), { clientId: 'm' }), connack(mq, at(0), 0, { clientId: 'm' })];
    for (let i = 0; i < 300; i++) {
      warm.push(publish(mq, at(i / 100), 'plant/a/t', { clientId: 'm' }), coapRequest(cf, at(i / 100), 'GET', '/t'));
      if (i % 50 === 0) warm.push(connect(mq, at(i / 100), { clientId: 'm' }), connack(mq, at(i / 100), 0, { clientId: 'm' }), flowStart(mq, at(i / 100)));
    }
    for (const e of warm) engine.onEvent(e);
    optimizeNext(onEvent);
    engine.onEvent(publish(mq, at(3), 'plant/a/t', { clientId: 'm' }));
    expect(status(onEvent) & TURBOFANNED).not.toBe(0);
    // Types (and so hidden classes) the optimised code has never seen.
    const later: InputEvent[] = [
      subscribe(mq, at(3), ['plant/#'], { clientId: 'm' }),
      disconnect(mq, at(3), { clientId: 'm' }),
      anomaly(mq, at(3), 'mqtt.malformed'),
      flowEnd(mq, at(3)),
    ];
    for (const e of later) {
      engine.onEvent(e);
      expect({ type: e.type, turbofanned: (status(onEvent) & TURBOFANNED) !== 0 }).toEqual({ type: e.type, turbofanned: true });
    }
    expect(engine.eventCounts().get('flow.end')).toBe(1);
  });

  it('stays optimised through its first tick and the first event no detector takes (batched, as offline)', () => {
    // The bench capture's pattern: PUBLISH and CoAP for a second of capture time, then the first
    // tick (with events held in the batch) and the first PUBACK-like event nobody subscribes to.
    const engine = createEngine({ detectors: [rateAnomaly, anonymousAccess], batch: 1024 });
    const onEvent = Object.getPrototypeOf(engine).onEvent as (e: InputEvent) => void;
    const mq = flow('10.0.0.3', '10.0.0.9');
    const cf = coapFlow('10.0.0.4', '10.0.0.9');
    prepare(onEvent);
    engine.onEvent(connect(mq, at(0), { clientId: 'n' }));
    engine.onEvent(connack(mq, at(0), 0, { clientId: 'n' }));
    for (let i = 0; i < 600; i++) {
      engine.onEvent(publish(mq, at(i / 1000), 'plant/b/t', { clientId: 'n' }));
      engine.onEvent(coapRequest(cf, at(i / 1000), 'GET', '/t'));
    }
    optimizeNext(onEvent);
    engine.onEvent(publish(mq, at(0.7), 'plant/b/t', { clientId: 'n' }));
    expect(status(onEvent) & TURBOFANNED).not.toBe(0);
    const later: [string, InputEvent][] = [
      ['first tick, a second in', publish(mq, at(1.2), 'plant/b/t', { clientId: 'n' })],
      ['no detector takes it', flowStart(mq, at(1.3))],
      ['again', flowStart(mq, at(1.4))],
    ];
    for (const [what, e] of later) {
      engine.onEvent(e);
      expect({ what, turbofanned: (status(onEvent) & TURBOFANNED) !== 0 }).toEqual({ what, turbofanned: true });
    }
    expect(engine.stats().unrouted).toBe(602); // the CoAP requests too: neither detector takes them
    expect(engine.stats().events).toBe(1206);
  });
});
