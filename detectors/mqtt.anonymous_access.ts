// mqtt.anonymous_access: a CONNECT without username or password that the broker accepted
// (CONNACK return code 0 on the same connection). One finding per broker listener.
import type { MqttConnack, MqttConnect } from '../src/events/types';
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { serverEndpoint } from './lib/endpoints';
import { Findings, findingSpec } from './lib/posture';
import { CappedSet } from './lib/tables';

export const id = 'mqtt.anonymous_access';
export const category = 'posture';

export const tunables = {
  maxPending: 10_000,
};

export const schema: Schema<typeof tunables> = {
  maxPending: { type: 'integer', min: 1, max: 1e7, description: 'anonymous CONNECTs waiting for their CONNACK (FIFO, counted)' },
};

export function create(ctx: DetectorContext, t: typeof tunables) {
  const pending = ctx.bounded<number, MqttConnect>('pending_connects', t.maxPending);
  const findings = new Findings<CappedSet>(ctx, () => new CappedSet(1000), (f) => {
    const ids = f.x.values(10);
    ctx.alert(findingSpec(f, {
      entity: { kind: 'server', value: f.key },
      summary: `Broker ${f.key} accepted ${f.x.distinct} client${f.x.distinct === 1 ? '' : 's'} without any credentials (${ids.join(', ')}).`,
      evidence: { metric: 'anonymous logins accepted', observed: f.x.distinct, baseline: null, threshold: 1, window: 0, clientIds: ids },
      count: f.proof.n / 2,
    }));
  });

  return {
    onEvent(e: MqttConnect | MqttConnack): void {
      if (e.type === 'mqtt.connect') {
        const anonymous = (e.username === null || e.username === '') && !e.password.present;
        if (e.flow.dir === 'to_server' && anonymous) pending.set(e.flow.flowId, e);
        return;
      }
      const c = pending.take(e.flow.flowId);
      if (c === undefined || e.returnCode !== 0) return;
      const f = findings.observe(serverEndpoint(e.flow));
      f.proof.add(c);
      f.proof.add(e);
      f.x.add(c.clientId === '' ? '(empty client id)' : c.clientId);
      findings.report(f);
    },
    tick: (now: number) => findings.tick(now),
    flush: () => findings.flush(),
  };
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'high',
  usesBaseline: false,
  subscribes: ['mqtt.connect', 'mqtt.connack'],
  description: 'An MQTT CONNECT without username or password accepted by the broker.',
  recommendation: 'Disable anonymous access on the broker (mosquitto: allow_anonymous false) and require per-device credentials or client certificates.',
  // Default Credentials: an empty login the broker accepts by default (enterprise ATT&CK files anonymous logins under Default Accounts)
  mitre: 'T0812',
});
