// mqtt.credential_sharing: one username logging in from addresses or client ids outside its
// baseline, or one password (by its keyed hash, never the secret) behind usernames outside its
// baseline. Fires when, within a window, the new ones reach both an absolute minimum and the size
// of the baseline itself (a username that legitimately roams over many addresses needs as many
// new ones). Only accepted logins count: refused ones are mqtt.auth_bruteforce's.
import type { MqttConnack, MqttConnect } from '../src/events/types';
import { duration } from './lib/format';
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { clientAddr } from './lib/endpoints';
import { clientKey } from './lib/mqtt';
import { SetBaselines, type KnownSet } from './lib/sets';
import { CappedSet } from './lib/tables';
import { EntityWindows, type WindowSlot } from './lib/windows';

export const id = 'mqtt.credential_sharing';
export const category = 'anomaly';

export const tunables = {
  window: 600,
  minNewAddresses: 3,
  minNewClientIds: 5,
  minNewUsernames: 3,
  entityLearning: 600,
  maxEntities: 10_000,
  maxItems: 256,
};

export const schema: Schema<typeof tunables> = {
  window: { type: 'integer', min: 1, max: 30 * 86_400, description: 'window, seconds' },
  minNewAddresses: { type: 'integer', min: 1, max: 1e6, description: 'addresses outside the baseline one username logs in from, per window (absolute floor)' },
  minNewClientIds: { type: 'integer', min: 1, max: 1e6, description: 'client ids outside the baseline one username logs in with, per window (absolute floor)' },
  minNewUsernames: { type: 'integer', min: 1, max: 1e6, description: 'usernames outside the baseline logging in with one password, per window (absolute floor)' },
  entityLearning: { type: 'integer', min: 0, max: 30 * 86_400, description: 'seconds a username or password first seen after the learning period learns its baseline' },
  maxEntities: { type: 'integer', min: 1, max: 1e7, description: 'usernames and passwords tracked (LRU, counted)' },
  maxItems: { type: 'integer', min: 1, max: 1e5, description: 'addresses, client ids or usernames remembered per baseline entity' },
};

/** What a window saw outside the baseline: [0] addresses or usernames, [1] client ids. */
class Fresh {
  readonly sets = [new CappedSet(1024), new CappedSet(1024)];
  logins = 0;
}

const ADDR = 'a:';
const CLIENT = 'c:';

function baselineCounts(k: KnownSet | undefined): [number, number] {
  let a = 0;
  let c = 0;
  for (const item of k?.items ?? []) {
    if (item.startsWith(CLIENT)) c++;
    else a++;
  }
  return [a, c];
}

