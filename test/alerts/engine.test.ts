import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/alerts/engine';
import { alertId } from '../../src/alerts/ids';
import type { Alert, AlertKind } from '../../src/alerts/types';
import { defineDetector, type AnyDetector, type InputEvent } from '../../detectors/lib/detector';
import { proofOf } from '../../detectors/lib/proof';
import { DETECTORS } from '../../detectors';
import { detector as rate } from '../../detectors/mqtt.rate_anomaly';
import {
  anomaly, at, certificate, coapFlow, coapRequest, coapResponse, connack, connect, flow, flowEnd, flowStart, publish, run, serverHello,
  spread, subscribe, T0,
} from '../detectors/helpers';

/** A detector that records what it is given. */
function recorder(types: readonly InputEvent['type'][], log: string[], opts: { throwOn?: number } = {}): AnyDetector {
  return defineDetector({
    id: 'test.recorder', category: 'anomaly', severity: 'low', usesBaseline: false, description: 'records', recommendation: 'none', mitre: null,
    subscribes: types, tunables: { n: 1 }, schema: { n: { type: 'integer', min: 0, max: 10, description: 'n' } },
    create(ctx) {
      let seen = 0;
      return {
        onEvent(e: InputEvent) {
          seen++;
          if (seen === opts.throwOn) throw new Error('boom');
          log.push(`${e.type}@${(ctx.now - T0) / 1e6}`);
          if (e.type === 'mqtt.publish') ctx.alert({ key: 'k', windowStart: 0, entity: { kind: 'topic', value: e.topic }, summary: 's', evidence: { observed: seen, baseline: null, threshold: 1, window: 0 }, proof: proofOf(e), count: seen });
        },
        tick(now: number) {
          log.push(`tick@${(now - T0) / 1e6}`);
        },
      };
    },
  });
}

const f = flow('10.0.0.11', '10.0.0.1');

describe('engine routing and clock', () => {
  it('routes each event only to detectors subscribed to its type; the clock is capture time', () => {
    const log: string[] = [];
    const e = createEngine({ detectors: [recorder(['mqtt.publish', 'flow.end'], log)] });
    e.onEvent(connect(f, at(0.5), { clientId: 'a' }));
    e.onEvent(publish(f, at(0.7), 't', { clientId: 'a' }));
    e.onEvent(flowEnd(f, at(2.2)));
    e.onEvent(publish(f, at(2.1), 'late', { clientId: 'a' })); // out of order: the clock does not go back
    expect(log).toEqual(['tick@0.5', 'mqtt.publish@0.7', 'tick@2.2', 'flow.end@2.2', 'mqtt.publish@2.2']);
    expect(e.stats()).toMatchObject({ events: 4, unrouted: 1, firstTs: at(0.5), lastTs: at(2.2) });
  });

  it('a detector that throws is counted and the others go on', () => {
    const log: string[] = [];
    const e = createEngine({ detectors: [recorder(['mqtt.publish'], log, { throwOn: 1 })] });
    e.onEvent(publish(f, at(1), 'a', { clientId: 'a' }));
    e.onEvent(publish(f, at(1), 'b', { clientId: 'a' }));
    expect(e.stats().detectors['test.recorder']).toMatchObject({ errors: 1, lastError: 'Error: boom' });
    expect(e.alerts()).toHaveLength(1);
  });

  it('the sink sees new then update with the same id, as snapshots', () => {
    const got: [AlertKind, Alert][] = [];
    const e = createEngine({ detectors: [recorder(['mqtt.publish'], [])], onAlert: (a, k) => got.push([k, a]) });
    e.onEvent(publish(f, at(1), 'a', { clientId: 'a' }));
    e.onEvent(publish(f, at(2), 'b', { clientId: 'a' }));
    expect(got.map(([k]) => k)).toEqual(['new', 'update']);
    expect(got[0][1].id).toBe(got[1][1].id);
    expect(got[0][1].frames).toHaveLength(1); // not mutated by the update
    expect(got[1][1].frames).toHaveLength(2);
    expect(got[1][1].count).toBe(2);
    expect(e.alerts()[0].id).toBe(alertId('test.recorder', 'k', 0));
  });

  it('maxAlerts bounds what alerts() keeps; the sink still sees everything', () => {
    const seen: string[] = [];
    const e = createEngine({ detectors: [DETECTORS.find((d) => d.id === 'mqtt.anonymous_access')!], config: { maxAlerts: 2 }, onAlert: (a) => seen.push(a.id) });
    for (let i = 0; i < 4; i++) {
      const g = flow('10.0.0.5', `10.0.1.${i}`);
      e.onEvent(connect(g, at(i), { clientId: 'x' }));
      e.onEvent(connack(g, at(i + 0.1), 0));
    }
    expect(new Set(seen).size).toBe(4);
    expect(e.alerts()).toHaveLength(2);
    expect(e.stats().alerts).toMatchObject({ created: 4, notRetained: 2 });
  });

  it('disabled detectors do not run', () => {
    const e = createEngine({ config: { detectors: { 'mqtt.rate_anomaly': { enabled: false } } } });
    expect(e.detectors).not.toContain('mqtt.rate_anomaly');
    expect(e.detectors).toHaveLength(DETECTORS.length - 1);
  });
});

