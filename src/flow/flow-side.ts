// The per-flow-side memo slot. Every event of one flow direction carries the same FlowSide object
// (see events/types), so state a consumer keeps on the side itself is found by one property load:
// the detectors' flow memos (detectors/lib/flow-memo) keep their entries there.
//
// The slot is keyed by a symbol and not enumerable: it is no part of the event's data (JSON,
// Object.keys, spreads and deep equality all skip it), and no field name is taken from the events.
import type { FlowSide } from '../events/types';

export const FLOW_MEMO: unique symbol = Symbol('iotwatch.flowMemo');

/** A flow side as its memo's owner sees it: the slot holds an array, or undefined before first use. */
export type MemoSide = FlowSide & { [FLOW_MEMO]?: unknown[] };

/**
 * Gives a new side its memo slot, empty. Sides made with it share one hidden class, so a read of
 * the slot is one map check and one load; a side made elsewhere gets the slot on its first memo.
 */
export function withMemoSlot(side: FlowSide): FlowSide {
  Object.defineProperty(side, FLOW_MEMO, { value: undefined, writable: true, enumerable: false, configurable: false });
  return side;
}
