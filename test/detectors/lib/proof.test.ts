import { describe, expect, it } from 'vitest';
import { MAX_PROOF_FLOWS, MAX_PROOF_FRAMES, Proof } from '../../../detectors/lib/proof';
import type { FlowSide } from '../../../src/events/types';
import { at, flow, publish } from '../helpers';

/** The rule Proof keeps, written plainly: the first frames, and distinct flows in order of first sight. */
function reference(events: { frame: number; flow: FlowSide; ts: number }[]) {
  const frames: number[] = [];
  const flows: FlowSide[] = [];
  for (const e of events) {
    if (frames.length < MAX_PROOF_FRAMES) frames.push(e.frame);
    if (flows.length < MAX_PROOF_FLOWS && !flows.includes(e.flow)) flows.push(e.flow);
  }
  return { frames, flows, n: events.length, first: events[0]?.ts ?? 0, last: Math.max(0, ...events.map((e) => e.ts)) };
}

function check(p: Proof, events: { frame: number; flow: FlowSide; ts: number }[]): void {
  const r = reference(events);
  expect({ frames: p.frames, flows: p.flows, n: p.n, first: p.first, last: p.last }).toEqual(r);
}

describe('Proof', () => {
  // One flow object per side, as the flow table hands out: 14 clients, both directions.
  const sides = Array.from({ length: 14 }, (_, i) => flow(`10.0.0.${i + 1}`, '10.0.1.1')).flatMap((f) => [f.up, f.down]);

  it('keeps the first frames and the distinct flows in order, whatever the order they come in', () => {
    // A seeded generator: runs of one flow, returns to flows already kept, and more flows than fit.
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const p = new Proof();
      const events = [];
      const pool = 1 + rnd(sides.length);
      let cur = sides[rnd(pool)];
      for (let i = 0; i < 1 + rnd(80); i++) {
        if (rnd(3) === 0) cur = sides[rnd(pool)];
        const e = publish({ up: cur, down: cur }, at(i), 't');
        const ev = { ...e, frame: 100 + i, ts: at(i) - rnd(2) };
        p.add(ev);
        events.push(ev);
      }
      check(p, events);
    }
  });

  it('still takes new flows after the frames are full, until the flows are', () => {
    const p = new Proof();
    const events = [];
    for (let i = 0; i < 40; i++) {
      // Frames fill up on the first flow; then each new flow still has to be kept.
      const side = i < 30 ? sides[0] : sides[i - 29];
      const ev = { ...publish({ up: side, down: side }, at(i), 't'), frame: i + 1 };
      p.add(ev);
      events.push(ev);
    }
    check(p, events);
    expect(p.flows).toHaveLength(MAX_PROOF_FLOWS);
    expect(p.frames).toHaveLength(MAX_PROOF_FRAMES);
  });

  it('starts over after reset', () => {
    const p = new Proof();
    for (let i = 0; i < 30; i++) p.add({ ...publish({ up: sides[i % 12], down: sides[0] }, at(i), 't'), frame: i + 1 });
    p.reset();
    const events = [1, 2, 3].map((i) => ({ ...publish({ up: sides[0], down: sides[0] }, at(100 + i), 't'), frame: 1000 + i }));
    for (const e of events) p.add(e);
    check(p, events);
  });
});
