// Property tests: random and mutated input never throws out of the parser or decoder (it
// yields warnings and counters), chunking never changes the result, and reassembly is
// independent of fragment order and duplication.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaptureFormatError } from '../../src/capture/format';
import { createDecodedPacket, PacketDecoder, type DecodeStats } from '../../src/capture/link';
import { CaptureParser } from '../../src/capture/reader';
import type { PacketRecord } from '../../src/capture/types';
import { parseAll, parseChunks } from './helpers/collect';
import { ether, etherTcp4, ipv4, ipv6, tcp, udp } from './helpers/packets';
import { splitAt, writePcap, writePcapng } from './helpers/writers';

const LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 127];

function feedAll(bytes: Uint8Array): void {
  const p = new CaptureParser(() => {}, { name: 'fuzz' });
  p.feed(Buffer.from(bytes));
  p.end();
}

const pcapHeader = writePcap({ linkType: 1, packets: [] });
const pcapngHeader = writePcapng([{ blocks: [{ type: 'idb', linkType: 1 }] }]);
const sample = Buffer.concat([
  writePcapng([
    {
      blocks: [
        { type: 'idb', linkType: 1, tsresol: 9 },
        { type: 'epb', iface: 0, ts: 1n, data: etherTcp4(Buffer.from('abc')) },
        { type: 'spb', data: etherTcp4(Buffer.from('def')) },
        { type: 'isb', iface: 0, ifdrop: 1n },
      ],
    },
  ]),
]);
const samplePcap = writePcap({
  le: false,
  nano: true,
  linkType: 1,
  packets: [1, 2, 3].map((i) => ({ sec: i, frac: i, data: etherTcp4(Buffer.alloc(i * 10, i)) })),
});

describe('capture parser on random input', () => {
  it('random bytes only ever raise CaptureFormatError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          feedAll(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(CaptureFormatError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  for (const [name, header] of [
    ['pcap', pcapHeader],
    ['pcapng', pcapngHeader],
  ] as const) {
    it(`a valid ${name} header followed by random bytes never throws`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(700), { maxLength: 4 }), (tail, cuts) => {
          const file = Buffer.concat([header, Buffer.from(tail)]);
          const r = parseChunks(splitAt(file, cuts));
          expect(r.stats.packets).toBe(r.packets.length);
          if (r.stats.truncatedAt !== undefined) expect(r.stats.warnings.length).toBe(1);
        }),
        { numRuns: 1500 },
      );
    });
  }

  for (const [name, file] of [
    ['pcapng', sample],
    ['pcap', samplePcap],
  ] as const) {
    it(`a ${name} file with corrupted bytes never throws anything but CaptureFormatError`, () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.nat(file.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (edits) => {
          const f = Buffer.from(file);
          for (const [at, v] of edits) f[at] = v;
          try {
            const r = parseAll(f);
            for (const p of r.packets) expect(Number.isFinite(p.tsUs)).toBe(true);
          } catch (e) {
            expect(e).toBeInstanceOf(CaptureFormatError);
          }
        }),
        { numRuns: 1500 },
      );
    });

    it(`${name}: any chunking gives the same packets and stats`, () => {
      const whole = parseAll(file);
      fc.assert(
        fc.property(fc.array(fc.nat(file.length), { maxLength: 12 }), (cuts) => {
          expect(parseChunks(splitAt(file, cuts))).toEqual(whole);
        }),
        { numRuns: 500 },
      );
    });

    it(`${name}: any truncation keeps the packets before the cut and warns`, () => {
      const whole = parseAll(file);
      // Offsets where a unit (file header, record, block) ends: a cut there is undetectable.
      const boundaries = new Set<number>();
      for (let off = name === 'pcap' ? 24 : 0; off < file.length; ) {
        boundaries.add(off);
        off += name === 'pcap' ? 16 + file.readUInt32BE(off + 8) : file.readUInt32LE(off + 4);
      }
      fc.assert(
        fc.property(fc.integer({ min: 4, max: file.length - 1 }), (n) => {
          const r = parseAll(file.subarray(0, n));
          expect(whole.packets.slice(0, r.packets.length)).toEqual(r.packets);
          if (boundaries.has(n)) {
            expect(r.stats.warnings).toEqual([]);
          } else {
            expect(r.stats.truncatedAt).toBeLessThan(n);
            expect(r.stats.warnings[0]).toMatch(/truncated .* at byte offset \d+/);
          }
        }),
      );
    });
  }
});

function failures(s: DecodeStats): number {
  return s.nonIp + s.unsupportedLink + s.truncated + s.badHeader + s.otherTransport + s.fragments;
}

