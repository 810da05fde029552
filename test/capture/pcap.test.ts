import { describe, expect, it } from 'vitest';
import { CaptureParser } from '../../src/capture/reader';
import { PcapParser } from '../../src/capture/pcap';
import { parseAll, parseChunks } from './helpers/collect';
import { etherTcp4 } from './helpers/packets';
import { splitAt, writePcap, type PcapPacket } from './helpers/writers';

function samplePackets(nano: boolean): PcapPacket[] {
  return [
    { sec: 1700000000, frac: nano ? 123456789 : 123456, data: etherTcp4(Buffer.from('one')) },
    { sec: 1700000001, frac: nano ? 999999999 : 999999, data: etherTcp4(Buffer.from('second packet')) },
    // snaplen-cut record: wirelen larger than caplen
    { sec: 4000000000, frac: 0, data: etherTcp4(Buffer.alloc(30, 7)), wirelen: 1500 },
  ];
}

describe('pcap reader', () => {
  for (const le of [true, false]) {
    for (const nano of [false, true]) {
      it(`round-trips ${le ? 'little' : 'big'}-endian ${nano ? 'nanosecond' : 'microsecond'} files`, () => {
        const pkts = samplePackets(nano);
        const file = writePcap({ le, nano, linkType: 1, packets: pkts });
        const { packets, stats } = parseAll(file);
        expect(stats).toMatchObject({ format: 'pcap', packets: 3, drops: 0, warnings: [] });
        expect(stats.truncatedAt).toBeUndefined();
        expect(stats.bytes).toBe(pkts.reduce((n, p) => n + p.data.length, 0));
        expect(packets.map((p) => p.frame)).toEqual([1, 2, 3]);
        // nanoseconds round down to microseconds
        expect(packets.map((p) => p.tsUs)).toEqual([1700000000123456, 1700000001999999, 4000000000000000]);
        expect(packets.map((p) => p.data)).toEqual(pkts.map((p) => p.data.toString('hex')));
        expect(packets.map((p) => p.wirelen)).toEqual([pkts[0].data.length, pkts[1].data.length, 1500]);
        expect(packets.every((p) => p.linkType === 1 && p.iface === 0)).toBe(true);
      });
    }
  }

  it('reads the modified (Kuznetsov, a1b2cd34) variant with 24-byte record headers', () => {
    const pkts = samplePackets(false);
    const { packets, stats } = parseAll(writePcap({ modified: true, linkType: 1, packets: pkts }));
    expect(stats.warnings).toEqual([]);
    expect(packets.map((p) => p.data)).toEqual(pkts.map((p) => p.data.toString('hex')));
  });

  it('exposes the file header', () => {
    const p = new CaptureParser(() => {});
    p.feed(writePcap({ le: false, nano: true, linkType: 228, snaplen: 96, packets: [] }));
    p.end();
    const h = (p.parser as PcapParser).header;
    expect(h).toEqual({ littleEndian: false, nanosecond: true, versionMajor: 2, versionMinor: 4, snaplen: 96, linkType: 228 });
  });

  it('masks the FCS bits of the link type field', () => {
    const file = writePcap({ linkType: 1 | 0x10000000 | (2 << 29), packets: samplePackets(false) });
    expect(parseAll(file).packets[0].linkType).toBe(1);
  });

  it('gives the same packets for any split of the input into chunks', () => {
    const file = writePcap({ le: false, linkType: 1, packets: samplePackets(false) });
    const whole = parseAll(file);
    for (let a = 1; a < file.length; a++) {
      for (const b of [a + 1, a + 17, a + 40]) {
        const got = parseChunks(splitAt(file, [a, b]));
        expect(got).toEqual(whole);
      }
    }
    // one byte at a time
    expect(parseChunks([...file].map((x) => Buffer.from([x])))).toEqual(whole);
  });

  it('reports a record truncated by the end of the file with its byte offset', () => {
    const pkts = samplePackets(false);
    const file = writePcap({ linkType: 1, packets: pkts });
    const thirdAt = 24 + (16 + pkts[0].data.length) + (16 + pkts[1].data.length);
    for (const cut of [thirdAt + 3, thirdAt + 16, file.length - 1]) {
      const { packets, stats } = parseChunks(splitAt(file.subarray(0, cut), [thirdAt - 5, thirdAt + 2]));
      expect(packets.map((p) => p.frame)).toEqual([1, 2]);
      expect(stats.packets).toBe(2);
      expect(stats.truncatedAt).toBe(thirdAt);
      expect(stats.warnings).toHaveLength(1);
      expect(stats.warnings[0]).toContain(`truncated record at byte offset ${thirdAt}`);
    }
  });

  it('reports a truncated file header without throwing', () => {
    const file = writePcap({ linkType: 1, packets: [] }).subarray(0, 20);
    const { packets, stats } = parseAll(file);
    expect(packets).toEqual([]);
    expect(stats.truncatedAt).toBe(0);
    expect(stats.warnings[0]).toMatch(/truncated pcap file header at byte offset 0/);
  });

  it('treats an absurd captured length as damage and keeps the packets before it', () => {
    const pkts = samplePackets(false);
    const file = writePcap({ linkType: 1, packets: pkts });
    const secondAt = 24 + 16 + pkts[0].data.length;
    file.writeUInt32LE(0x7fffffff, secondAt + 8);
    const { packets, stats } = parseAll(file);
    expect(packets.map((p) => p.frame)).toEqual([1]);
    expect(stats.truncatedAt).toBe(secondAt);
    expect(stats.warnings).toEqual([
      `damaged record at byte offset ${secondAt}: captured length 2147483647 exceeds the limit of 262144 bytes`,
    ]);
  });

  it('accepts records up to a declared snaplen above 256 KiB', () => {
    const big = Buffer.alloc(300000, 1);
    const file = writePcap({ linkType: 1, snaplen: 524288, packets: [{ sec: 1, frac: 0, data: big }] });
    const { packets, stats } = parseChunks(splitAt(file, [1000, 70000, 200000]));
    expect(stats.warnings).toEqual([]);
    expect(packets).toHaveLength(1);
    expect(packets[0].data).toBe(big.toString('hex'));
  });

  it('points the record buffer into the chunk without copying', () => {
    const file = writePcap({ linkType: 1, packets: samplePackets(false) });
    const seen: Buffer[] = [];
    const p = new CaptureParser((r) => seen.push(r.buf));
    p.feed(file);
    p.end();
    expect(seen.every((b) => b === file)).toBe(true);
  });

  it('passes one reused record object', () => {
    const file = writePcap({ linkType: 1, packets: samplePackets(false) });
    const seen = new Set<object>();
    const p = new CaptureParser((r) => seen.add(r));
    p.feed(file);
    p.end();
    expect(seen.size).toBe(1);
  });
});
