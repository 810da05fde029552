// A test double of the AlertStore contract, only to drive the API tests while the real stores
// are written (and to inject failures the real ones cannot be asked for). Cursors are strict:
// anything this store did not make is refused with code bad_cursor.
import { SEVERITIES, type Alert } from '../../src/alerts/types';
import type {
  AlertPage, AlertQuery, AlertStatus, AlertStore, CoapExchangeRow, FeedPage, InventoryQuery, MqttSessionRow,
  StatsBucket, StatsQuery, StoreHealth, StoredAlert, TlsEndpointRow, TopicMinuteRow,
} from '../../src/store/types';

export class CursorError extends Error {
  readonly code = 'bad_cursor';
  constructor() {
    super('bad cursor');
    this.name = 'CursorError';
  }
}

const rank = (s: string): number => SEVERITIES.indexOf(s as never);

function parseCursor(c: string, prefix: string): number {
  const m = new RegExp(`^${prefix}:(\\d{1,15})$`).exec(c);
  if (!m) throw new CursorError();
  return Number(m[1]);
}

export class MemoryStore implements AlertStore {
  readonly kind = 'embedded' as const;
  private readonly alerts = new Map<string, StoredAlert>();
  /** Insertion log: [seq, id]; an entry is stale once its alert has a newer seq. */
  private readonly log: [number, string][] = [];
  private seq = 0;
  private sorted: Map<string, StoredAlert[]> = new Map();
  private sessions: MqttSessionRow[] = [];
  private topics: TopicMinuteRow[] = [];
  private coap: CoapExchangeRow[] = [];
  private tls: TlsEndpointRow[] = [];
  /** Set to make every call fail as a store outage would. */
  failing: Error | null = null;
  /** Extra delay per putAlerts, to interleave concurrent writers. */
  writeDelayMs = 0;
  now = (): number => Date.now();

  private check(): void {
    if (this.failing) throw this.failing;
  }

  async init(): Promise<void> {}

  async putAlerts(alerts: readonly Alert[], sensor: string): Promise<void> {
    this.check();
    if (this.writeDelayMs) await new Promise((r) => setTimeout(r, this.writeDelayMs * Math.random()));
    for (const a of alerts) {
      const old = this.alerts.get(a.id);
      const s: StoredAlert = {
        ...structuredClone(a),
        sensor,
        status: old?.status ?? 'open',
        statusBy: old?.statusBy ?? null,
        statusNote: old?.statusNote ?? null,
        statusAt: old?.statusAt ?? null,
        seq: ++this.seq,
      };
      this.alerts.set(a.id, s);
      this.log.push([s.seq, a.id]);
    }
    this.sorted.clear();
  }

  private ordered(sort: string, order: string): StoredAlert[] {
    const key = `${sort}/${order}`;
    let list = this.sorted.get(key);
    if (!list) {
      const dir = order === 'asc' ? 1 : -1;
      const value = (a: StoredAlert): number => (sort === 'severity' ? rank(a.severity) : sort === 'firstTs' ? a.firstTs : a.lastTs);
      list = [...this.alerts.values()].sort((a, b) => dir * (value(a) - value(b)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      this.sorted.set(key, list);
    }
    return list;
  }

  async queryAlerts(q: AlertQuery): Promise<AlertPage> {
    this.check();
    const offset = q.cursor === undefined ? 0 : parseCursor(q.cursor, 'o');
    const text = q.text?.toLowerCase();
    const min = q.minSeverity ? rank(q.minSeverity) : -1;
    const out: StoredAlert[] = [];
    let seen = 0;
    let more = false;
    for (const a of this.ordered(q.sort ?? 'lastTs', q.order ?? 'desc')) {
      if (q.from !== undefined && a.lastTs < q.from) continue;
      if (q.to !== undefined && a.firstTs > q.to) continue;
      if (q.detector && !q.detector.includes(a.detector)) continue;
      if (q.category && a.category !== q.category) continue;
      if (rank(a.severity) < min) continue;
      if (q.status && a.status !== q.status) continue;
      if (q.entity !== undefined && a.entity.value !== q.entity) continue;
      if (q.sensor !== undefined && a.sensor !== q.sensor) continue;
      if (q.address !== undefined && !a.endpoints.some((e) => endpointAddresses(e).includes(q.address!))) continue;
      if (text !== undefined && ![a.summary, a.entity.value, a.detector].some((s) => s.toLowerCase().includes(text))) continue;
      if (seen++ < offset) continue;
      if (out.length === q.limit) {
        more = true;
        break;
      }
      out.push(structuredClone(a));
    }
    return { alerts: out, nextCursor: more ? `o:${offset + out.length}` : null };
  }

  async getAlert(id: string): Promise<StoredAlert | null> {
    this.check();
    const a = this.alerts.get(id);
    return a ? structuredClone(a) : null;
  }

  async setStatus(id: string, status: AlertStatus, by: string, note: string | null): Promise<StoredAlert | null> {
    this.check();
    const a = this.alerts.get(id);
    if (!a) return null;
    Object.assign(a, { status, statusBy: by, statusNote: note, statusAt: this.now() });
    return structuredClone(a);
  }

  async feed(after: string, limit: number): Promise<FeedPage> {
    this.check();
    const from = after === '' ? 0 : parseCursor(after, 's');
    // Binary search the log for the first seq > from.
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.log[mid][0] <= from) lo = mid + 1;
      else hi = mid;
    }
    const alerts: StoredAlert[] = [];
    let last = from;
    for (let i = lo; i < this.log.length && alerts.length < limit; i++) {
      const [seq, id] = this.log[i];
      const a = this.alerts.get(id)!;
      last = seq;
      if (a.seq === seq) alerts.push(structuredClone(a));
    }
    return { alerts, cursor: last === 0 && after === '' ? '' : `s:${last}` };
  }

