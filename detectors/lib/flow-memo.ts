// A per-flow memo for the hot path. Every event of one flow direction carries the same FlowSide
// object, and a flow's session (client id, username, server) does not change, so what a detector
// looked up for a flow's last event is usually what it needs for the next: kept on the side itself
// (its memo slot, src/flow/flow-side), it is found with a load and a key comparison instead of a
// string hashed into a table.
//
// The detectors of one protocol family (MQTT, CoAP, ...) share one table, which gives each memo a
// column: a side's array holds every memo's entry for that side next to each other, so the several
// detectors that look at one event find theirs in the same few cache lines. A flow is of one family
// only, so its side's array holds the columns of that family alone.
import type { FlowSide } from '../../src/events/types';
import { FLOW_MEMO, type MemoSide } from '../../src/flow/flow-side';
import type { LruEntry } from './tables';

/** A memo's column before it has one: past the end of every side's array. */
const UNREGISTERED = 1 << 30;

/**
 * The family's table of columns. A side's array is [table, key0, value0, key1, value1, ...]: the
 * table at 0 says whose columns they are (a side another family's memos wrote to is not read).
 */
export class FlowMemoTable {
  private users = 0;
  /** Length of an array with every column. */
  private width = 1;

  /** A column for one more memo; arrays made before it are widened on their next write. */
  register(): number {
    this.users++;
    this.width = 1 + 2 * this.users;
    return this.users - 1;
  }

  /** Memo columns the table has. */
  get columns(): number {
    return this.users;
  }

  /** The side's array, with every column: made, or widened (keeping its entries), when it is not. */
  row(side: FlowSide): unknown[] {
    const s = side as MemoSide;
    const a = s[FLOW_MEMO];
    // This table's entries, to keep (another family's are dropped: a flow is of one family).
    const own = a !== undefined && a[0] === this ? a : null;
    if (own !== null && own.length === this.width) return own;
    // Built by push, so that the array is packed: reads of it then need no hole checks. Keys are ''
    // rather than null: the key comparison in get() then only ever sees strings, which compiles to
    // a pointer comparison when they are interned (see src/util/intern).
    const row: unknown[] = [this];
    for (let x = 1; x < this.width; x += 2) {
      if (own !== null && x < own.length) row.push(own[x], own[x + 1]);
      else row.push('', null);
    }
    // A side the flow table did not make (MemoFlowSide) gets its slot now, hidden like theirs.
    if (Object.prototype.hasOwnProperty.call(s, FLOW_MEMO)) s[FLOW_MEMO] = row;
    else Object.defineProperty(s, FLOW_MEMO, { value: row, writable: true, enumerable: false, configurable: false });
    return row;
  }
}

/**
 * One detector's memo: a column of its family's table, taken on first use.
 *
 * get() hands back what was remembered as it is, possibly an entry its table has evicted since
 * (`lru` -1). The caller checks that and marks a hit used (`lru` 0 -> 1) in its own code: the
 * memos of all detectors share this code and hold values of several classes, so a read of `lru`
 * here would be a megamorphic lookup for every event.
 */
export class FlowMemo<V extends LruEntry> {
  /** Index of this memo's key in a side's array (its value follows it). */
  private j = UNREGISTERED;

  constructor(private readonly table: FlowMemoTable) {}

  /** The value remembered for this flow side and key, or null; the caller checks `lru` (see above). */
  get(side: FlowSide, key: string): V | null {
    const a = (side as MemoSide)[FLOW_MEMO];
    if (a === undefined || a[0] !== this.table) return null;
    const j = this.j;
    if (j >= a.length) return null;
    return a[j] === key ? (a[j + 1] as V | null) : null;
  }

  /** get() for a memo whose value is a function of the flow side alone (set with any one key). */
  getSide(side: FlowSide): V | null {
    const a = (side as MemoSide)[FLOW_MEMO];
    if (a === undefined || a[0] !== this.table) return null;
    const j = this.j;
    if (j >= a.length) return null;
    return a[j + 1] as V | null;
  }

  set(side: FlowSide, key: string, v: V): V {
    if (this.j === UNREGISTERED) this.j = 1 + 2 * this.table.register();
    const a = this.table.row(side);
    a[this.j] = key;
    a[this.j + 1] = v;
    return v;
  }
}
