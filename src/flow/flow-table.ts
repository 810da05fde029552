// The flow table: one entry per bidirectional TCP connection or UDP 5-tuple, TCP
// reassembly per direction, classification, and the bounds that keep it all finite.
// Time is capture time only (the packets' tsUs): a capture analysed twice gives the same
// flows, ids and events.
import type { DecodedPacket } from '../capture/types';
import type { AnomalyEvent, FlowEnd, FlowSide, FlowStart, IotEvent } from '../events/types';
import { ipToText } from './address';
import { intern } from '../util/intern';
import { communityIdV1 } from './community-id';
import { FlowHash, FlowKey } from './flow-hash';
import { MemoFlowSide } from './flow-side';
import { ReassemblyBudget, TcpStream, type StreamSink } from './tcp-reassembly';
import type { AppClassifier, Dir, FlowInfo, TcpAppHandler, UdpAppHandler } from './types';

export type FlowEndReason = FlowEnd['reason'];

export interface FlowTableOptions {
  /** Copied into every FlowSide (FlowSide.sensor). Default ''. */
  sensorId?: string;
  /** Flows held at once (closed TCP flows lingering included). Default 100 000. */
  maxFlows?: number;
  /** Out-of-order bytes buffered per flow direction. Default 1 MiB. */
  maxBufferedBytesPerFlow?: number;
  /** Out-of-order and pending-classification bytes over all flows. Default 256 MiB. */
  maxBufferedBytesTotal?: number;
  /** Default 300 s. */
  tcpIdleTimeoutUs?: number;
  /** Default 60 s. */
  udpIdleTimeoutUs?: number;
  /**
   * How long a TCP flow ended by FIN/RST keeps its key, so trailing ACKs and
   * retransmissions do not open a new flow (Zeek's tcp_close_delay). Default 5 s.
   */
  tcpCloseLingerUs?: number;
  /** Classifier calls per flow while it answers undefined. Default 4. */
  classifyMaxAttempts?: number;
  /** Payload bytes per flow kept for the classifier while it answers undefined. Default 4096. */
  classifyMaxBytes?: number;
  /** Community ID seed (spec: 16 bits). Default 0. */
  communityIdSeed?: number;
  /** Ports that mark the server side of a flow picked up midstream. Default SERVER_PORTS. */
  serverPorts?: readonly number[];
  classifier: AppClassifier;
  emit: (e: IotEvent) => void;
  /** Emit flow.start / flow.end events. Default true. */
  emitFlowEvents?: boolean;
}

/** Well-known server ports: the side using one is the server when no SYN was seen. */
export const SERVER_PORTS: readonly number[] = [
  21, 22, 23, 25, 53, 80, 110, 123, 143, 161, 443, 502, 993, 995, 1883, 1884, 3478, 5353,
  5683, 5684, 8000, 8080, 8081, 8443, 8883, 8884, 8885, 8886, 8887, 9001,
];

export interface FlowTableStats {
  /** Packets passed to packet(). */
  packets: number;
  flowsCreated: number;
  /** Flows open now. */
  flowsActive: number;
  /** TCP flows ended by FIN/RST whose key is still held (tcpCloseLingerUs). */
  flowsClosedLingering: number;
  flowsEnded: Record<FlowEndReason, number>;
  /** Flows ended to make room (maxFlows). */
  evictions: number;
  /** Open flows whose key a new SYN took over before they ended (ended as 'evicted'). */
  portReuses: number;
  bufferedBytes: number;
  bufferedBytesPeak: number;
  /** Each time a bound was hit. */
  boundHits: {
    maxFlows: number;
    maxBufferedBytesPerFlow: number;
    maxBufferedBytesTotal: number;
    classifyMaxAttempts: number;
    classifyMaxBytes: number;
  };
  gaps: number;
  gapBytes: number;
  overlaps: number;
  overlapMismatches: number;
  retransmissions: number;
  outOfOrder: number;
  /** Packets that did not reach a flow, by reason. */
  packetsIgnored: {
    /** Neither TCP nor UDP. */
    notTcpUdp: number;
    /** Offsets, lengths, ports or IP version out of range. */
    malformed: number;
    /** RST without a flow: there is nothing to end. */
    orphanRst: number;
    /** Trailing packets of a closed TCP flow (while it lingers). */
    afterClose: number;
  };
}

const DEFAULTS = {
  maxFlows: 100_000,
  maxBufferedBytesPerFlow: 1 << 20,
  maxBufferedBytesTotal: 256 << 20,
  tcpIdleTimeoutUs: 300e6,
  udpIdleTimeoutUs: 60e6,
  tcpCloseLingerUs: 5e6,
  classifyMaxAttempts: 4,
  classifyMaxBytes: 4096,
};

