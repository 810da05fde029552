// Test helper: a capture through the real capture and flow layers (src/capture, src/flow),
// with a classifier that attaches the decoders under test. Events are collected in order.
import { readFileSync } from 'node:fs';
import { CaptureParser, PacketDecoder, createDecodedPacket } from '../../../src/capture';
import type { IotEvent } from '../../../src/events/types';
import type { TlsEvent } from '../../../src/events/tls-types';
import { FlowTable } from '../../../src/flow/flow-table';
import type { AppClassifier, Dir, FlowInfo, TcpAppHandler, UdpAppHandler } from '../../../src/flow/types';

export type AnyEvent = IotEvent | TlsEvent;

export interface RunOptions {
  tcp?: (flow: FlowInfo, dir: Dir, buf: Buffer, off: number, len: number, emit: (e: AnyEvent) => void) => TcpAppHandler | null | undefined;
  udp?: (flow: FlowInfo, dir: Dir, buf: Buffer, off: number, len: number, emit: (e: AnyEvent) => void) => UdpAppHandler | null | undefined;
}

export function runPcap(path: string, opts: RunOptions): { events: AnyEvent[]; handlers: Array<TcpAppHandler | UdpAppHandler> } {
  const events: AnyEvent[] = [];
  const handlers: Array<TcpAppHandler | UdpAppHandler> = [];
  const emit = (e: AnyEvent): void => {
    events.push(e);
  };
  const classifier: AppClassifier = {
    tcp(flow, dir, buf, off, len) {
      const h = opts.tcp ? opts.tcp(flow, dir, buf, off, len, emit) : null;
      if (h) handlers.push(h);
      return h;
    },
    udp(flow, dir, buf, off, len) {
      const h = opts.udp ? opts.udp(flow, dir, buf, off, len, emit) : null;
      if (h) handlers.push(h);
      return h;
    },
  };
  const table = new FlowTable({ classifier, emit: emit as (e: IotEvent) => void, emitFlowEvents: false });
  const decoder = new PacketDecoder();
  const pkt = createDecodedPacket();
  let lastTs = 0;
  let lastFrame = 0;
  const parser = new CaptureParser((rec) => {
    lastTs = rec.tsUs;
    lastFrame = rec.frame;
    if (decoder.decode(rec, pkt)) table.packet(pkt, rec.tsUs, rec.frame);
  });
  parser.feed(readFileSync(path));
  parser.end();
  table.flush(lastTs, lastFrame);
  return { events, handlers };
}

export interface Chunk {
  dir: Dir;
  data: Buffer;
  ts: number;
  frame: number;
}

export interface RecordedFlow {
  flow: FlowInfo;
  chunks: Chunk[];
  gaps: number;
}

/** The in-order payload of every TCP flow (or UDP datagrams) as the flow layer delivers it. */
export function recordFlows(path: string, proto: 'tcp' | 'udp'): RecordedFlow[] {
  const flows: RecordedFlow[] = [];
  const make = (flow: FlowInfo): RecordedFlow => {
    const r: RecordedFlow = { flow, chunks: [], gaps: 0 };
    flows.push(r);
    return r;
  };
  runPcap(path, proto === 'tcp'
    ? {
        tcp: (flow) => {
          const r = make(flow);
          return {
            app: 'record',
            onData: (dir, buf, off, len, ts, frame) => r.chunks.push({ dir, data: Buffer.from(buf.subarray(off, off + len)), ts, frame }),
            onGap: () => { r.gaps++; },
            onEnd: () => undefined,
          };
        },
      }
    : {
        udp: (flow) => {
          const r = make(flow);
          return {
            app: 'record',
            onDatagram: (dir, buf, off, len, ts, frame) => r.chunks.push({ dir, data: Buffer.from(buf.subarray(off, off + len)), ts, frame }),
            onEnd: () => undefined,
          };
        },
      });
  return flows;
}

/** Concatenated bytes of one direction. */
export function streamOf(r: RecordedFlow, dir: Dir): Buffer {
  return Buffer.concat(r.chunks.filter((c) => c.dir === dir).map((c) => c.data));
}
