import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IotEvent } from '../../../src/events/types';
import type { Dir } from '../../../src/flow/types';
import { createCoapHandler } from '../../../src/protocols/coap';
import { encodeCoap, type MessageSpec } from './helpers/encode';
import { createReferenceCoapHandler } from './helpers/reference-pairing';
import { flowInfo } from './helpers/run-capture';

// Few message IDs and tokens, so that pairing, reuse, retransmission and supersession happen;
// tokens of every length class (0, Smi keys up to 3 bytes, numbers up to 6, hex strings).
const TOKENS = ['', '00', '01', '0001', '000001', 'aabbccdd', '0102030405', '010203040506', '01020304050607', 'a1a2a3a4a5a6a7a8'];

const message: fc.Arbitrary<{ dir: Dir; spec: MessageSpec; dt: number }> = fc.record({
  usual: fc.boolean(),
  type: fc.integer({ min: 0, max: 3 }),
  code: fc.constantFrom(0, 1, 2, 0x41, 0x44, 0x45, 0x45, 0x84, 0x20),
  mid: fc.integer({ min: 1, max: 5 }),
  token: fc.constantFrom(...TOKENS),
  observe: fc.option(fc.constantFrom(0, 1, 2, 7), { nil: undefined }),
  path: fc.option(fc.constantFrom('temp', 'a'), { nil: undefined }),
  dt: fc.constantFrom(0, 1, 10, 25, 50, 400, 1_000, 5_000),
}).map(({ usual, type, code, mid, token, observe, path, dt }) => {
  const isRequest = code > 0 && code < 32;
  const options: [number, number | string][] = [];
  if (observe !== undefined) options.push([6, observe]);
  if (path !== undefined) options.push([11, path]);
  const spec: MessageSpec = code === 0 ? { type, code, mid } : { type, code, mid, token, options };
  // Half the time a message goes its usual way: requests from the client, the rest from the server.
  const dir: Dir = isRequest === usual ? 0 : 1;
  return { dir, spec, dt };
});

function run(make: typeof createCoapHandler | typeof createReferenceCoapHandler, msgs: { dir: Dir; spec: MessageSpec; dt: number }[], maxPending: number, lifetimeUs: number): unknown[] {
  const out: unknown[] = [];
  const info = flowInfo('udp', 1, ['10.0.0.2', 40000], ['10.0.0.1', 5683]);
  const h = make(info, (e: IotEvent) => out.push(e), { maxPending, lifetimeUs });
  let ts = 1_700_000_000_000_000;
  let frame = 0;
  for (const m of msgs) {
    ts += m.dt;
    const b = encodeCoap(m.spec);
    h.onDatagram(m.dir, b, 0, b.length, ts, ++frame);
    out.push(h.pending);
  }
  h.onEnd(ts + 1);
  out.push({ ...h.stats });
  return out;
}

describe('pending-request table (property)', () => {
  it('pairs, expires and evicts exactly as the original Map-based table did', () => {
    fc.assert(fc.property(
      fc.array(message, { maxLength: 80 }),
      fc.constantFrom(1, 2, 3, 5, 1024),
      fc.constantFrom(50, 1_000, 247_000_000),
      (msgs, maxPending, lifetimeUs) => {
        expect(run(createCoapHandler, msgs, maxPending, lifetimeUs)).toEqual(run(createReferenceCoapHandler, msgs, maxPending, lifetimeUs));
      },
    ), { numRuns: 2_000 });
  });
});
