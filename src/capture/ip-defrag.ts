// IPv4 (RFC 791) and IPv6 (RFC 8200 section 4.5) fragment reassembly with hard bounds.
// Time is capture time (PacketRecord.tsUs), never the wall clock, so a capture replayed
// twice reassembles the same way. Every bound that is hit is counted.
import type { AnomalyCode } from '../events/anomaly-codes';

export type AnomalyHandler = (code: AnomalyCode, detail: string) => void;

export interface DefragOptions {
  /** Datagrams in progress at once; the least recently touched is evicted beyond it. */
  maxDatagrams?: number;
  /** Reassembled payload bytes allowed for one datagram. */
  maxDatagramBytes?: number;
  /** Fragment payload bytes held over all datagrams. */
  maxTotalBytes?: number;
  /** Fragments held for one datagram (tiny-fragment floods). */
  maxFragments?: number;
  /** A datagram with no new fragment for this long (capture time) is dropped. Linux: 30 s. */
  timeoutUs?: number;
  onAnomaly?: AnomalyHandler;
}

export interface DefragStats {
  /** Fragments offered. */
  fragments: number;
  /** Datagrams completed. */
  reassembled: number;
  /** Exact duplicates of a fragment already held (ignored, not anomalies). */
  duplicates: number;
  /** Datagrams with overlapping fragments (each counted once). */
  overlaps: number;
  /** Datagrams dropped after timeoutUs without completion (including flush at end of input). */
  timeouts: number;
  /** Datagrams evicted because maxDatagrams was reached. */
  evictedMaxDatagrams: number;
  /** Datagrams evicted to stay under maxTotalBytes. */
  evictedMaxBytes: number;
  /** Datagrams dropped for exceeding maxDatagramBytes. */
  tooBig: number;
  /** Datagrams dropped for exceeding maxFragments. */
  tooManyFragments: number;
  /** Fragments or datagrams with inconsistent headers (length not a multiple of 8, past 64 KiB, conflicting end). */
  badFragments: number;
}

interface Fragment {
  off: number;
  end: number;
  /** Arrival order within the datagram, for the overlap policy. */
  seq: number;
  data: Buffer;
}

class Datagram {
  readonly frags: Fragment[] = [];
  bytes = 0;
  arrivals = 0;
  /** Payload length, known once the last fragment (MF = 0) arrived; -1 before. */
  total = -1;
  /** IP header (IPv4) or unfragmentable part (IPv6) from the offset-0 fragment. */
  header: Buffer | null = null;
  /** IPv6: the Next Header value carried by the fragment header. */
  nextHeader = 0;
  overlapped = false;
  /** IPv6 overlap (RFC 5722): the datagram and its later fragments are discarded. */
  poisoned = false;
  constructor(
    readonly key: string,
    readonly v6: boolean,
    readonly describe: string,
    public lastUs: number,
  ) {}
}

export const DEFRAG_DEFAULTS = {
  maxDatagrams: 1024,
  maxDatagramBytes: 65535,
  maxTotalBytes: 16 * 1024 * 1024,
  maxFragments: 256,
  timeoutUs: 30_000_000,
} as const;

function ip4(b: Buffer, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

function ip6(b: Buffer, o: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((b[o + i] << 8) | b[o + i + 1]).toString(16));
  return parts.join(':');
}

