// Bounded tables for per-entity state. Every table has a bound; hitting it evicts the
// least recently used entry and is counted, never a silent drop or an unbounded Map.

export interface TableStats {
  readonly size: number;
  readonly max: number;
  readonly evictions: number;
}

/** Entries carry their own reference bit (1 used, 0 not since passed over, -1 evicted). */
export interface LruEntry {
  lru: number;
}

/**
 * Approximate LRU keyed by string (the CLOCK / second-chance policy): a hit only sets the
 * entry's reference bit; when the table is full, entries are taken oldest first, and one whose
 * bit is set gets a second chance (bit cleared, moved to the young end) instead of eviction.
 * So the hot path is a plain Map.get, and eviction cost is amortised over the hits.
 */
export class LruTable<V extends LruEntry> {
  private readonly m = new Map<string, V>();
  evictions = 0;

  constructor(readonly max: number, private readonly onEvict?: (key: string, v: V) => void) {}

  get size(): number {
    return this.m.size;
  }

  get(key: string): V | undefined {
    const v = this.m.get(key);
    if (v !== undefined && v.lru === 0) v.lru = 1;
    return v;
  }

  /** Look up without marking the entry used. */
  peek(key: string): V | undefined {
    return this.m.get(key);
  }

  set(key: string, v: V): V {
    if (!this.m.has(key) && this.m.size >= this.max) this.evictOne();
    // A new entry starts unreferenced: one seen once is the first to go (scan resistance).
    v.lru = 0;
    this.m.set(key, v);
    return v;
  }

  delete(key: string): boolean {
    return this.m.delete(key);
  }

  entries(): IterableIterator<[string, V]> {
    return this.m.entries();
  }

  values(): IterableIterator<V> {
    return this.m.values();
  }

  stats(): TableStats {
    return { size: this.m.size, max: this.max, evictions: this.evictions };
  }

  private evictOne(): void {
    // Terminates: every entry passed over loses its bit, so the second lap finds a victim.
    for (const [k, v] of this.m) {
      if (v.lru !== 0) {
        v.lru = 0;
        this.m.delete(k);
        this.m.set(k, v);
        continue;
      }
      this.m.delete(k);
      v.lru = -1;
      this.evictions++;
      this.onEvict?.(k, v);
      return;
    }
  }
}

/** FIFO-bounded map for short-lived pairings (a CONNECT waiting for its CONNACK). */
export class BoundedMap<K, V> {
  private readonly m = new Map<K, V>();
  evictions = 0;

  constructor(readonly max: number) {}

  get size(): number {
    return this.m.size;
  }

  get(key: K): V | undefined {
    return this.m.get(key);
  }

  set(key: K, v: V): void {
    if (this.m.size >= this.max && !this.m.has(key)) {
      const first = this.m.keys().next();
      if (first.done !== true) {
        this.m.delete(first.value);
        this.evictions++;
      }
    }
    this.m.set(key, v);
  }

  /** Get and remove. */
  take(key: K): V | undefined {
    const v = this.m.get(key);
    if (v !== undefined) this.m.delete(key);
    return v;
  }

  delete(key: K): boolean {
    return this.m.delete(key);
  }

  entries(): IterableIterator<[K, V]> {
    return this.m.entries();
  }

  stats(): TableStats {
    return { size: this.m.size, max: this.max, evictions: this.evictions };
  }
}

/** A set that stops growing at `max` and counts what it could not hold. */
export class CappedSet {
  private readonly s = new Set<string>();
  overflow = 0;

  constructor(readonly max: number) {}

  get size(): number {
    return this.s.size;
  }

  /** True when the value is new (added, or counted as overflow). */
  add(v: string): boolean {
    if (this.s.has(v)) return false;
    if (this.s.size >= this.max) {
      this.overflow++;
      return true;
    }
    this.s.add(v);
    return true;
  }

  has(v: string): boolean {
    return this.s.has(v);
  }

  /** Distinct values seen (those held plus the overflow, which may double count). */
  get distinct(): number {
    return this.s.size + this.overflow;
  }

  clear(): void {
    this.s.clear();
    this.overflow = 0;
  }

  values(limit = Infinity): string[] {
    const out: string[] = [];
    for (const v of this.s) {
      if (out.length >= limit) break;
      out.push(v);
    }
    return out;
  }
}
