// A per-flow memo for the hot path. Every event of one flow direction carries the same FlowSide
// object, and a flow's session (client id, username, server) does not change, so what a detector
// looked up for a flow's last event is usually what it needs for the next: a direct-mapped slot
// by flow id answers with two comparisons instead of hashing a string key.
//
// The detectors of one protocol family (MQTT, CoAP, ...) share one table whose entries hold every
// memo's value for a flow side side by side, so the several detectors that look at one event find
// theirs in the same few cache lines (per-detector tables cost a cache miss each). A flow is of
// one family only, so a table per family keeps rows to the columns that flow can use.
import type { FlowSide } from '../../src/events/types';
import type { LruEntry } from './tables';

const BITS = 12;

/** Both directions of a flow share its id; they get neighbouring slots. */
function slot(side: FlowSide): number {
  return side.dir === 'to_server' ? side.flowId << 1 : (side.flowId << 1) | 1;
}

/** The engine-wide table: entry i is [side, key0, value0, key1, value1, ...]. */
export class FlowMemoTable {
  private users = 0;
  private stride = 1;
  private a: unknown[] = [];
  private readonly mask = (1 << BITS) - 1;

  /**
   * A column for one more memo. The table is rebuilt (emptied: it is only a cache) with rows just
   * wide enough, so a flow side's memos stay in as few cache lines as they can. Memos register on
   * first use, so a run rebuilds it once per memo (ten on the bench capture): a bare allocation,
   * not filled (a hole reads as undefined, which no side equals; filling cost 12 M instructions).
   */
  register(): number {
    this.users++;
    this.stride = 1 + 2 * this.users;
    const a = new Array<unknown>(this.stride << BITS);
    // One object store makes it an array of any values (as the old one was) rather than of small
    // integers, so code that reads the table keeps its array map across rebuilds.
    a[0] = null;
    this.a = a;
    return this.users - 1;
  }

  /** Memo columns the table has. */
  get columns(): number {
    return this.users;
  }

  get(side: FlowSide, key: string, k: number): unknown {
    const i = (slot(side) & this.mask) * this.stride;
    const a = this.a;
    if (a[i] !== side) return null;
    const j = i + 1 + 2 * k;
    return a[j] === key ? a[j + 1] : null;
  }

  /** get() for a column whose value is a function of the side alone: no key to compare. */
  getSide(side: FlowSide, k: number): unknown {
    const i = (slot(side) & this.mask) * this.stride;
    const a = this.a;
    return a[i] === side ? a[i + 2 + 2 * k] : null;
  }

  set(side: FlowSide, key: string, k: number, v: unknown): void {
    const i = (slot(side) & this.mask) * this.stride;
    const a = this.a;
    if (a[i] !== side) {
      a[i] = side;
      // Keys '' rather than null: the key comparison in get() then only ever sees strings, which
      // compiles to a pointer comparison when they are interned (see src/util/intern).
      for (let x = i + 1; x < i + this.stride; x += 2) {
        a[x] = '';
        a[x + 1] = null;
      }
    }
    a[i + 1 + 2 * k] = key;
    a[i + 2 + 2 * k] = v;
  }
}

/**
 * One detector's memo: a column of the engine's table, taken on first use.
 *
 * get() hands back what was remembered as it is, possibly an entry its table has evicted since
 * (`lru` -1). The caller checks that and marks a hit used (`lru` 0 -> 1) in its own code: the
 * memos of all detectors share this code and hold values of several classes, so a read of `lru`
 * here would be a megamorphic lookup for every event.
 */
export class FlowMemo<V extends LruEntry> {
  private k = -1;

  constructor(private readonly table: FlowMemoTable) {}

  /** The value remembered for this flow side and key, or null; the caller checks `lru` (see above). */
  get(side: FlowSide, key: string): V | null {
    if (this.k < 0) return null;
    return this.table.get(side, key, this.k) as V | null;
  }

  /** get() for a memo whose value is a function of the flow side alone (set with any one key). */
  getSide(side: FlowSide): V | null {
    if (this.k < 0) return null;
    return this.table.getSide(side, this.k) as V | null;
  }

  set(side: FlowSide, key: string, v: V): V {
    if (this.k < 0) this.k = this.table.register();
    this.table.set(side, key, this.k, v);
    return v;
  }
}
