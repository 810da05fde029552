import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/tls.no_client_auth';
import { at, flow, run, serverHello } from './helpers';

const mqtts = (n = 1) => flow(`10.0.0.${n}`, '10.0.0.1', { sport: 8883 });

describe('tls.no_client_auth', () => {
  it('a TLS flight without CertificateRequest on an MQTT port', () => {
    const { alerts } = run(detector, [serverHello(mqtts(), at(1), 0x0303, false)]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'low', entity: { kind: 'server', value: '10.0.0.1:8883' } });
  });

  it('client certificate requested, unknown (TLS 1.3), or another port: nothing', () => {
    const https = flow('10.0.0.2', '10.0.0.9', { sport: 443 });
    const events = [serverHello(mqtts(), at(1), 0x0303, true), serverHello(mqtts(), at(2), 0x0304), serverHello(https, at(3), 0x0303, false)];
    expect(run(detector, events).alerts).toHaveLength(0);
    expect(run(detector, [serverHello(https, at(3), 0x0303, false)], { tunables: { ports: [] } }).alerts).toHaveLength(1);
    // MQTT over TLS on another port, recognised by its ALPN.
    const other = flow('10.0.0.3', '10.0.0.1', { sport: 18884 });
    expect(run(detector, [{ ...serverHello(other, at(4), 0x0303, false), alpn: 'mqtt' }]).alerts).toHaveLength(1);
  });

  it('one finding per server, refreshed', () => {
    const { alerts, log } = run(detector, [1, 2, 3].map((i) => serverHello(mqtts(i), at(i), 0x0303, false)));
    expect(alerts).toHaveLength(1);
    expect(alerts[0].count).toBe(3);
    expect(log.map(([k]) => k)).toEqual(['new', 'update']);
  });
});
