// Micro-benchmark: MQTT messages per second for a stream of small PUBLISH packets cut into
// TCP-sized segments, through the connection decoder (fast path) and through mqtt-packet's
// parser alone. Run: npx tsc -p tsconfig.json && node dist/bench/mqtt-bench.js
// (or: npx vite-node bench/mqtt-bench.ts)
import * as mqttPacket from 'mqtt-packet';
import type { IotEvent } from '../src/events/types';
import type { FlowInfo } from '../src/flow/types';
import { MqttConnection } from '../src/protocols/mqtt/state';
import { readFixedHeader } from '../src/protocols/mqtt/parser';

const MESSAGES = 200_000;
const SEGMENT = 1448;
const ROUNDS = 5;

function publishStream(version: 4 | 5): { segments: Buffer[]; whole: Buffer } {
  const packets: Buffer[] = [];
  const topics = ['sensors/room1/temperature', 'sensors/room2/humidity', 'plant/line3/motor7/rpm', 'home/door'];
  for (let i = 0; i < MESSAGES; i++) {
    const qos = (i % 3 === 0 ? 1 : 0) as 0 | 1;
    packets.push(mqttPacket.generate({
      cmd: 'publish', topic: topics[i % topics.length], payload: Buffer.from(`{"v":${i % 1000}}`), qos,
      messageId: qos > 0 ? (i % 65535) + 1 : undefined, retain: false, dup: false,
      properties: version === 5 && i % 2 === 0 ? { payloadFormatIndicator: true, contentType: 'application/json' } : undefined,
    }, { protocolVersion: version }));
  }
  const whole = Buffer.concat(packets);
  const segments: Buffer[] = [];
  for (let p = 0; p < whole.length; p += SEGMENT) segments.push(whole.subarray(p, Math.min(whole.length, p + SEGMENT)));
  return { segments, whole };
}

const side = (dir: 0 | 1) => ({
  proto: 'tcp' as const, src: '10.0.0.1', sport: 50000, dst: '10.0.0.2', dport: 1883, communityId: '1:x',
  dir: dir === 0 ? 'to_server' as const : 'to_client' as const, flowId: 1, sensor: 'bench',
});
const flow: FlowInfo = { flowId: 1, proto: 'tcp', sides: [side(0), side(1)], serverPort: 1883, clientPort: 50000, midstream: false };

function best(f: () => number): number {
  let top = 0;
  for (let r = 0; r < ROUNDS; r++) top = Math.max(top, f());
  return top;
}

function rate(n: number, t0: bigint): number {
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

function decoder(segments: Buffer[], version: number): number {
  let n = 0;
  const sink = (e: IotEvent): void => {
    if (e.type === 'mqtt.publish') n++;
  };
  const c = new MqttConnection(flow, sink, { secret: Buffer.from('bench-secret'), assumeEstablished: version });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < segments.length; i++) c.onData(0, segments[i], 0, segments[i].length, i, i + 1);
  const r = rate(n, t0);
  if (n !== MESSAGES) throw new Error(`decoded ${n} of ${MESSAGES}`);
  return r;
}

function library(segments: Buffer[], version: number): number {
  let n = 0;
  const p = mqttPacket.parser({ protocolVersion: version });
  p.on('packet', () => {
    n++;
  });
  const t0 = process.hrtime.bigint();
  for (const s of segments) p.parse(s);
  const r = rate(n, t0);
  if (n !== MESSAGES) throw new Error(`mqtt-packet parsed ${n} of ${MESSAGES}`);
  return r;
}

function framing(whole: Buffer): number {
  let n = 0;
  const t0 = process.hrtime.bigint();
  for (let p = 0; p < whole.length; n++) {
    const h = readFixedHeader(whole, p, whole.length);
    const hl = h & 7;
    p += hl + (h - hl) / 8;
  }
  return rate(n, t0);
}

const fmt = (r: number): string => `${(r / 1e6).toFixed(2)} M msg/s`;

for (const version of [4, 5] as const) {
  const { segments, whole } = publishStream(version);
  console.log(`MQTT ${version === 4 ? '3.1.1' : '5'}: ${MESSAGES} small PUBLISH (avg ${(whole.length / MESSAGES).toFixed(1)} B) in ${segments.length} segments of ${SEGMENT} B`);
  console.log(`  fixed-header framing only   ${fmt(best(() => framing(whole)))}`);
  console.log(`  decoder (fast path, events) ${fmt(best(() => decoder(segments, version)))}`);
  console.log(`  mqtt-packet parser alone    ${fmt(best(() => library(segments, version)))}`);
}
