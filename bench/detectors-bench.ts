// Micro-benchmark: detector engine events/s with every detector on, over a synthetic stream of
// 2 million events, mostly PUBLISH (as decoded: fresh topic strings, one FlowSide per flow side)
// from 500 meters reporting in turn on 2 topics each, with deliveries, acks, pings, CoAP,
// connects, subscriptions and flow events mixed in, over 1,000 s of capture time.
// The engine may cost at most 25 % of decoding at 1.5 M packets/s, so it needs >= 6 M events/s.
// Run: npx vite-node bench/detectors-bench.ts   (or: npx tsc -p tsconfig.json && node dist/bench/detectors-bench.js)
// IOTWATCH_BENCH_EVENTS sets the stream length. The engine's cost is (decoder + engine) - (decoder), medians
// of interleaved rounds; wall time is what counts (CPU time adds V8's GC and compiler threads).
import type { FlowSide } from '../src/events/types';
import type { InputEvent } from '../detectors/lib/detector';
import { createEngine } from '../src/alerts/engine';

const EVENTS = Number(process.env.IOTWATCH_BENCH_EVENTS ?? 2_000_000);
const ROUNDS = 5;
const DECODE_PPS = 1_500_000;
const CLIENTS = 500;
const TOPICS_PER_CLIENT = 2;
const T0 = 1_699_920_000_000_000;
/** 2,000 events per second of capture time: 2 M events span 1,000 s, past the 600 s learning period. */
const STEP_US = 500;

interface Client {
  readonly up: FlowSide;
  readonly down: FlowSide;
  readonly clientId: string;
  readonly username: string;
  readonly area: string;
  readonly topics: readonly Buffer[];
}

function side(i: number, up: boolean, dport: number): FlowSide {
  const client = `10.${(i >> 8) & 255}.${i & 255}.10`;
  const base = { proto: dport === 5683 ? 'udp' : 'tcp', communityId: `1:bench${i}/${dport}`, flowId: i + 1, sensor: 'bench' } as const;
  return (up
    ? { ...base, src: client, sport: 40_000 + (i % 20_000), dst: '10.0.0.1', dport, dir: 'to_server' }
    : { ...base, src: '10.0.0.1', sport: dport, dst: client, dport: 40_000 + (i % 20_000), dir: 'to_client' }) as FlowSide;
}

/**
 * The synthetic decoder: event i of the stream, built when asked, as a decoder builds it (a fresh
 * object and a fresh topic string per message), so the engine sees events hot in cache as it would
 * behind the real decoder, and the cost of building them can be measured apart.
 */
function makeStream(): (i: number) => InputEvent {
  const clients: Client[] = Array.from({ length: CLIENTS }, (_, i) => ({
    up: side(i, true, 1883),
    down: side(i, false, 1883),
    clientId: `dev-${i}`,
    username: `dev-${i}`,
    area: `plant/area${i % 20}`,
    topics: Array.from({ length: TOPICS_PER_CLIENT }, (_, k) => Buffer.from(`plant/area${i % 20}/dev-${i}/metric${k}`, 'latin1')),
  }));
  const coap = Array.from({ length: 50 }, (_, i) => ({ up: side(10_000 + i, true, 5683), down: side(10_000 + i, false, 5683) }));
  let seed = 12345;
  const rnd = (m: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % m;
  };
  return (i: number): InputEvent => {
    if (i === 0) seed = 12345;
    const ts = T0 + i * STEP_US;
    const frame = i + 1;
    // Meters report in turn (a periodic fleet interleaves round-robin), each on its few topics.
    const c = clients[i % CLIENTS];
    const r = i % 100;
    if (r < 89) {
      const k = ((i / CLIENTS) | 0) % TOPICS_PER_CLIENT;
      return {
        type: 'mqtt.publish', ts, frame, flow: c.up, version: 4, clientId: c.clientId, username: c.username, length: 40,
        topic: c.topics[k].toString('latin1'), qos: 0, retain: k === 0 && rnd(10) === 0, dup: false, payloadLength: 24,
      };
    }
    const base = { ts, frame, version: 4, clientId: c.clientId, username: c.username, length: 40 };
    if (r < 94) {
      return { ...base, type: 'mqtt.publish', flow: c.down, topic: c.topics[rnd(TOPICS_PER_CLIENT)].toString('latin1'), qos: 1, retain: false, dup: false, messageId: i & 0xffff, payloadLength: 24 };
    }
    if (r < 96) return { ...base, type: 'mqtt.puback', flow: c.up, messageId: i & 0xffff };
    if (r < 97) return { ...base, type: 'mqtt.pingreq', flow: c.up };
    if (r < 99) {
      const f = coap[rnd(coap.length)];
      const common = { ts, frame, version: 1, messageId: i & 0xffff, token: 'a1b2', options: [], payloadLength: 4, length: 20 } as const;
      return r === 97
        ? { ...common, type: 'coap.message', flow: f.up, msgType: 'CON', code: '0.01', kind: 'request', method: 'GET', uriPath: '/temp' }
        : { ...common, type: 'coap.message', flow: f.down, msgType: 'ACK', code: '2.05', kind: 'response', matched: true, requestMethod: 'GET', requestPath: '/temp', length: 30 };
    }
    switch ((i / 100) % 6 | 0) {
      case 0: return { ts, frame, type: 'flow.start', flow: c.up, midstream: false };
      case 1: return { ...base, type: 'mqtt.connect', flow: c.up, protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 60, password: { present: true, length: 8, hmac: `h${c.clientId}` }, will: null };
      case 2: return { ...base, type: 'mqtt.connack', flow: c.down, sessionPresent: false, returnCode: 0 };
      case 3: return { ...base, type: 'mqtt.subscribe', flow: c.up, messageId: 1, subscriptions: [{ topic: `${c.area}/+/metric1`, qos: 0 }] };
      case 4: return { ...base, type: 'mqtt.pingresp', flow: c.down };
      default: return { ts, frame, type: 'flow.end', flow: c.up, reason: 'fin', app: 'mqtt', firstTs: ts - 1e6, packetsToServer: 10, packetsToClient: 10, bytesToServer: 500, bytesToClient: 500, tcpState: 'S1' };
    }
  };
}

