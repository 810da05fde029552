// Classic libpcap files (draft-ietf-opsawg-pcap): a 24-byte file header whose magic gives the
// byte order and timestamp resolution, then records of a 16-byte header plus packet bytes.
import { ChunkParser } from './chunk-parser';
import { CaptureFormatError, PCAP_MAGIC_MODIFIED, PCAP_MAGIC_NS, PCAP_MAGIC_US } from './format';
import type { CaptureStats, PacketHandler, PacketRecord } from './types';

const FILE_HEADER = 24;
/** tcpdump's MAXIMUM_SNAPLEN; files declaring a larger snaplen get up to that, within 16 MiB. */
const MIN_CAPLEN_LIMIT = 262144;
const MAX_CAPLEN_LIMIT = 16 * 1024 * 1024;

export interface PcapHeader {
  littleEndian: boolean;
  nanosecond: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  /** Link type (the low 16 bits of the header field; the upper bits carry FCS information). */
  linkType: number;
}

export class PcapParser extends ChunkParser {
  header: PcapHeader | null = null;
  private le = true;
  private nano = false;
  /** 16, or 24 for the modified (Kuznetsov) format. */
  private recHeader = 16;
  private maxCaplen = MIN_CAPLEN_LIMIT;
  private linkType = 0;

  constructor(
    onPacket: PacketHandler,
    stats: CaptureStats,
    rec: PacketRecord,
    private readonly name = 'input',
  ) {
    super(onPacket, stats, rec, MAX_CAPLEN_LIMIT + 24);
    stats.format = 'pcap';
  }

  protected unitName(): string {
    return this.header === null ? 'pcap file header' : 'record';
  }

  protected unitLength(buf: Buffer, off: number, avail: number): number {
    if (this.header === null) return FILE_HEADER;
    const h = this.recHeader;
    if (avail < h) return h;
    const caplen = this.le ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8);
    if (caplen > this.maxCaplen) {
      this.damageRecord(off, caplen);
      return -1;
    }
    return h + caplen;
  }

  private damageRecord(off: number, caplen: number): void {
    this.damage(
      off,
      `damaged record at byte offset ${this.base + off}: captured length ${caplen} exceeds the limit of ${this.maxCaplen} bytes`,
    );
  }

  private readHeader(buf: Buffer, pos: number): void {
    const magicBe = buf.readUInt32BE(pos);
    const le = magicBe !== PCAP_MAGIC_US && magicBe !== PCAP_MAGIC_NS && magicBe !== PCAP_MAGIC_MODIFIED;
    const magic = le ? buf.readUInt32LE(pos) : magicBe;
    if (magic !== PCAP_MAGIC_US && magic !== PCAP_MAGIC_NS && magic !== PCAP_MAGIC_MODIFIED) {
      throw new CaptureFormatError(this.name, 'unknown format', `iotwatch: ${this.name}: not a pcap file`);
    }
    const u16 = le ? (o: number) => buf.readUInt16LE(pos + o) : (o: number) => buf.readUInt16BE(pos + o);
    const u32 = le ? (o: number) => buf.readUInt32LE(pos + o) : (o: number) => buf.readUInt32BE(pos + o);
    const snaplen = u32(16);
    this.header = {
      littleEndian: le,
      nanosecond: magic === PCAP_MAGIC_NS,
      versionMajor: u16(4),
      versionMinor: u16(6),
      snaplen,
      linkType: u32(20) & 0xffff,
    };
    this.le = le;
    this.nano = magic === PCAP_MAGIC_NS;
    this.recHeader = magic === PCAP_MAGIC_MODIFIED ? 24 : 16;
    this.maxCaplen = Math.min(Math.max(snaplen, MIN_CAPLEN_LIMIT), MAX_CAPLEN_LIMIT);
    this.linkType = this.header.linkType;
  }

  protected parse(buf: Buffer, pos: number, end: number): number {
    if (this.header === null) {
      if (end - pos < FILE_HEADER) return pos;
      this.readHeader(buf, pos);
      pos += FILE_HEADER;
    }
    this.rec.linkType = this.linkType;
    this.rec.iface = 0;
    return this.le ? this.parseLe(buf, pos, end) : this.parseBe(buf, pos, end);
  }

  // The two loops differ only in byte order; keeping them apart keeps each monomorphic and
  // branch-free on the hot path.
  private parseLe(buf: Buffer, pos: number, end: number): number {
    const rec = this.rec;
    const stats = this.stats;
    const onPacket = this.onPacket;
    const h = this.recHeader;
    const max = this.maxCaplen;
    const nano = this.nano;
    rec.buf = buf;
    while (end - pos >= h) {
      const caplen = (buf[pos + 8] | (buf[pos + 9] << 8) | (buf[pos + 10] << 16) | (buf[pos + 11] << 24)) >>> 0;
      if (caplen > max) {
        this.damageRecord(pos, caplen);
        return end;
      }
      const next = pos + h + caplen;
      if (next > end) break;
      const sec = (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24)) >>> 0;
      const frac = (buf[pos + 4] | (buf[pos + 5] << 8) | (buf[pos + 6] << 16) | (buf[pos + 7] << 24)) >>> 0;
      rec.frame++;
      rec.tsUs = sec * 1000000 + (nano ? Math.floor(frac / 1000) : frac);
      rec.off = pos + h;
      rec.caplen = caplen;
      rec.wirelen = (buf[pos + 12] | (buf[pos + 13] << 8) | (buf[pos + 14] << 16) | (buf[pos + 15] << 24)) >>> 0;
      stats.packets++;
      stats.bytes += caplen;
      onPacket(rec);
      pos = next;
    }
    return pos;
  }

  private parseBe(buf: Buffer, pos: number, end: number): number {
    const rec = this.rec;
    const stats = this.stats;
    const onPacket = this.onPacket;
    const h = this.recHeader;
    const max = this.maxCaplen;
    const nano = this.nano;
    rec.buf = buf;
    while (end - pos >= h) {
      const caplen = ((buf[pos + 8] << 24) | (buf[pos + 9] << 16) | (buf[pos + 10] << 8) | buf[pos + 11]) >>> 0;
      if (caplen > max) {
        this.damageRecord(pos, caplen);
        return end;
      }
      const next = pos + h + caplen;
      if (next > end) break;
      const sec = ((buf[pos] << 24) | (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3]) >>> 0;
      const frac = ((buf[pos + 4] << 24) | (buf[pos + 5] << 16) | (buf[pos + 6] << 8) | buf[pos + 7]) >>> 0;
      rec.frame++;
      rec.tsUs = sec * 1000000 + (nano ? Math.floor(frac / 1000) : frac);
      rec.off = pos + h;
      rec.caplen = caplen;
      rec.wirelen = ((buf[pos + 12] << 24) | (buf[pos + 13] << 16) | (buf[pos + 14] << 8) | buf[pos + 15]) >>> 0;
      stats.packets++;
      stats.bytes += caplen;
      onPacket(rec);
      pos = next;
    }
    return pos;
  }
}