describe('packet decoder on random input', () => {
  const v4 = ipv4({ proto: 6, payload: tcp({ sport: 1, dport: 2, payload: Buffer.from('hello') }) });
  const v6 = ipv6({ proto: 17, payload: udp({ sport: 1, dport: 2, payload: Buffer.from('hello') }), ext: [{ type: 0 }, { type: 44, frag: { offset: 8, more: true, id: 1 } }] });
  const seeds = [Buffer.alloc(0), ether(0x0800, v4), ether(0x86dd, v6), v4, v6, ether(0x8100, Buffer.concat([Buffer.from([0, 1, 0x08, 0]), v4]))];

  it('never throws, and every packet is decoded within bounds or counted as unused', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...LINK_TYPES),
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(200), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.uint8Array({ maxLength: 80 }),
        fc.nat(100),
        fc.boolean(),
        (lt, seed, edits, extra, cutAt, snapCut) => {
          const b = Buffer.concat([seed, Buffer.from(extra)]);
          for (const [at, v] of edits) if (at < b.length) b[at] = v;
          const caplen = Math.max(0, b.length - (cutAt % (b.length + 1)));
          const d = new PacketDecoder();
          const out = createDecodedPacket();
          const rec: PacketRecord = { frame: 1, tsUs: 0, linkType: lt, iface: 0, buf: b, off: 0, caplen, wirelen: snapCut ? caplen + 10 : caplen };
          const ok = d.decode(rec, out);
          if (ok) {
            expect(out.payloadLen).toBeGreaterThanOrEqual(0);
            expect(out.payloadOff + out.payloadLen).toBeLessThanOrEqual(out.buf === b ? caplen : out.buf.length);
            expect(out.l4Off + out.l4Len).toBeLessThanOrEqual(out.buf === b ? caplen : out.buf.length);
            expect(out.seq).toBeGreaterThanOrEqual(0);
            expect([6, 17]).toContain(out.proto);
          } else {
            expect(failures(d.stats)).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('random fragment streams never throw and respect the bounds', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ id: fc.integer({ min: 0, max: 3 }), off: fc.integer({ min: 0, max: 8200 }), len: fc.integer({ min: 0, max: 300 }), more: fc.boolean(), t: fc.nat(100) }),
          { maxLength: 60 },
        ),
        (frags) => {
          const d = new PacketDecoder({ defrag: { maxDatagrams: 2, maxTotalBytes: 3000, maxFragments: 8, timeoutUs: 50 } });
          const out = createDecodedPacket();
          let t = 0;
          for (const f of frags) {
            t += f.t;
            const b = ether(0x0800, ipv4({ proto: 17, id: f.id, fragOffset: f.off & ~7, moreFragments: f.more, payload: Buffer.alloc(f.len, 1) }));
            d.decode({ frame: 1, tsUs: t, linkType: 1, iface: 0, buf: b, off: 0, caplen: b.length, wirelen: b.length }, out);
            expect(d.defrag!.pending).toBeLessThanOrEqual(2);
            expect(d.defrag!.heldBytes).toBeLessThanOrEqual(3000);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('reassembly is independent of order and duplication', () => {
  it('IPv4 and IPv6: any permutation with duplicates gives the original datagram', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 16, max: 2000 }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        fc.infiniteStream(fc.nat()),
        fc.array(fc.nat(), { maxLength: 5 }),
        (size, unit, v6, rnd, dups) => {
          const data = Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + size) & 0xff));
          const dgram = udp({ sport: 7, dport: 9, payload: data });
          const step = unit * 8;
          const pieces: Buffer[] = [];
          for (let off = 0; off < dgram.length; off += step) {
            const more = off + step < dgram.length;
            const part = dgram.subarray(off, off + step);
            pieces.push(
              v6
                ? ether(0x86dd, ipv6({ proto: 17, payload: part, ext: [{ type: 44, frag: { offset: off, more, id: 5 } }] }))
                : ether(0x0800, ipv4({ proto: 17, payload: part, fragOffset: off, moreFragments: more })),
            );
          }
          for (const i of dups) pieces.push(pieces[i % pieces.length]);
          // shuffle with the random stream
          const it = rnd[Symbol.iterator]();
          for (let i = pieces.length - 1; i > 0; i--) {
            const j = (it.next().value as number) % (i + 1);
            [pieces[i], pieces[j]] = [pieces[j], pieces[i]];
          }
          const d = new PacketDecoder();
          const out = createDecodedPacket();
          const got: Buffer[] = [];
          for (const b of pieces) {
            if (d.decode({ frame: 1, tsUs: 0, linkType: 1, iface: 0, buf: b, off: 0, caplen: b.length, wirelen: b.length }, out)) {
              got.push(Buffer.from(out.buf.subarray(out.payloadOff, out.payloadOff + out.payloadLen)));
            }
          }
          // Duplicates arriving after completion start a new datagram, which completes
          // again only if every fragment was duplicated.
          expect(got.length).toBeGreaterThanOrEqual(1);
          for (const g of got) expect(g.equals(data)).toBe(true);
          expect(d.defrag!.stats.overlaps).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
