import { describe, expect, it } from 'vitest';
import { CaptureFormatError } from '../../src/capture/format';
import { PcapngParser } from '../../src/capture/pcapng';
import { CaptureParser } from '../../src/capture/reader';
import { parseAll, parseChunks } from './helpers/collect';
import { etherTcp4 } from './helpers/packets';
import { splitAt, writePcapng, type NgBlock, type NgSection } from './helpers/writers';

const pkt = (s: string): Buffer => etherTcp4(Buffer.from(s));

/** Expected microseconds for a raw timestamp at an if_tsresol value (exact, BigInt). */
function expectUs(ts: bigint, tsresol: number, offsetSec = 0n): number {
  const units = tsresol & 0x80 ? 1n << BigInt(tsresol & 0x7f) : 10n ** BigInt(tsresol);
  return Number((ts * 1000000n) / units + offsetSec * 1000000n);
}

const IFACES: { linkType: number; tsresol?: number; tsoffset?: bigint; ts: bigint }[] = [
  { linkType: 1, ts: 1700000000123456n }, // default 10^-6
  { linkType: 113, tsresol: 9, ts: 1700000000123456789n },
  { linkType: 101, tsresol: 0x80 | 20, ts: (1700000000n << 20n) + 524288n + 1n },
  { linkType: 0, tsresol: 3, ts: 1700000000123n },
  { linkType: 228, tsresol: 6, tsoffset: 1000000000n, ts: 700000000000001n },
  { linkType: 229, tsresol: 0x80 | 32, ts: (1700000000n << 32n) + 0x80000000n },
  { linkType: 276, tsresol: 12, ts: 1700000000123456789012n & 0xffffffffffffffffn },
  { linkType: 108, tsresol: 15, ts: 12345678901234567n },
  { linkType: 12, tsresol: 0x80 | 40, ts: 0xfedcba9876543210n },
  { linkType: 1, tsresol: 1, tsoffset: -10n, ts: 17000000001n },
];

function multiInterfaceSection(le: boolean): NgSection {
  const blocks: NgBlock[] = IFACES.map((f) => ({ type: 'idb', linkType: f.linkType, tsresol: f.tsresol, tsoffset: f.tsoffset }));
  IFACES.forEach((f, i) => blocks.push({ type: 'epb', iface: i, ts: f.ts, data: pkt(`if${i}`), comment: 'c' }));
  return { le, blocks, userappl: 'iotwatch test' };
}

