// Golden checks on real captures: packet counts from MANIFEST.tsv (tshark's count), and
// per-file facts printed by tshark 4.0 (frame 1 time and ports, summed TCP/UDP payload
// bytes) that the reader and decoder must reproduce.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDecodedPacket, PacketDecoder } from '../../src/capture/link';
import { readCapture } from '../../src/capture/reader';

const PUBLIC = resolve(__dirname, '../fixtures/public');

const manifest = readFileSync(join(PUBLIC, 'MANIFEST.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const cols = line.split('\t');
    return { path: cols[0], packets: Number(cols[5]), notes: cols[8] ?? '' };
  });

/** [path, frame 1 time in us, frame 1 sport, dport, sum of tcp.len, sum of udp.length - 8] from tshark. */
const TSHARK: [string, number, number, number, number, number][] = [
  ['suricata-verify/mqtt31-pub-qos2/input.pcap', 1585066867897356, 38196, 1883, 93, 0],
  ['suricata-verify/mqtt31-unsub-userpass/input.pcap', 1585066874011430, 38280, 1883, 103, 0],
  ['suricata-verify/mqtt311-pub-qos1/input.pcap', 1585066890253974, 38500, 1883, 83, 0],
  ['suricata-verify/mqtt311-pub-userpass-auto-clientid/input.pcap', 1585066886172795, 38412, 1883, 81, 0],
  ['suricata-verify/mqtt311-sub-userpass/input.pcap', 1585066894317703, 38588, 1883, 79, 0],
  ['suricata-verify/mqtt311-unsub-qos2/input.pcap', 1585066906486513, 38718, 1883, 101, 0],
  ['suricata-verify/mqtt5-pub-qos2/input.pcap', 1585066843451776, 37844, 1883, 100, 0],
  ['suricata-verify/mqtt5-pub-mosquittoprops/input.pcap', 1585066910541759, 38764, 1883, 347, 0],
  ['suricata-verify/mqtt5-sub-mosquittoprops/input.pcap', 1585066914662400, 38848, 1883, 276, 0],
  ['suricata-verify/mqtt5-sub-customauth/input.pcap', 1585066912604414, 38806, 1883, 55, 0],
  ['suricata-verify/mqtt5-pub-userpass/input.pcap', 1585066839337585, 37758, 1883, 86, 0],
  ['suricata-verify/mqtt5-sub-userpass/input.pcap', 1585066845512179, 37890, 1883, 90, 0],
  ['suricata-verify/mqtt5-unsub-userpass/input.pcap', 1585066849571116, 37932, 1883, 118, 0],
  ['suricata-verify/mqtt5-excessiveproplen/input.pcap', 1585066839337585, 37758, 1883, 86, 0],
  ['suricata-verify/mqtt-connect-rules/mqtt5_pub_jpeg.pcap', 1585173935383730, 53654, 1883, 35855, 0],
  ['suricata-verify/mqtt-connect-rules-2/mqtt5_pub_jpeg_connack134.pcap', 1585173935383730, 53654, 1883, 35855, 0],
  ['suricata-verify/mqtt-events-invalid-qos/input.pcap', 1585066890253974, 38500, 1883, 79, 0],
  ['suricata-verify/mqtt-events-missing-connect/input.pcap', 1589904034987474, 42514, 64001, 21942, 0],
  ['suricata-verify/mqtt-events-unassigned-msgtype/input.pcap', 1585066888214312, 38458, 1883, 77, 0],
  ['suricata-verify/mqtt-events-unintroduced/input.pcap', 1585066863804179, 38108, 1883, 73, 0],
  ['suricata-verify/mqtt-frames-truncated/input.pcap', 1677926758607981, 53048, 1883, 85, 0],
  ['suricata-verify/mqtt-limit-2/input.pcap', 1592999110651418, 44659, 1883, 201188, 0],
  ['suricata-verify/mqtt-midstream-split/mqtt-midstream-split.pcap', 1613320799847119, 1883, 33896, 35825, 0],
  ['suricata-verify/mqtt-ping/input.pcap', 1461170596223360, 49327, 1883, 4, 0],
  ['zeek/mqtt.pcap', 1461170590509491, 49327, 1883, 231, 0],
  ['ndpi/mqtt.pcap', 1643014009283854, 1883, 41892, 875, 0],
  ['ipfixprobe/mqtt.pcap', 1720019702107896, 45601, 1883, 324, 0],
  ['ioppytest/TD_COAP_CORE_01_v01.pcap', 1464858393547275, 54833, 5683, 0, 75],
  ['ioppytest/TD_COAP_CORE_02_v01.pcap', 1466175913224175, 51934, 5683, 0, 17],
  ['ioppytest/TD_COAP_CORE_03_v01.pcap', 1466512748537940, 43652, 5683, 0, 35],
  ['ioppytest/PCAP_TC_COAP_01_mingled_with_tcp_traffic.pcap', 1465895756508013, 51223, 4243, 440, 95],
  ['verimqtt/mqtt.pcapng', 1570680226233779, 5353, 5353, 154, 5708],
  ['arkime/mqtt_synthetic.pcap', 1700000000000000, 54321, 1883, 8868, 0],
  ['rawsight/coap2.pcap', 0, 40000, 5683, 0, 38],
  ['../capture/lo-nano.pcap', 1795555062259864, 51907, 45678, 13, 21],
  ['../capture/lo-dumpcap.pcapng', 1795555673586367, 35685, 45680, 0, 36],
];