/** packet() runs idle expiry itself once per this much capture time. */
const EXPIRE_INTERVAL_US = 1e6;

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

const TCP = 6;
const UDP = 17;

const enum Classify { Pending, Attached, None }

/** Bytes or a gap seen before a decoder was chosen, replayed to it once chosen. */
interface PendingChunk {
  dir: Dir;
  /** null for a gap. */
  data: Buffer | null;
  missing: number;
  ts: number;
  frame: number;
}

/** Intrusive doubly linked list in least-recently-used order (head = oldest). */
class FlowList {
  head: Flow | null = null;
  tail: Flow | null = null;
  size = 0;

  push(f: Flow): void {
    f.list = this;
    f.prev = this.tail;
    f.next = null;
    if (this.tail) this.tail.next = f; else this.head = f;
    this.tail = f;
    this.size++;
  }

  remove(f: Flow): void {
    if (f.prev) f.prev.next = f.next; else this.head = f.next;
    if (f.next) f.next.prev = f.prev; else this.tail = f.prev;
    f.prev = f.next = null;
    f.list = null;
    this.size--;
  }
}

/**
 * One flow. It is its own key in the table's index (FlowKey's fields come first), and the
 * fields every packet touches follow, so that a lookup and the per-packet bookkeeping stay
 * within the first cache lines of one object.
 */
class Flow extends FlowKey implements FlowInfo, StreamSink {
  /** Next flow in the same hash bucket. */
  hnext: Flow | null = null;
  /** Ended by FIN/RST, key kept until closedAt + linger. */
  closed = false;
  /** Whether the client is the endpoint that sorts first in the key. */
  readonly clientIsLow: boolean;
  readonly proto: 'tcp' | 'udp';
  // Initialised with numbers so that V8 keeps them as unboxed doubles updated in place:
  // a field declared without a value starts as undefined and then takes a new HeapNumber
  // on every store.
  lastTs = 0;
  lastFrame = 0;
  pkts0 = 0;
  pkts1 = 0;
  bytes0 = 0;
  bytes1 = 0;
  // LRU links; lastTick orders flows across the TCP and UDP lists for eviction.
  lastTick = 0;
  /** FlowTable.epoch when the flow was last put in FlowTable.touched. */
  touchEpoch = 0;
  list: FlowList | null = null;
  prev: Flow | null = null;
  next: Flow | null = null;
  classify = Classify.Pending;
  tcpHandler: TcpAppHandler | null = null;
  udpHandler: UdpAppHandler | null = null;
  // TCP only.
  readonly s0: TcpStream | null;
  readonly s1: TcpStream | null;

  readonly flowId: number;
  readonly midstream: boolean;
  readonly sides: readonly [FlowSide, FlowSide];
  readonly serverPort: number;
  readonly clientPort: number;
  firstTs = 0;
  closedAt = 0;
  synSeen = false;
  isn = 0;
  synAckSeen = false;
  rejected = false;
  fin0 = false;
  fin1 = false;
  attempts = 0;
  pendingBytes = 0;
  pending: PendingChunk[] | null = null;
  private readonly table: FlowTable;

  constructor(
    table: FlowTable, flowId: number, proto: 'tcp' | 'udp', key: FlowKey, clientIsLow: boolean, midstream: boolean,
    client: string, clientPort: number, server: string, serverPort: number,
    communityId: string, sensor: string, budget: ReassemblyBudget,
    ts: number, frame: number,
  ) {
    super();
    this.setKey(key);
    this.table = table;
    this.flowId = flowId;
    this.proto = proto;
    this.clientIsLow = clientIsLow;
    this.midstream = midstream;
    this.serverPort = serverPort;
    this.clientPort = clientPort;
    // Addresses key detector state (a client without a client id, a CoAP server): interned.
    client = intern(client);
    server = intern(server);
    this.sides = [
      new MemoFlowSide(proto, client, clientPort, server, serverPort, communityId, 'to_server', flowId, sensor),
      new MemoFlowSide(proto, server, serverPort, client, clientPort, communityId, 'to_client', flowId, sensor),
    ];
    this.firstTs = ts;
    this.lastTs = ts;
    this.lastFrame = frame;
    if (proto === 'tcp') {
      this.s0 = new TcpStream(0, this, budget);
      this.s1 = new TcpStream(1, this, budget);
    } else {
      this.s0 = null;
      this.s1 = null;
    }
  }

