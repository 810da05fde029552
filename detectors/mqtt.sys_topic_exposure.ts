// mqtt.sys_topic_exposure: the broker delivering $SYS topics (its version, uptime, client counts,
// load) to ordinary clients: free reconnaissance. One finding per broker, naming the readers.
import type { MqttPublish } from '../src/events/types';
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { serverEndpoint } from './lib/endpoints';
import { principal } from './lib/mqtt';
import { Findings, findingSpec } from './lib/posture';
import { CappedSet } from './lib/tables';

export const id = 'mqtt.sys_topic_exposure';
export const category = 'posture';

export const tunables = {
  allowPrincipals: [] as readonly string[],
};

export const schema: Schema<typeof tunables> = {
  allowPrincipals: { type: 'string[]', description: 'usernames (or client ids) allowed to read $SYS, e.g. the monitoring account' },
};

class Readers {
  readonly who = new CappedSet(1000);
  readonly topics = new CappedSet(50);
}

export function create(ctx: DetectorContext, t: typeof tunables) {
  const allowed = new Set(t.allowPrincipals);
  const findings = new Findings<Readers>(ctx, () => new Readers(), (f) => {
    const who = f.x.who.values(10);
    ctx.alert(findingSpec(f, {
      entity: { kind: 'server', value: f.key },
      summary: `Broker ${f.key} sent ${f.proof.n} $SYS message${f.proof.n === 1 ? '' : 's'} (${f.x.topics.values(3).join(', ')}) to ${who.join(', ')}.`,
      evidence: { metric: '$SYS messages delivered', observed: f.proof.n, baseline: null, threshold: 1, window: 0, readers: who, topics: f.x.topics.values(20) },
    }));
  });

  return {
    onEvent(e: MqttPublish): void {
      // '$' is 0x24: one comparison for every other PUBLISH.
      if (e.topic.charCodeAt(0) !== 0x24 || e.flow.dir !== 'to_client' || !e.topic.startsWith('$SYS/')) return;
      const who = principal(e);
      if (allowed.has(who)) return;
      const f = findings.observe(serverEndpoint(e.flow));
      f.proof.add(e);
      f.x.who.add(who);
      f.x.topics.add(e.topic);
      findings.report(f);
    },
    tick: (now: number) => findings.tick(now),
    flush: () => findings.flush(),
  };
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'low',
  usesBaseline: false,
  subscribes: ['mqtt.publish'],
  direction: 'to_client', // only the broker's deliveries
  description: 'The broker delivering $SYS topics (version, clients, load) to clients outside an allow-list.',
  recommendation: 'Deny $SYS/# in the broker ACLs to everyone but the monitoring account, or disable $SYS publishing (mosquitto: sys_interval 0).',
  mitre: 'T0888', // Remote System Information Discovery: $SYS names the broker software, version and load
});