async function run(path: string): Promise<{ packets: number; decoded: number; first: number[]; tcpBytes: number; udpBytes: number; linkTypes: Set<number>; warnings: string[]; unused: number }> {
  const dec = new PacketDecoder();
  const out = createDecodedPacket();
  let first: number[] = [];
  let tcpBytes = 0;
  let udpBytes = 0;
  const linkTypes = new Set<number>();
  const stats = await readCapture(path, (r) => {
    linkTypes.add(r.linkType);
    if (!dec.decode(r, out)) return;
    if (r.frame === 1) first = [r.tsUs, out.sport, out.dport];
    if (out.proto === 6) tcpBytes += out.payloadLen;
    else udpBytes += out.payloadLen;
  });
  const s = dec.stats;
  return {
    packets: stats.packets,
    decoded: s.decoded,
    first,
    tcpBytes,
    udpBytes,
    linkTypes,
    warnings: stats.warnings,
    unused: s.nonIp + s.unsupportedLink + s.truncated + s.badHeader + s.otherTransport + s.fragments,
  };
}

describe('golden: public captures listed in MANIFEST.tsv', () => {
  it('lists every capture in the tshark table', () => {
    expect(manifest.length).toBeGreaterThan(30);
    for (const m of manifest) expect(TSHARK.some((t) => t[0] === m.path), m.path).toBe(true);
  });

  for (const m of manifest) {
    it(`${m.path}: ${m.packets} packets as tshark counts, all decoded`, async () => {
      const r = await run(join(PUBLIC, m.path));
      expect(r.warnings).toEqual([]);
      expect(r.packets).toBe(m.packets);
      // tshark sees TCP or UDP in every frame of these captures
      expect(r.decoded).toBe(m.packets);
      expect(r.unused).toBe(0);
      const t = TSHARK.find((x) => x[0] === m.path)!;
      expect(r.first).toEqual([t[1], t[2], t[3]]);
      expect([r.tcpBytes, r.udpBytes]).toEqual([t[4], t[5]]);
    });
  }

  it('covers the link types the manifest names', async () => {
    const seen = new Set<number>();
    for (const m of manifest) for (const lt of (await run(join(PUBLIC, m.path))).linkTypes) seen.add(lt);
    // ether (incl. VLAN), linux-sll, null (pcap and pcapng), raw IPv4 (arkime: 228 or 101)
    expect(seen.has(1) && seen.has(113) && seen.has(0)).toBe(true);
    expect(seen.has(228) || seen.has(101) || seen.has(12) || seen.has(14)).toBe(true);
  });
});

describe('golden: loopback captures made for the capture layer', () => {
  for (const t of TSHARK.filter((x) => x[0].startsWith('../capture/'))) {
    it(t[0], async () => {
      const r = await run(join(PUBLIC, t[0]));
      expect(r.decoded).toBe(r.packets);
      expect(r.first).toEqual([t[1], t[2], t[3]]);
      expect([r.tcpBytes, r.udpBytes]).toEqual([t[4], t[5]]);
    });
  }

  it('keeps TCP sequence numbers above 2^31 unsigned (tshark tcp.seq_raw)', async () => {
    const dec = new PacketDecoder();
    const out = createDecodedPacket();
    const seqs: number[][] = [];
    await readCapture(resolve(__dirname, '../fixtures/capture/lo-nano.pcap'), (r) => {
      if (dec.decode(r, out) && out.proto === 6) seqs.push([out.seq, out.ack]);
    });
    expect(seqs.slice(0, 3)).toEqual([
      [1725351908, 0],
      [3209416719, 1725351909],
      [1725351909, 3209416720],
    ]);
  });
});