  get noApp(): boolean {
    return this.classify === Classify.None;
  }

  get app(): string {
    return this.tcpHandler?.app ?? this.udpHandler?.app ?? '';
  }

  onStreamData(dir: Dir, buf: Buffer, off: number, len: number, ts: number, frame: number): void {
    if (this.tcpHandler !== null) this.tcpHandler.onData(dir, buf, off, len, ts, frame);
    else if (this.classify === Classify.Pending) this.table.classifyTcp(this, dir, buf, off, len, ts, frame);
  }

  onStreamGap(dir: Dir, missing: number, at: number, ts: number, frame: number): void {
    if (this.tcpHandler !== null) this.tcpHandler.onGap(dir, missing, ts, frame);
    else if (this.classify === Classify.Pending) this.table.pendingGap(this, dir, missing, ts, frame);
    this.table.anomaly(this, dir, 'tcp.gap', `${missing} bytes missing at stream offset ${at}`, ts, frame);
  }

  onStreamOverlapMismatch(dir: Dir, at: number, len: number, ts: number, frame: number): void {
    this.table.anomaly(this, dir, 'tcp.overlap_mismatch',
      `${len} bytes at stream offset ${at} differ from a segment buffered earlier`, ts, frame);
  }
}

/**
 * Bidirectional flow table with per-direction TCP reassembly.
 *
 * Key: the transport protocol and both (address, port) endpoints, the smaller endpoint
 * first (the Community ID order), as integers in a FlowKey; the per-packet lookup writes a
 * reused probe key and allocates nothing.
 */
export class FlowTable {
  private readonly sensorId: string;
  private readonly maxFlows: number;
  private readonly tcpIdleUs: number;
  private readonly udpIdleUs: number;
  private readonly lingerUs: number;
  private readonly classifyMaxAttempts: number;
  private readonly classifyMaxBytes: number;
  private readonly seed: number;
  private readonly serverPort: Uint8Array;
  private readonly classifier: AppClassifier;
  private readonly emit: (e: IotEvent) => void;
  private readonly emitFlowEvents: boolean;
  private readonly budget: ReassemblyBudget;

  private readonly flows = new FlowHash<Flow>();
  /** Key of the packet being looked up (reused). */
  private readonly probe = new FlowKey();
  /** The flow of the last packet, while it is in the index. */
  private lastFlow: Flow | null = null;
  private readonly tcpList = new FlowList();
  private readonly udpList = new FlowList();
  private readonly closedList = new FlowList();
  /** Flows that packets touched since the lists were last put in order (syncLru). */
  private readonly touched: Flow[] = [];
  private epoch = 1;
  private nextFlowId = 1;
  private tick = 0;
  private nextExpireTs = -Infinity;

  private packets = 0;
  private flowsCreated = 0;
  private evictions = 0;
  private portReuses = 0;
  private readonly ended: Record<FlowEndReason, number> = { fin: 0, rst: 0, idle: 0, evicted: 0, eof: 0 };
  private maxFlowsHits = 0;
  private classifyAttemptHits = 0;
  private classifyByteHits = 0;
  private readonly ignored = { notTcpUdp: 0, malformed: 0, orphanRst: 0, afterClose: 0 };

  constructor(opts: FlowTableOptions) {
    this.sensorId = opts.sensorId ?? '';
    this.maxFlows = Math.max(1, opts.maxFlows ?? DEFAULTS.maxFlows);
    this.tcpIdleUs = opts.tcpIdleTimeoutUs ?? DEFAULTS.tcpIdleTimeoutUs;
    this.udpIdleUs = opts.udpIdleTimeoutUs ?? DEFAULTS.udpIdleTimeoutUs;
    this.lingerUs = opts.tcpCloseLingerUs ?? DEFAULTS.tcpCloseLingerUs;
    this.classifyMaxAttempts = opts.classifyMaxAttempts ?? DEFAULTS.classifyMaxAttempts;
    this.classifyMaxBytes = opts.classifyMaxBytes ?? DEFAULTS.classifyMaxBytes;
    this.seed = opts.communityIdSeed ?? 0;
    this.serverPort = new Uint8Array(65536);
    for (const p of opts.serverPorts ?? SERVER_PORTS) this.serverPort[p & 0xffff] = 1;
    this.classifier = opts.classifier;
    this.emit = opts.emit;
    this.emitFlowEvents = opts.emitFlowEvents ?? true;
    this.budget = new ReassemblyBudget(
      opts.maxBufferedBytesPerFlow ?? DEFAULTS.maxBufferedBytesPerFlow,
      opts.maxBufferedBytesTotal ?? DEFAULTS.maxBufferedBytesTotal,
    );
  }

