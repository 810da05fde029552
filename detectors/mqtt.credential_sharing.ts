// mqtt.credential_sharing: one username logging in from more client ids or addresses than its
// baseline, or one password (by its keyed hash, never the secret) behind more usernames than its
// baseline. Only accepted logins count: refused ones are mqtt.auth_bruteforce's.
import type { MqttConnack, MqttConnect } from '../src/events/types';
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { clientAddr } from './lib/endpoints';
import { clientKey } from './lib/mqtt';
import { CappedSet } from './lib/tables';
import { EntityWindows, rateDefaults, rateSchema, type WindowSlot } from './lib/windows';

export const id = 'mqtt.credential_sharing';
export const category = 'anomaly';

export const tunables = {
  ...rateDefaults,
  window: 600,
  z: 3,
  minSamples: 3,
  minClientIds: 3,
  coldClientIds: 10,
  minAddresses: 3,
  coldAddresses: 10,
  minUsernames: 3,
  coldUsernames: 5,
};

export const schema: Schema<typeof tunables> = {
  ...rateSchema,
  minClientIds: { type: 'integer', min: 2, max: 1e6, description: 'distinct client ids per username per window (absolute floor)' },
  coldClientIds: { type: 'integer', min: 2, max: 1e6, description: 'distinct client ids for a username without a mature baseline' },
  minAddresses: { type: 'integer', min: 2, max: 1e6, description: 'distinct source addresses per username per window (absolute floor)' },
  coldAddresses: { type: 'integer', min: 2, max: 1e6, description: 'distinct addresses for a username without a mature baseline' },
  minUsernames: { type: 'integer', min: 2, max: 1e6, description: 'distinct usernames sharing one password per window (absolute floor)' },
  coldUsernames: { type: 'integer', min: 2, max: 1e6, description: 'distinct usernames for a password without a mature baseline' },
};

/** Distinct values in the window, per metric. */
type Distinct = CappedSet[];

export function create(ctx: DetectorContext, t: typeof tunables) {
  const pending = ctx.bounded<number, MqttConnect>('pending_connects', t.maxEntities);
  const distinct = (n: number) => (): Distinct => Array.from({ length: n }, () => new CappedSet(1024));
  const closing = (raise: (s: WindowSlot<Distinct>, ws: number) => void) => (s: WindowSlot<Distinct>, ws: number): void => {
    if (s.fired !== 0) raise(s, ws);
    for (const d of s.x) d.clear();
  };

  const raiseUser = (s: WindowSlot<Distinct>, ws: number): void => {
    const m = users.firstFired(s);
    ctx.alert({
      key: `user:${s.key}`,
      windowStart: ws,
      entity: { kind: 'username', value: s.key },
      summary: `Username "${s.key}" logged in from ${s.counts[0]} client ids and ${s.counts[1]} addresses in ${t.window} s.`,
      evidence: users.evidence(s, m, { clientIds: s.x[0].values(10), addresses: s.x[1].values(10) }),
      proof: s.proof,
    });
  };
  const users: EntityWindows<Distinct> = new EntityWindows<Distinct>(ctx, 'usernames', { ...t, baseline: t }, [
    { name: 'client_ids', minCount: t.minClientIds, coldThreshold: t.coldClientIds },
    { name: 'addresses', minCount: t.minAddresses, coldThreshold: t.coldAddresses },
  ], { make: distinct(2), onClose: closing(raiseUser) });

  const raisePassword = (s: WindowSlot<Distinct>, ws: number): void => {
    ctx.alert({
      key: `password:${s.key}`,
      windowStart: ws,
      entity: { kind: 'password', value: s.key },
      summary: `One password (keyed hash ${s.key}) was accepted for ${s.counts[0]} different usernames in ${t.window} s.`,
      evidence: passwords.evidence(s, 0, { usernames: s.x[0].values(10) }),
      proof: s.proof,
    });
  };
  const passwords: EntityWindows<Distinct> = new EntityWindows<Distinct>(ctx, 'passwords', { ...t, baseline: t },
    [{ name: 'usernames', minCount: t.minUsernames, coldThreshold: t.coldUsernames }],
    { make: distinct(1), onClose: closing(raisePassword) });

  return {
    onEvent(e: MqttConnect | MqttConnack): void {
      if (e.type === 'mqtt.connect') {
        if (e.flow.dir === 'to_server') pending.set(e.flow.flowId, e);
        return;
      }
      const c = pending.take(e.flow.flowId);
      const user = e.username ?? c?.username ?? null;
      if (e.returnCode !== 0 || user === null || user === '') return;
      const u = users.touch(user, e.ts);
      if (c !== undefined) u.proof.add(c);
      u.proof.add(e);
      const before = u.fired;
      if (u.x[0].add(clientKey(e))) users.add(u, 0, 1);
      if (u.x[1].add(clientAddr(e.flow))) users.add(u, 1, 1);
      if (before === 0 && u.fired !== 0) raiseUser(u, users.windowStart);

      const hmac = c?.password.hmac ?? '';
      if (hmac === '') return;
      // 16 hex digits of the keyed hash are enough to tell passwords apart in an alert.
      const p = passwords.touch(hmac.slice(0, 16), e.ts);
      p.proof.add(c!);
      p.proof.add(e);
      if (p.x[0].add(user) && passwords.add(p, 0, 1)) raisePassword(p, passwords.windowStart);
    },
    tick(now: number): void {
      users.tick(now);
      passwords.tick(now);
    },
    flush(): void {
      users.flush();
      passwords.flush();
    },
    exportBaseline: () => ({ usernames: users.exportJSON(), passwords: passwords.exportJSON() }),
    importBaseline(d: unknown): void {
      const b = d as { usernames?: unknown; passwords?: unknown };
      users.importJSON(b.usernames);
      passwords.importJSON(b.passwords);
    },
  };
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'medium',
  usesBaseline: true,
  subscribes: ['mqtt.connect', 'mqtt.connack'],
  description: 'One username from more client ids or addresses than its baseline, or one password behind more usernames than its baseline.',
  recommendation: 'Give every device its own credentials (or a client certificate), rotate the shared ones, and bind client ids to usernames on the broker.',
  mitre: 'T0859', // Valid Accounts: the same credentials used from places they were not issued for
});
