import { describe, expect, it } from 'vitest';
import type { AnomalyCode } from '../../src/events/anomaly-codes';
import { createDecodedPacket, PacketDecoder, type DecodeStats } from '../../src/capture/link';
import { LINKTYPE, type DecodedPacket, type PacketRecord } from '../../src/capture/types';
import { ether, ipv4, ipv6, nullHeader, sll, sll2, tcp, udp } from './helpers/packets';

/** A record whose bytes sit at a non-zero offset inside a larger buffer. */
function rec(linkType: number, data: Buffer, wirelen = data.length): PacketRecord {
  const buf = Buffer.concat([Buffer.alloc(7, 0xee), data, Buffer.alloc(5, 0xee)]);
  return { frame: 1, tsUs: 1_000_000, linkType, iface: 0, buf, off: 7, caplen: data.length, wirelen };
}

function decode(linkType: number, data: Buffer, wirelen?: number): { ok: boolean; out: DecodedPacket; stats: DecodeStats; anomalies: [AnomalyCode, string][] } {
  const anomalies: [AnomalyCode, string][] = [];
  const d = new PacketDecoder({ onAnomaly: (c, s) => anomalies.push([c, s]) });
  const out = createDecodedPacket();
  const ok = d.decode(rec(linkType, data, wirelen), out);
  return { ok, out, stats: d.stats, anomalies };
}

function payload(out: DecodedPacket): string {
  return out.buf.toString('latin1', out.payloadOff, out.payloadOff + out.payloadLen);
}

function addr(out: DecodedPacket, off: number): string {
  return out.buf.toString('hex', off, off + (out.ipVersion === 4 ? 4 : 16));
}

const tcpSeg = tcp({ sport: 51000, dport: 1883, seq: 0xfffffff0, ack: 0x80000001, flags: 0x18, window: 502, payload: Buffer.from('MQTT!') });
const udpDgram = udp({ sport: 5683, dport: 40000, payload: Buffer.from('coap') });
const v4tcp = ipv4({ proto: 6, payload: tcpSeg, src: '192.168.1.10', dst: '10.9.8.7' });
const v4udp = ipv4({ proto: 17, payload: udpDgram });
const v6tcp = ipv6({ proto: 6, payload: tcpSeg, src: '2001:db8::a', dst: 'fe80::1' });
const v6udp = ipv6({ proto: 17, payload: udpDgram });