  /** One decoded packet; `p` may be reused by the caller after the call returns. */
  packet(p: DecodedPacket, tsUs: number, frame: number): void {
    this.packets++;
    if (tsUs >= this.nextExpireTs) {
      this.expire(tsUs);
      this.nextExpireTs = tsUs + EXPIRE_INTERVAL_US;
    }
    const proto = p.proto;
    if (proto !== TCP && proto !== UDP) {
      this.ignored.notTcpUdp++;
      return;
    }
    const buf = p.buf;
    const alen = p.ipVersion === 4 ? 4 : p.ipVersion === 6 ? 16 : 0;
    const so = p.srcOff;
    const dOff = p.dstOff;
    const sport = p.sport;
    const dport = p.dport;
    const po = p.payloadOff;
    const plen = p.payloadLen;
    // Written so that NaN, negatives and out-of-range values all fail.
    if (!(alen !== 0 && buf instanceof Uint8Array && so >= 0 && so + alen <= buf.length &&
          dOff >= 0 && dOff + alen <= buf.length && po >= 0 && plen >= 0 && po + plen <= buf.length &&
          (sport & 0xffff) === sport && (dport & 0xffff) === dport &&
          (so | 0) === so && (dOff | 0) === dOff && (po | 0) === po && (plen | 0) === plen)) {
      this.ignored.malformed++;
      return;
    }

    let srcLow: boolean;
    const key = this.probe;
    if (alen === 4) {
      const s = ((buf[so] << 24) | (buf[so + 1] << 16) | (buf[so + 2] << 8) | buf[so + 3]) >>> 0;
      const d = ((buf[dOff] << 24) | (buf[dOff + 1] << 16) | (buf[dOff + 2] << 8) | buf[dOff + 3]) >>> 0;
      srcLow = s < d || (s === d && sport <= dport);
      key.x = proto;
      if (srcLow) {
        key.a0 = s | 0; key.ports = (sport << 16) | dport; key.b0 = d | 0;
      } else {
        key.a0 = d | 0; key.ports = (dport << 16) | sport; key.b0 = s | 0;
      }
      key.a1 = key.a2 = key.a3 = key.b1 = key.b2 = key.b3 = 0;
    } else {
      let cmp = 0;
      for (let i = 0; i < 16 && cmp === 0; i++) cmp = buf[so + i] - buf[dOff + i];
      srcLow = cmp < 0 || (cmp === 0 && sport <= dport);
      key.x = proto + 256;
      if (srcLow) setV6Key(key, buf, so, sport, dOff, dport); else setV6Key(key, buf, dOff, dport, so, sport);
    }

    // Consecutive packets often belong to one flow (a request and its answer): check the last
    // flow's key before hashing. lastFlow is always in the index (cleared when it leaves).
    const lf = this.lastFlow;
    let flow = lf !== null && lf.equals(key) ? lf : this.flows.get(key);
    const flags = proto === TCP ? p.tcpFlags : 0;
    if (flow !== undefined) {
      if (flow.closed) {
        // A new SYN on a closed connection's ports is a new connection (RFC 9293 3.6.1:
        // TIME-WAIT accepts it); anything else is a trailing ACK or retransmission.
        if ((flags & (SYN | ACK)) === SYN || tsUs - flow.closedAt > this.lingerUs) {
          this.dropClosed(flow);
          flow = undefined;
        } else {
          this.ignored.afterClose++;
          return;
        }
      } else if (tsUs - flow.lastTs > (proto === TCP ? this.tcpIdleUs : this.udpIdleUs)) {
        this.endIdle(flow);
        flow = undefined;
      } else if ((flags & (SYN | ACK | RST)) === SYN && isNewConnection(flow, srcLow, p.seq >>> 0)) {
        // A new connection on ports whose old one was never seen to close.
        this.portReuses++;
        this.end(flow, 'evicted', tsUs, frame);
        flow = undefined;
      }
    }
    if (flow === undefined) {
      if (proto === TCP && (flags & RST) !== 0) {
        this.ignored.orphanRst++;
        return;
      }
      flow = this.create(p, proto, flags, key, srcLow, alen, tsUs, frame);
    }

    this.lastFlow = flow;
    const dir: Dir = srcLow === flow.clientIsLow ? 0 : 1;
    if (dir === 0) { flow.pkts0++; flow.bytes0 += plen; } else { flow.pkts1++; flow.bytes1 += plen; }
    if (tsUs > flow.lastTs) flow.lastTs = tsUs;
    flow.lastFrame = frame;
    flow.lastTick = ++this.tick;
    if (flow.touchEpoch !== this.epoch) {
      flow.touchEpoch = this.epoch;
      this.touched.push(flow);
    }

    if (proto === TCP) this.tcpPacket(flow, dir, p, flags, tsUs, frame);
    else this.udpPacket(flow, dir, buf, po, plen, tsUs, frame);
  }

