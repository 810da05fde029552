// Inventories: the forensic rows grouped into "what exists". The rules are written here once
// (the embedded store runs them; the ClickHouse store's GROUP BY queries implement the same):
//
//   clients  group (sensor, clientId, username ?? '', server); firstTs min, lastTs max, counts
//            summed; the other fields from the latest session (max lastTs, firstTs, flowId).
//            Sorted lastTs desc, then sensor, clientId, username, server.
//   topics   group (sensor, topic); minute = last minute seen; counts summed, publishers max
//            (distinct publishers per minute cannot be added up). Sorted minute desc, sensor, topic.
//   coap     group (sensor, server, method, path, responseCode); minute = last; counts summed;
//            client = the one in the latest row (max minute, client); rttUsP50 = the highest
//            per-minute median (the slowest minute), null when none was measured.
//            Sorted minute desc, sensor, server, method, path, responseCode.
//   tls      group (sensor, server, sni, sha256); firstTs min, lastTs max; clientAuth if any
//            row had it; the rest from the latest row. daysToExpiry = floor((notAfter - now) / 1 day)
//            (rows without a certificate have sha256 '' and notAfter 0). Sorted lastTs desc, then keys.
//
// Cursors are keyset positions [time desc, ...keys asc].
import { cursorTuple, decodeCursor, encodeCursor } from './cursor';
import type { CoapExchangeRow, MqttSessionRow, TlsEndpointRow, TopicMinuteRow } from './types';

export type InventoryKind = 'clients' | 'topics' | 'coap' | 'tls';

/** Keyset: first element is the time (sorted descending), the rest strings (ascending). */
export type InventoryKey = [number, ...string[]];

export const INVENTORY_KEY_STRINGS: Record<InventoryKind, number> = { clients: 4, topics: 2, coap: 5, tls: 4 };

export function encodeInventoryCursor(kind: InventoryKind, key: InventoryKey): string {
  return encodeCursor({ v: 1, k: `inventory-${kind}`, p: key });
}

export function decodeInventoryCursor(kind: InventoryKind, cursor: string | undefined): InventoryKey | null {
  if (cursor === undefined || cursor === '') return null;
  const o = decodeCursor(cursor, `inventory-${kind}`);
  const shape: ('n' | 's')[] = ['n', ...Array<'s'>(INVENTORY_KEY_STRINGS[kind]).fill('s')];
  return cursorTuple(o, 'p', shape) as InventoryKey;
}

/** Order of inventory keys: time descending, then strings ascending. */
export function compareInventoryKeys(a: InventoryKey, b: InventoryKey): number {
  if (a[0] !== b[0]) return a[0] > b[0] ? -1 : 1;
  for (let i = 1; i < a.length; i++) {
    if (a[i] < b[i]) return -1;
    if (a[i] > b[i]) return 1;
  }
  return 0;
}

export const DAY_MS = 86_400_000;

/** Days until notAfter; null for an endpoint seen without a certificate (TLS 1.3, DTLS PSK). */
export function daysToExpiry(notAfterUs: number, nowMs: number): number | null {
  if (!(notAfterUs > 0)) return null;
  return Math.floor((notAfterUs / 1000 - nowMs) / DAY_MS);
}

export function clientKey(r: MqttSessionRow): InventoryKey {
  return [r.lastTs, r.sensor, r.clientId, r.username ?? '', r.server];
}
export function topicKey(r: TopicMinuteRow): InventoryKey {
  return [r.minute, r.sensor, r.topic];
}
export function coapKey(r: CoapExchangeRow): InventoryKey {
  return [r.minute, r.sensor, r.server, r.method, r.path, r.responseCode];
}
export function tlsKey(r: TlsEndpointRow): InventoryKey {
  return [r.lastTs, r.sensor, r.server, r.sni, r.sha256];
}

function later(a: readonly (number | string)[], b: readonly (number | string)[]): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i] > b[i];
  }
  return false;
}

function groupBy<T>(rows: Iterable<T>, key: (r: T) => string, merge: (acc: T, r: T) => T): T[] {
  const m = new Map<string, T>();
  for (const r of rows) {
    const k = key(r);
    const acc = m.get(k);
    m.set(k, acc === undefined ? { ...r } : merge(acc, r));
  }
  return [...m.values()];
}