describe('PacketDecoder: link types', () => {
  const cases: [string, number, Buffer, 4 | 6, 'tcp' | 'udp'][] = [
    ['Ethernet IPv4', 1, ether(0x0800, v4tcp), 4, 'tcp'],
    ['Ethernet IPv6', 1, ether(0x86dd, v6udp), 6, 'udp'],
    ['Ethernet 802.1Q', 1, ether(0x0800, v4tcp, [{ tpid: 0x8100, vid: 100 }]), 4, 'tcp'],
    ['Ethernet QinQ 802.1ad', 1, ether(0x86dd, v6tcp, [{ tpid: 0x88a8, vid: 10 }, { tpid: 0x8100, vid: 20 }]), 6, 'tcp'],
    ['Ethernet 0x9100 + two 802.1Q', 1, ether(0x0800, v4udp, [{ tpid: 0x9100, vid: 1 }, { tpid: 0x8100, vid: 2 }, { tpid: 0x8100, vid: 3 }]), 4, 'udp'],
    ['Linux SLL IPv4', 113, sll(0x0800, v4tcp), 4, 'tcp'],
    ['Linux SLL IPv6', 113, sll(0x86dd, v6udp), 6, 'udp'],
    ['Linux SLL 802.1Q', 113, sll(0x8100, Buffer.concat([Buffer.from([0, 5, 0x08, 0x00]), v4udp])), 4, 'udp'],
    ['Linux SLL2 IPv4', 276, sll2(0x0800, v4udp), 4, 'udp'],
    ['Linux SLL2 IPv6', 276, sll2(0x86dd, v6tcp), 6, 'tcp'],
    ['NULL AF_INET little-endian', 0, nullHeader(2, true, v4tcp), 4, 'tcp'],
    ['NULL AF_INET big-endian', 0, nullHeader(2, false, v4udp), 4, 'udp'],
    ['NULL AF_INET6 Linux (10)', 0, nullHeader(10, true, v6tcp), 6, 'tcp'],
    ['NULL AF_INET6 BSD (24)', 0, nullHeader(24, false, v6udp), 6, 'udp'],
    ['NULL AF_INET6 FreeBSD (28)', 0, nullHeader(28, true, v6udp), 6, 'udp'],
    ['NULL AF_INET6 Darwin (30)', 0, nullHeader(30, true, v6tcp), 6, 'tcp'],
    ['LOOP AF_INET', 108, nullHeader(2, false, v4tcp), 4, 'tcp'],
    ['LOOP AF_INET6 host order', 108, nullHeader(30, true, v6udp), 6, 'udp'],
    ['raw 12 IPv4', 12, v4tcp, 4, 'tcp'],
    ['raw 12 IPv6', 12, v6udp, 6, 'udp'],
    ['raw 14 IPv4', 14, v4udp, 4, 'udp'],
    ['raw 101 IPv6', 101, v6tcp, 6, 'tcp'],
    ['raw 101 IPv4', 101, v4tcp, 4, 'tcp'],
    ['IPv4 228', 228, v4udp, 4, 'udp'],
    ['IPv6 229', 229, v6tcp, 6, 'tcp'],
  ];
  for (const [name, lt, data, v, kind] of cases) {
    it(`decodes ${name}`, () => {
      const { ok, out, stats } = decode(lt, data);
      expect(ok).toBe(true);
      expect(stats.decoded).toBe(1);
      expect(out.ipVersion).toBe(v);
      if (kind === 'tcp') {
        expect([out.proto, out.sport, out.dport, out.seq, out.ack, out.tcpFlags, out.window]).toEqual([6, 51000, 1883, 0xfffffff0, 0x80000001, 0x18, 502]);
        expect(payload(out)).toBe('MQTT!');
        expect(out.l4Len).toBe(tcpSeg.length);
      } else {
        expect([out.proto, out.sport, out.dport, out.seq, out.tcpFlags]).toEqual([17, 5683, 40000, 0, 0]);
        expect(payload(out)).toBe('coap');
        expect(out.l4Len).toBe(udpDgram.length);
      }
    });
  }

  it('gives address offsets into the record buffer', () => {
    const a = decode(1, ether(0x0800, v4tcp)).out;
    expect([addr(a, a.srcOff), addr(a, a.dstOff)]).toEqual(['c0a8010a', '0a090807']);
    const b = decode(1, ether(0x86dd, v6tcp)).out;
    expect([addr(b, b.srcOff), addr(b, b.dstOff)]).toEqual(['20010db800000000000000000000000a', 'fe800000000000000000000000000001']);
  });

  it('counts LINKTYPE names from the contract', () => {
    expect(LINKTYPE.LINUX_SLL2).toBe(276);
    const { ok, stats } = decode(LINKTYPE.IPV6, v6udp);
    expect([ok, stats.decoded]).toEqual([true, 1]);
  });
});