export function create(ctx: DetectorContext, t: typeof tunables) {
  const pending = ctx.bounded<number, MqttConnect>('pending_connects', t.maxEntities);
  const users = new SetBaselines(ctx, 'usernames', t.maxEntities, t.maxItems, t.entityLearning);
  const passwords = new SetBaselines(ctx, 'passwords', t.maxEntities, t.maxItems, t.entityLearning);
  const windows = (name: string, raise: (s: WindowSlot<Fresh>, ws: number) => void): EntityWindows<Fresh> =>
    new EntityWindows<Fresh>(ctx, name, { window: t.window, maxEntities: t.maxEntities }, [{ name: 'new', minCount: 1, coldThreshold: 1 }], {
      make: () => new Fresh(),
      onClose(s, ws) {
        if (s.fired !== 0) raise(s, ws);
        s.x = new Fresh();
      },
    });

  /** [new addresses, new client ids] a username needs: the absolute floor, or as many as its baseline holds. */
  const userThresholds = (key: string): [number, number] => {
    const [a, c] = baselineCounts(users.table.peek(key));
    return [Math.max(t.minNewAddresses, a), Math.max(t.minNewClientIds, c)];
  };
  const raiseUser = (s: WindowSlot<Fresh>, ws: number): void => {
    const [ta, tc] = userThresholds(s.key);
    const [na, nc] = [s.x.sets[0].distinct, s.x.sets[1].distinct];
    const [ba, bc] = baselineCounts(users.table.peek(s.key));
    ctx.alert({
      key: `user:${s.key}`,
      windowStart: ws,
      entity: { kind: 'username', value: s.key },
      summary: `Username "${s.key}" logged in from ${na} address${na === 1 ? '' : 'es'} and with ${nc} client id${nc === 1 ? '' : 's'} outside its baseline in ${duration(t.window)}.`,
      evidence: {
        metric: na >= ta ? 'new addresses' : 'new client ids', observed: na >= ta ? na : nc, baseline: na >= ta ? ba : bc, threshold: na >= ta ? ta : tc,
        window: t.window, newAddresses: s.x.sets[0].values(10), newClientIds: s.x.sets[1].values(10), logins: s.x.logins,
      },
      proof: s.proof,
      count: s.x.logins,
    });
  };
  const raisePassword = (s: WindowSlot<Fresh>, ws: number): void => {
    const base = passwords.table.peek(s.key)?.items.size ?? 0;
    ctx.alert({
      key: `password:${s.key}`,
      windowStart: ws,
      entity: { kind: 'password', value: s.key },
      summary: `One password (keyed hash ${s.key}) was accepted for ${s.x.sets[0].distinct} usernames outside its baseline in ${duration(t.window)}.`,
      evidence: {
        metric: 'new usernames', observed: s.x.sets[0].distinct, baseline: base, threshold: Math.max(t.minNewUsernames, base), window: t.window,
        usernames: s.x.sets[0].values(10),
      },
      proof: s.proof,
      count: s.x.logins,
    });
  };
  const userWindows = windows('username_windows', raiseUser);
  const passwordWindows = windows('password_windows', raisePassword);

  const loginAsUser = (user: string, c: MqttConnect | undefined, e: MqttConnack): void => {
    const k = users.entry(user, e.ts);
    const addr = clientAddr(e.flow);
    const cid = clientKey(c ?? e);
    if (users.learning(k, e.ts)) {
      users.add(k, ADDR + addr);
      users.add(k, CLIENT + cid);
      return;
    }
    const s = userWindows.touch(user, e.ts);
    s.x.logins++;
    if (c !== undefined) s.proof.add(c);
    s.proof.add(e);
    const freshAddr = !k.items.has(ADDR + addr) && s.x.sets[0].add(addr);
    const freshId = !k.items.has(CLIENT + cid) && s.x.sets[1].add(cid);
    if (!freshAddr && !freshId) return;
    const [ta, tc] = userThresholds(user);
    if ((s.x.sets[0].distinct >= ta || s.x.sets[1].distinct >= tc) && userWindows.fire(s, 0)) raiseUser(s, userWindows.windowStart);
  };

  const loginWithPassword = (hash: string, user: string, c: MqttConnect, e: MqttConnack): void => {
    const k = passwords.entry(hash, e.ts);
    if (passwords.learning(k, e.ts)) return passwords.add(k, user);
    const s = passwordWindows.touch(hash, e.ts);
    s.x.logins++;
    s.proof.add(c);
    s.proof.add(e);
    if (k.items.has(user) || !s.x.sets[0].add(user)) return;
    if (s.x.sets[0].distinct >= Math.max(t.minNewUsernames, k.items.size) && passwordWindows.fire(s, 0)) raisePassword(s, passwordWindows.windowStart);
  };

  return {
    onEvent(e: MqttConnect | MqttConnack): void {
      if (e.type === 'mqtt.connect') {
        if (e.flow.dir === 'to_server') pending.set(e.flow.flowId, e);
        return;
      }
      const c = pending.take(e.flow.flowId);
      const user = e.username ?? c?.username ?? null;
      if (e.returnCode !== 0 || user === null || user === '') return;
      loginAsUser(user, c, e);
      const hmac = c?.password.hmac ?? '';
      // 16 hex digits of the keyed hash are enough to tell passwords apart in an alert.
      if (c !== undefined && hmac !== '') loginWithPassword(hmac.slice(0, 16), user, c, e);
    },
    tick(now: number): void {
      userWindows.tick(now);
      passwordWindows.tick(now);
    },
    flush(): void {
      userWindows.flush();
      passwordWindows.flush();
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
  description: 'One username from addresses or client ids outside its baseline, or one password behind usernames outside its baseline.',
  recommendation: 'Give every device its own credentials (or a client certificate), rotate the shared ones, and bind client ids to usernames on the broker.',
  mitre: 'T0859', // Valid Accounts: the same credentials used from places they were not issued for
});