describe('pcapng reader', () => {
  for (const le of [true, false]) {
    it(`reads several interfaces with their own link type and tsresol/tsoffset (${le ? 'LE' : 'BE'})`, () => {
      const { packets, stats } = parseAll(writePcapng([multiInterfaceSection(le)]));
      expect(stats).toMatchObject({ format: 'pcapng', packets: IFACES.length, warnings: [] });
      IFACES.forEach((f, i) => {
        const p = packets[i];
        expect(p.frame).toBe(i + 1);
        expect(p.iface).toBe(i);
        expect(p.linkType).toBe(f.linkType);
        expect(p.data).toBe(pkt(`if${i}`).toString('hex'));
        expect(p.tsUs, `interface ${i} tsresol ${f.tsresol}`).toBe(expectUs(f.ts, f.tsresol ?? 6, f.tsoffset ?? 0n));
      });
      // spot checks written out by hand
      expect(packets[1].tsUs).toBe(1700000000123456);
      expect(packets[2].tsUs).toBe(1700000000500000);
      expect(packets[3].tsUs).toBe(1700000000123000);
      expect(packets[4].tsUs).toBe(1700000000000001);
      expect(packets[5].tsUs).toBe(1700000000500000);
      expect(packets[7].tsUs).toBe(12345678);
      expect(packets[9].tsUs).toBe(1699999990100000); // 1700000000.1 s - 10 s
    });
  }

  it('reads SPB (interface 0, snaplen-limited) and OPB blocks, and counts OPB drops', () => {
    const file = writePcapng([
      {
        blocks: [
          { type: 'idb', linkType: 1, snaplen: 40 },
          { type: 'idb', linkType: 113, tsresol: 9 },
          { type: 'epb', iface: 1, ts: 5_000_000_123n, data: pkt('a') },
          { type: 'spb', data: Buffer.alloc(60, 0xab) },
          { type: 'spb', data: Buffer.alloc(10, 0xcd), wirelen: 10 },
          { type: 'opb', iface: 1, ts: 6_000_000_000n, data: pkt('old'), drops: 3, wirelen: 900 },
          { type: 'opb', iface: 0, ts: 7_000_000n, data: pkt('old2'), drops: 0xffff },
        ],
      },
    ]);
    const { packets, stats } = parseAll(file);
    expect(stats.warnings).toEqual([]);
    expect(packets.map((p) => [p.frame, p.iface, p.linkType, p.tsUs, p.wirelen])).toEqual([
      [1, 1, 113, 5_000_000, pkt('a').length],
      // SPB: no timestamp of its own, the previous packet's is kept
      [2, 0, 1, 5_000_000, 60],
      [3, 0, 1, 5_000_000, 10],
      [4, 1, 113, 6_000_000, 900],
      [5, 0, 1, 7_000_000, pkt('old2').length],
    ]);
    expect(packets[1].data).toBe('ab'.repeat(40)); // min(original length, snaplen 40)
    expect(packets[2].data).toBe('cd'.repeat(10));
    expect(packets[3].data).toBe(pkt('old').toString('hex'));
    expect(stats.drops).toBe(3); // 0xffff means "unknown"
  });

  it('counts isb_ifdrop per interface as a cumulative counter', () => {
    const file = writePcapng([
      {
        blocks: [
          { type: 'idb', linkType: 1 },
          { type: 'idb', linkType: 1 },
          { type: 'epb', iface: 0, ts: 1n, data: pkt('x') },
          { type: 'isb', iface: 0, ifdrop: 5n },
          { type: 'isb', iface: 1, ifdrop: 2n },
          { type: 'isb', iface: 0, ifdrop: 8n },
          { type: 'isb', iface: 1 },
        ],
      },
    ]);
    const { stats } = parseAll(file);
    expect(stats.drops).toBe(10);
    expect(stats.packets).toBe(1);
  });

  it('reads several sections with different byte orders; interface indexes continue', () => {
    const file = writePcapng([
      { le: true, blocks: [{ type: 'idb', linkType: 1 }, { type: 'epb', iface: 0, ts: 1n, data: pkt('s1') }] },
      {
        le: false,
        blocks: [
          { type: 'idb', linkType: 229, tsresol: 9 },
          { type: 'idb', linkType: 228 },
          { type: 'epb', iface: 1, ts: 2n, data: pkt('s2a') },
          { type: 'epb', iface: 0, ts: 3000n, data: pkt('s2b') },
        ],
      },
      { le: true, blocks: [{ type: 'idb', linkType: 113 }, { type: 'epb', iface: 0, ts: 4n, data: pkt('s3') }] },
    ]);
    const p = new CaptureParser(() => {});
    const { packets, stats } = parseAll(file);
    expect(stats.warnings).toEqual([]);
    expect(packets.map((x) => [x.frame, x.iface, x.linkType, x.tsUs])).toEqual([
      [1, 0, 1, 1],
      [2, 2, 228, 2],
      [3, 1, 229, 3],
      [4, 3, 113, 4],
    ]);
    p.feed(file);
    p.end();
    const ng = p.parser as PcapngParser;
    expect(ng.sections).toBe(3);
    expect(ng.interfaces.map((i) => i.linkType)).toEqual([1, 229, 228, 113]);
  });

  it('skips unknown, custom, local, name-resolution and secrets blocks', () => {
    const file = writePcapng([
      {
        blocks: [
          { type: 'raw', blockType: 4, body: Buffer.from([1, 0, 4, 0, 10, 0, 0, 1, 0x61, 0, 0, 0, 0, 0, 0, 0]) },
          { type: 'idb', linkType: 1 },
          { type: 'raw', blockType: 0x00000bad, body: Buffer.from('custom!') },
          { type: 'epb', iface: 0, ts: 1n, data: pkt('a') },
          { type: 'raw', blockType: 0x80000001, body: Buffer.alloc(0) },
          { type: 'raw', blockType: 0x0000000a, body: Buffer.alloc(16) },
          { type: 'raw', blockType: 0x12345678, body: Buffer.alloc(100, 0xff) },
          { type: 'epb', iface: 0, ts: 2n, data: pkt('b') },
        ],
      },
    ]);
    const { packets, stats } = parseAll(file);
    expect(stats.warnings).toEqual([]);
    expect(packets.map((p) => p.data)).toEqual([pkt('a').toString('hex'), pkt('b').toString('hex')]);
  });

  it('gives the same result for any split into chunks', () => {
    const file = writePcapng([
      multiInterfaceSection(false),
      { le: true, blocks: [{ type: 'idb', linkType: 1 }, { type: 'spb', data: pkt('spb') }, { type: 'isb', iface: 0, ifdrop: 4n }] },
    ]);
    const whole = parseAll(file);
    expect(whole.stats.warnings).toEqual([]);
    for (let a = 1; a < file.length; a += 3) {
      expect(parseChunks(splitAt(file, [a, a + 5, a + 77]))).toEqual(whole);
    }
  });

  describe('damage', () => {
    const base = (): { file: Buffer; secondAt: number } => {
      const blocks: NgBlock[] = [
        { type: 'idb', linkType: 1 },
        { type: 'epb', iface: 0, ts: 1n, data: pkt('first') },
        { type: 'epb', iface: 0, ts: 2n, data: pkt('second') },
        { type: 'epb', iface: 0, ts: 3n, data: pkt('third') },
      ];
      const file = writePcapng([{ blocks }]);
      const upToFirst = writePcapng([{ blocks: blocks.slice(0, 2) }]).length;
      return { file, secondAt: upToFirst };
    };

    it('a file cut inside a block: earlier packets delivered, warning with the block offset', () => {
      const { file, secondAt } = base();
      for (const cut of [secondAt + 1, secondAt + 8, secondAt + 30]) {
        const { packets, stats } = parseChunks(splitAt(file.subarray(0, cut), [secondAt - 3]));
        expect(packets.map((p) => p.frame)).toEqual([1]);
        expect(stats.truncatedAt).toBe(secondAt);
        expect(stats.warnings).toHaveLength(1);
        expect(stats.warnings[0]).toContain(`truncated block at byte offset ${secondAt}`);
      }
    });

    it('trailing length differing from the leading one', () => {
      const { file, secondAt } = base();
      const len = file.readUInt32LE(secondAt + 4);
      file.writeUInt32LE(len + 4, secondAt + len - 4);
      const { packets, stats } = parseAll(file);
      expect(packets).toHaveLength(1);
      expect(stats.truncatedAt).toBe(secondAt);
      expect(stats.warnings[0]).toMatch(/trailing length .* differs from leading length/);
    });

    it('block length not a multiple of 4, or over the 16 MiB limit', () => {
      for (const bad of [13, 0x7ffffff0, 8]) {
        const { file, secondAt } = base();
        file.writeUInt32LE(bad, secondAt + 4);
        const { packets, stats } = parseAll(file);
        expect(packets).toHaveLength(1);
        expect(stats.truncatedAt).toBe(secondAt);
        expect(stats.warnings[0]).toContain(`damaged block at byte offset ${secondAt}: total length ${bad}`);
      }
    });

    it('captured length beyond the block, or an undefined interface', () => {
      let { file, secondAt } = base();
      file.writeUInt32LE(5000, secondAt + 20);
      let r = parseAll(file);
      expect(r.packets).toHaveLength(1);
      expect(r.stats.warnings[0]).toContain('does not fit');
      ({ file, secondAt } = base());
      file.writeUInt32LE(3, secondAt + 8);
      r = parseAll(file);
      expect(r.packets).toHaveLength(1);
      expect(r.stats.truncatedAt).toBe(secondAt);
      expect(r.stats.warnings[0]).toContain('interface 3 not defined');
    });

    it('a first section header with a bad byte-order magic is a format error', () => {
      const { file } = base();
      file.writeUInt32LE(0x11223344, 8);
      expect(() => parseAll(file, 'x.pcapng')).toThrow(CaptureFormatError);
      expect(() => parseAll(file, 'x.pcapng')).toThrow(/x\.pcapng: pcapng section header has a bad byte-order magic/);
    });
  });
});