  async stats(q: StatsQuery): Promise<StatsBucket[]> {
    this.check();
    const width = q.bucketSeconds * 1e6;
    const counts = new Map<string, StatsBucket>();
    for (const a of this.alerts.values()) {
      if (a.lastTs < q.from || a.firstTs > q.to) continue;
      if (q.sensor !== undefined && a.sensor !== q.sensor) continue;
      const ts = Math.floor(a.firstTs / width) * width;
      const k = `${ts}/${a.detector}/${a.severity}`;
      const b = counts.get(k) ?? { ts, detector: a.detector, severity: a.severity, count: 0 };
      b.count++;
      counts.set(k, b);
    }
    return [...counts.values()].sort((a, b) => a.ts - b.ts || a.detector.localeCompare(b.detector));
  }

  async putRecords(r: {
    sessions?: readonly MqttSessionRow[];
    topics?: readonly TopicMinuteRow[];
    coap?: readonly CoapExchangeRow[];
    tls?: readonly TlsEndpointRow[];
  }): Promise<void> {
    this.check();
    this.sessions.push(...(r.sessions ?? []));
    this.topics.push(...(r.topics ?? []));
    this.coap.push(...(r.coap ?? []));
    this.tls.push(...(r.tls ?? []));
  }

  private page<T extends { sensor: string }>(rows: T[], q: InventoryQuery, prefix: string): { rows: T[]; nextCursor: string | null } {
    this.check();
    const offset = q.cursor === undefined ? 0 : parseCursor(q.cursor, prefix);
    const all = rows.filter((r) => q.sensor === undefined || r.sensor === q.sensor);
    const slice = all.slice(offset, offset + q.limit);
    return { rows: structuredClone(slice), nextCursor: offset + q.limit < all.length ? `${prefix}:${offset + q.limit}` : null };
  }

  async inventoryClients(q: InventoryQuery) { return this.page(this.sessions, q, 'c'); }
  async inventoryTopics(q: InventoryQuery) { return this.page(this.topics, q, 't'); }
  async inventoryCoapResources(q: InventoryQuery) { return this.page(this.coap, q, 'r'); }
  async inventoryTls(q: InventoryQuery) {
    const p = this.page(this.tls, q, 'x');
    const nowUs = this.now() * 1000;
    return { rows: p.rows.map((r) => ({ ...r, daysToExpiry: r.notAfter > 0 ? Math.floor((r.notAfter - nowUs) / 86_400e6) : null })), nextCursor: p.nextCursor };
  }

  async health(): Promise<StoreHealth> {
    if (this.failing) throw this.failing;
    return { ok: true, kind: 'embedded', detail: 'memory test double', pending: 0, spoolBytes: 0, spoolRecords: 0 };
  }

  async close(): Promise<void> {}
}

/** Addresses of "a:p -> b:q" with IPv6 in brackets. */
export function endpointAddresses(e: string): string[] {
  return e.split(' -> ').map((side) => {
    const m = /^\[(.*)\]:\d+$/.exec(side) ?? /^(.*):\d+$/.exec(side);
    return m ? m[1] : side;
  });
}
