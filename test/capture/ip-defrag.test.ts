import { describe, expect, it } from 'vitest';
import type { AnomalyCode } from '../../src/events/anomaly-codes';
import { IpDefragmenter, type DefragOptions } from '../../src/capture/ip-defrag';
import { createDecodedPacket, PacketDecoder } from '../../src/capture/link';
import type { DecodedPacket, PacketRecord } from '../../src/capture/types';
import { checksum, ether, ipv4, ipv6, tcp, udp, type Ipv6Ext } from './helpers/packets';

const SEC = 1_000_000;

interface Frag {
  off: number;
  more: boolean;
  data: Buffer;
}

/** Cuts an IP payload into fragments of `size` bytes (a multiple of 8, except the last). */
function cut(payload: Buffer, size: number): Frag[] {
  const out: Frag[] = [];
  for (let off = 0; off < payload.length; off += size) {
    out.push({ off, more: off + size < payload.length, data: payload.subarray(off, off + size) });
  }
  return out;
}

function v4frag(f: Frag, id = 0x4242, proto = 17, src = '10.0.0.1'): Buffer {
  return ether(0x0800, ipv4({ proto, payload: f.data, id, fragOffset: f.off, moreFragments: f.more, src }));
}

function v6frag(f: Frag, id = 99, nh = 17, before: Ipv6Ext[] = []): Buffer {
  return ether(
    0x86dd,
    ipv6({ proto: nh, payload: f.data, ext: [...before, { type: 44, frag: { offset: f.off, more: f.more, id } }] }),
  );
}

class Harness {
  readonly anomalies: [AnomalyCode, string][] = [];
  readonly decoder: PacketDecoder;
  readonly out = createDecodedPacket();
  frame = 0;
  constructor(opts: DefragOptions = {}) {
    this.decoder = new PacketDecoder({ defrag: opts, onAnomaly: (c, d) => this.anomalies.push([c, d]) });
  }
  get defrag(): IpDefragmenter {
    return this.decoder.defrag!;
  }
  feed(frame: Buffer, tsUs = 0): boolean {
    const rec: PacketRecord = { frame: ++this.frame, tsUs, linkType: 1, iface: 0, buf: frame, off: 0, caplen: frame.length, wirelen: frame.length };
    return this.decoder.decode(rec, this.out);
  }
  codes(): AnomalyCode[] {
    return this.anomalies.map((a) => a[0]);
  }
}

function payloadOf(out: DecodedPacket): Buffer {
  return out.buf.subarray(out.payloadOff, out.payloadOff + out.payloadLen);
}

const bigData = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff));
const bigUdp = udp({ sport: 5683, dport: 5683, payload: bigData });

