// Routing coap.message by class (DetectorModule.coapMessages): a detector is not called for the
// messages it declares it ignores, and that changes nothing it reports or learns.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/alerts/engine';
import type { CoapMessage } from '../../src/events/types';
import { defineDetector, type AnyDetector, type InputEvent } from '../../detectors/lib/detector';
import { COAP_CLASSES, COAP_METHODS, coapClass, coapClasses } from '../../detectors/lib/coap';
import { DETECTORS } from '../../detectors';
import { at, coapFlow, coapRequest, coapReset, coapResponse, flowEnd, type Flow } from '../detectors/helpers';

/** A detector that records the CoAP messages it is given, taking only those `accepts` lets through. */
function recorder(log: string[], accepts?: AnyDetector['coapMessages']): AnyDetector {
  return defineDetector({
    id: 'test.coap', category: 'anomaly', severity: 'low', usesBaseline: false, description: 'records', recommendation: 'none', mitre: null,
    subscribes: ['coap.message', 'flow.end'], tunables: {}, schema: {}, coapMessages: accepts,
    create: () => ({
      onEvent(e: InputEvent) {
        log.push(e.type === 'coap.message' ? `${e.kind} ${e.method ?? e.requestMethod ?? '-'} ${e.frame}` : e.type);
      },
    }),
  });
}

/** A message of a kind the helpers do not make (RFC 8323 signal, reserved code class). */
function oddKind(f: Flow, t: number, kind: 'signal' | 'reserved', frame: number): CoapMessage {
  return {
    type: 'coap.message', ts: t, frame, flow: f.up, version: 1, msgType: 'CON', code: kind === 'signal' ? '7.01' : '1.00', kind,
    messageId: frame, token: '', options: [], payloadLength: 0, length: 4,
  };
}

describe('coap.message classes', () => {
  it('number every kind and method once, 0 left to other events', () => {
    const all = coapClasses();
    const numbers = all.map((x) => x.n);
    expect(new Set(numbers).size).toBe(all.length);
    expect(Math.min(...numbers)).toBe(1);
    expect(Math.max(...numbers)).toBe(COAP_CLASSES - 1);
    for (const { n, c } of all) expect(coapClass(c.kind, c.method)).toBe(n);
    // A method the decoder never names is a message without one.
    expect(coapClass('request', 'BREW')).toBe(coapClass('request', undefined));
    expect(all.filter((x) => x.c.kind === 'request').map((x) => x.c.method)).toEqual([undefined, ...COAP_METHODS]);
  });
});

describe('engine routing by coap.message class', () => {
  const f = coapFlow('10.0.2.1', '10.0.0.2');
  const events = (): InputEvent[] => {
    const out: InputEvent[] = [
      coapRequest(f, at(1), 'GET', '/a'),
      coapResponse(f, at(1.1), '2.05', { requestMethod: 'GET', requestPath: '/a' }),
      coapRequest(f, at(2), 'POST', '/a'),
      coapResponse(f, at(2.1), '2.04', { requestMethod: 'POST', requestPath: '/a' }),
      coapResponse(f, at(2.2), '2.05', { matched: false }), // no request explains it: no method
      coapReset(f, at(3)),
      coapRequest(f, at(4), 'DELETE', '/a'),
    ];
    out.push(oddKind(f, at(5), 'signal', 9001), oddKind(f, at(5.5), 'reserved', 9002));
    out.push(flowEnd(f, at(6)));
    return out;
  };
  // Writes, and the responses to them (the shape of coap.unprotected's filter).
  const writes: AnyDetector['coapMessages'] = (c) => (c.kind === 'request' || c.kind === 'response') && c.method !== undefined && c.method !== 'GET';

  for (const batch of [0, 3, 1024]) {
    it(`calls a detector only for the classes it takes, in order, other types as before (batch ${batch})`, () => {
      const all: string[] = [];
      const some: string[] = [];
      const e = createEngine({ detectors: [recorder(all), { ...recorder(some, writes), id: 'test.writes' }], batch, config: { learningPeriod: 0 } });
      const input = events();
      for (const ev of input) e.onEvent(ev);
      e.flush();
      expect(all).toHaveLength(input.length);
      const frames = input.map((x) => x.frame);
      expect(some).toEqual([
        `request POST ${frames[2]}`, `response POST ${frames[3]}`, `request DELETE ${frames[6]}`, 'flow.end',
      ]);
    });
  }

  it('asks the filter once per class with the run\'s tunables, not per event', () => {
    const asked: string[] = [];
    const det = defineDetector({
      ...recorder([]), id: 'test.asked', tunables: { only: 'PUT' }, schema: { only: { type: 'string', description: 'method' } },
      coapMessages: (c, t: { only: string }) => {
        asked.push(`${c.kind}/${c.method ?? '-'}`);
        return c.method === t.only;
      },
    });
    const log: string[] = [];
    const e = createEngine({ detectors: [{ ...det, create: recorder(log).create }], config: { learningPeriod: 0, detectors: { 'test.asked': { only: 'DELETE' } } } });
    expect(asked).toHaveLength(COAP_CLASSES - 1);
    for (const ev of events()) e.onEvent(ev);
    expect(asked).toHaveLength(COAP_CLASSES - 1);
    expect(log.filter((l) => l !== 'flow.end')).toEqual([expect.stringMatching(/^request DELETE /)]);
  });
});