  /** Ends flows idle for longer than their timeout, as of capture time `tsUs`. */
  expire(tsUs: number): void {
    this.syncLru();
    this.expireList(this.tcpList, tsUs - this.tcpIdleUs);
    this.expireList(this.udpList, tsUs - this.udpIdleUs);
    for (let f = this.closedList.head; f !== null && tsUs - f.closedAt > this.lingerUs; f = this.closedList.head) {
      this.dropClosed(f);
    }
  }

  /** End of input: every open flow ends with reason 'eof', in flow id order. */
  flush(tsUs: number, frame: number): void {
    const open: Flow[] = [];
    for (let f = this.tcpList.head; f !== null; f = f.next) open.push(f);
    for (let f = this.udpList.head; f !== null; f = f.next) open.push(f);
    open.sort((a, b) => a.flowId - b.flowId);
    for (const f of open) this.end(f, 'eof', tsUs, frame);
    while (this.closedList.head !== null) this.dropClosed(this.closedList.head);
  }

  stats(): FlowTableStats {
    const b = this.budget;
    return {
      packets: this.packets,
      flowsCreated: this.flowsCreated,
      flowsActive: this.tcpList.size + this.udpList.size,
      flowsClosedLingering: this.closedList.size,
      flowsEnded: { ...this.ended },
      evictions: this.evictions,
      portReuses: this.portReuses,
      bufferedBytes: b.buffered,
      bufferedBytesPeak: b.bufferedPeak,
      boundHits: {
        maxFlows: this.maxFlowsHits,
        maxBufferedBytesPerFlow: b.perStreamBoundHits,
        maxBufferedBytesTotal: b.totalBoundHits,
        classifyMaxAttempts: this.classifyAttemptHits,
        classifyMaxBytes: this.classifyByteHits,
      },
      gaps: b.gaps,
      gapBytes: b.gapBytes,
      overlaps: b.overlaps,
      overlapMismatches: b.overlapMismatches,
      retransmissions: b.retransmissions,
      outOfOrder: b.outOfOrder,
      packetsIgnored: { ...this.ignored },
    };
  }

  // ------------------------------------------------------------ flow life cycle

  private create(
    p: DecodedPacket, proto: number, flags: number, key: FlowKey, srcLow: boolean,
    alen: 4 | 16, ts: number, frame: number,
  ): Flow {
    while (this.flows.size >= this.maxFlows && this.makeRoom(ts, frame)) { /* until room */ }

    // Who is the client: the SYN's sender; the SYN-ACK's receiver; else guessed by port.
    let senderIsClient: boolean;
    let midstream = false;
    if (proto === TCP && (flags & SYN) !== 0) {
      senderIsClient = (flags & ACK) === 0;
      midstream = !senderIsClient;
    } else {
      const sp = this.serverPort[p.sport] === 1;
      const dp = this.serverPort[p.dport] === 1;
      if (proto === UDP) senderIsClient = !(sp && !dp);
      else senderIsClient = dp !== sp ? dp : p.sport >= p.dport;
      midstream = proto === TCP;
    }

    const buf = p.buf;
    const src = ipToText(buf, p.srcOff, alen);
    const dst = ipToText(buf, p.dstOff, alen);
    const cid = communityIdV1(proto, buf, p.srcOff, buf, p.dstOff, alen, p.sport, p.dport, this.seed);
    const flowId = this.nextFlowId++;
    const flow = senderIsClient
      ? new Flow(this, flowId, proto === TCP ? 'tcp' : 'udp', key, srcLow, midstream,
        src, p.sport, dst, p.dport, cid, this.sensorId, this.budget, ts, frame)
      : new Flow(this, flowId, proto === TCP ? 'tcp' : 'udp', key, !srcLow, midstream,
        dst, p.dport, src, p.sport, cid, this.sensorId, this.budget, ts, frame);
    this.flows.add(flow);
    (proto === TCP ? this.tcpList : this.udpList).push(flow);
    this.flowsCreated++;
    if (this.emitFlowEvents) {
      const e: FlowStart = { type: 'flow.start', ts, frame, flow: flow.sides[0], midstream };
      this.emit(e);
    }
    return flow;
  }

