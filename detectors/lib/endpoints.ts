// Who is the client and who the server of a flow side, as strings computed once per flow.
import type { FlowSide } from '../../src/events/types';

export function endpoint(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** Source and destination address of a flow side (for keyed lookups that take a function). */
export const srcAddr = (f: FlowSide): string => f.src;
export const dstAddr = (f: FlowSide): string => f.dst;

/** Address of the side that opened the flow (the client). */
export function clientAddr(f: FlowSide): string {
  return f.dir === 'to_server' ? f.src : f.dst;
}

// Events of one flow direction share one FlowSide, so this is one WeakMap hit per flow side; and
// as every detector asks about the same event in turn, the last answer is kept at hand.
const servers = new WeakMap<FlowSide, string>();
let lastSide: FlowSide | null = null;
let lastServer = '';

/** "addr:port" of the server side of a flow (the same string object for every event of the flow). */
export function serverEndpoint(f: FlowSide): string {
  if (f === lastSide) return lastServer;
  let s = servers.get(f);
  if (s === undefined) {
    s = f.dir === 'to_server' ? endpoint(f.dst, f.dport) : endpoint(f.src, f.sport);
    servers.set(f, s);
  }
  lastSide = f;
  lastServer = s;
  return s;
}

/** "client:port -> server:port" (oriented by who opened the flow). */
export function flowLabel(f: FlowSide): string {
  return f.dir === 'to_server'
    ? `${endpoint(f.src, f.sport)} -> ${endpoint(f.dst, f.dport)}`
    : `${endpoint(f.dst, f.dport)} -> ${endpoint(f.src, f.sport)}`;
}