/** A seeded generator (mulberry32): the same traffic on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Twenty minutes of mixed CoAP: reads, writes (some over OSCORE), discovery answered with large
 * responses, responses no request explains, RSTs, odd kinds; after ten minutes, bursts of requests
 * and writes to resources that were only read, so each detector has something to report.
 */
function traffic(): InputEvent[] {
  const rnd = random(7);
  const servers = ['10.0.0.2', '10.0.0.3'];
  const flows = Array.from({ length: 12 }, (_, i) => coapFlow(`10.0.2.${i + 1}`, servers[i % 2], 50_000 + i));
  const paths = ['/sensors/t', '/sensors/h', '/actuators/valve', '/.well-known/core'];
  const methods = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE', 'FETCH', 'iPATCH'];
  const out: InputEvent[] = [];
  let frame = 100_000;
  for (let s = 0; s < 1200; s += 0.5) {
    const late = s >= 600;
    const n = late && s % 60 < 10 ? 40 : 2;
    for (let k = 0; k < n; k++) {
      const f = flows[Math.floor(rnd() * flows.length)];
      const t = at(s + k * 0.01);
      const r = rnd();
      const path = paths[Math.floor(rnd() * (late ? 4 : 3))];
      const method = late || path !== '/actuators/valve' ? methods[Math.floor(rnd() * methods.length)] : 'GET';
      if (r < 0.05) out.push(coapReset(f, t, rnd() < 0.5));
      else if (r < 0.08) out.push(coapResponse(f, t, '2.05', { matched: false, length: 400 }));
      else if (r < 0.09) out.push(oddKind(f, t, rnd() < 0.5 ? 'signal' : 'reserved', ++frame));
      else {
        out.push(coapRequest(f, t, method, path, { oscore: rnd() < 0.1, length: 20 }));
        if (rnd() < 0.9) {
          const big = path === '/.well-known/core';
          out.push(coapResponse(f, t + 1000, rnd() < 0.8 ? '2.05' : '4.04', { requestMethod: method, requestPath: path, length: big ? 1200 : 30 }));
        }
      }
    }
  }
  return out;
}

const FILTERED = DETECTORS.filter((d) => d.coapMessages !== undefined);

const TUNABLES: Record<string, Record<string, unknown>> = {
  'coap.request_flood': { minRequests: 20, coldRequests: 40 },
  'coap.amplification': { minBytes: 2000, coldBytes: 4000, minRatio: 2, minServers: 2, coldServers: 2, minRecipients: 2, coldRecipients: 3 },
  'coap.unexpected_method': { entityLearning: 60 },
};

describe('coap.message filters of the detectors', () => {
  it('are declared by the CoAP detectors that ignore some messages', () => {
    expect(FILTERED.map((d) => d.id).sort()).toEqual(['coap.amplification', 'coap.request_flood', 'coap.unexpected_method', 'coap.unprotected']);
  });

  const input = traffic();
  for (const det of FILTERED) {
    for (const batch of [0, 1024]) {
      it(`${det.id}: the same alerts, stats and baseline as when given every message (batch ${batch})`, () => {
        const calls = [0, 0];
        const go = (d: AnyDetector, i: number) => {
          const counted: AnyDetector = {
            ...d,
            create(ctx, t) {
              const inst = d.create(ctx, t);
              const onEvent = inst.onEvent;
              inst.onEvent = (e) => {
                calls[i]++;
                onEvent.call(inst, e);
              };
              return inst;
            },
          };
          const e = createEngine({ detectors: [counted], batch, config: { learningPeriod: 300, detectors: { [d.id]: TUNABLES[d.id] ?? {} } } });
          for (const ev of input) e.onEvent(ev);
          e.flush();
          const { events: _events, ...stats } = e.stats();
          return { alerts: e.alerts(), stats, baseline: e.exportBaseline().detectors };
        };
        const filtered = go(det, 0);
        const unfiltered = go({ ...det, coapMessages: undefined }, 1);
        expect(filtered.alerts.length).toBeGreaterThan(0);
        expect(filtered).toEqual(unfiltered);
        // Not vacuous: the filter kept messages away from the detector.
        expect(calls[1]).toBe(input.length);
        expect(calls[0]).toBeLessThan(calls[1]);
      });
    }
  }
});
