import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/mqtt.sys_topic_exposure';
import { at, flow, publish, run } from './helpers';

const f = flow('10.0.0.40', '10.0.0.1');
const deliver = (s: number, topic: string, username = 'dash') => publish(f, at(s), topic, { clientId: 'dash-1', username, down: true });

describe('mqtt.sys_topic_exposure', () => {
  it('the broker delivering $SYS to a client', () => {
    const { alerts } = run(detector, [deliver(1, '$SYS/broker/version')]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'low', mitre: 'T0888', entity: { kind: 'server', value: '10.0.0.1:1883' }, evidence: { readers: ['dash'], topics: ['$SYS/broker/version'] } });
  });

  it('not for ordinary topics, client publishes, or allowed principals', () => {
    const up = publish(f, at(2), '$SYS/broker/version', { clientId: 'x' });
    expect(run(detector, [deliver(1, 'plant/x'), up, deliver(3, '$SYSTEM/x')]).alerts).toHaveLength(0);
    expect(run(detector, [deliver(1, '$SYS/broker/uptime', 'monitor')], { tunables: { allowPrincipals: ['monitor'] } }).alerts).toHaveLength(0);
  });

  it('one finding per broker, refreshed', () => {
    const { alerts, log } = run(detector, [1, 2, 3, 4].map((s) => deliver(s, `$SYS/broker/load/${s}`)));
    expect(alerts).toHaveLength(1);
    expect(alerts[0].count).toBe(4);
    expect(log.map(([k]) => k)).toEqual(['new', 'update']);
  });
});