/** A small plant with an attack or two in it, touching every detector. */
function plant(): InputEvent[] {
  const ev: InputEvent[] = [];
  for (let m = 0; m < 5; m++) {
    const mf = flow(`10.0.0.${20 + m}`, '10.0.0.1');
    const id = { clientId: `meter-${m}`, username: `meter-${m}` };
    ev.push(flowStart(mf, at(m)), connect(mf, at(m + 0.1), { ...id, password: `pw${m}` }), connack(mf, at(m + 0.2), 0, id));
    ev.push(...spread(900, m, 900, (t) => publish(mf, t, `plant/meters/m${m}/kw`, id)));
  }
  const dash = flow('10.0.0.30', '10.0.0.1');
  ev.push(subscribe(dash, at(5), ['plant/+/kw'], { clientId: 'dash', username: 'dash' }), subscribe(dash, at(700), ['#', '$SYS/#'], { clientId: 'dash', username: 'dash' }));
  ev.push(publish(dash, at(701), '$SYS/broker/version', { clientId: 'dash', username: 'dash', down: true }));
  const atk = flow('192.0.2.66', '10.0.0.1');
  for (let i = 0; i < 12; i++) ev.push(connect(atk, at(800 + i), { clientId: 'x', username: 'admin', password: `guess${i}` }), connack(atk, at(800 + i + 0.1), 5, { username: 'admin' }));
  ev.push(anomaly(atk, at(820), 'mqtt.malformed'));
  const cf = coapFlow('10.0.0.50', '10.0.1.5');
  ev.push(...spread(60, 0, 600, (t) => coapRequest(cf, t, 'GET', '/temp')), coapRequest(cf, at(750), 'PUT', '/temp'), coapResponse(cf, at(750.1), '2.04', { requestMethod: 'PUT', requestPath: '/temp' }));
  const tls = flow('10.0.0.60', '10.0.0.1', { sport: 8883 });
  ev.push(serverHello(tls, at(3), 0x0301, false), certificate(tls, at(3.1), { selfSigned: true, notAfter: at(-86_400 * 300) }));
  return ev.sort((a, b) => a.ts - b.ts);
}

describe('deterministic alerts', () => {
  it('the same event array twice gives identical alerts, ids included', () => {
    const events = plant();
    const once = () => {
      const e = createEngine({ config: { learningPeriod: 600 } });
      for (const x of events) e.onEvent(x);
      e.flush();
      return e.alerts();
    };
    const a = once();
    const b = once();
    expect(a.length).toBeGreaterThan(5);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    for (const x of a) expect(x.id).toMatch(/^[0-9a-f]{32}$/);
    const detectors = new Set(a.map((x) => x.detector));
    for (const d of ['mqtt.auth_bruteforce', 'mqtt.plaintext_credentials', 'mqtt.wildcard_subscription', 'mqtt.sys_topic_exposure', 'coap.unexpected_method',
      'coap.unprotected', 'tls.weak_version', 'tls.cert_expired', 'tls.self_signed', 'tls.no_client_auth', 'mqtt.protocol_violation']) {
      expect(detectors, d).toContain(d);
    }
    expect(Object.values(createEngine().stats().detectors).every((d) => d.errors === 0)).toBe(true);
  });
});

