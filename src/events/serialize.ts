// JSON form of events: one flat object per event, the flow's endpoints inlined.
import type { IotEvent } from './types';

/** Flatten an event for JSON output: flow fields first, then the event's own fields. */
export function eventToJson(e: IotEvent): Record<string, unknown> {
  const f = e.flow;
  const out: Record<string, unknown> = {
    type: e.type,
    ts: e.ts,
    time: new Date(Math.floor(e.ts / 1000)).toISOString(),
    frame: e.frame,
    sensor: f.sensor,
    flowId: f.flowId,
    proto: f.proto,
    src: f.src,
    sport: f.sport,
    dst: f.dst,
    dport: f.dport,
    communityId: f.communityId,
    dir: f.dir,
  };
  for (const k in e) {
    if (k === 'flow' || k === 'type' || k === 'ts' || k === 'frame') continue;
    const v = (e as unknown as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** JSON.stringify that renders Buffers and bigints readably (hex / decimal). */
export function stringifyEvent(e: IotEvent): string {
  return JSON.stringify(eventToJson(e), jsonReplacer);
}

export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value && typeof value === 'object' && (value as { type?: string }).type === 'Buffer' &&
      Array.isArray((value as { data?: unknown }).data)) {
    return Buffer.from((value as { data: number[] }).data).toString('hex');
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return value;
}