  /**
   * Brings the TCP and UDP lists into least-recently-used order. Flows that packets touched
   * since the last call are moved to the tails in the order of their last packet (lastTick);
   * the others were in order already and all precede them. Moving a flow on each packet
   * instead touched its two list neighbours, two cold objects per packet.
   */
  private syncLru(): void {
    const t = this.touched;
    if (t.length === 0) return;
    if (t.length > 1) t.sort(byLastTick);
    for (let i = 0; i < t.length; i++) {
      const f = t[i];
      const list = f.list;
      // Flows ended since (gone, or lingering closed) are not in these lists any more.
      if ((list === this.tcpList || list === this.udpList) && list.tail !== f) {
        list.remove(f);
        list.push(f);
      }
    }
    t.length = 0;
    this.epoch++;
  }

  /** maxFlows reached: reclaim a lingering closed flow, else end the least recently used. */
  private makeRoom(ts: number, frame: number): boolean {
    this.maxFlowsHits++;
    this.syncLru();
    if (this.closedList.head !== null) {
      this.dropClosed(this.closedList.head);
      return true;
    }
    const t = this.tcpList.head;
    const u = this.udpList.head;
    const victim = t === null ? u : u === null ? t : t.lastTick < u.lastTick ? t : u;
    if (victim === null) return false;
    this.evictions++;
    this.end(victim, 'evicted', ts, frame);
    return true;
  }

  private expireList(list: FlowList, before: number): void {
    for (let f = list.head; f !== null && f.lastTs < before; f = list.head) this.endIdle(f);
  }

  /** Idle end is stamped when the flow became idle, so it does not depend on when expire() ran. */
  private endIdle(f: Flow): void {
    const timeout = f.proto === 'tcp' ? this.tcpIdleUs : this.udpIdleUs;
    this.end(f, 'idle', f.lastTs + timeout, f.lastFrame);
  }

  private dropClosed(f: Flow): void {
    if (f.list !== null) f.list.remove(f);
    this.unindex(f);
  }

  /** Takes a flow out of the index, and out of lastFlow, which only ever holds an indexed flow. */
  private unindex(f: Flow): void {
    this.flows.delete(f);
    if (this.lastFlow === f) this.lastFlow = null;
  }

  /**
   * Ends a flow: delivers what is buffered (reporting holes as gaps), tells the decoder,
   * emits flow.end. FIN/RST flows keep their key for a while (closed); others leave the map.
   */
  private end(f: Flow, reason: FlowEndReason, ts: number, frame: number): void {
    if (f.s0 !== null && f.s1 !== null) {
      if (f.classify !== Classify.None) {
        f.s0.flush(ts, frame);
        f.s1.flush(ts, frame);
      }
      f.s0.release();
      f.s1.release();
    }
    this.dropPending(f);
    if (f.tcpHandler !== null) f.tcpHandler.onEnd(ts, frame);
    else if (f.udpHandler !== null) f.udpHandler.onEnd(ts, frame);
    this.ended[reason]++;
    if (this.emitFlowEvents) {
      const e: FlowEnd = {
        type: 'flow.end', ts, frame, flow: f.sides[0], reason, app: f.app, firstTs: f.firstTs,
        packetsToServer: f.pkts0, packetsToClient: f.pkts1, bytesToServer: f.bytes0, bytesToClient: f.bytes1,
        ...(f.proto === 'tcp' ? { tcpState: tcpState(f) } : {}),
      };
      this.emit(e);
    }
    f.list!.remove(f);
    if (reason === 'fin' || reason === 'rst') {
      f.closed = true;
      f.closedAt = ts;
      this.closedList.push(f);
    } else {
      this.unindex(f);
    }
  }

  // ------------------------------------------------------------ TCP

