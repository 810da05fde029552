import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FlowEnd, FlowStart } from '../../src/events/types';
import { harness } from './helpers';

// The flow table puts its LRU lists in order only when it reads them (expiry, eviction):
// this property checks the order against a model that remembers every flow's last packet.

interface Step { client: number; udp: boolean; dt: number }

const step: fc.Arbitrary<Step> = fc.record({
  client: fc.integer({ min: 0, max: 11 }),
  udp: fc.boolean(),
  // Mostly small steps; sometimes past the idle timeouts below, sometimes back in time.
  dt: fc.constantFrom(0, 1_000, 50_000, 300_000, 1_100_000, 2_500_000, -200_000),
});

describe('flow LRU order (property)', () => {
  it('evicts the least recently used flow and ends idle flows oldest first', () => {
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 120 }), fc.integer({ min: 1, max: 6 }), (steps, maxFlows) => {
      const h = harness({ maxFlows, udpIdleTimeoutUs: 2_000_000, tcpIdleTimeoutUs: 3_000_000 });
      // Model: open flows by id, their endpoint key, protocol and the index of their last packet.
      const last = new Map<number, number>();
      const proto = new Map<number, string>();
      const byKey = new Map<string, number>();
      const keyOf = new Map<number, string>();
      let ts = 10_000_000;
      steps.forEach((s, i) => {
        ts += s.dt;
        const key = `${s.client}/${s.udp}`;
        const before = h.events.length;
        h.send({
          src: `10.0.1.${s.client}`, sport: 40000 + s.client, dst: '10.0.0.1', dport: s.udp ? 5683 : 1883,
          proto: s.udp ? 'udp' : 'tcp', flags: s.udp ? '' : 'A',
        }, ts);
        const idleOrder: Record<string, number[]> = { tcp: [], udp: [] };
        for (const e of h.events.slice(before)) {
          if (e.type === 'flow.start') {
            const id = (e as FlowStart).flow.flowId;
            last.set(id, i);
            proto.set(id, e.flow.proto);
            byKey.set(key, id);
            keyOf.set(id, key);
          } else if (e.type === 'flow.end') {
            const end = e as FlowEnd;
            const id = end.flow.flowId;
            if (end.reason === 'evicted') {
              // The victim is the open flow whose last packet is the oldest.
              const oldest = [...last.entries()].sort((a, b) => a[1] - b[1])[0][0];
              expect(id).toBe(oldest);
            }
            // Flows ended by expiry (not the one this packet found idle) go oldest first per list.
            if (end.reason === 'idle' && keyOf.get(id) !== key) idleOrder[proto.get(id)!].push(last.get(id)!);
            last.delete(id);
            byKey.delete(keyOf.get(id)!);
          }
        }
        for (const order of Object.values(idleOrder)) expect(order).toEqual([...order].sort((a, b) => a - b));
        const id = byKey.get(key);
        if (id !== undefined) last.set(id, i);
        expect(last.size).toBeLessThanOrEqual(maxFlows);
      });
    }), { numRuns: 1_000 });
  });
});
