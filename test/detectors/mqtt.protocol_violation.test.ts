import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/mqtt.protocol_violation';
import { anomaly, at, flow, run } from './helpers';

const f = flow('192.0.2.66', '10.0.0.1');

describe('mqtt.protocol_violation', () => {
  it('one MQTT anomaly on a flow is an alert by default (minCount 1)', () => {
    const { alerts } = run(detector, [anomaly(f, at(1), 'mqtt.invalid_qos')]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'low', entity: { kind: 'flow' }, communityIds: [f.up.communityId], count: 1 });
    expect(alerts[0].entity.value).toMatch(/^192\.0\.2\.66:\d+ -> 10\.0\.0\.1:1883$/);
    expect(alerts[0].evidence.codes).toEqual(['mqtt.invalid_qos x1']);
  });

  it('ignored codes and other layers do not count', () => {
    expect(run(detector, [anomaly(f, at(1), 'mqtt.truncated'), anomaly(f, at(2), 'tcp.gap'), anomaly(f, at(3), 'coap.malformed')]).alerts).toHaveLength(0);
  });

  it('fires at minCount and not below', () => {
    const three = [1, 2, 3].map((s) => anomaly(f, at(s), 'mqtt.malformed'));
    expect(run(detector, three.slice(0, 2), { tunables: { minCount: 3 } }).alerts).toHaveLength(0);
    expect(run(detector, three, { tunables: { minCount: 3 } }).alerts).toHaveLength(1);
  });

  it('suppression: one alert per flow and window, count and severity refreshed', () => {
    const many = Array.from({ length: 12 }, (_, i) => anomaly(f, at(i), i % 2 ? 'mqtt.malformed' : 'mqtt.reserved_packet_type'));
    const other = flow('192.0.2.67', '10.0.0.1');
    const { alerts, log } = run(detector, [...many, anomaly(other, at(5), 'mqtt.invalid_flags')]);
    expect(alerts).toHaveLength(2);
    expect(alerts[0]).toMatchObject({ count: 12, severity: 'medium' });
    expect(alerts[0].evidence.codes).toEqual(['mqtt.malformed x6', 'mqtt.reserved_packet_type x6']);
    expect(log.filter(([, a]) => a.id === alerts[0].id).map(([k, a]) => `${k}:${a.severity}`)).toEqual(['new:low', 'update:medium']);
  });

  it('alerts from the first event: it needs no baseline', () => {
    expect(run(detector, [anomaly(f, at(1), 'mqtt.desync')], { learningPeriod: 600 }).alerts).toHaveLength(1);
  });
});
