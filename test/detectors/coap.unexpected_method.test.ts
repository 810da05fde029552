import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/coap.unexpected_method';
import { at, coapFlow, coapRequest, coapResponse, run, spread } from './helpers';
import type { InputEvent } from '../../detectors/lib/detector';

const op = coapFlow('10.0.0.50', '10.0.1.5');
/** Learning: /temp is only ever read; /setpoint is read and written. */
const learning = (): InputEvent[] => [
  ...spread(30, 0, 300, (t) => coapRequest(op, t, 'GET', '/temp')),
  coapRequest(op, at(100), 'PUT', '/setpoint'),
  coapRequest(op, at(101), 'GET', '/setpoint'),
];
const opts = { learningPeriod: 300 };
const after = (...e: InputEvent[]) => run(detector, [...learning(), ...e], opts).alerts;

describe('coap.unexpected_method', () => {
  it('a PUT on a resource only ever read: one write is enough', () => {
    const alerts = after(coapRequest(op, at(400), 'PUT', '/temp'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ entity: { kind: 'coap_resource', value: '10.0.1.5:5683/temp' }, severity: 'medium', mitre: 'T0855' });
    expect(alerts[0].evidence).toMatchObject({ methods: ['PUT'], baselineMethods: ['GET'], observed: 1, threshold: 1, accepted: 0 });
  });

  it('reads (of known or new resources) and baseline writes do not fire', () => {
    expect(after(coapRequest(op, at(400), 'GET', '/temp'), coapRequest(op, at(401), 'GET', '/humidity'), coapRequest(op, at(402), 'PUT', '/setpoint'))).toHaveLength(0);
  });

  it('writes to one resource fold into one alert; DELETE is high', () => {
    const alerts = after(coapRequest(op, at(400), 'PUT', '/temp'), coapRequest(op, at(401), 'DELETE', '/temp'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'high', count: 2, evidence: { methods: ['PUT', 'DELETE'] } });
  });

  it('DELETE is high; a write the server accepted (2.04) raises it to high', () => {
    expect(after(coapRequest(op, at(400), 'DELETE', '/temp'))[0].severity).toBe('high');
    const accepted = after(
      coapRequest(op, at(400), 'PUT', '/temp'),
      coapResponse(op, at(400.01), '2.04', { requestMethod: 'PUT', requestPath: '/temp' }),
    );
    expect(accepted).toHaveLength(1);
    expect(accepted[0]).toMatchObject({ severity: 'high', evidence: { accepted: 1 } });
  });

  it('a write on a resource never seen on a server with a baseline', () => {
    const alerts = after(coapRequest(op, at(400), 'POST', '/firmware'));
    expect(alerts[0].summary).toMatch(/never seen in the baseline/);
  });

  it('a server first seen after learning learns for entityLearning seconds', () => {
    const fresh = coapFlow('10.0.0.50', '10.0.1.99');
    expect(after(coapRequest(fresh, at(400), 'PUT', '/x'))).toHaveLength(0);
    expect(after(coapRequest(fresh, at(400), 'GET', '/x'), coapRequest(fresh, at(400 + 601), 'PUT', '/x'))).toHaveLength(1);
  });

  it('suppression: 20 writes in a window are one alert with count 20', () => {
    const writes = spread(20, 400, 60, (t) => coapRequest(op, t, 'PUT', '/temp'));
    const { alerts, log } = run(detector, [...learning(), ...writes], opts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].count).toBe(20);
    expect(log.map(([k]) => k)).toEqual(['new', 'update']);
  });
});
