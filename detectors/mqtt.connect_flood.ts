// mqtt.connect_flood: connection attempts to a broker far above its baseline: MQTT CONNECTs,
// new TCP connections, or half-open handshakes (flows that ended in state S0: SYN, no answer).
// Counted per broker, so a flood from many (spoofed) sources adds up; the top sources are named.
import type { FlowEnd, FlowSide, FlowStart, MqttConnect } from '../src/events/types';
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { clientAddr, serverEndpoint } from './lib/endpoints';
import { CappedSet } from './lib/tables';
import { EntityWindows, rateDefaults, rateSchema, type WindowSlot } from './lib/windows';

export const id = 'mqtt.connect_flood';
export const category = 'anomaly';

export const tunables = {
  ...rateDefaults,
  minConnects: 60,
  coldConnects: 600,
  minFlows: 60,
  coldFlows: 600,
  minHalfOpen: 100,
  coldHalfOpen: 500,
  ports: [1883, 8883] as readonly number[],
};

export const schema: Schema<typeof tunables> = {
  ...rateSchema,
  minConnects: { type: 'integer', min: 1, max: 1e9, description: 'MQTT CONNECTs per window to one broker (absolute floor)' },
  coldConnects: { type: 'integer', min: 1, max: 1e9, description: 'CONNECTs per window for a broker without a mature baseline' },
  minFlows: { type: 'integer', min: 1, max: 1e9, description: 'new TCP connections per window to one broker (absolute floor)' },
  coldFlows: { type: 'integer', min: 1, max: 1e9, description: 'new TCP connections per window for a broker without a mature baseline' },
  minHalfOpen: { type: 'integer', min: 1, max: 1e9, description: 'half-open handshakes (S0) per window (absolute floor)' },
  coldHalfOpen: { type: 'integer', min: 1, max: 1e9, description: 'half-open handshakes per window for a broker without a mature baseline' },
  ports: { type: 'integer[]', min: 1, max: 65535, description: 'TCP ports treated as MQTT brokers (servers seen speaking MQTT count too)' },
};

const METRICS = ['MQTT CONNECTs', 'new TCP connections', 'half-open handshakes'];

/** Per source, events of each metric within the window, for naming the top sources. */
type Sources = Map<string, number[]>;
const MAX_SOURCES = 1000;

export function create(ctx: DetectorContext, t: typeof tunables) {
  const ports = new Set(t.ports);
  const brokers = new CappedSet(4096);
  const raise = (s: WindowSlot<Sources>, ws: number): void => {
    const m = w.firstFired(s);
    const top = [...s.x].filter(([, n]) => n[m] > 0).sort((a, b) => b[1][m] - a[1][m] || (a[0] < b[0] ? -1 : 1)).slice(0, 5).map(([a, n]) => `${a} (${n[m]})`);
    ctx.alert({
      key: s.key,
      windowStart: ws,
      entity: { kind: 'server', value: s.key },
      summary: `Broker ${s.key} received ${s.count(m)} ${METRICS[m]} in ${t.window} s from ${s.x.size} sources.`,
      evidence: w.evidence(s, m, { connects: s.count(0), flows: s.count(1), halfOpen: s.count(2), sources: s.x.size, topSources: top }),
      proof: s.proof,
      count: s.count(m),
    });
  };
  const w: EntityWindows<Sources> = new EntityWindows<Sources>(ctx, 'brokers', { ...t, baseline: t }, [
    { name: 'connects', minCount: t.minConnects, coldThreshold: t.coldConnects },
    { name: 'flows', minCount: t.minFlows, coldThreshold: t.coldFlows },
    { name: 'half_open', minCount: t.minHalfOpen, coldThreshold: t.coldHalfOpen },
  ], {
    make: () => new Map(),
    onClose(s, ws) {
      if (s.fired !== 0) raise(s, ws);
      s.x.clear();
    },
  });

  const count = (flow: FlowSide, e: FlowStart | FlowEnd | MqttConnect, m: number): void => {
    const server = serverEndpoint(flow);
    if (m !== 0 && !ports.has(flow.dir === 'to_server' ? flow.dport : flow.sport) && !brokers.has(server)) return;
    const s = w.touch(server, e.ts);
    s.proof.add(e);
    const src = clientAddr(flow);
    let n = s.x.get(src);
    if (n === undefined && s.x.size < MAX_SOURCES) s.x.set(src, (n = [0, 0, 0]));
    if (n !== undefined) n[m]++;
    if (w.add(s, m, 1) && s.fired === 1 << m) raise(s, w.windowStart);
  };

  return {
    onEvent(e: MqttConnect | FlowStart | FlowEnd): void {
      if (e.type === 'mqtt.connect') {
        if (e.flow.dir !== 'to_server') return;
        brokers.add(serverEndpoint(e.flow));
        count(e.flow, e, 0);
      } else if (e.flow.proto === 'tcp') {
        if (e.type === 'flow.start' && !e.midstream) count(e.flow, e, 1);
        else if (e.type === 'flow.end' && e.tcpState === 'S0') count(e.flow, e, 2);
      }
    },
    tick: (now: number) => w.tick(now),
    flush: () => w.flush(),
    exportBaseline: () => w.exportJSON(),
    importBaseline: (d: unknown) => w.importJSON(d),
  };
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'high',
  usesBaseline: true,
  subscribes: ['mqtt.connect', 'flow.start', 'flow.end'],
  description: 'MQTT CONNECTs, new TCP connections or half-open handshakes to a broker far above its baseline.',
  recommendation: 'Rate-limit new connections per source (broker max_connections, firewall SYN limits, SYN cookies), block the top sources, and check clients stuck in a reconnect loop.',
  mitre: 'T0814', // Denial of Service against the broker
});