  private tcpPacket(f: Flow, dir: Dir, p: DecodedPacket, flags: number, ts: number, frame: number): void {
    const s0 = f.s0!;
    const s1 = f.s1!;
    const seq = p.seq >>> 0;
    const ack = p.ack >>> 0;

    if ((flags & RST) !== 0) {
      // A RST answering a SYN before any SYN-ACK: connection refused.
      if (dir === 1 && f.synSeen && !f.synAckSeen && f.pkts1 === 1) f.rejected = true;
      this.end(f, 'rst', ts, frame);
      return;
    }

    if ((flags & SYN) !== 0) {
      if ((flags & ACK) === 0) {
        // First SYN, or a new ISN before any data (packet() made other SYNs new flows);
        // a retransmitted SYN changes nothing.
        if (dir === 0 && (!f.synSeen || seq !== f.isn)) {
          f.synSeen = true;
          f.isn = seq;
          s0.start(seq + 1);
        }
      } else if (dir === 1) {
        f.synAckSeen = true;
        if (!s1.hasData) s1.start(seq + 1);
        // The SYN-ACK acknowledges the initiator's ISN + 1 (RFC 9293 3.5).
        if (!s0.started) s0.start(ack);
      }
    }

    if (f.classify === Classify.None) {
      if ((flags & FIN) !== 0) this.tcpFin(f, dir, ts, frame, null, 0);
      return;
    }

    // Data this side acknowledges was received by it: deliver the other direction first.
    if ((flags & ACK) !== 0) (dir === 0 ? s1 : s0).ack(ack, ts, frame);

    // Data on a SYN starts after the SYN's own sequence number.
    const dataSeq = (flags & SYN) !== 0 ? seq + 1 : seq;
    const plen = p.payloadLen;
    const stream = dir === 0 ? s0 : s1;
    if (plen > 0) stream.segment(dataSeq, p.buf, p.payloadOff, plen, ts, frame);
    if ((flags & FIN) !== 0) this.tcpFin(f, dir, ts, frame, stream, (dataSeq + plen) >>> 0);
    // The classifier may have said "none" while the streams were delivering.
    else if (f.noApp) this.releaseStreams(f);
  }

  private tcpFin(f: Flow, dir: Dir, ts: number, frame: number, stream: TcpStream | null, finSeq: number): void {
    if (stream !== null) stream.fin(finSeq);
    if (dir === 0) f.fin0 = true; else f.fin1 = true;
    // Both sides closed their direction (RFC 9293 3.6): the connection is done.
    if (f.fin0 && f.fin1) this.end(f, 'fin', ts, frame);
    else if (f.noApp) this.releaseStreams(f);
  }

  private releaseStreams(f: Flow): void {
    f.s0!.release();
    f.s1!.release();
  }

  /** In-order bytes on a flow without a decoder yet. */
  classifyTcp(f: Flow, dir: Dir, buf: Buffer, off: number, len: number, ts: number, frame: number): void {
    const r = this.askClassifier(f, dir, buf, off, len, ts, frame, true);
    if (r === undefined || r === null) return;
    f.tcpHandler = r as TcpAppHandler;
    f.classify = Classify.Attached;
    const pending = this.takePending(f);
    // The decoder gets everything from the start: what was held, then this chunk.
    if (pending !== null) {
      for (const c of pending) {
        if (c.data !== null) f.tcpHandler.onData(c.dir, c.data, 0, c.data.length, c.ts, c.frame);
        else f.tcpHandler.onGap(c.dir, c.missing, c.ts, c.frame);
      }
      wipe(pending);
    }
    f.tcpHandler.onData(dir, buf, off, len, ts, frame);
  }

  pendingGap(f: Flow, dir: Dir, missing: number, ts: number, frame: number): void {
    (f.pending ??= []).push({ dir, data: null, missing, ts, frame });
  }

  // ------------------------------------------------------------ UDP

  private udpPacket(f: Flow, dir: Dir, buf: Buffer, off: number, len: number, ts: number, frame: number): void {
    if (f.udpHandler !== null) {
      f.udpHandler.onDatagram(dir, buf, off, len, ts, frame);
      return;
    }
    if (f.classify !== Classify.Pending) return;
    const r = this.askClassifier(f, dir, buf, off, len, ts, frame, false);
    if (r === undefined || r === null) return;
    f.udpHandler = r as UdpAppHandler;
    f.classify = Classify.Attached;
    const pending = this.takePending(f);
    if (pending !== null) {
      for (const c of pending) f.udpHandler.onDatagram(c.dir, c.data!, 0, c.data!.length, c.ts, c.frame);
      wipe(pending);
    }
    f.udpHandler.onDatagram(dir, buf, off, len, ts, frame);
  }

  // ------------------------------------------------------------ classification