describe('IPv4 reassembly', () => {
  it('reassembles fragments in order into a new buffer', () => {
    const h = new Harness();
    const frags = cut(bigUdp, 1480);
    const frames = frags.map((f) => v4frag(f));
    expect(h.feed(frames[0])).toBe(false);
    expect(h.feed(frames[1])).toBe(false);
    expect(h.feed(frames[2])).toBe(true);
    expect(frames.includes(h.out.buf)).toBe(false);
    expect([h.out.ipVersion, h.out.proto, h.out.sport, h.out.dport]).toEqual([4, 17, 5683, 5683]);
    expect(payloadOf(h.out).equals(bigData)).toBe(true);
    // the rebuilt header is consistent: total length, no fragment bits, valid checksum
    const ip = h.out.buf;
    expect(ip.readUInt16BE(2)).toBe(20 + bigUdp.length);
    expect(ip.readUInt16BE(6) & 0x3fff).toBe(0);
    expect(checksum(ip.subarray(0, 20))).toBe(0);
    expect(h.decoder.stats).toMatchObject({ fragments: 3, reassembled: 1, decoded: 1 });
    expect(h.defrag.stats).toMatchObject({ fragments: 3, reassembled: 1, overlaps: 0 });
    expect(h.defrag.pending).toBe(0);
    expect(h.defrag.heldBytes).toBe(0);
    expect(h.anomalies).toEqual([]);
  });

  it('reassembles fragments out of order', () => {
    for (const order of [[2, 1, 0], [1, 2, 0], [2, 0, 1], [0, 2, 1]]) {
      const h = new Harness();
      const frags = cut(bigUdp, 1008);
      expect(frags).toHaveLength(3);
      const results = order.map((i) => h.feed(v4frag(frags[i])));
      expect(results).toEqual([false, false, true]);
      expect(payloadOf(h.out).equals(bigData)).toBe(true);
    }
  });

  it('keeps datagrams with different ids, sources or protocols apart', () => {
    const h = new Harness();
    const f = cut(bigUdp, 1480);
    h.feed(v4frag(f[0], 1));
    h.feed(v4frag(f[1], 2));
    h.feed(v4frag(f[0], 1, 17, '10.0.0.9'));
    expect(h.defrag.pending).toBe(3);
    expect(h.feed(v4frag(f[1], 1))).toBe(false);
    expect(h.feed(v4frag(f[2], 1))).toBe(true);
    expect(h.defrag.pending).toBe(2);
  });

  it('reassembles TCP over fragments', () => {
    const seg = tcp({ sport: 1883, dport: 50000, seq: 0xdeadbeef, payload: bigData.subarray(0, 100) });
    const h = new Harness();
    const frags = cut(seg, 64);
    expect(frags.map((f) => h.feed(v4frag(f, 7, 6)))).toEqual([false, true]);
    expect([h.out.proto, h.out.seq, payloadOf(h.out).equals(bigData.subarray(0, 100))]).toEqual([6, 0xdeadbeef, true]);
  });

  it('ignores exact duplicates without calling them overlaps', () => {
    const h = new Harness();
    const f = cut(bigUdp, 1480);
    h.feed(v4frag(f[0]));
    h.feed(v4frag(f[0]));
    h.feed(v4frag(f[1]));
    expect(h.feed(v4frag(f[2]))).toBe(true);
    expect(h.defrag.stats).toMatchObject({ duplicates: 1, overlaps: 0 });
    expect(h.anomalies).toEqual([]);
  });

  it('detects overlapping fragments, reports once, and keeps the bytes that came first', () => {
    const h = new Harness();
    const payload = udp({ sport: 1, dport: 2, payload: Buffer.alloc(40, 0x41) }); // 48 bytes
    h.feed(v4frag({ off: 0, more: true, data: payload.subarray(0, 24) }));
    // overlaps [16, 24) with different bytes
    h.feed(v4frag({ off: 16, more: true, data: Buffer.alloc(16, 0x5a) }));
    h.feed(v4frag({ off: 24, more: true, data: Buffer.alloc(8, 0x5a) })); // [24, 32) overlaps the second too
    expect(h.feed(v4frag({ off: 32, more: false, data: payload.subarray(32) }))).toBe(true);
    expect(h.codes()).toEqual(['ip.fragment_overlap']);
    expect(h.anomalies[0][1]).toContain('IPv4 10.0.0.1 -> 10.0.0.2 id 16962 proto 17');
    expect(h.defrag.stats.overlaps).toBe(1);
    const p = payloadOf(h.out).toString('latin1');
    expect(p).toBe('A'.repeat(16) + 'Z'.repeat(8) + 'A'.repeat(16));
  });

  it('expires an incomplete datagram after 30 s of capture time', () => {
    const h = new Harness();
    const f = cut(bigUdp, 1480);
    h.feed(v4frag(f[0]), 0);
    h.feed(v4frag(f[1]), 29 * SEC);
    expect(h.feed(v4frag(f[2]), 58 * SEC)).toBe(true); // idle time counts from the last fragment
    h.feed(v4frag(f[0]), 100 * SEC);
    expect(h.feed(v4frag(f[1]), 130 * SEC + 1)).toBe(false);
    expect(h.codes()).toEqual(['ip.fragment_timeout']);
    expect(h.defrag.stats.timeouts).toBe(1);
    expect(h.defrag.pending).toBe(1); // the late fragment started a new datagram
  });

  it('expires datagrams when any later packet arrives', () => {
    const h = new Harness({ timeoutUs: 5 * SEC });
    h.feed(v4frag(cut(bigUdp, 1480)[0]), 0);
    h.feed(ether(0x0800, ipv4({ proto: 17, payload: udp({ sport: 1, dport: 2 }) })), 6 * SEC);
    expect(h.defrag.pending).toBe(0);
    expect(h.codes()).toEqual(['ip.fragment_timeout']);
  });

  it('evicts the least recently touched datagram beyond maxDatagrams', () => {
    const h = new Harness({ maxDatagrams: 2 });
    const f = cut(bigUdp, 1480);
    h.feed(v4frag(f[0], 1), 1);
    h.feed(v4frag(f[0], 2), 2);
    h.feed(v4frag(f[1], 1), 3); // touches 1, so 2 is now the oldest
    h.feed(v4frag(f[0], 3), 4);
    expect(h.defrag.stats.evictedMaxDatagrams).toBe(1);
    expect(h.anomalies[0]).toEqual(['ip.fragment_timeout', expect.stringContaining('id 2 proto 17: evicted')]);
    expect(h.feed(v4frag(f[2], 1), 5)).toBe(true);
  });

  it('drops a datagram over maxDatagramBytes', () => {
    const h = new Harness({ maxDatagramBytes: 2000 });
    const f = cut(bigUdp, 1480);
    h.feed(v4frag(f[0]));
    expect(h.feed(v4frag(f[1]))).toBe(false);
    expect(h.defrag.stats.tooBig).toBe(1);
    expect(h.defrag.pending).toBe(0);
    expect(h.codes()).toEqual(['ip.fragment_timeout']);
    expect(h.anomalies[0][1]).toContain('dropped, over 2000 bytes');
    // the last fragment alone already ends past the bound
    expect(h.feed(v4frag(f[2]))).toBe(false);
    expect(h.defrag.stats.tooBig).toBe(2);
  });

  it('evicts old datagrams to stay under maxTotalBytes', () => {
    const h = new Harness({ maxTotalBytes: 4000 });
    const f = cut(bigUdp, 1480);
    h.feed(v4frag(f[0], 1));
    h.feed(v4frag(f[1], 1));
    h.feed(v4frag(f[0], 2));
    expect(h.defrag.stats.evictedMaxBytes).toBe(1);
    expect(h.defrag.pending).toBe(1);
    expect(h.defrag.heldBytes).toBe(1480);
  });

  it('drops a datagram with more than maxFragments fragments', () => {
    const h = new Harness({ maxFragments: 4 });
    const frags = cut(bigUdp, 8).slice(0, 6);
    frags.forEach((f) => h.feed(v4frag(f)));
    expect(h.defrag.stats.tooManyFragments).toBe(1);
  });

  it('rejects inconsistent fragments as bad headers', () => {
    const h = new Harness();
    // MF set but length not a multiple of 8
    h.feed(v4frag({ off: 0, more: true, data: Buffer.alloc(12) }));
    // runs past 65535
    h.feed(v4frag({ off: 65528, more: false, data: Buffer.alloc(16) }, 2));
    // two different ends
    h.feed(v4frag({ off: 16, more: false, data: Buffer.alloc(8) }, 3));
    h.feed(v4frag({ off: 32, more: false, data: Buffer.alloc(8) }, 3));
    expect(h.defrag.stats.badFragments).toBe(3);
    expect(h.codes()).toEqual(['ip.bad_header', 'ip.bad_header', 'ip.bad_header']);
    expect(h.defrag.pending).toBe(0);
  });

  it('flush() reports datagrams never completed', () => {
    const h = new Harness();
    h.feed(v4frag(cut(bigUdp, 1480)[1]));
    h.defrag.flush();
    expect(h.codes()).toEqual(['ip.fragment_timeout']);
    expect(h.anomalies[0][1]).toContain('incomplete at end of capture');
    expect(h.defrag.pending).toBe(0);
  });

  it('does not reassemble fragments cut by the snaplen (counted as truncated)', () => {
    const h = new Harness();
    const f = cut(bigUdp, 1480);
    const first = v4frag(f[0]);
    const rec: PacketRecord = { frame: 1, tsUs: 0, linkType: 1, iface: 0, buf: first, off: 0, caplen: 200, wirelen: first.length };
    expect(h.decoder.decode(rec, h.out)).toBe(false);
    expect(h.decoder.stats.truncated).toBe(1);
    expect(h.defrag.pending).toBe(0);
    const v6 = v6frag(cut(bigUdp, 1232)[0]);
    expect(h.decoder.decode({ ...rec, buf: v6, caplen: 300, wirelen: v6.length }, h.out)).toBe(false);
    expect(h.decoder.stats.truncated).toBe(2);
    expect(h.anomalies).toEqual([]);
  });

  it('with reassembly off, fragments are counted and not decoded', () => {
    const d = new PacketDecoder({ defrag: false });
    const out = createDecodedPacket();
    const frames = cut(bigUdp, 1480).map((f) => v4frag(f));
    const res = frames.map((b) => d.decode({ frame: 1, tsUs: 0, linkType: 1, iface: 0, buf: b, off: 0, caplen: b.length, wirelen: b.length }, out));
    expect(res).toEqual([false, false, false]);
    expect(d.stats.fragments).toBe(3);
    expect(d.defrag).toBeNull();
  });

  it('can share one reassembler instance', () => {
    const defrag = new IpDefragmenter({ timeoutUs: SEC });
    expect(new PacketDecoder({ defrag }).defrag).toBe(defrag);
  });
});

