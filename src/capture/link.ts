// Link layer -> IPv4/IPv6 -> TCP/UDP header decoding into a reused DecodedPacket. Hot path:
// plain byte reads, no allocation, one counter bump for each packet that is not used.
import { IpDefragmenter, type AnomalyHandler, type DefragOptions } from './ip-defrag';
import type { DecodedPacket, PacketRecord } from './types';

export interface DecodeStats {
  /** Packets offered to decode(). */
  packets: number;
  /** Packets decoded to TCP/UDP (reassembled datagrams included). */
  decoded: number;
  /** Link layer carries something other than IPv4/IPv6 (ARP, LLDP, unknown family ...). */
  nonIp: number;
  /** Link type we do not decode. */
  unsupportedLink: number;
  /** Captured bytes end inside a link, IP or transport header. */
  truncated: number;
  /** Inconsistent IP/transport header (version, IHL, lengths, data offset). Packets with a
   * total length beyond the captured bytes are still decoded from what was captured. */
  badHeader: number;
  /** IP carrying a transport other than TCP/UDP (ICMP, ESP, no next header ...). */
  otherTransport: number;
  /** Fragments held for reassembly (or all fragments when reassembly is off). */
  fragments: number;
  /** Datagrams completed by reassembly and decoded. */
  reassembled: number;
  /** IPv4 total length 0 (TCP segmentation offload on the capturing host): captured length used. */
  tsoLength: number;
}

export interface PacketDecoderOptions {
  /** Reassembly of IP fragments: options, an instance, or false to leave fragments undecoded. */
  defrag?: DefragOptions | IpDefragmenter | false;
  /** Called for 'ip.bad_header' (and the reassembler's codes when it is created here). */
  onAnomaly?: AnomalyHandler;
}

export function createDecodedPacket(): DecodedPacket {
  return {
    ipVersion: 4,
    buf: Buffer.alloc(0),
    srcOff: 0,
    dstOff: 0,
    proto: 0,
    l4Off: 0,
    l4Len: 0,
    sport: 0,
    dport: 0,
    seq: 0,
    ack: 0,
    tcpFlags: 0,
    window: 0,
    payloadOff: 0,
    payloadLen: 0,
  };
}

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
/** Extension headers walked before giving up (each is at least 8 bytes anyway). */
const MAX_EXT_HEADERS = 16;

export class PacketDecoder {
  readonly stats: DecodeStats = {
    packets: 0,
    decoded: 0,
    nonIp: 0,
    unsupportedLink: 0,
    truncated: 0,
    badHeader: 0,
    otherTransport: 0,
    fragments: 0,
    reassembled: 0,
    tsoLength: 0,
  };
  /** The reassembler, or null when reassembly is off. */
  readonly defrag: IpDefragmenter | null;
  private readonly onAnomaly: AnomalyHandler | undefined;
  /** Current packet's capture time and whether the snaplen cut it (caplen < wirelen). */
  private nowUs = 0;
  private snapCut = false;
  private frame = 0;

  constructor(opts: PacketDecoderOptions = {}) {
    this.onAnomaly = opts.onAnomaly;
    const d = opts.defrag;
    if (d === false) this.defrag = null;
    else if (d instanceof IpDefragmenter) this.defrag = d;
    else this.defrag = new IpDefragmenter({ ...d, onAnomaly: d?.onAnomaly ?? opts.onAnomaly });
  }