export function aggregateClients(rows: Iterable<MqttSessionRow>): MqttSessionRow[] {
  return groupBy(rows, (r) => JSON.stringify([r.sensor, r.clientId, r.username ?? '', r.server]), (acc, r) => {
    const rep = later([r.lastTs, r.firstTs, r.flowId, r.communityId], [acc.lastTs, acc.firstTs, acc.flowId, acc.communityId]) ? r : acc;
    return {
      ...rep,
      firstTs: Math.min(acc.firstTs, r.firstTs),
      lastTs: Math.max(acc.lastTs, r.lastTs),
      publishes: acc.publishes + r.publishes,
      subscribes: acc.subscribes + r.subscribes,
      bytes: acc.bytes + r.bytes,
    };
  });
}

export function aggregateTopics(rows: Iterable<TopicMinuteRow>): TopicMinuteRow[] {
  return groupBy(rows, (r) => JSON.stringify([r.sensor, r.topic]), (acc, r) => ({
    ...acc,
    minute: Math.max(acc.minute, r.minute),
    publishes: acc.publishes + r.publishes,
    retained: acc.retained + r.retained,
    bytes: acc.bytes + r.bytes,
    publishers: Math.max(acc.publishers, r.publishers),
  }));
}

export function aggregateCoap(rows: Iterable<CoapExchangeRow>): CoapExchangeRow[] {
  return groupBy(rows, (r) => JSON.stringify([r.sensor, r.server, r.method, r.path, r.responseCode]), (acc, r) => {
    const rtt = acc.rttUsP50 === null ? r.rttUsP50 : r.rttUsP50 === null ? acc.rttUsP50 : Math.max(acc.rttUsP50, r.rttUsP50);
    return {
      ...acc,
      minute: Math.max(acc.minute, r.minute),
      client: later([r.minute, r.client], [acc.minute, acc.client]) ? r.client : acc.client,
      requests: acc.requests + r.requests,
      responses: acc.responses + r.responses,
      unmatched: acc.unmatched + r.unmatched,
      requestBytes: acc.requestBytes + r.requestBytes,
      responseBytes: acc.responseBytes + r.responseBytes,
      rttUsP50: rtt,
    };
  });
}

export function aggregateTls(rows: Iterable<TlsEndpointRow>): TlsEndpointRow[] {
  return groupBy(rows, (r) => JSON.stringify([r.sensor, r.server, r.sni, r.sha256]), (acc, r) => {
    const rep = later([r.lastTs, r.firstTs], [acc.lastTs, acc.firstTs]) ? r : acc;
    return {
      ...rep,
      firstTs: Math.min(acc.firstTs, r.firstTs),
      lastTs: Math.max(acc.lastTs, r.lastTs),
      clientAuth: acc.clientAuth || r.clientAuth,
    };
  });
}

/** One page of an aggregated inventory: sorted, after the cursor, limit rows. */
export function pageInventory<T>(kind: InventoryKind, rows: T[], keyOf: (r: T) => InventoryKey, limit: number, cursor: string | undefined): { rows: T[]; nextCursor: string | null } {
  const after = decodeInventoryCursor(kind, cursor);
  const keyed = rows.map((r) => ({ r, k: keyOf(r) }));
  const rest = after === null ? keyed : keyed.filter((x) => compareInventoryKeys(x.k, after) > 0);
  rest.sort((a, b) => compareInventoryKeys(a.k, b.k));
  const page = rest.slice(0, limit);
  const more = rest.length > limit;
  return { rows: page.map((x) => x.r), nextCursor: more ? encodeInventoryCursor(kind, page[page.length - 1].k) : null };
}

/**
 * Identity of a forensic row: a row written again with the same key replaces the earlier one
 * (the recorder re-emits growing rows, and re-analysing a capture must not double them).
 * ClickHouse's ReplacingMergeTree tables are ordered by exactly these columns.
 */
export const ROW_KEYS = {
  sessions: (r: MqttSessionRow): string => JSON.stringify([r.sensor, r.communityId, r.flowId, r.firstTs]),
  topics: (r: TopicMinuteRow): string => JSON.stringify([r.sensor, r.minute, r.topic]),
  coap: (r: CoapExchangeRow): string => JSON.stringify([r.sensor, r.minute, r.client, r.server, r.method, r.path, r.responseCode]),
  tls: (r: TlsEndpointRow): string => JSON.stringify([r.sensor, r.server, r.sni, r.sha256, r.firstTs]),
} as const;

export type RecordTable = keyof typeof ROW_KEYS;
export const RECORD_TABLES: readonly RecordTable[] = ['sessions', 'topics', 'coap', 'tls'];