describe('PacketDecoder: lengths', () => {
  it('trims Ethernet padding using the IPv4 total length', () => {
    const small = ipv4({ proto: 17, payload: udp({ sport: 1, dport: 2, payload: Buffer.from('ab') }) });
    const frame = Buffer.concat([ether(0x0800, small), Buffer.alloc(60 - 14 - small.length, 0x55), Buffer.from([1, 2, 3, 4])]);
    const { ok, out } = decode(1, frame);
    expect(ok).toBe(true);
    expect(payload(out)).toBe('ab');
    expect(out.l4Len).toBe(10);
  });

  it('trims padding using the IPv6 payload length', () => {
    const frame = Buffer.concat([ether(0x86dd, v6tcp), Buffer.alloc(6, 0x55)]);
    const { out } = decode(1, frame);
    expect(payload(out)).toBe('MQTT!');
  });

  it('skips IPv4 header options and TCP options', () => {
    const seg = tcp({ sport: 1, dport: 2, options: Buffer.from([2, 4, 5, 0xb4, 1, 1, 4, 2]), payload: Buffer.from('data') });
    const pkt = ipv4({ proto: 6, payload: seg, options: Buffer.from([0x94, 4, 0, 0]) });
    const { ok, out } = decode(228, pkt);
    expect(ok).toBe(true);
    expect(out.l4Off - 7).toBe(24);
    expect(out.payloadOff - out.l4Off).toBe(28);
    expect(payload(out)).toBe('data');
  });

  it('uses the UDP length when shorter than the IP payload', () => {
    const d = Buffer.concat([udp({ sport: 1, dport: 2, payload: Buffer.from('xyz') }), Buffer.from('trailer')]);
    const { ok, out, stats } = decode(228, ipv4({ proto: 17, payload: d }));
    expect([ok, payload(out), stats.badHeader]).toEqual([true, 'xyz', 0]);
  });

  it('decodes a snaplen-cut packet from what was captured, without calling it bad', () => {
    const full = ether(0x0800, ipv4({ proto: 6, payload: tcp({ sport: 1, dport: 2, payload: Buffer.alloc(1000, 0x41) }) }));
    const cut = full.subarray(0, 100);
    const { ok, out, stats, anomalies } = decode(1, cut, full.length);
    expect(ok).toBe(true);
    expect(out.payloadLen).toBe(100 - 14 - 20 - 20);
    expect(stats.badHeader).toBe(0);
    expect(anomalies).toEqual([]);
  });

  it('counts an IPv4 total length beyond a complete capture as a bad header but decodes', () => {
    const pkt = ipv4({ proto: 6, payload: tcpSeg, totalLength: 2000 });
    const { ok, out, stats, anomalies } = decode(228, pkt);
    expect(ok).toBe(true);
    expect(payload(out)).toBe('MQTT!');
    expect(stats.badHeader).toBe(1);
    expect(anomalies).toEqual([['ip.bad_header', 'frame 1: IPv4 total length 2000 > 45 bytes captured']]);
  });

  it('takes the captured length for an IPv4 total length of 0 (TSO)', () => {
    const { ok, out, stats } = decode(228, ipv4({ proto: 6, payload: tcpSeg, totalLength: 0 }));
    expect([ok, payload(out), stats.tsoLength, stats.badHeader]).toEqual([true, 'MQTT!', 1, 0]);
  });
});

describe('PacketDecoder: IPv6 extension headers', () => {
  it('walks hop-by-hop, routing, destination options and AH to the transport', () => {
    const pkt = ipv6({
      proto: 6,
      payload: tcpSeg,
      ext: [{ type: 0 }, { type: 43, body: Buffer.alloc(22) }, { type: 60 }, { type: 51 }, { type: 60, body: Buffer.alloc(14) }],
    });
    const { ok, out } = decode(229, pkt);
    expect(ok).toBe(true);
    expect([out.proto, out.sport, payload(out)]).toEqual([6, 51000, 'MQTT!']);
    expect(out.l4Off - 7).toBe(40 + 8 + 24 + 8 + 24 + 16);
  });

  it('treats an atomic fragment (offset 0, M = 0) as a whole packet', () => {
    const pkt = ipv6({ proto: 17, payload: udpDgram, ext: [{ type: 44, frag: { offset: 0, more: false, id: 7 } }] });
    const { ok, out, stats } = decode(229, pkt);
    expect([ok, payload(out), stats.fragments]).toEqual([true, 'coap', 0]);
  });

  it('stops at ESP, no-next-header and ICMPv6 (other transport)', () => {
    for (const nh of [50, 59, 58]) {
      const { ok, out, stats } = decode(229, ipv6({ proto: nh, payload: Buffer.alloc(16), ext: [{ type: 60 }] }));
      expect(ok).toBe(false);
      expect(out.proto).toBe(nh);
      expect(stats.otherTransport).toBe(1);
    }
  });

  it('an extension header running past the packet is truncation', () => {
    const pkt = ipv6({ proto: 6, payload: Buffer.alloc(0), ext: [{ type: 0, body: Buffer.alloc(30) }] });
    const cut = pkt.subarray(0, 40 + 16);
    cut.writeUInt16BE(16, 4);
    const { ok, stats } = decode(229, cut);
    expect([ok, stats.truncated]).toEqual([false, 1]);
  });

  it('a chain of more than 16 extension headers is a bad header', () => {
    const ext = Array.from({ length: 20 }, () => ({ type: 60 }));
    const { ok, stats, anomalies } = decode(229, ipv6({ proto: 6, payload: tcpSeg, ext }));
    expect([ok, stats.badHeader]).toEqual([false, 1]);
    expect(anomalies[0][0]).toBe('ip.bad_header');
  });
});