  /**
   * Decodes one record into `out`. True when `out` now describes an IPv4/IPv6 TCP or UDP
   * packet (possibly a reassembled datagram, then out.buf is a new Buffer); false when the
   * packet is not usable, with the reason counted in stats.
   */
  decode(rec: PacketRecord, out: DecodedPacket): boolean {
    const st = this.stats;
    st.packets++;
    const b = rec.buf;
    let p = rec.off;
    const end = p + rec.caplen;
    this.nowUs = rec.tsUs;
    this.snapCut = rec.caplen < rec.wirelen;
    this.frame = rec.frame;
    const defrag = this.defrag;
    if (defrag !== null && defrag.pending !== 0) defrag.expire(rec.tsUs);
    let et: number;
    switch (rec.linkType) {
      case 1: // LINKTYPE_ETHERNET
        if (end - p < 14) return this.truncated();
        et = (b[p + 12] << 8) | b[p + 13];
        p += 14;
        break;
      case 113: // LINKTYPE_LINUX_SLL: 16-byte header, protocol last
        if (end - p < 16) return this.truncated();
        et = (b[p + 14] << 8) | b[p + 15];
        p += 16;
        break;
      case 276: // LINKTYPE_LINUX_SLL2: 20-byte header, protocol first
        if (end - p < 20) return this.truncated();
        et = (b[p] << 8) | b[p + 1];
        p += 20;
        break;
      // LINKTYPE_NULL: address family in the capturing host's byte order; LINKTYPE_LOOP:
      // network order by spec, but both orders occur in the wild.
      case 0:
      case 108: {
        if (end - p < 4) return this.truncated();
        let fam: number;
        if ((b[p + 1] | b[p + 2] | b[p + 3]) === 0) fam = b[p];
        else if ((b[p] | b[p + 1] | b[p + 2]) === 0) fam = b[p + 3];
        else fam = -1;
        p += 4;
        // AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (Darwin).
        if (fam === 2) et = ETH_IPV4;
        else if (fam === 10 || fam === 24 || fam === 28 || fam === 30) et = ETH_IPV6;
        else {
          st.nonIp++;
          return false;
        }
        break;
      }
      case 12: // raw IP: version nibble decides
      case 14:
      case 101: {
        if (end - p < 1) return this.truncated();
        const v = b[p] >> 4;
        if (v === 4) et = ETH_IPV4;
        else if (v === 6) et = ETH_IPV6;
        else return this.badHeader(`raw IP version ${v}`);
        break;
      }
      case 228: // LINKTYPE_IPV4
        et = ETH_IPV4;
        break;
      case 229: // LINKTYPE_IPV6
        et = ETH_IPV6;
        break;
      default:
        st.unsupportedLink++;
        return false;
    }
    // 802.1Q, 802.1ad (QinQ) and the pre-standard 0x9100: any number of 4-byte tags.
    while (et === 0x8100 || et === 0x88a8 || et === 0x9100) {
      if (end - p < 4) return this.truncated();
      et = (b[p + 2] << 8) | b[p + 3];
      p += 4;
    }
    if (et === ETH_IPV4) return this.ipv4(b, p, end, out);
    if (et === ETH_IPV6) return this.ipv6(b, p, end, out);
    st.nonIp++;
    return false;
  }

  /**
   * Decodes an IP packet (v4 or v6 by its version nibble) held in buf[off, off + len),
   * as if captured whole at capture time tsUs. For raw IP from other sources.
   */
  decodeIp(buf: Buffer, off: number, len: number, tsUs: number, out: DecodedPacket): boolean {
    this.stats.packets++;
    this.nowUs = tsUs;
    this.snapCut = false;
    this.frame = 0;
    if (len < 1) return this.truncated();
    const v = buf[off] >> 4;
    if (v === 4) return this.ipv4(buf, off, off + len, out);
    if (v === 6) return this.ipv6(buf, off, off + len, out);
    return this.badHeader(`IP version ${v}`);
  }

  private truncated(): false {
    this.stats.truncated++;
    return false;
  }

  private badHeader(why: string): false {
    this.stats.badHeader++;
    if (this.onAnomaly !== undefined) this.onAnomaly('ip.bad_header', `frame ${this.frame}: ${why}`);
    return false;
  }

  /** A header length that disagrees with the capture: counted, decoding goes on. */
  private lengthMismatch(why: string): void {
    this.stats.badHeader++;
    if (this.onAnomaly !== undefined) this.onAnomaly('ip.bad_header', `frame ${this.frame}: ${why}`);
  }