describe('IPv6 reassembly', () => {
  it('reassembles in and out of order, with extension headers before the fragment header', () => {
    for (const order of [[0, 1, 2], [2, 0, 1]]) {
      const h = new Harness();
      const frags = cut(bigUdp, 1232);
      const res = order.map((i) => h.feed(v6frag(frags[i], 0xabcdef, 17, [{ type: 0 }, { type: 60 }])));
      expect(res).toEqual([false, false, true]);
      expect(h.out.ipVersion).toBe(6);
      expect([h.out.proto, h.out.sport]).toEqual([17, 5683]);
      expect(payloadOf(h.out).equals(bigData)).toBe(true);
      expect(h.out.buf.readUInt16BE(4)).toBe(h.out.buf.length - 40);
      expect(h.out.buf.toString('hex', 8, 24)).toBe('20010db8000000000000000000000001');
    }
  });

  it('reassembles a TCP segment whose fragmentable part starts with destination options', () => {
    const seg = tcp({ sport: 8883, dport: 40000, payload: bigData.subarray(0, 200) });
    const dest = Buffer.concat([Buffer.from([6, 0]), Buffer.alloc(6)]); // dest options -> TCP
    const frag = Buffer.concat([dest, seg]);
    const h = new Harness();
    const res = cut(frag, 104).map((f) => h.feed(v6frag(f, 5, 60)));
    expect(res).toEqual([false, false, true]);
    expect([h.out.proto, h.out.sport, payloadOf(h.out).equals(bigData.subarray(0, 200))]).toEqual([6, 8883, true]);
  });

  it('discards a datagram with overlapping fragments (RFC 5722) and its later fragments', () => {
    const h = new Harness();
    const frags = cut(bigUdp, 1232);
    h.feed(v6frag(frags[0]));
    h.feed(v6frag({ off: 1224, more: true, data: Buffer.alloc(16) }));
    expect(h.feed(v6frag(frags[1]))).toBe(false);
    expect(h.feed(v6frag(frags[2]))).toBe(false);
    expect(h.codes()).toEqual(['ip.fragment_overlap']);
    expect(h.defrag.stats.overlaps).toBe(1);
    expect(h.defrag.heldBytes).toBe(0);
  });

  it('applies the same bounds and timeout', () => {
    const h = new Harness({ maxDatagrams: 1, timeoutUs: SEC });
    const frags = cut(bigUdp, 1232);
    h.feed(v6frag(frags[0], 1), 0);
    h.feed(v6frag(frags[0], 2), 10);
    expect(h.defrag.stats.evictedMaxDatagrams).toBe(1);
    h.feed(v6frag(frags[1], 2), 3 * SEC);
    expect(h.defrag.stats.timeouts).toBe(1);
    expect(h.codes()).toEqual(['ip.fragment_timeout', 'ip.fragment_timeout']);
  });

  it('rejects a fragment that is not a multiple of 8 with M set', () => {
    const h = new Harness();
    h.feed(v6frag({ off: 0, more: true, data: Buffer.alloc(13) }));
    expect(h.codes()).toEqual(['ip.bad_header']);
  });
});
