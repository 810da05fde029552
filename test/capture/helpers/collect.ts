import { CaptureParser } from '../../../src/capture/reader';
import type { CaptureStats, PacketRecord } from '../../../src/capture/types';

export interface Seen {
  frame: number;
  tsUs: number;
  linkType: number;
  iface: number;
  data: string;
  wirelen: number;
}

export function snapshot(r: PacketRecord): Seen {
  return {
    frame: r.frame,
    tsUs: r.tsUs,
    linkType: r.linkType,
    iface: r.iface,
    data: r.buf.toString('hex', r.off, r.off + r.caplen),
    wirelen: r.wirelen,
  };
}

/** Runs the push parser over the chunks and returns what it delivered. */
export function parseChunks(chunks: Buffer[], name = 'test.pcap'): { packets: Seen[]; stats: CaptureStats } {
  const packets: Seen[] = [];
  const p = new CaptureParser((r) => packets.push(snapshot(r)), { name });
  for (const c of chunks) p.feed(c);
  const stats = p.end();
  return { packets, stats };
}

export function parseAll(buf: Buffer, name?: string): { packets: Seen[]; stats: CaptureStats } {
  return parseChunks([buf], name);
}
