// A FlowInfo for unit tests, and an event collector.
import type { FlowSide } from '../../../src/events/types';
import type { FlowInfo } from '../../../src/flow/types';
import type { AnyEvent } from './run-pcap';

export function fakeFlow(proto: 'tcp' | 'udp' = 'tcp', serverPort = 8883): FlowInfo {
  const base = { proto, communityId: '1:test', flowId: 1, sensor: '' };
  const s0 = { ...base, src: '10.0.0.2', sport: 40000, dst: '10.0.0.1', dport: serverPort, dir: 'to_server' } as FlowSide;
  const s1 = { ...base, src: '10.0.0.1', sport: serverPort, dst: '10.0.0.2', dport: 40000, dir: 'to_client' } as FlowSide;
  return { flowId: 1, proto, sides: [s0, s1], serverPort, clientPort: 40000, midstream: false };
}

export function collector(): { events: AnyEvent[]; emit: (e: AnyEvent) => void; types: () => string[]; codes: () => string[] } {
  const events: AnyEvent[] = [];
  return {
    events,
    emit: (e) => {
      events.push(e);
    },
    types: () => events.map((e) => e.type),
    codes: () => events.filter((e) => e.type === 'anomaly').map((e) => (e as { code: string }).code),
  };
}

/** Drops what depends on segmentation (ts, frame) so event lists compare across replays. */
export function strip(events: AnyEvent[]): unknown[] {
  return events.map((e) => {
    const { ts: _ts, frame: _frame, ...rest } = e as unknown as Record<string, unknown>;
    return rest;
  });
}