describe('learn, export, import', () => {
  const meter = flow('10.0.0.11', '10.0.0.1');
  const s = { clientId: 'meter-1', username: 'meter-1' };
  const steady = (from: number, minutes: number) => spread(60 * minutes, from, 60 * minutes, (t) => publish(meter, t, 'plant/meters/m1/kw', s));
  const burst = (from: number, n: number) => spread(n, from, 60, (t) => publish(meter, t, 'plant/meters/m1/kw', s));

  function learn() {
    const e = createEngine({ mode: 'learn', detectors: [rate] });
    for (const x of steady(0, 10)) e.onEvent(x);
    // Even posture facts raise nothing in learn mode.
    e.flush();
    expect(e.alerts()).toHaveLength(0);
    return JSON.parse(JSON.stringify(e.exportBaseline()));
  }

  it('exports a versioned baseline that restores detection without relearning', () => {
    const baseline = learn();
    expect(baseline).toMatchObject({ format: 'iotwatch-baseline', version: 1, capture: { firstTs: T0, events: 600 } });
    expect(baseline.detectors['mqtt.rate_anomaly'].state.clients.entities[0][0]).toBe('meter-1');

    // A later capture: the flood comes in its first minute, before any learning period could end.
    const later = 86_400;
    const withBaseline = run(rate, burst(later, 150), { baseline, learningPeriod: undefined, config: {} });
    expect(withBaseline.alerts).toHaveLength(1);
    expect(withBaseline.alerts[0].evidence).toMatchObject({ baseline: 60, threshold: 150 });
    expect(run(rate, burst(later, 149), { baseline, config: {} }).alerts).toHaveLength(0);

    // Without it, the default learning period (600 s) keeps the engine quiet.
    const e = createEngine({ detectors: [rate] });
    for (const x of burst(later, 5000)) e.onEvent(x);
    e.flush();
    expect(e.alerts()).toHaveLength(0);
    expect(e.stats().learningEnd).toBe(at(later + 600));
  });

  it('export -> import -> export is stable', () => {
    const baseline = learn();
    const e = createEngine({ detectors: [rate], baseline });
    expect(JSON.parse(JSON.stringify(e.exportBaseline())).detectors).toEqual(baseline.detectors);
    const later = createEngine({ detectors: [rate] });
    later.importBaseline(baseline);
    expect(later.stats().baselineLoaded).toBe(true);
    later.onEvent(publish(meter, at(1), 'x', s));
    expect(() => later.importBaseline(baseline)).toThrow(/before the first event/);
  });

  it('rejects other formats and versions with a clear error', () => {
    const baseline = learn();
    expect(() => createEngine({ baseline: { ...baseline, version: 2 } })).toThrow(/version 2 is not supported/);
    expect(() => createEngine({ baseline: { format: 'x' } })).toThrow(/not an iotwatch baseline/);
  });

  it('a baseline learned with other windows is skipped with a warning, not misread', () => {
    const baseline = learn();
    const e = createEngine({ detectors: [rate], baseline, config: { detectors: { 'mqtt.rate_anomaly': { window: 300 } } } });
    expect(e.stats().baselineWarnings).toEqual(['mqtt.rate_anomaly: baseline not loaded: baseline was learned with 60 s windows, this run uses 300 s']);
  });

  it('every detector exports a baseline that imports cleanly', () => {
    const e = createEngine({ mode: 'learn', config: { learningPeriod: 0 } });
    for (const x of plant()) e.onEvent(x);
    e.flush();
    const b = JSON.parse(JSON.stringify(e.exportBaseline()));
    const d = createEngine({ baseline: b });
    expect(d.stats().baselineWarnings).toEqual([]);
    expect(JSON.parse(JSON.stringify(d.exportBaseline())).detectors).toEqual(b.detectors);
  });
});

describe('bounded state', () => {
  it('tables show size, bound and evictions in stats', () => {
    const { engine } = run(rate, spread(50, 0, 10, (t, i) => publish(flow(`10.1.0.${i}`, '10.0.0.1'), t, `t/${i}`, { clientId: `c${i}` })), { tunables: { maxEntities: 20 } });
    expect(engine.stats().detectors['mqtt.rate_anomaly'].tables).toEqual({
      clients: { size: 20, max: 20, evictions: 30 },
      topics: { size: 20, max: 20, evictions: 30 },
    });
  });
});
