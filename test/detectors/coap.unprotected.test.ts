import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/coap.unprotected';
import { at, coapFlow, coapRequest, coapResponse, run } from './helpers';

const f = coapFlow('10.0.0.50', '10.0.1.5');

describe('coap.unprotected', () => {
  it('a write without DTLS or OSCORE', () => {
    const { alerts } = run(detector, [coapRequest(f, at(1), 'PUT', '/setpoint')]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ category: 'posture', severity: 'medium', entity: { kind: 'server', value: '10.0.1.5:5683' }, evidence: { resources: ['PUT /setpoint'], accepted: 0 } });
  });

  it('reads, and writes under OSCORE, are fine', () => {
    expect(run(detector, [coapRequest(f, at(1), 'GET', '/temp'), coapRequest(f, at(2), 'POST', '/x', { oscore: true })]).alerts).toHaveLength(0);
  });

  it('one finding per server, raised to high once a write is accepted', () => {
    const events = [
      coapRequest(f, at(1), 'PUT', '/setpoint'),
      coapResponse(f, at(1.01), '2.04', { requestMethod: 'PUT', requestPath: '/setpoint' }),
      coapRequest(f, at(2), 'DELETE', '/log'),
      coapResponse(f, at(2.01), '4.01', { requestMethod: 'DELETE', requestPath: '/log' }),
    ];
    const { alerts, log } = run(detector, events);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'high', count: 2, evidence: { accepted: 1, resources: ['PUT /setpoint', 'DELETE /log'] } });
    expect(log.map(([k]) => k)).toEqual(['new', 'update']);
  });
});
