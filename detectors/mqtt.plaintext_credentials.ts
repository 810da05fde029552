// mqtt.plaintext_credentials: a CONNECT carrying a password over a connection that is not TLS:
// anyone on the path reads it. One finding per broker listener, naming the exposed usernames.
import type { MqttConnect } from '../src/events/types';
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { serverEndpoint } from './lib/endpoints';
import { overTls } from './lib/mqtt';
import { Findings, findingSpec } from './lib/posture';
import { CappedSet } from './lib/tables';

export const id = 'mqtt.plaintext_credentials';
export const category = 'posture';

export const tunables = {
  usernameOnly: false,
};

export const schema: Schema<typeof tunables> = {
  usernameOnly: { type: 'boolean', description: 'also report CONNECTs with a username but no password (the username alone is an identity leak)' },
};

export function create(ctx: DetectorContext, t: typeof tunables) {
  const findings = new Findings<CappedSet>(ctx, () => new CappedSet(1000), (f) => {
    const users = f.x.values(10);
    ctx.alert(findingSpec(f, {
      entity: { kind: 'server', value: f.key },
      summary: `${f.proof.n} MQTT login${f.proof.n === 1 ? '' : 's'} to ${f.key} sent credentials in cleartext (${f.x.distinct} username${f.x.distinct === 1 ? '' : 's'}: ${users.join(', ')}).`,
      evidence: { metric: 'cleartext CONNECTs with credentials', observed: f.proof.n, baseline: null, threshold: 1, window: 0, usernames: users, distinctUsernames: f.x.distinct },
    }));
  });

  return {
    onEvent(e: MqttConnect): void {
      if (e.flow.dir !== 'to_server' || overTls(e)) return;
      const hasUser = e.username !== null && e.username !== '';
      if (!e.password.present && !(t.usernameOnly && hasUser)) return;
      const f = findings.observe(serverEndpoint(e.flow));
      f.proof.add(e);
      f.x.add(e.username ?? '(none)');
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
  subscribes: ['mqtt.connect'],
  description: 'An MQTT CONNECT carrying a password over a connection without TLS.',
  recommendation: 'Enforce TLS on the broker (port 8883) and close the cleartext listener; rotate every password seen here, since they must be treated as disclosed.',
  mitre: 'T0842', // Network Sniffing: the credentials are readable by anyone on the path
});
