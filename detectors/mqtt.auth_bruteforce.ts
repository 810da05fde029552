// mqtt.auth_bruteforce: password guessing against a broker.
// A failed login is a CONNACK refusing credentials. What counts is distinct guesses (username plus
// keyed password hash), so a device retrying one stale password is not taken for an attacker.
// Three counters: guesses per source (short window), slow guessing per source (long window), and
// distinct sources failing against one username (long window: a spread-out attack).
import type { MqttConnack, MqttConnect } from '../src/events/types';
import { duration } from './lib/format';
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { clientAddr } from './lib/endpoints';
import { isAuthFailure } from './lib/mqtt';
import { CappedSet } from './lib/tables';
import { EntityWindows, type WindowSlot } from './lib/windows';

export const id = 'mqtt.auth_bruteforce';
export const category = 'anomaly';

export const tunables = {
  window: 300,
  maxGuesses: 10,
  slowWindow: 86_400,
  slowGuesses: 30,
  maxSources: 5,
  maxEntities: 10_000,
};

export const schema: Schema<typeof tunables> = {
  window: { type: 'integer', min: 1, max: 86_400, description: 'short window, seconds' },
  maxGuesses: { type: 'integer', min: 2, max: 1_000_000, description: 'distinct failed credentials from one source in the short window' },
  slowWindow: { type: 'integer', min: 60, max: 30 * 86_400, description: 'long window for slow guessing, seconds' },
  slowGuesses: { type: 'integer', min: 2, max: 1_000_000, description: 'distinct failed credentials from one source in the long window' },
  maxSources: { type: 'integer', min: 2, max: 1_000_000, description: 'distinct source addresses failing against one username in the long window' },
  maxEntities: { type: 'integer', min: 1, max: 10_000_000, description: 'sources and usernames tracked (LRU, counted)' },
};

/** Distinct values seen in a window, failures counted, and whether the short window fired. */
class Seen {
  readonly distinct = new CappedSet(4096);
  failures = 0;
  fastFired = false;
}

type Kind = 'fast' | 'slow' | 'distributed';

export function create(ctx: DetectorContext, t: typeof tunables) {
  const pending = ctx.bounded<number, MqttConnect>('pending_connects', t.maxEntities);
  const seconds = { fast: t.window, slow: t.slowWindow, distributed: t.slowWindow };

  const raise = (w: EntityWindows<Seen>, s: WindowSlot<Seen>, ws: number, kind: Kind): void => {
    const n = s.x.distinct.distinct;
    ctx.alert({
      key: `${kind}:${s.key}`,
      windowStart: ws,
      entity: kind === 'distributed' ? { kind: 'username', value: s.key } : { kind: 'address', value: s.key },
      summary: kind === 'distributed'
        ? `Logins as "${s.key}" were refused from ${n} different addresses within ${duration(seconds[kind])}.`
        : `${s.key} tried ${n} different credentials that the broker refused within ${duration(seconds[kind])}${kind === 'slow' ? ' (slow guessing)' : ''}.`,
      evidence: w.evidence(s, 0, { kind, failures: s.x.failures, usernames: kind === 'distributed' ? null : usernames(s.x.distinct) }),
      proof: s.proof,
      count: s.x.failures,
    });
  };

  const windows = (name: string, kind: Kind, threshold: number, metric: string): EntityWindows<Seen> => {
    const w: EntityWindows<Seen> = new EntityWindows(ctx, name, { window: seconds[kind], maxEntities: t.maxEntities },
      [{ name: metric, minCount: threshold, coldThreshold: threshold }], {
        make: () => new Seen(),
        onClose(s, ws) {
          // Refresh with the window's final numbers; slow guessing already reported as fast is not repeated.
          if (s.fired !== 0 && !(kind === 'slow' && s.x.fastFired)) raise(w, s, ws, kind);
          s.x = new Seen();
        },
      });
    return w;
  };
  const fast = windows('sources', 'fast', t.maxGuesses, 'distinct failed credentials');
  const slow = windows('slow_sources', 'slow', t.slowGuesses, 'distinct failed credentials');
  const users = windows('usernames', 'distributed', t.maxSources, 'distinct failing sources');

  /** Count one failure; true when it crosses the threshold. */
  const tally = (w: EntityWindows<Seen>, s: WindowSlot<Seen>, value: string, c: MqttConnect | undefined, e: MqttConnack): boolean => {
    s.x.failures++;
    if (c !== undefined) s.proof.add(c);
    s.proof.add(e);
    return s.x.distinct.add(value) && w.add(s, 0, 1);
  };

  return {
    onEvent(e: MqttConnect | MqttConnack): void {
      if (e.type === 'mqtt.connect') {
        if (e.flow.dir === 'to_server') pending.set(e.flow.flowId, e);
        return;
      }
      const c = pending.take(e.flow.flowId);
      if (!isAuthFailure(e.version, e.returnCode)) return;
      const src = clientAddr(e.flow);
      const user = e.username ?? c?.username ?? '';
      const guess = `${user}\0${c?.password.hmac ?? ''}`;

      const f = fast.touch(src, e.ts);
      if (tally(fast, f, guess, c, e)) raise(fast, f, fast.windowStart, 'fast');
      const sl = slow.touch(src, e.ts);
      if (f.fired !== 0) sl.x.fastFired = true;
      if (tally(slow, sl, guess, c, e) && !sl.x.fastFired) raise(slow, sl, slow.windowStart, 'slow');
      const u = users.touch(user, e.ts);
      if (tally(users, u, src, c, e)) raise(users, u, users.windowStart, 'distributed');
    },
    tick(now: number): void {
      fast.tick(now);
      slow.tick(now);
      users.tick(now);
    },
    flush(): void {
      fast.flush();
      slow.flush();
      users.flush();
    },
  };
}

function usernames(guesses: CappedSet): string[] {
  return [...new Set(guesses.values(50).map((g) => g.slice(0, g.indexOf('\0'))))].slice(0, 5);
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'high',
  usesBaseline: false,
  subscribes: ['mqtt.connect', 'mqtt.connack'],
  description: 'Many distinct credentials refused for one source (fast or slow), or one username refused from many sources.',
  recommendation: 'Block the source, rate-limit failed logins on the broker, use long unique passwords or client certificates, and check whether any guess succeeded.',
  mitre: null, // ATT&CK for ICS has no credential guessing technique (T0806 Brute Force I/O is about I/O points)
});
