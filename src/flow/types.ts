// Contract between the flow table (TCP reassembly, UDP flows) and the protocol decoders.
import type { FlowSide } from '../events/types';

/** 0 = to_server (from the flow's initiator), 1 = to_client. */
export type Dir = 0 | 1;

/** What a protocol decoder learns about the flow it is attached to. */
export interface FlowInfo {
  readonly flowId: number;
  readonly proto: 'tcp' | 'udp';
  /** FlowSide objects for each direction: sides[0] is to_server, sides[1] to_client. */
  readonly sides: readonly [FlowSide, FlowSide];
  readonly serverPort: number;
  readonly clientPort: number;
  /** True when no SYN was seen (TCP) and the initiator was guessed. */
  readonly midstream: boolean;
}

/**
 * A decoder for one TCP connection. The reassembler calls onData with in-order bytes of
 * one direction; `buf` is only valid during the call (copy what must be kept).
 * ts/frame are those of the packet whose arrival made these bytes available.
 */
export interface TcpAppHandler {
  readonly app: string;
  onData(dir: Dir, buf: Buffer, off: number, len: number, ts: number, frame: number): void;
  /** `missing` bytes will never arrive in this direction; resynchronise after them. */
  onGap(dir: Dir, missing: number, ts: number, frame: number): void;
  /** The flow ended (FIN/RST/idle/eviction/end of input): flush what is pending. */
  onEnd(ts: number, frame: number): void;
}

/** A decoder for one UDP flow (5-tuple). */
export interface UdpAppHandler {
  readonly app: string;
  onDatagram(dir: Dir, buf: Buffer, off: number, len: number, ts: number, frame: number): void;
  onEnd(ts: number, frame: number): void;
}

/**
 * Chooses a decoder for a new flow by content and port. Called with the first payload
 * seen on the flow (and again for later payloads while it returns undefined, up to a limit);
 * returning null means "not ours, stop asking".
 */
export interface AppClassifier {
  tcp(flow: FlowInfo, dir: Dir, buf: Buffer, off: number, len: number): TcpAppHandler | null | undefined;
  udp(flow: FlowInfo, dir: Dir, buf: Buffer, off: number, len: number): UdpAppHandler | null | undefined;
}
