// Posture findings: facts that are wrong in themselves. One alert per entity for the whole run
// (window start 0), raised when first seen and then refreshed (count, frames) at most every
// REFRESH seconds of capture time and at end of input: never a stream of duplicates.
import type { DetectorContext } from './detector';
import { SECOND } from './detector';
import { Proof } from './proof';
import type { LruEntry, LruTable } from './tables';
import type { AlertSpec } from '../../src/alerts/types';

export const POSTURE_REFRESH = 300;
export const MAX_FINDINGS = 10_000;

export class Finding<X> implements LruEntry {
  lru = 0;
  raised = false;
  dirty = false;
  readonly proof = new Proof();

  constructor(readonly key: string, readonly x: X) {}
}

export class Findings<X> {
  private readonly table: LruTable<Finding<X>>;
  private readonly dirty: Finding<X>[] = [];
  private nextRefresh = 0;

  constructor(
    ctx: DetectorContext,
    private readonly make: (key: string) => X,
    private readonly raise: (f: Finding<X>) => void,
    max = MAX_FINDINGS,
  ) {
    this.table = ctx.lru<Finding<X>>('findings', max);
  }

  /** The finding for an entity (created on first sight); add proof, then call report(). */
  observe(key: string): Finding<X> {
    let f = this.table.get(key);
    if (f === undefined) f = this.table.set(key, new Finding(key, this.make(key)));
    return f;
  }

  get(key: string): Finding<X> | undefined {
    return this.table.peek(key);
  }

  report(f: Finding<X>): void {
    if (!f.raised) {
      f.raised = true;
      this.raise(f);
    } else if (!f.dirty) {
      f.dirty = true;
      this.dirty.push(f);
    }
  }

  tick(now: number): void {
    if (now < this.nextRefresh) return;
    this.nextRefresh = (Math.floor(now / (POSTURE_REFRESH * SECOND)) + 1) * POSTURE_REFRESH * SECOND;
    this.refresh();
  }

  flush(): void {
    this.refresh();
  }

  private refresh(): void {
    for (const f of this.dirty) {
      f.dirty = false;
      this.raise(f);
    }
    this.dirty.length = 0;
  }
}

/** The alert fields every finding shares: its entity key, the whole run as window, its proof. */
export function findingSpec<X>(f: Finding<X>, rest: Omit<AlertSpec, 'key' | 'windowStart' | 'proof'>): AlertSpec {
  return { key: f.key, windowStart: 0, proof: f.proof, ...rest };
}
