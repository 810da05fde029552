// mqtt.client_id_takeover: a client id accepted (CONNACK 0) from a second address while its session
// from the first is still up. The broker drops the older session [MQTT-3.1.4-3], so a second device
// (or an attacker) with the same id takes it over; two of them kick each other off (flapping).
// A single takeover from an address the client id used in its baseline is a device moving: only
// flapping is reported then.
import type { FlowEnd, MqttConnack, MqttConnect, MqttDisconnect } from '../src/events/types';
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { SetBaselines } from './lib/sets';
import { CappedSet, type LruEntry } from './lib/tables';
import { EntityWindows, type WindowSlot } from './lib/windows';

export const id = 'mqtt.client_id_takeover';
export const category = 'anomaly';

export const tunables = {
  flapWindow: 300,
  flapCount: 3,
  entityLearning: 600,
  maxEntities: 10_000,
  maxAddresses: 16,
};

export const schema: Schema<typeof tunables> = {
  flapWindow: { type: 'integer', min: 1, max: 86_400, description: 'window for counting takeovers of one client id, seconds' },
  flapCount: { type: 'integer', min: 2, max: 1e6, description: 'takeovers of one client id in the window that make it flapping' },
  entityLearning: { type: 'integer', min: 0, max: 30 * 86_400, description: 'seconds a client id first seen after the learning period learns its addresses' },
  maxEntities: { type: 'integer', min: 1, max: 1e7, description: 'client ids tracked (LRU, counted)' },
  maxAddresses: { type: 'integer', min: 1, max: 1e4, description: 'addresses remembered per client id in its baseline' },
};

/** The live session of a client id. */
class Session implements LruEntry {
  lru = 0;
  constructor(readonly flowId: number, readonly addr: string, readonly connect: MqttConnect) {}
}

export function create(ctx: DetectorContext, t: typeof tunables) {
  const sessions = ctx.lru<Session>('sessions', t.maxEntities);
  const flowClient = ctx.bounded<number, string>('flows', t.maxEntities);
  const pending = ctx.bounded<number, MqttConnect>('pending_connects', t.maxEntities);
  const known = new SetBaselines(ctx, 'addresses', t.maxEntities, t.maxAddresses, t.entityLearning);

  const raise = (s: WindowSlot<CappedSet>, ws: number): void => {
    const flapping = s.count(0) >= t.flapCount;
    const addrs = s.x.values(10);
    ctx.alert({
      key: s.key,
      windowStart: ws,
      entity: { kind: 'client_id', value: s.key },
      severity: flapping ? 'high' : 'medium',
      summary: flapping
        ? `Client id ${s.key} changed hands ${s.count(0)} times in ${t.flapWindow} s between ${addrs.join(', ')}: two clients are kicking each other off.`
        : `Client id ${s.key} connected from ${addrs[addrs.length - 1]} while its session from ${addrs[0]} was still up.`,
      evidence: {
        metric: 'takeovers', observed: s.count(0), baseline: null, threshold: flapping ? t.flapCount : 1, window: t.flapWindow,
        flapping, addresses: addrs, baselineAddresses: [...(known.table.peek(s.key)?.items ?? [])].slice(0, 10),
      },
      proof: s.proof,
      count: s.count(0),
    });
  };
  const w: EntityWindows<CappedSet> = new EntityWindows<CappedSet>(ctx, 'takeovers', { window: t.flapWindow, maxEntities: t.maxEntities },
    [{ name: 'takeovers', minCount: t.flapCount, coldThreshold: t.flapCount }], {
      make: () => new CappedSet(32),
      onClose(s, ws) {
        if (s.fired !== 0) raise(s, ws);
        s.x.clear();
      },
    });
  const end = (flowId: number): void => {
    const cid = flowClient.take(flowId);
    if (cid !== undefined && sessions.peek(cid)?.flowId === flowId) sessions.delete(cid);
  };

  return {
    onEvent(e: MqttConnect | MqttConnack | MqttDisconnect | FlowEnd): void {
      if (e.type === 'flow.end') return end(e.flow.flowId);
      if (e.type === 'mqtt.disconnect') return e.flow.dir === 'to_server' ? end(e.flow.flowId) : undefined;
      if (e.type === 'mqtt.connect') {
        // A zero-length client id gets an id assigned by the server: nothing to take over.
        if (e.flow.dir === 'to_server' && e.clientId !== '') pending.set(e.flow.flowId, e);
        return;
      }
      // The session changes hands when the broker accepts the new CONNECT, not when it is sent.
      const c = pending.take(e.flow.flowId);
      if (c === undefined || e.returnCode !== 0) return;
      const cid = c.clientId;
      const addr = c.flow.src;
      const k = known.entry(cid, e.ts);
      const old = sessions.peek(cid);
      if (old !== undefined && old.flowId !== e.flow.flowId && old.addr !== addr) {
        const s = w.touch(cid, e.ts);
        s.proof.add(old.connect);
        s.proof.add(c);
        s.x.add(old.addr);
        s.x.add(addr);
        w.add(s, 0, 1);
        const n = s.count(0);
        // Report the first takeover of a window from an address outside the baseline, and flapping.
        if (!known.learning(k, e.ts) && (n === t.flapCount || (n === 1 && !k.items.has(addr)))) {
          w.fire(s, 0);
          raise(s, w.windowStart);
        }
      }
      if (known.learning(k, e.ts)) known.add(k, addr);
      sessions.set(cid, new Session(e.flow.flowId, addr, c));
      flowClient.set(e.flow.flowId, cid);
    },
    tick: (now: number) => w.tick(now),
    flush: () => w.flush(),
    exportBaseline: () => known.exportJSON(),
    importBaseline: (d: unknown) => known.importJSON(d),
  };
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'medium',
  usesBaseline: true,
  subscribes: ['mqtt.connect', 'mqtt.connack', 'mqtt.disconnect', 'flow.end'],
  description: 'A client id connecting from a second address while its first session is up, or two endpoints kicking each other off.',
  recommendation: 'Give every device a unique client id bound to its credentials (broker option such as use_username_as_clientid, or ACLs on %c), and find the second device or clone.',
  // No ATT&CK for ICS technique names session hijack by identifier; the effect on the device is covered by T0814/T0815 only loosely.
  mitre: null,
});
