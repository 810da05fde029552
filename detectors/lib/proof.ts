// Bounded evidence for an alert: the first frames and the distinct flows that were counted.
import type { EventBase, FlowSide } from '../../src/events/types';
import type { ProofLike } from '../../src/alerts/types';

export const MAX_PROOF_FRAMES = 20;
export const MAX_PROOF_FLOWS = 10;

export class Proof implements ProofLike {
  readonly frames: number[] = [];
  readonly flows: FlowSide[] = [];
  first = 0;
  last = 0;
  n = 0;

  add(e: EventBase): void {
    if (this.n === 0) this.first = e.ts;
    this.n++;
    if (e.ts > this.last) this.last = e.ts;
    if (this.frames.length < MAX_PROOF_FRAMES) this.frames.push(e.frame);
    const fl = this.flows;
    if (fl.length < MAX_PROOF_FLOWS && fl[fl.length - 1] !== e.flow && !fl.includes(e.flow)) fl.push(e.flow);
  }

  reset(): void {
    this.frames.length = 0;
    this.flows.length = 0;
    this.first = 0;
    this.last = 0;
    this.n = 0;
  }
}

/** Proof of a single event. */
export function proofOf(e: EventBase, n = 1): ProofLike {
  return { frames: [e.frame], flows: [e.flow], first: e.ts, last: e.ts, n };
}
