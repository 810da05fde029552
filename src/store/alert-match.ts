// What the alert filters, sort orders and cursors mean, written once. The embedded store runs
// these functions; the ClickHouse store's SQL implements the same definitions, and the contract
// suite holds both to them.
import type { Alert } from '../alerts/types';
import { cursorInt, cursorString, cursorTuple, decodeCursor, encodeCursor } from './cursor';
import { CursorError } from './errors';
import type { StoredAlert } from './types';
import { queryFingerprint, severityRank } from './validate';
import type { NormalizedAlertQuery } from './validate';

/**
 * Addresses of an alert's endpoints ("client:port -> server:port", IPv6 as "[addr]:port"),
 * lower-cased so an IPv6 filter matches whatever case the caller typed.
 */
export function addressesOf(endpoints: readonly string[]): string[] {
  const out = new Set<string>();
  for (const e of endpoints) {
    for (const part of e.split(' -> ')) {
      const p = part.trim();
      if (p === '') continue;
      let addr: string;
      if (p.startsWith('[')) {
        const end = p.indexOf(']');
        addr = end > 0 ? p.slice(1, end) : p.slice(1);
      } else {
        const colons = p.split(':').length - 1;
        // One colon: IPv4 with a port. More: a bare IPv6 address without brackets or port.
        addr = colons === 1 ? p.slice(0, p.indexOf(':')) : p;
      }
      if (addr !== '') out.add(addr.toLowerCase());
    }
  }
  return [...out];
}

/** Lower-cased texts that the free-text filter searches, each separately. */
export function searchTexts(a: Alert): [string, string, string] {
  return [a.summary.toLowerCase(), a.entity.value.toLowerCase(), a.detector.toLowerCase()];
}

export function matchesAlert(a: StoredAlert, q: NormalizedAlertQuery): boolean {
  if (q.from !== undefined && a.lastTs < q.from) return false;
  if (q.to !== undefined && a.firstTs > q.to) return false;
  // An empty detector list means "no filter", as an absent one does.
  if (q.detector !== undefined && q.detector.length > 0 && !q.detector.includes(a.detector)) return false;
  if (q.category !== undefined && a.category !== q.category) return false;
  if (q.minSeverity !== undefined && severityRank(a.severity) < severityRank(q.minSeverity)) return false;
  if (q.status !== undefined && a.status !== q.status) return false;
  if (q.entity !== undefined && a.entity.value !== q.entity) return false;
  if (q.sensor !== undefined && a.sensor !== q.sensor) return false;
  if (q.address !== undefined && !addressesOf(a.endpoints).includes(q.address.toLowerCase())) return false;
  if (q.text !== undefined && q.text !== '') {
    const t = q.text.toLowerCase();
    if (!searchTexts(a).some((s) => s.includes(t))) return false;
  }
  return true;
}

/** Keyset position of an alert under a sort: the sort field(s), then the id as tie-break. */
export type AlertKey = (number | string)[];

export function alertKey(a: StoredAlert, sort: NormalizedAlertQuery['sort']): AlertKey {
  switch (sort) {
    case 'lastTs': return [a.lastTs, a.id];
    case 'firstTs': return [a.firstTs, a.id];
    case 'severity': return [severityRank(a.severity), a.lastTs, a.id];
  }
}

export function keyShape(sort: NormalizedAlertQuery['sort']): ('n' | 's')[] {
  return sort === 'severity' ? ['n', 'n', 's'] : ['n', 's'];
}

/** Ascending comparison of two keys; strings by UTF-16 code units (the embedded store's order). */
export function compareKeys(x: AlertKey, y: AlertKey): number {
  for (let i = 0; i < x.length; i++) {
    const a = x[i];
    const b = y[i];
    if (a < b) return -1;
    if (a > b) return 1;
  }
  return 0;
}

export function encodeAlertCursor(q: NormalizedAlertQuery, key: AlertKey): string {
  return encodeCursor({ v: 1, k: 'alerts', f: queryFingerprint(q), p: key });
}

export function decodeAlertCursor(q: NormalizedAlertQuery): AlertKey | null {
  if (q.cursor === undefined || q.cursor === '') return null;
  const o = decodeCursor(q.cursor, 'alerts');
  if (o.f !== queryFingerprint(q)) throw new CursorError('cursor belongs to a different query (filters or sort changed)');
  return cursorTuple(o, 'p', keyShape(q.sort));
}

/** Feed position: seq and id of the last alert delivered. '' is the start. */
export interface FeedPosition {
  seq: number;
  id: string;
}

export function encodeFeedCursor(p: FeedPosition): string {
  return encodeCursor({ v: 1, k: 'feed', q: p.seq, i: p.id });
}

export function decodeFeedCursor(after: string): FeedPosition {
  if (typeof after !== 'string') throw new CursorError('malformed cursor');
  if (after === '') return { seq: 0, id: '' };
  const o = decodeCursor(after, 'feed');
  return { seq: cursorInt(o, 'q'), id: cursorString(o, 'i', 128) };
}

/** Epoch-aligned bucket start (µs) of a timestamp. */
export function bucketStart(ts: number, bucketSeconds: number): number {
  const b = bucketSeconds * 1_000_000;
  return Math.floor(ts / b) * b;
}
