// Test-only stand-in for the flow layer: groups a capture's CoAP-port packets into UDP and TCP
// flows (the first packet's sender is the client) and drives the CoAP handlers with them.
import type { FlowSide, IotEvent } from '../../../../src/events/types';
import type { Dir, FlowInfo, TcpAppHandler, UdpAppHandler } from '../../../../src/flow/types';
import { createCoapHandler, createCoapStats, createCoapTcpHandler, type CoapStats } from '../../../../src/protocols/coap';
import { readPcap } from './pcap-reader';

export function flowInfo(proto: 'udp' | 'tcp', flowId: number, client: [string, number], server: [string, number]): FlowInfo {
  const side = (dir: 'to_server' | 'to_client'): FlowSide => {
    const [s, d] = dir === 'to_server' ? [client, server] : [server, client];
    return { proto, src: s[0], sport: s[1], dst: d[0], dport: d[1], communityId: `test:${flowId}`, dir, flowId, sensor: 'test' };
  };
  return {
    flowId, proto, sides: [side('to_server'), side('to_client')],
    serverPort: server[1], clientPort: client[1], midstream: false,
  };
}

interface UdpFlow { info: FlowInfo; handler: UdpAppHandler; client: string }
interface TcpFlow { info: FlowInfo; handler: TcpAppHandler; client: string; next: [number | null, number | null] }

export function runCapture(path: string, port = 5683): { events: IotEvent[]; stats: CoapStats } {
  const events: IotEvent[] = [];
  const emit = (e: IotEvent): void => { events.push(e); };
  const stats = createCoapStats();
  const udp = new Map<string, UdpFlow>();
  const tcp = new Map<string, TcpFlow>();
  let flowId = 0;
  let lastTs = 0;
  let lastFrame = 0;
  for (const pkt of readPcap(path)) {
    lastTs = pkt.tsUs;
    lastFrame = pkt.frame;
    if (pkt.sport !== port && pkt.dport !== port) continue;
    const a = `${pkt.src}/${pkt.sport}`;
    const b = `${pkt.dst}/${pkt.dport}`;
    const key = a < b ? `${a}-${b}` : `${b}-${a}`;
    if (pkt.proto === 'udp') {
      let f = udp.get(key);
      if (f === undefined) {
        const info = flowInfo('udp', ++flowId, [pkt.src, pkt.sport], [pkt.dst, pkt.dport]);
        f = { info, handler: createCoapHandler(info, emit, { stats }), client: a };
        udp.set(key, f);
      }
      const dir: Dir = a === f.client ? 0 : 1;
      f.handler.onDatagram(dir, pkt.payload, 0, pkt.payload.length, pkt.tsUs, pkt.frame);
    } else {
      let f = tcp.get(key);
      if (f === undefined) {
        const info = flowInfo('tcp', ++flowId, [pkt.src, pkt.sport], [pkt.dst, pkt.dport]);
        f = { info, handler: createCoapTcpHandler(info, emit, { stats }), client: a, next: [null, null] };
        tcp.set(key, f);
      }
      const dir: Dir = a === f.client ? 0 : 1;
      if ((pkt.flags & 0x02) !== 0) f.next[dir] = (pkt.seq + 1) >>> 0;
      const expected = f.next[dir];
      const len = pkt.payload.length;
      if (len === 0 || expected === null) continue;
      const ahead = (pkt.seq - expected) | 0;
      if (ahead < 0) {
        // Retransmission: pass on only bytes not seen yet.
        if (-ahead >= len) continue;
        f.handler.onData(dir, pkt.payload, -ahead, len + ahead, pkt.tsUs, pkt.frame);
      } else {
        if (ahead > 0) f.handler.onGap(dir, ahead, pkt.tsUs, pkt.frame);
        f.handler.onData(dir, pkt.payload, 0, len, pkt.tsUs, pkt.frame);
      }
      f.next[dir] = (pkt.seq + len) >>> 0;
    }
  }
  for (const f of udp.values()) f.handler.onEnd(lastTs, lastFrame);
  for (const f of tcp.values()) f.handler.onEnd(lastTs, lastFrame);
  return { events, stats };
}
