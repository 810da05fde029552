import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/coap.amplification';
import { at, coapFlow, coapRequest, coapResponse, run, spread } from './helpers';
import type { InputEvent } from '../../detectors/lib/detector';

const client = '10.0.0.50';
const sensor = coapFlow(client, '10.0.1.5');
/** Learning: a reading every 5 s, 20-byte request, 30-byte response. */
const learning = () => spread(60, 0, 300, (t) => [coapRequest(sensor, t, 'GET', '/temp'), coapResponse(sensor, t + 2000, '2.05')]).flat();

/** n discovery exchanges in minute 5: 20-byte requests, `size`-byte responses. */
function reflect(n: number, size = 1000, reqSize = 20): InputEvent[] {
  return spread(n, 300, 60, (t) => [
    coapRequest(sensor, t, 'GET', '/.well-known/core', { length: reqSize }),
    coapResponse(sensor, t + 2000, '2.05', { length: size, requestMethod: 'GET', requestPath: '/.well-known/core' }),
  ]).flat();
}
const opts = { learningPeriod: 300 };

describe('coap.amplification', () => {
  it('fires when response bytes reach 100 kB a minute at 10x the request bytes', () => {
    const { alerts } = run(detector, [...learning(), ...reflect(100)], opts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ entity: { kind: 'address', value: client }, severity: 'high' });
    expect(alerts[0].evidence).toMatchObject({ metric: 'response_bytes', observed: 100_000, threshold: 100_000, requestBytes: 2000, ratio: 50 });
  });

  it('not at 99 kB', () => {
    expect(run(detector, [...learning(), ...reflect(99)], opts).alerts).toHaveLength(0);
  });

  it('a download (responses about the size of requests) is not amplification', () => {
    expect(run(detector, [...learning(), ...reflect(300, 1000, 1000)], opts).alerts).toHaveLength(0);
  });

  it('discovery fan-out: 10 servers answering /.well-known/core', () => {
    const fan = (n: number) => Array.from({ length: n }, (_, i) => {
      const f = coapFlow(client, `10.0.3.${i + 1}`);
      return [coapRequest(f, at(300 + i), 'GET', '/.well-known/core'), coapResponse(f, at(300 + i + 0.01), '2.05', { length: 200, requestMethod: 'GET', requestPath: '/.well-known/core' })];
    }).flat();
    const hit = run(detector, [...learning(), ...fan(10)], opts).alerts;
    expect(hit).toHaveLength(1);
    expect(hit[0].evidence).toMatchObject({ metric: 'discovery_servers', observed: 10, threshold: 10 });
    expect(run(detector, [...learning(), ...fan(9)], opts).alerts).toHaveLength(0);
  });

  it('discovery fan-out from one server: /.well-known/core answered to 10 addresses', () => {
    const sweep = (n: number) => Array.from({ length: n }, (_, i) => {
      const g = coapFlow(`10.0.5.${i + 1}`, '10.0.1.5');
      return [coapRequest(g, at(300 + i), 'GET', '/.well-known/core'), coapResponse(g, at(300 + i + 0.01), '2.05', { length: 200, requestMethod: 'GET', requestPath: '/.well-known/core' })];
    }).flat();
    const hit = run(detector, [...learning(), ...sweep(10)], opts).alerts;
    expect(hit).toHaveLength(1);
    expect(hit[0]).toMatchObject({ entity: { kind: 'server', value: '10.0.1.5:5683' }, evidence: { metric: 'discovery_recipients', observed: 10, threshold: 10 } });
    expect(run(detector, [...learning(), ...sweep(9)], opts).alerts).toHaveLength(0);
  });

  it('a peer that is client and server on one flow (LwM2M): responses it sends count for their receiver', () => {
    // The device registers (its request on the flow's first side), then the server reads it:
    // requests on the other side, large responses on the first. The responses go to the server
    // (new, so judged by the cold threshold, 1 MB), and so do the bytes of its requests.
    const lw = coapFlow(client, '10.0.1.5');
    const rev = { up: lw.down, down: lw.up };
    const reads = spread(1000, 300, 60, (t) => [
      coapRequest(rev, t, 'GET', '/3/0', { length: 20 }),
      coapResponse(rev, t + 2000, '2.05', { length: 1000, requestMethod: 'GET', requestPath: '/3/0' }),
    ]).flat();
    const { alerts } = run(detector, [...learning(), coapRequest(lw, at(299), 'POST', '/rd'), ...reads], opts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ entity: { kind: 'address', value: '10.0.1.5' } });
    expect(alerts[0].evidence).toMatchObject({ metric: 'response_bytes', observed: 1_000_000, threshold: 1_000_000, requestBytes: 20_000 });
  });

  it('suppression: one alert per target and window', () => {
    const { alerts, log } = run(detector, [...learning(), ...reflect(500)], opts);
    expect(alerts).toHaveLength(1);
    expect(log.map(([k]) => k)).toEqual(['new', 'update']);
    expect(alerts[0].evidence.observed).toBe(500_000);
  });
});
