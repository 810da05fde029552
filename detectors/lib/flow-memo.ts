// A per-flow memo for the hot path. Every event of one flow direction carries the same FlowSide
// object, and a flow's session (client id, username, server) does not change, so what a detector
// looked up for a flow's last event is usually what it needs for the next: a direct-mapped slot
// by flow id answers with two comparisons instead of hashing a string key.
import type { FlowSide } from '../../src/events/types';
import type { LruEntry } from './tables';

const BITS = 12;

/** Both directions of a flow share its id; they get neighbouring slots. */
function slot(side: FlowSide): number {
  return side.dir === 'to_server' ? side.flowId << 1 : (side.flowId << 1) | 1;
}

export class FlowMemo<V extends LruEntry> {
  private readonly sides: (FlowSide | null)[] = new Array<FlowSide | null>(1 << BITS).fill(null);
  private readonly keys: string[] = new Array<string>(1 << BITS).fill('');
  private readonly vals: (V | null)[] = new Array<V | null>(1 << BITS).fill(null);
  private readonly mask = (1 << BITS) - 1;

  /** The value remembered for this flow side and key, unless it was evicted from its table since. */
  get(side: FlowSide, key: string): V | null {
    const i = slot(side) & this.mask;
    const v = this.vals[i];
    if (this.sides[i] !== side || this.keys[i] !== key || v === null || v.lru < 0) return null;
    v.lru = 1;
    return v;
  }

  set(side: FlowSide, key: string, v: V): V {
    const i = slot(side) & this.mask;
    this.sides[i] = side;
    this.keys[i] = key;
    this.vals[i] = v;
    return v;
  }
}
