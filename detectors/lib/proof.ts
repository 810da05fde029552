// Bounded evidence for an alert: the first frames and the distinct flows that were counted.
import type { EventBase, FlowSide } from '../../src/events/types';
import type { ProofLike } from '../../src/alerts/types';

export const MAX_PROOF_FRAMES = 20;
export const MAX_PROOF_FLOWS = 10;

export class Proof implements ProofLike {
  first = 0;
  last = 0;
  n = 0;
  /**
   * The lists' state, kept here: frames full, flows full, and the flow last pushed or found. A hot
   * entity's proof is settled after twenty events; from then on add() reads and writes this object
   * alone, not the two arrays and their elements (three more cache lines an event, for every
   * detector keeping evidence).
   */
  private framesFull = false;
  private flowsFull = false;
  private recent: FlowSide | null = null;
  readonly frames: number[] = [];
  readonly flows: FlowSide[] = [];

  add(e: EventBase): void {
    if (this.n === 0) this.first = e.ts;
    this.n++;
    if (e.ts > this.last) this.last = e.ts;
    if (this.framesFull === false) {
      this.frames.push(e.frame);
      this.framesFull = this.frames.length >= MAX_PROOF_FRAMES;
    }
    const flow = e.flow;
    if (this.flowsFull === true || flow === this.recent) return;
    const fl = this.flows;
    if (!fl.includes(flow)) {
      fl.push(flow);
      this.flowsFull = fl.length >= MAX_PROOF_FLOWS;
    }
    this.recent = flow;
  }

  reset(): void {
    this.frames.length = 0;
    this.flows.length = 0;
    this.first = 0;
    this.last = 0;
    this.n = 0;
    this.framesFull = false;
    this.flowsFull = false;
    this.recent = null;
  }
}

/** Proof of a single event. */
export function proofOf(e: EventBase, n = 1): ProofLike {
  return { frames: [e.frame], flows: [e.flow], first: e.ts, last: e.ts, n };
}
