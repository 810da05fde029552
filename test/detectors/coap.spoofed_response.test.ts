import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/coap.spoofed_response';
import { at, coapFlow, coapRequest, coapReset, coapResponse, run, spread } from './helpers';

const client = '10.0.0.50';
const sensor = coapFlow(client, '10.0.1.5');
/** Learning: every response is paired with a request. */
const learning = () => spread(60, 0, 300, (t) => [coapRequest(sensor, t, 'GET', '/temp'), coapResponse(sensor, t + 2000, '2.05')]).flat();
const unmatched = (n: number, extra: object = {}) => spread(n, 300, 60, (t) => coapResponse(sensor, t, '2.05', { matched: false, ...extra }));
const opts = { learningPeriod: 300 };

// Clean windows count 0: median 0, spread 1; threshold max(10, 6) = 10 unmatched, max(20, 6) = 20 RSTs.
describe('coap.spoofed_response', () => {
  it('fires at 10 responses no request explains', () => {
    const { alerts } = run(detector, [...learning(), ...unmatched(10)], opts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ entity: { kind: 'address', value: client }, mitre: 'T0856' });
    expect(alerts[0].evidence).toMatchObject({ metric: 'unmatched_responses', observed: 10, baseline: 0, threshold: 10, senders: ['10.0.1.5'] });
  });

  it('not at 9; Observe notifications and the first seconds of a capture do not count', () => {
    expect(run(detector, [...learning(), ...unmatched(9)], opts).alerts).toHaveLength(0);
    expect(run(detector, [...learning(), ...unmatched(50, { observe: 7 })], opts).alerts).toHaveLength(0);
    const early = spread(60, 0, 9, (t) => coapResponse(sensor, t, '2.05', { matched: false }));
    expect(run(detector, early).alerts).toHaveLength(0);
  });

  it('one answer per request is not spoofing, even when the decoder cannot pair them (one token reused)', () => {
    const flood = spread(400, 300, 60, (t) => [coapRequest(sensor, t, 'GET', '/time'), coapResponse(sensor, t + 500, '2.05', { matched: false })]).flat();
    expect(run(detector, [...learning(), ...flood], opts).alerts).toHaveLength(0);
  });

  it('RST storm: fires at 20, not 19', () => {
    const rst = (n: number) => spread(n, 300, 60, (t) => coapReset(sensor, t));
    expect(run(detector, [...learning(), ...rst(20)], opts).alerts.map((a) => a.evidence.metric)).toEqual(['resets']);
    expect(run(detector, [...learning(), ...rst(19)], opts).alerts).toHaveLength(0);
  });

  it('a peer that is client and server on one flow: resets it sends count for their receiver', () => {
    // The device sends a request on the flow's first side, then resets on that same side: they
    // are for the server (new, so judged by the cold threshold, 100), not for the device.
    const lw = coapFlow(client, '10.0.1.5');
    const events = [...learning(), coapRequest(lw, at(300), 'POST', '/rd'), ...spread(100, 301, 59, (t) => coapReset(lw, t, false))];
    const { alerts } = run(detector, events, opts);
    expect(alerts.map((a) => [a.entity.value, a.evidence.metric, a.evidence.observed, a.evidence.threshold])).toEqual([['10.0.1.5', 'resets', 100, 100]]);
  });

  it('suppression: one alert, refreshed at window close', () => {
    const { alerts, log } = run(detector, [...learning(), ...unmatched(40)], opts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].count).toBe(40);
    expect(log.map(([k]) => k)).toEqual(['new', 'update']);
  });
});