  /**
   * Asks the classifier about new payload. TCP: the classifier sees this direction's bytes
   * from its start (or from its last gap), so a first message split over segments still
   * classifies. UDP: each datagram on its own. Held bytes count against the buffer bounds.
   */
  private askClassifier(
    f: Flow, dir: Dir, buf: Buffer, off: number, len: number, ts: number, frame: number, tcp: boolean,
  ): TcpAppHandler | UdpAppHandler | null | undefined {
    // An empty datagram is asked about too: it counts as an attempt, which bounds the
    // pending list even when no byte is held.
    f.attempts++;
    let cbuf = buf;
    let coff = off;
    let clen = len;
    if (tcp && f.pending !== null) {
      const parts: Buffer[] = [];
      for (const c of f.pending) {
        if (c.dir !== dir) continue;
        if (c.data === null) parts.length = 0; else parts.push(c.data);
      }
      if (parts.length > 0) {
        parts.push(buf.subarray(off, off + len));
        cbuf = Buffer.concat(parts);
        coff = 0;
        clen = cbuf.length;
      }
    }
    const r = tcp
      ? this.classifier.tcp(f, dir, cbuf, coff, clen)
      : this.classifier.udp(f, dir, cbuf, coff, clen);
    if (cbuf !== buf) cbuf.fill(0);
    if (r !== undefined) {
      if (r === null) this.giveUp(f);
      return r;
    }
    // Undecided: hold a copy of the bytes for the decoder that may come, within bounds.
    if (f.attempts >= this.classifyMaxAttempts) {
      this.classifyAttemptHits++;
      this.giveUp(f);
      return null;
    }
    if (f.pendingBytes + len > this.classifyMaxBytes) {
      this.classifyByteHits++;
      this.giveUp(f);
      return null;
    }
    if (this.budget.buffered + len > this.budget.maxTotal) {
      this.budget.totalBoundHits++;
      this.giveUp(f);
      return null;
    }
    const data = Buffer.allocUnsafeSlow(len);
    buf.copy(data, 0, off, off + len);
    (f.pending ??= []).push({ dir, data, missing: 0, ts, frame });
    f.pendingBytes += len;
    this.budget.add(len);
    return undefined;
  }

  /** No decoder for this flow: stop asking, stop reassembling, keep counting. */
  private giveUp(f: Flow): void {
    f.classify = Classify.None;
    this.dropPending(f);
    // Stream buffers are released by tcpPacket once the stream is no longer iterating.
  }

  /** Takes the bytes held while undecided off the flow and the budget, to replay them (then wipe them). */
  private takePending(f: Flow): PendingChunk[] | null {
    const pending = f.pending;
    if (f.pendingBytes > 0) this.budget.buffered -= f.pendingBytes;
    f.pendingBytes = 0;
    f.pending = null;
    return pending;
  }

  /** Lets go of the bytes held while undecided (the flow gave up or ended), zeroed. */
  private dropPending(f: Flow): void {
    const pending = this.takePending(f);
    if (pending !== null) wipe(pending);
  }

  anomaly(f: Flow, dir: Dir, code: 'tcp.gap' | 'tcp.overlap_mismatch', detail: string, ts: number, frame: number): void {
    const e: AnomalyEvent = { type: 'anomaly', ts, frame, flow: f.sides[dir], code, layer: 'tcp', detail };
    this.emit(e);
  }
}

function setV6Key(k: FlowKey, b: Buffer, a: number, ap: number, c: number, cp: number): void {
  k.ports = (ap << 16) | cp;
  k.a0 = word(b, a); k.a1 = word(b, a + 4); k.a2 = word(b, a + 8); k.a3 = word(b, a + 12);
  k.b0 = word(b, c); k.b1 = word(b, c + 4); k.b2 = word(b, c + 8); k.b3 = word(b, c + 12);
}

function word(b: Buffer, i: number): number {
  return (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3];
}

function byLastTick(a: Flow, b: Flow): number {
  return a.lastTick - b.lastTick;
}

/**
 * Whether a SYN (without ACK) on an open flow starts a new connection: anything but a
 * retransmitted SYN, or a SYN with a new ISN before any payload, from the same client.
 */
function isNewConnection(f: Flow, srcLow: boolean, seq: number): boolean {
  const dir = srcLow === f.clientIsLow ? 0 : 1;
  return !(dir === 0 && f.synSeen && (seq === f.isn || f.bytes0 + f.bytes1 === 0));
}

/** Handshake summary in Zeek's conn_state vocabulary. */
function tcpState(f: Flow): string {
  if (!f.synSeen) return 'OTH';
  if (f.rejected) return 'REJ';
  return f.pkts1 > 0 ? 'S1' : 'S0';
}

/**
 * Zeroes held copies once they are delivered or dropped: the first bytes of a TCP flow are
 * usually its CONNECT, password included, and freed memory is handed out again uncleared.
 */
function wipe(pending: PendingChunk[]): void {
  for (const c of pending) if (c.data !== null) c.data.fill(0);
}
