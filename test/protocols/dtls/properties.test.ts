// Properties (fast-check): random, truncated and mutated datagrams never throw; a fragmented
// handshake message gives the same events whatever the fragmentation, order and duplication.
import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Dir } from '../../../src/flow/types';
import { createDtlsHandler, readDtlsRecord, readHandshakeFragment } from '../../../src/protocols/dtls';
import { dtlsHs, dtlsRecord, serverHelloBody, vec16, vec8 } from '../tls/build';
import { collector, fakeFlow, strip } from '../tls/fake-flow';
import { recordFlows } from '../tls/run-pcap';

const PCAPS = join(__dirname, '../../../pcaps');

/** Events without what names the completing record (its sequence number depends on the fragmentation). */
const facts = (events: ReturnType<typeof feed>): unknown[] => strip(events).map((e) => ({ ...(e as object), sequence: undefined }));

function feed(datagrams: Array<{ dir: Dir; data: Buffer }>) {
  const c = collector();
  const h = createDtlsHandler(fakeFlow('udp', 5684), c.emit);
  for (const d of datagrams) h.onDatagram(d.dir, d.data, 0, d.data.length, 1, 1);
  h.onEnd(2, 2);
  return c.events;
}

describe('DTLS properties', () => {
  const recorded = ['dtls-coap-psk', 'dtls-fragmented'].flatMap((n) => recordFlows(join(PCAPS, `${n}.pcap`), 'udp'));

  it('random datagrams never throw', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ dir: fc.constantFrom<Dir>(0, 1), data: fc.uint8Array({ maxLength: 200 }) }), { maxLength: 10 }), (ds) => {
        feed(ds.map((d) => ({ dir: d.dir, data: Buffer.from(d.data) })));
        for (const d of ds) {
          const b = Buffer.from(d.data);
          if (b.length > 0) readDtlsRecord(b, 0, b.length);
          readHandshakeFragment(b, 0, b.length);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('recorded datagrams truncated or with one byte changed never throw', () => {
    const all = recorded.flatMap((f) => f.chunks);
    fc.assert(
      fc.property(fc.nat(all.length - 1), fc.nat(), fc.nat(255), fc.boolean(), (i, at, v, truncate) => {
        const d = Buffer.from(all[i].data);
        const p = at % d.length;
        const mutated = truncate ? d.subarray(0, p) : (d[p] = v, d);
        feed([...all.slice(0, i).map((c) => ({ dir: c.dir, data: c.data })), { dir: all[i].dir, data: mutated }]);
      }),
      { numRuns: 400 },
    );
  });

  it('any fragmentation, order and duplication of a handshake message gives the same events', () => {
    const cke = Buffer.concat([vec16(Buffer.from('device-77')), vec8(Buffer.alloc(65, 4))]);
    const hello = { dir: 1 as Dir, data: dtlsRecord(22, dtlsHs(2, serverHelloBody({ version: 0xfefd, suite: 0xccac }), 1), 0, 1) };
    const reference = facts(feed([hello, { dir: 0, data: dtlsRecord(22, dtlsHs(16, cke, 2), 0, 2) }]));
    expect(reference.map((e) => (e as { type: string }).type)).toEqual(['dtls.server_hello', 'dtls.psk_identity']);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: cke.length }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 3 }),
        (sizes, shuffle, dups) => {
          const frags: Buffer[] = [];
          for (let off = 0, k = 0; off < cke.length; k++) {
            const n = Math.min(sizes[k % sizes.length], cke.length - off);
            frags.push(dtlsHs(16, cke, 2, off, n));
            off += n;
          }
          for (let i = 0; i < shuffle.length; i++) {
            const a = i % frags.length;
            const b = shuffle[i] % frags.length;
            [frags[a], frags[b]] = [frags[b], frags[a]];
          }
          for (const d of dups) frags.push(frags[d % frags.length]);
          const ds = frags.map((f, i) => ({ dir: 0 as Dir, data: dtlsRecord(22, f, 0, 2 + i) }));
          expect(facts(feed([hello, ...ds]))).toEqual(reference);
        },
      ),
      { numRuns: 300 },
    );
  });
});
