// Live capture on the loopback interface through `cap` while a real mosquitto broker and the
// mosquitto clients exchange messages: every message sent must come out decoded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveCapture } from '../src/capture/live';
import type { IotEvent, MqttPublish } from '../src/events/types';
import { Pipeline } from '../src/pipeline';
import { TEST_SECRET } from './helpers/pipeline';
import { mosquittoClient, startMosquitto, type Broker } from './helpers/mosquitto';

describe('live capture on lo with a real mosquitto', () => {
  let broker: Broker;
  beforeAll(async () => {
    if (process.getuid && process.getuid() !== 0) throw new Error('live capture on lo needs root (CI runs as root)');
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('decodes every message mosquitto_pub and mosquitto_sub exchange', async () => {
    const events: IotEvent[] = [];
    const pipeline = new Pipeline({ sensorId: 'live-test', secret: TEST_SECRET, emit: (e) => events.push(e) });
    const cap = startLiveCapture({ iface: 'lo', bpf: `tcp port ${broker.port}` }, pipeline.packet);
    await new Promise((r) => setTimeout(r, 300));
    const p = String(broker.port);
    // A subscriber waiting for 3 messages, then 3 publishes at QoS 0, 1, 2 (one retained, one MQTT 5).
    const sub = import('node:child_process').then(({ spawn }) => new Promise<string>((resolve) => {
      const c = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', p, '-i', 'live-sub', '-t', 'live/#', '-q', '2', '-C', '3', '-W', '15', '-v']);
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.on('exit', () => resolve(out));
    }));
    await new Promise((r) => setTimeout(r, 500));
    const sends = [
      ['-V', 'mqttv311', '-q', '0', '-t', 'live/a', '-m', 'zero'],
      ['-V', 'mqttv311', '-q', '1', '-t', 'live/b', '-m', 'one', '-r'],
      ['-V', 'mqttv5', '-q', '2', '-t', 'live/c', '-m', 'two', '-u', 'meter', '-P', 'live-secret-pw'],
    ];
    for (const a of sends) {
      const r = mosquittoClient('mosquitto_pub', ['-h', '127.0.0.1', '-p', p, '-i', `live-pub-${a[3]}`, ...a]);
      expect(r.status, r.stderr).toBe(0);
    }
    const received = await sub;
    expect(received.trim().split('\n')).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 500));
    cap.stop();
    const capStats = cap.stats();
    pipeline.finish();

    expect(capStats.packets).toBeGreaterThan(20);
    const pubs = events.filter((e): e is MqttPublish => e.type === 'mqtt.publish');
    // Each message twice: client to broker, broker to subscriber.
    const seen = pubs.map((e) => `${e.flow.dir}:${e.topic}:${e.qos}`).sort();
    expect(seen).toEqual([
      'to_client:live/a:0', 'to_client:live/b:1', 'to_client:live/c:2',
      'to_server:live/a:0', 'to_server:live/b:1', 'to_server:live/c:2',
    ]);
    const types = new Set(events.map((e) => e.type));
    for (const t of ['mqtt.connect', 'mqtt.connack', 'mqtt.subscribe', 'mqtt.suback', 'mqtt.puback', 'mqtt.pubrec', 'mqtt.pubrel', 'mqtt.pubcomp', 'mqtt.disconnect']) {
      expect(types.has(t), t).toBe(true);
    }
    const connects = events.filter((e) => e.type === 'mqtt.connect');
    expect(connects).toHaveLength(4);
    expect(JSON.stringify(events)).not.toContain('live-secret-pw');
    expect(events.filter((e) => e.type === 'anomaly')).toEqual([]);
  });
});