  private ipv4(b: Buffer, p: number, end: number, out: DecodedPacket): boolean {
    const avail = end - p;
    if (avail < 20) return this.truncated();
    const vihl = b[p];
    if (vihl >> 4 !== 4) return this.badHeader(`IPv4 header with version ${vihl >> 4}`);
    const hl = (vihl & 15) << 2;
    if (hl < 20) return this.badHeader(`IPv4 IHL ${hl >> 2} < 5`);
    if (hl > avail) return this.truncated();
    const tot = (b[p + 2] << 8) | b[p + 3];
    let ipEnd: number;
    if (tot === 0) {
      // Written by TSO before segmentation on the capturing host; the capture is the truth.
      this.stats.tsoLength++;
      ipEnd = end;
    } else if (tot < hl) {
      return this.badHeader(`IPv4 total length ${tot} < header length ${hl}`);
    } else if (tot > avail) {
      // Use what was captured; only a lie when the snaplen did not cut the packet.
      if (!this.snapCut) this.lengthMismatch(`IPv4 total length ${tot} > ${avail} bytes captured`);
      else if ((((b[p + 6] << 8) | b[p + 7]) & 0x3fff) !== 0) return this.truncated(); // a cut fragment cannot be reassembled
      ipEnd = end;
    } else {
      ipEnd = p + tot; // drops Ethernet padding and trailers
    }
    if ((((b[p + 6] << 8) | b[p + 7]) & 0x3fff) !== 0) return this.fragment4(b, p, hl, ipEnd, out);
    out.ipVersion = 4;
    out.buf = b;
    out.srcOff = p + 12;
    out.dstOff = p + 16;
    return this.transport(b, p + hl, ipEnd, b[p + 9], out);
  }

  private fragment4(b: Buffer, p: number, hl: number, ipEnd: number, out: DecodedPacket): boolean {
    const defrag = this.defrag;
    this.stats.fragments++;
    if (defrag === null) return false;
    const whole = defrag.addIpv4(b, p, hl, ipEnd, this.nowUs);
    if (whole === null) return false;
    this.stats.reassembled++;
    this.snapCut = false;
    return this.ipv4(whole, 0, whole.length, out);
  }

  private ipv6(b: Buffer, p: number, end: number, out: DecodedPacket): boolean {
    const avail = end - p;
    if (avail < 40) return this.truncated();
    if (b[p] >> 4 !== 6) return this.badHeader(`IPv6 header with version ${b[p] >> 4}`);
    const plen = (b[p + 4] << 8) | b[p + 5];
    let ipEnd: number;
    let cut = false;
    if (plen === 0) {
      ipEnd = end; // jumbogram (RFC 2675) or TSO: the capture is the truth
    } else if (plen > avail - 40) {
      if (!this.snapCut) this.lengthMismatch(`IPv6 payload length ${plen} > ${avail - 40} bytes captured`);
      ipEnd = end;
      cut = this.snapCut;
    } else {
      ipEnd = p + 40 + plen;
    }
    out.ipVersion = 6;
    out.buf = b;
    out.srcOff = p + 8;
    out.dstOff = p + 24;
    let nh = b[p + 6];
    let nhField = p + 6;
    let q = p + 40;
    for (let i = 0; i < MAX_EXT_HEADERS; i++) {
      switch (nh) {
        case 6:
        case 17:
          return this.transport(b, q, ipEnd, nh, out);
        case 0: // hop-by-hop
        case 43: // routing
        case 60: // destination options
        case 135: // mobility
        case 139: // HIP
        case 140: {
          // shim6. All share the (length + 1) * 8 layout (RFC 6564).
          if (ipEnd - q < 8) return this.truncated();
          nhField = q;
          nh = b[q];
          q += (b[q + 1] + 1) << 3;
          if (q > ipEnd) return this.truncated();
          break;
        }
        case 51: {
          // AH: length in 4-byte units minus 2 (RFC 4302 section 2.2)
          if (ipEnd - q < 8) return this.truncated();
          nhField = q;
          nh = b[q];
          q += (b[q + 1] + 2) << 2;
          if (q > ipEnd) return this.truncated();
          break;
        }
        case 44: {
          if (ipEnd - q < 8) return this.truncated();
          const fo = (b[q + 2] << 8) | b[q + 3];
          if ((fo & 0xfff9) === 0) {
            // Atomic fragment (RFC 6946): offset 0 and M = 0, processed as a whole packet.
            nhField = q;
            nh = b[q];
            q += 8;
            break;
          }
          if (cut) return this.truncated(); // a cut fragment cannot be reassembled
          return this.fragment6(b, p, q, nhField, ipEnd, out);
        }
        default:
          // ESP (50), no next header (59), ICMPv6 (58) and anything else.
          out.proto = nh;
          this.stats.otherTransport++;
          return false;
      }
    }
    return this.badHeader(`IPv6 chain of more than ${MAX_EXT_HEADERS} extension headers`);
  }