describe('PacketDecoder: reasons a packet is not used', () => {
  const reasons: [string, number, Buffer, keyof DecodeStats, number?][] = [
    ['ARP', 1, ether(0x0806, Buffer.alloc(28)), 'nonIp'],
    ['802.3 length field', 1, ether(0x0040, Buffer.alloc(64)), 'nonIp'],
    ['SLL non-IP protocol', 113, sll(0x0004, Buffer.alloc(30)), 'nonIp'],
    ['NULL unknown family', 0, nullHeader(7, true, v4tcp), 'nonIp'],
    ['NULL garbage family', 0, nullHeader(0x01020304, true, v4tcp), 'nonIp'],
    ['802.11 radiotap', 127, Buffer.alloc(40), 'unsupportedLink'],
    ['Ethernet shorter than its header', 1, Buffer.alloc(10), 'truncated'],
    ['VLAN tag cut', 1, ether(0x8100, Buffer.alloc(2)), 'truncated'],
    ['SLL cut', 113, Buffer.alloc(12), 'truncated'],
    ['SLL2 cut', 276, Buffer.alloc(12), 'truncated'],
    ['NULL cut', 0, Buffer.alloc(3), 'truncated'],
    ['raw empty', 101, Buffer.alloc(0), 'truncated'],
    ['IPv4 header cut', 228, v4tcp.subarray(0, 19), 'truncated'],
    ['IPv4 options cut', 228, ipv4({ proto: 6, payload: Buffer.alloc(0), options: Buffer.alloc(8) }).subarray(0, 24), 'truncated'],
    ['IPv6 header cut', 229, v6tcp.subarray(0, 39), 'truncated'],
    ['TCP header cut', 228, v4tcp.subarray(0, 30), 'truncated', 200],
    ['UDP header cut', 228, v4udp.subarray(0, 25), 'truncated', 200],
    ['raw version 5', 101, Buffer.from([0x50, 0, 0, 0]), 'badHeader'],
    ['IPv4 link type with IPv6 packet', 228, v6tcp, 'badHeader'],
    ['IPv6 link type with IPv4 packet', 229, Buffer.concat([v4tcp, Buffer.alloc(20)]), 'badHeader'],
    ['IPv4 IHL 4', 228, ipv4({ proto: 6, payload: tcpSeg, ihl: 4 }), 'badHeader'],
    ['IPv4 total length < IHL', 228, ipv4({ proto: 6, payload: tcpSeg, totalLength: 12 }), 'badHeader'],
    ['TCP data offset 4', 228, ipv4({ proto: 6, payload: Buffer.from(tcpSeg).fill(0x40, 12, 13) }), 'badHeader'],
    ['UDP length 5', 228, ipv4({ proto: 17, payload: udp({ sport: 1, dport: 2, length: 5 }) }), 'badHeader'],
    ['ICMP', 228, ipv4({ proto: 1, payload: Buffer.alloc(8) }), 'otherTransport'],
    ['GRE', 1, ether(0x0800, ipv4({ proto: 47, payload: Buffer.alloc(8) })), 'otherTransport'],
    ['IPv4 fragment', 228, ipv4({ proto: 17, payload: Buffer.alloc(16), moreFragments: true }), 'fragments'],
  ];
  for (const [name, lt, data, reason, wirelen] of reasons) {
    it(`${name} -> ${reason}`, () => {
      const { ok, stats } = decode(lt, data, wirelen);
      expect(ok).toBe(false);
      expect(stats[reason]).toBe(1);
      expect(stats.decoded).toBe(0);
      expect(stats.packets).toBe(1);
    });
  }

  it('reports bad headers through onAnomaly with the frame number', () => {
    const { anomalies } = decode(228, ipv4({ proto: 6, payload: tcpSeg, ihl: 3 }));
    expect(anomalies).toEqual([['ip.bad_header', 'frame 1: IPv4 IHL 3 < 5']]);
  });

  it('decodeIp decodes an IP packet from any buffer', () => {
    const d = new PacketDecoder();
    const out = createDecodedPacket();
    expect(d.decodeIp(v6udp, 0, v6udp.length, 5, out)).toBe(true);
    expect(payload(out)).toBe('coap');
    expect(d.decodeIp(Buffer.from([0x10]), 0, 1, 5, out)).toBe(false);
    expect(d.stats.badHeader).toBe(1);
  });
});