interface Clock {
  wall: bigint;
  cpu: NodeJS.CpuUsage;
}

const start = (): Clock => ({ wall: process.hrtime.bigint(), cpu: process.cpuUsage() });

/** Wall seconds, and CPU seconds of the process (helper threads included: GC, compiler). */
function elapsed(c: Clock): { wall: number; cpu: number } {
  const u = process.cpuUsage(c.cpu);
  return { wall: Number(process.hrtime.bigint() - c.wall) / 1e9, cpu: (u.user + u.system) / 1e6 };
}

interface DetectorsBench {
  events: number;
  /** The synthetic decoder alone (building events, a sink that reads them), wall. */
  decodeEventsPerSecond: number;
  /** The engine alone: the extra time of decoder + engine over the decoder, per event (wall, and CPU). */
  engineEventsPerSecond: number;
  nsPerEvent: number;
  cpuNsPerEvent: number;
  /** Engine wall time as a share of decoding at DECODE_PPS, one event per packet. */
  overheadAtDecodeRate: number;
  alerts: number;
}

function benchDetectors(n = EVENTS, rounds = ROUNDS): DetectorsBench {
  const next = makeStream();
  let read = 0;
  const sink = (e: InputEvent): void => {
    if (e.ts > 0) read++;
  };
  const decodeOnly = (): { wall: number; cpu: number } => {
    const t0 = start();
    for (let i = 0; i < n; i++) sink(next(i));
    return elapsed(t0);
  };
  let alerts = 0;
  const withEngine = (): { wall: number; cpu: number } => {
    const engine = createEngine({});
    const t0 = start();
    for (let i = 0; i < n; i++) engine.onEvent(next(i));
    engine.flush();
    const s = elapsed(t0);
    alerts = engine.alerts().length;
    return s;
  };
  // Interleaved rounds, so load on a shared machine hits both alike; medians.
  const dec: { wall: number; cpu: number }[] = [];
  const both: { wall: number; cpu: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    dec.push(decodeOnly());
    both.push(withEngine());
  }
  if (read !== n * rounds) throw new Error('sink lost events');
  const med = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
  const engineWall = Math.max(1e-9, med(both.map((x) => x.wall)) - med(dec.map((x) => x.wall)));
  const engineCpu = Math.max(1e-9, med(both.map((x) => x.cpu)) - med(dec.map((x) => x.cpu)));
  const ns = (engineWall * 1e9) / n;
  return {
    events: n, decodeEventsPerSecond: n / med(dec.map((x) => x.wall)), engineEventsPerSecond: n / engineWall, nsPerEvent: ns,
    cpuNsPerEvent: (engineCpu * 1e9) / n, overheadAtDecodeRate: ns / (1e9 / DECODE_PPS), alerts,
  };
}

function main(): void {
  const b = benchDetectors();
  const line = (label: string, value: string): void => void process.stdout.write(`${label.padEnd(48)} ${value}\n`);
  line('detector engine: events', b.events.toLocaleString('en'));
  line('synthetic decoder alone: events/s', Math.round(b.decodeEventsPerSecond).toLocaleString('en'));
  line('detector engine (all detectors): events/s', Math.round(b.engineEventsPerSecond).toLocaleString('en'));
  line('detector engine: ns/event (wall; CPU with GC threads)', `${b.nsPerEvent.toFixed(1)}; ${b.cpuNsPerEvent.toFixed(1)}`);
  line(`engine cost vs decode at ${DECODE_PPS / 1e6} M packets/s`, `${(b.overheadAtDecodeRate * 100).toFixed(1)} % (budget 25 %)`);
  line('alerts raised on the synthetic stream', String(b.alerts));
}

main();