  private fragment6(b: Buffer, p: number, frag: number, nhField: number, ipEnd: number, out: DecodedPacket): boolean {
    const defrag = this.defrag;
    this.stats.fragments++;
    if (defrag === null) return false;
    const whole = defrag.addIpv6(b, p, frag, nhField, ipEnd, this.nowUs);
    if (whole === null) return false;
    this.stats.reassembled++;
    this.snapCut = false;
    return this.ipv6(whole, 0, whole.length, out);
  }

  private transport(b: Buffer, l4: number, ipEnd: number, proto: number, out: DecodedPacket): boolean {
    out.proto = proto;
    out.l4Off = l4;
    const avail = ipEnd - l4;
    if (proto === 6) {
      if (avail < 20) return this.truncated();
      const doff = (b[l4 + 12] >> 4) << 2;
      if (doff < 20) return this.badHeader(`TCP data offset ${doff >> 2} < 5`);
      if (doff > avail) return this.truncated();
      out.l4Len = avail;
      out.sport = (b[l4] << 8) | b[l4 + 1];
      out.dport = (b[l4 + 2] << 8) | b[l4 + 3];
      out.seq = ((b[l4 + 4] << 24) | (b[l4 + 5] << 16) | (b[l4 + 6] << 8) | b[l4 + 7]) >>> 0;
      out.ack = ((b[l4 + 8] << 24) | (b[l4 + 9] << 16) | (b[l4 + 10] << 8) | b[l4 + 11]) >>> 0;
      out.tcpFlags = b[l4 + 13];
      out.window = (b[l4 + 14] << 8) | b[l4 + 15];
      out.payloadOff = l4 + doff;
      out.payloadLen = avail - doff;
      this.stats.decoded++;
      return true;
    }
    if (proto === 17) {
      if (avail < 8) return this.truncated();
      const ulen = (b[l4 + 4] << 8) | b[l4 + 5];
      let len = avail;
      if (ulen >= 8 && ulen <= avail) len = ulen; // trims anything after the datagram
      else if (ulen !== 0 && ulen < 8) return this.badHeader(`UDP length ${ulen} < 8`);
      else if (ulen > avail && !this.snapCut) {
        // 0 is a jumbogram (RFC 2675); beyond the IP payload is a lie unless the snaplen cut it.
        this.lengthMismatch(`UDP length ${ulen} with ${avail} bytes after the IP header`);
      }
      out.l4Len = len;
      out.sport = (b[l4] << 8) | b[l4 + 1];
      out.dport = (b[l4 + 2] << 8) | b[l4 + 3];
      out.seq = 0;
      out.ack = 0;
      out.tcpFlags = 0;
      out.window = 0;
      out.payloadOff = l4 + 8;
      out.payloadLen = len - 8;
      this.stats.decoded++;
      return true;
    }
    this.stats.otherTransport++;
    return false;
  }
}
