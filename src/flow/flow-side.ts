// The per-flow-side memo slot. Every event of one flow direction carries the same FlowSide object
// (see events/types), so state a consumer keeps on the side itself is found by one property load:
// the detectors' flow memos (detectors/lib/flow-memo) keep their entries there.
//
// The slot is keyed by a symbol and not enumerable: it is no part of the event's data (JSON,
// Object.keys, spreads and deep equality all skip it), and no field name is taken from the events.
import type { Direction, FlowSide } from '../events/types';

export const FLOW_MEMO: unique symbol = Symbol('iotwatch.flowMemo');

/** A flow side as its memo's owner sees it: the slot holds an array, or undefined before first use. */
export type MemoSide = FlowSide & { [FLOW_MEMO]?: unknown[] };

/**
 * The flow table's sides. A class rather than an object literal: an instance has room in the
 * object for the memo slot (a property added to a literal goes to a separate backing store, one
 * more load and cache line per memo read). Sides made with it share one hidden class, so a read
 * of the slot is one map check and one load; a side made elsewhere gets the slot on its first memo.
 */
export class MemoFlowSide implements FlowSide {
  constructor(
    readonly proto: FlowSide['proto'],
    readonly src: string,
    readonly sport: number,
    readonly dst: string,
    readonly dport: number,
    readonly communityId: string,
    readonly dir: Direction,
    readonly flowId: number,
    readonly sensor: string,
  ) {
    Object.defineProperty(this, FLOW_MEMO, { value: undefined, writable: true, enumerable: false, configurable: false });
  }
}
