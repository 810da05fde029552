// Set baselines: what an entity was seen doing (topic subtrees, methods, addresses). An entity
// learns until the learning period ends; one first seen later learns for `entityLearning` seconds
// of its own, so a new device is not reported for everything it does in its first minutes.
import type { DetectorContext } from './detector';
import { BaselineError, SECOND } from './detector';
import type { LruEntry, LruTable } from './tables';

/**
 * "None yet" in caches of strings compared by identity (h0, h1 here; a detector's last topics): a
 * lone surrogate, which no decoded string contains (UTF-8 decoding never yields one). A string
 * rather than null, so the comparisons only ever see strings (see src/util/intern).
 */
export const NO_VALUE = '\uD800';

export class KnownSet implements LruEntry {
  lru = 0;
  readonly items = new Set<string>();
  /** A detector's cache of raw values already found inside `items` (hot path), or null. */
  hot: Set<string> | null = null;
  /** The last two values found in `hot` (always members of it; cleared with it), checked first. */
  h0: string = NO_VALUE;
  h1: string = NO_VALUE;

  constructor(public learnUntil: number) {}
}

export class SetBaselines {
  readonly table: LruTable<KnownSet>;
  /** Items not stored because an entity's set was full. */
  overflow = 0;

  constructor(
    private readonly ctx: DetectorContext,
    name: string,
    maxEntities: number,
    private readonly maxItems: number,
    private readonly entityLearning: number,
  ) {
    this.table = ctx.lru<KnownSet>(name, maxEntities);
  }

  /** The entity's set, created (learning) on first sight. */
  entry(key: string, ts: number): KnownSet {
    const k = this.table.get(key);
    if (k !== undefined) return k;
    // Seen during the learning period: learned when it ends. Seen later: learns for entityLearning.
    const end = this.ctx.learningEnd;
    return this.table.set(key, new KnownSet(ts < end ? end : ts + this.entityLearning * SECOND));
  }

  learning(k: KnownSet, ts: number): boolean {
    return this.ctx.learning || ts < k.learnUntil;
  }

  add(k: KnownSet, item: string): void {
    if (k.items.size < this.maxItems) k.items.add(item);
    else this.overflow++;
  }

  exportJSON(): unknown {
    const entities: [string, string[]][] = [];
    for (const [key, k] of this.table.entries()) entities.push([key, [...k.items]]);
    return { entities };
  }

  /** Imported entities are mature: they were learned from a known-good capture. */
  importJSON(data: unknown): void {
    const d = data as { entities?: unknown };
    if (d === null || typeof d !== 'object' || !Array.isArray(d.entities)) throw new BaselineError('not a set baseline');
    for (const row of d.entities as unknown[]) {
      if (!Array.isArray(row) || typeof row[0] !== 'string' || !Array.isArray(row[1])) continue;
      const k = this.table.set(row[0], new KnownSet(0));
      for (const item of row[1] as unknown[]) if (typeof item === 'string') this.add(k, item);
    }
  }
}