/** Internet checksum over buf[off, off + len). */
function checksum(buf: Buffer, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i + 1 < len; i += 2) sum += (buf[off + i] << 8) | buf[off + i + 1];
  if (len & 1) sum += buf[off + len - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export class IpDefragmenter {
  readonly stats: DefragStats = {
    fragments: 0,
    reassembled: 0,
    duplicates: 0,
    overlaps: 0,
    timeouts: 0,
    evictedMaxDatagrams: 0,
    evictedMaxBytes: 0,
    tooBig: 0,
    tooManyFragments: 0,
    badFragments: 0,
  };
  private readonly maxDatagrams: number;
  private readonly maxDatagramBytes: number;
  private readonly maxTotalBytes: number;
  private readonly maxFragments: number;
  private readonly timeoutUs: number;
  private readonly onAnomaly: AnomalyHandler | undefined;
  /** Insertion order is least-recently-touched first (touch = delete + set). */
  private readonly table = new Map<string, Datagram>();
  private held = 0;

  constructor(opts: DefragOptions = {}) {
    this.maxDatagrams = opts.maxDatagrams ?? DEFRAG_DEFAULTS.maxDatagrams;
    this.maxDatagramBytes = opts.maxDatagramBytes ?? DEFRAG_DEFAULTS.maxDatagramBytes;
    this.maxTotalBytes = opts.maxTotalBytes ?? DEFRAG_DEFAULTS.maxTotalBytes;
    this.maxFragments = opts.maxFragments ?? DEFRAG_DEFAULTS.maxFragments;
    this.timeoutUs = opts.timeoutUs ?? DEFRAG_DEFAULTS.timeoutUs;
    this.onAnomaly = opts.onAnomaly;
  }

  /** Datagrams in progress. */
  get pending(): number {
    return this.table.size;
  }

  /** Fragment payload bytes held. */
  get heldBytes(): number {
    return this.held;
  }

  /**
   * Offers one IPv4 fragment: the IP header is at buf[ip], `hl` bytes long, and the packet
   * ends at `end` (total length already checked against the capture). Returns the whole
   * datagram (IPv4 header + payload, a new Buffer, fragment fields cleared) when this
   * fragment completes it, else null.
   */
  addIpv4(buf: Buffer, ip: number, hl: number, end: number, nowUs: number): Buffer | null {
    this.stats.fragments++;
    this.expire(nowUs);
    const ff = (buf[ip + 6] << 8) | buf[ip + 7];
    const more = (ff & 0x2000) !== 0;
    const off = (ff & 0x1fff) * 8;
    const len = end - ip - hl;
    const key = buf.toString('latin1', ip + 12, ip + 20) + String.fromCharCode(buf[ip + 9], buf[ip + 4], buf[ip + 5]);
    let d = this.table.get(key);
    if (d === undefined) {
      const describe = `IPv4 ${ip4(buf, ip + 12)} -> ${ip4(buf, ip + 16)} id ${(buf[ip + 4] << 8) | buf[ip + 5]} proto ${buf[ip + 9]}`;
      d = this.create(key, false, describe, nowUs);
    } else {
      this.touch(d, nowUs);
    }
    if (more && (len & 7) !== 0) return this.bad(d, `fragment at offset ${off} has length ${len}, not a multiple of 8`);
    if (off + len > 65535 - hl) return this.bad(d, `fragment at offset ${off} + ${len} bytes exceeds 65535`);
    if (off === 0 && d.header === null) {
      const h = Buffer.allocUnsafe(hl);
      buf.copy(h, 0, ip, ip + hl);
      d.header = h;
    }
    return this.insert(d, buf, ip + hl, off, len, more);
  }

  /**
   * Offers one IPv6 fragment: IPv6 header at buf[ip], Fragment header at buf[frag], packet
   * end at `end`; `nhField` is the offset of the Next Header byte that points at the
   * Fragment header (6 for the fixed header). Returns the reassembled packet (unfragmentable
   * part, Next Header patched, + payload) when complete, else null.
   */
  addIpv6(buf: Buffer, ip: number, frag: number, nhField: number, end: number, nowUs: number): Buffer | null {
    this.stats.fragments++;
    this.expire(nowUs);
    const fo = (buf[frag + 2] << 8) | buf[frag + 3];
    const off = fo & 0xfff8;
    const more = (fo & 1) !== 0;
    const data = frag + 8;
    const len = end - data;
    const key = buf.toString('latin1', ip + 8, ip + 40) + buf.toString('latin1', frag + 4, frag + 8);
    let d = this.table.get(key);
    if (d === undefined) {
      const describe = `IPv6 ${ip6(buf, ip + 8)} -> ${ip6(buf, ip + 24)} id ${buf.readUInt32BE(frag + 4)}`;
      d = this.create(key, true, describe, nowUs);
    } else {
      this.touch(d, nowUs);
    }
    if (d.poisoned) return null;
    if (more && (len & 7) !== 0) return this.bad(d, `fragment at offset ${off} has length ${len}, not a multiple of 8`);
    if (off + len > 65535) return this.bad(d, `fragment at offset ${off} + ${len} bytes exceeds 65535`);
    if (off === 0 && d.header === null) {
      const unfrag = frag - ip;
      const h = Buffer.allocUnsafe(unfrag);
      buf.copy(h, 0, ip, frag);
      h[nhField - ip] = buf[frag];
      d.header = h;
      d.nextHeader = buf[frag];
    }
    return this.insert(d, buf, data, off, len, more);
  }

  /** Drops datagrams idle for longer than the timeout at capture time nowUs. */
  expire(nowUs: number): void {
    if (this.table.size === 0) return;
    for (const d of this.table.values()) {
      if (nowUs - d.lastUs <= this.timeoutUs) break; // the rest were touched later
      this.drop(d);
      if (d.poisoned) continue;
      this.stats.timeouts++;
      this.report('ip.fragment_timeout', `${d.describe}: incomplete after ${this.timeoutUs / 1e6} s`);
    }
  }

  /** End of input: every datagram still in progress will never complete. */
  flush(): void {
    for (const d of this.table.values()) {
      this.drop(d);
      if (d.poisoned) continue;
      this.stats.timeouts++;
      this.report('ip.fragment_timeout', `${d.describe}: incomplete at end of capture`);
    }
  }

  private create(key: string, v6: boolean, describe: string, nowUs: number): Datagram {
    while (this.table.size >= this.maxDatagrams) {
      const oldest = this.table.values().next().value as Datagram;
      this.stats.evictedMaxDatagrams++;
      this.drop(oldest);
      this.report('ip.fragment_timeout', `${oldest.describe}: evicted, ${this.maxDatagrams} datagrams in progress`);
    }
    const d = new Datagram(key, v6, describe, nowUs);
    this.table.set(key, d);
    return d;
  }

  private touch(d: Datagram, nowUs: number): void {
    d.lastUs = nowUs;
    this.table.delete(d.key);
    this.table.set(d.key, d);
  }

  private drop(d: Datagram): void {
    this.table.delete(d.key);
    this.held -= d.bytes;
    d.bytes = 0;
    d.frags.length = 0;
  }

  private report(code: AnomalyCode, detail: string): void {
    if (this.onAnomaly !== undefined) this.onAnomaly(code, detail);
  }

  private bad(d: Datagram, why: string): null {
    this.stats.badFragments++;
    this.drop(d);
    this.report('ip.bad_header', `${d.describe}: ${why}`);
    return null;
  }

  private insert(d: Datagram, buf: Buffer, from: number, off: number, len: number, more: boolean): Buffer | null {
    const end = off + len;
    if (!more) {
      if ((d.total >= 0 && d.total !== end) || d.frags.some((f) => f.end > end)) {
        return this.bad(d, `last fragment ends at ${end}, conflicting with ${d.total >= 0 ? d.total : 'data beyond it'}`);
      }
      d.total = end;
    } else if (d.total >= 0 && end > d.total) {
      return this.bad(d, `fragment ends at ${end}, past the last fragment's end ${d.total}`);
    }
    // Sorted insert; overlaps are detected against the neighbours in offset order.
    const frags = d.frags;
    let i = frags.length;
    while (i > 0 && frags[i - 1].off > off) i--;
    let overlap = false;
    for (let j = i - 1; j >= 0 && !overlap; j--) if (frags[j].end > off) overlap = true;
    for (let j = i; j < frags.length && !overlap; j++) if (frags[j].off < end) overlap = true;
    if (overlap) {
      const dup = frags.find((f) => f.off === off && f.end === end);
      if (dup !== undefined && dup.data.equals(buf.subarray(from, from + len))) {
        this.stats.duplicates++;
        return null;
      }
      if (!d.overlapped) {
        d.overlapped = true;
        this.stats.overlaps++;
        this.report('ip.fragment_overlap', `${d.describe}: fragment [${off}, ${end}) overlaps data already held`);
      }
      if (d.v6) {
        // RFC 5722: a datagram with overlapping fragments is silently discarded, including
        // fragments still to come; keep the (empty) entry until it times out.
        this.held -= d.bytes;
        d.bytes = 0;
        d.frags.length = 0;
        d.poisoned = true;
        return null;
      }
      // IPv4: bytes already held win (the "first" policy); later data only fills holes.
    }
    if (frags.length >= this.maxFragments) {
      this.stats.tooManyFragments++;
      this.drop(d);
      this.report('ip.fragment_timeout', `${d.describe}: dropped, more than ${this.maxFragments} fragments`);
      return null;
    }
    if (d.bytes + len > this.maxDatagramBytes || end > this.maxDatagramBytes) {
      this.stats.tooBig++;
      this.drop(d);
      this.report('ip.fragment_timeout', `${d.describe}: dropped, over ${this.maxDatagramBytes} bytes`);
      return null;
    }
    while (this.held + len > this.maxTotalBytes && this.table.size > 0) {
      const oldest = this.table.values().next().value as Datagram;
      if (oldest === d && this.table.size === 1) break;
      const victim = oldest === d ? this.secondOldest() : oldest;
      this.stats.evictedMaxBytes++;
      this.drop(victim);
      this.report('ip.fragment_timeout', `${victim.describe}: evicted, ${this.maxTotalBytes} fragment bytes held`);
    }
    if (this.held + len > this.maxTotalBytes) {
      this.stats.evictedMaxBytes++;
      this.drop(d);
      this.report('ip.fragment_timeout', `${d.describe}: dropped, ${this.maxTotalBytes} fragment bytes held`);
      return null;
    }
    const data = Buffer.allocUnsafe(len);
    buf.copy(data, 0, from, from + len);
    frags.splice(i, 0, { off, end, seq: d.arrivals++, data });
    d.bytes += len;
    this.held += len;
    return this.tryComplete(d);
  }

  private secondOldest(): Datagram {
    const it = this.table.values();
    it.next();
    return it.next().value as Datagram;
  }

  private tryComplete(d: Datagram): Buffer | null {
    if (d.total < 0 || d.header === null) return null;
    let covered = 0;
    for (const f of d.frags) {
      if (f.off > covered) return null;
      if (f.end > covered) covered = f.end;
    }
    if (covered < d.total) return null;
    const h = d.header;
    const out = Buffer.alloc(h.length + d.total);
    h.copy(out, 0);
    if (!d.overlapped) {
      for (const f of d.frags) f.data.copy(out, h.length + f.off);
    } else {
      // Copy in arrival order, each fragment only into bytes not yet written: the fragment
      // that arrived first for a byte range wins (the IPv4 overlap policy "first").
      const written = new Uint8Array(d.total);
      for (const f of [...d.frags].sort((a, b) => a.seq - b.seq)) {
        for (let k = 0; k < f.data.length; k++) {
          if (written[f.off + k] === 0) {
            out[h.length + f.off + k] = f.data[k];
            written[f.off + k] = 1;
          }
        }
      }
    }
    if (d.v6) {
      out.writeUInt16BE(h.length - 40 + d.total, 4);
    } else {
      out.writeUInt16BE(h.length + d.total, 2);
      out[6] &= 0x40; // keep DF, clear MF and the offset
      out[7] = 0;
      out.writeUInt16BE(0, 10);
      out.writeUInt16BE(checksum(out, 0, h.length), 10);
    }
    this.stats.reassembled++;
    this.drop(d);
    return out;
  }
}
