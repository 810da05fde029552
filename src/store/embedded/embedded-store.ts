// The embedded store: the default when no ClickHouse URL is given. No server: two append-only
// logs in a directory (alerts.log for alerts and status changes, records.log for forensic rows),
// replayed into in-memory indexes on open.
//
// Durability: a write resolves after its group commit's fdatasync (see append-log.ts), and the
// in-memory state changes only at that commit, in log order. So what a query or the feed has
// shown is always on disk, and a seq once shown is never handed out again after a crash.
// Bounds: at most maxAlerts alerts (the least recently written are evicted and counted) and
// maxRecordRows rows per forensic table (likewise); the log is compacted when superseded
// versions outnumber live ones.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Alert } from '../../alerts/types';
import {
  alertKey, bucketStart, compareKeys, decodeAlertCursor, decodeFeedCursor, encodeAlertCursor, encodeFeedCursor, matchesAlert,
} from '../alert-match';
import type { AlertKey } from '../alert-match';
import { AppendLog } from '../append-log';
import type { LogRecovery } from '../append-log';
import type { NormalizedAlertQuery } from '../validate';
import {
  aggregateClients, aggregateCoap, aggregateTls, aggregateTopics, clientKey, coapKey, daysToExpiry, pageInventory, RECORD_TABLES,
  ROW_KEYS, tlsKey, topicKey,
} from '../inventory';
import type { RecordTable } from '../inventory';
import type {
  AlertPage, AlertQuery, AlertStatus, AlertStore, CoapExchangeRow, FeedPage, InventoryQuery, MqttSessionRow, StatsBucket, StatsQuery,
  StoredAlert, StoreHealth, TlsEndpointRow, TopicMinuteRow,
} from '../types';
import {
  checkFeedLimit, severityRank, validateAlert, validateAlertId, validateAlertQuery, validateInventoryQuery, validateRecordBatch, validateSensor,
  validateStatsQuery, validateStatusChange,
} from '../validate';
import { lockDir } from './lock';
import type { DirLock } from './lock';

export interface EmbeddedStoreOptions {
  /** Directory of the store (created if missing), e.g. $IOTWATCH_HOME/store. */
  dir: string;
  /**
   * Alerts retained; past it the least recently written are evicted (counted). Default 1,000,000.
   * They live in memory: about 1 KB of heap each for typical alerts (measured with bench-like
   * alerts), so lower it on small sensors.
   */
  maxAlerts?: number;
  /** Rows retained per forensic table (sessions, topics, coap, tls). Default 200,000. */
  maxRecordRows?: number;
  /** Compact a log once it holds more than this many records ... Default 10,000. */
  compactMinRecords?: number;
  /** ... and more than ratio times the live ones. Default 2. */
  compactRatio?: number;
  /** fdatasync on commit (default true); off only for benchmarks of the code path itself. */
  fsync?: boolean;
  /** Wall clock in ms, for status times and days to expiry (tests pin it). */
  now?: () => number;
}

type StatusFields = Pick<StoredAlert, 'status' | 'statusBy' | 'statusNote' | 'statusAt'>;

type AlertLogRecord =
  | { t: 'a'; q: number; s: string; a: Alert; x?: { st: AlertStatus; by: string | null; n: string | null; at: number | null } }
  | { t: 's'; id: string; st: AlertStatus; by: string; n: string | null; at: number }
  | { t: 'm'; next: number; ev: number };

type RecordRow = MqttSessionRow | TopicMinuteRow | CoapExchangeRow | TlsEndpointRow;
type RecordLogRecord =
  | { t: 'r'; k: RecordTable; rows: RecordRow[] }
  | { t: 'm'; ev: Record<RecordTable, number> };

const RECORD_CHUNK = 1000;

export class EmbeddedStore implements AlertStore {
  readonly kind = 'embedded' as const;
  private readonly maxAlerts: number;
  private readonly maxRecordRows: number;
  private readonly compactMinRecords: number;
  private readonly compactRatio: number;
  private readonly now: () => number;

  private alerts = new Map<string, StoredAlert>();
  // Write order for the feed and for eviction: parallel arrays from `head`. Every version is a new
  // object, so an entry is live iff the map still holds that very object; superseded and evicted
  // entries are skipped and swept now and then.
  private written: StoredAlert[] = [];
  private seqs: number[] = [];
  private head = 0;
  private stale = 0;
  private nextSeq = 1;
  private evicted = 0;
  /** Sorted views for queryAlerts, rebuilt lazily (see sortedIndex). */
  private indexes = new Map<string, { arr: StoredAlert[]; upTo: number }>();
  private interned = new Map<string, string>();

  private records: Record<RecordTable, Map<string, RecordRow>> = {
    sessions: new Map(), topics: new Map(), coap: new Map(), tls: new Map(),
  };
  private recordsEvicted: Record<RecordTable, number> = { sessions: 0, topics: 0, coap: 0, tls: 0 };
  /** Rows in records.log (a record holds a chunk of rows), for the compaction rule. */
  private recordLogRows = 0;

  private alertLog: AppendLog | null = null;
  private recordLog: AppendLog | null = null;
  private lock: DirLock | null = null;
  private pendingAlerts = 0;
  private oldestPending: number[] = [];
  private compacting = { alerts: false, records: false };
  private lastError: string | null = null;
  private recoveries: { alerts?: LogRecovery; records?: LogRecovery } = {};
  private initialized: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly opts: EmbeddedStoreOptions) {
    this.maxAlerts = opts.maxAlerts ?? 1_000_000;
    this.maxRecordRows = opts.maxRecordRows ?? 200_000;
    this.compactMinRecords = opts.compactMinRecords ?? 10_000;
    this.compactRatio = opts.compactRatio ?? 2;
    this.now = opts.now ?? Date.now;
  }

  init(): Promise<void> {
    this.initialized ??= this.open();
    return this.initialized;
  }

  private async open(): Promise<void> {
    await fsp.mkdir(this.opts.dir, { recursive: true });
    this.lock = await lockDir(this.opts.dir);
    try {
      // A crash during compaction leaves a half-written copy; the original is still whole.
      await fsp.rm(join(this.opts.dir, 'alerts.log.compact'), { force: true });
      await fsp.rm(join(this.opts.dir, 'records.log.compact'), { force: true });
      const fsync = this.opts.fsync ?? true;
      const a = await AppendLog.open(join(this.opts.dir, 'alerts.log'), (p) => this.replayAlert(JSON.parse(p.toString('utf8')) as AlertLogRecord), { fsync });
      this.alertLog = a.log;
      this.recoveries.alerts = a.recovery;
      const r = await AppendLog.open(join(this.opts.dir, 'records.log'), (p) => this.replayRecords(JSON.parse(p.toString('utf8')) as RecordLogRecord), { fsync });
      this.recordLog = r.log;
      this.recoveries.records = r.recovery;
    } catch (e) {
      await this.alertLog?.close();
      await this.lock.release();
      this.lock = null;
      throw e;
    }
  }

  /** How the last open went: records read and any torn tail cut off, per log. */
  recovery(): { alerts?: LogRecovery; records?: LogRecovery } {
    return this.recoveries;
  }

  // ------------------------------------------------------------------ replay and apply

  private replayAlert(r: AlertLogRecord): void {
    switch (r.t) {
      case 'a':
        this.applyAlert(r.q, r.s, r.a, r.x ? { status: r.x.st, statusBy: r.x.by, statusNote: r.x.n, statusAt: r.x.at } : null);
        break;
      case 's':
        this.applyStatus(r.id, r.st, r.by, r.n, r.at);
        break;
      case 'm':
        this.nextSeq = Math.max(this.nextSeq, r.next);
        this.evicted = r.ev;
        break;
    }
  }

  private applyAlert(seq: number, sensor: string, a: Alert, status: StatusFields | null): void {
    const prev = this.alerts.get(a.id);
    if (prev) this.stale++;
    const st: StatusFields = status ?? (prev
      ? { status: prev.status, statusBy: prev.statusBy, statusNote: prev.statusNote, statusAt: prev.statusAt }
      : { status: 'open', statusBy: null, statusNote: null, statusAt: null });
    // The SOC's workflow state survives a detector's newer version of the same alert.
    // `a` is always a fresh object parsed from the log record, so it becomes the stored one.
    const obj = a as StoredAlert & { detector: string; recommendation: string };
    obj.detector = this.intern(a.detector);
    obj.recommendation = this.intern(a.recommendation);
    (obj as { sensor: string }).sensor = this.intern(sensor);
    obj.status = st.status;
    obj.statusBy = st.statusBy;
    obj.statusNote = st.statusNote;
    obj.statusAt = st.statusAt;
    obj.seq = seq;
    this.alerts.set(a.id, obj);
    this.written.push(obj);
    this.seqs.push(seq);
    if (seq >= this.nextSeq) this.nextSeq = seq + 1;
    while (this.alerts.size > this.maxAlerts && this.head < this.written.length) {
      const old = this.written[this.head];
      this.head++;
      if (this.alerts.get(old.id) === old) {
        this.alerts.delete(old.id);
        this.evicted++;
      } else {
        this.stale--;
      }
    }
    if (this.head > 65_536 && (this.head > this.written.length / 2 || this.stale > this.alerts.size)) this.sweep();
    else if (this.stale > Math.max(65_536, this.alerts.size)) this.sweep();
  }

  /** One copy of strings most alerts repeat (detector, recommendation, sensor): memory per alert. */
  private intern(s: string): string {
    const hit = this.interned.get(s);
    if (hit !== undefined) return hit;
    if (this.interned.size < 10_000) this.interned.set(s, s);
    return s;
  }

  /** Drops superseded and evicted entries from the write-order arrays. */
  private sweep(): void {
    const objs: StoredAlert[] = [];
    const seqs: number[] = [];
    for (let i = this.head; i < this.written.length; i++) {
      const a = this.written[i];
      if (this.alerts.get(a.id) === a) {
        objs.push(a);
        seqs.push(a.seq);
      }
    }
    this.written = objs;
    this.seqs = seqs;
    this.head = 0;
    this.stale = 0;
    this.indexes.clear(); // their write positions no longer hold
  }

  private applyStatus(id: string, status: AlertStatus, by: string, note: string | null, at: number): StoredAlert | null {
    const a = this.alerts.get(id);
    if (!a) return null; // evicted meanwhile
    a.status = status;
    a.statusBy = by;
    a.statusNote = note;
    a.statusAt = at;
    return a;
  }

  private replayRecords(r: RecordLogRecord): void {
    if (r.t === 'm') {
      this.recordsEvicted = { ...this.recordsEvicted, ...r.ev };
      return;
    }
    this.applyRows(r.k, r.rows);
  }

  private applyRows(table: RecordTable, rows: readonly RecordRow[]): void {
    const m = this.records[table];
    const keyOf = ROW_KEYS[table] as (r: RecordRow) => string;
    for (const row of rows) {
      const k = keyOf(row);
      m.delete(k); // re-insert at the end: the map's order is least recently written first
      m.set(k, row);
      if (m.size > this.maxRecordRows) {
        m.delete(m.keys().next().value as string);
        this.recordsEvicted[table]++;
      }
    }
    this.recordLogRows += rows.length;
  }

  // ------------------------------------------------------------------ writes

  private ready(): { alertLog: AppendLog; recordLog: AppendLog } {
    if (this.closed) throw new Error('store is closed');
    if (!this.alertLog || !this.recordLog) throw new Error('store not initialised: call init() first');
    return { alertLog: this.alertLog, recordLog: this.recordLog };
  }

  async putAlerts(alerts: readonly Alert[], sensor: string): Promise<void> {
    const { alertLog } = this.ready();
    validateSensor(sensor);
    alerts.forEach((a, i) => validateAlert(a, i));
    if (alerts.length === 0) return;
    const payloads: Buffer[] = [];
    const parsed: { q: number; a: Alert }[] = [];
    for (const a of alerts) {
      const rec: AlertLogRecord = { t: 'a', q: this.nextSeq++, s: sensor, a };
      const json = JSON.stringify(rec);
      payloads.push(Buffer.from(json, 'utf8'));
      // Keep what the log holds, not the caller's object (which the alert engine keeps mutating).
      parsed.push({ q: rec.q, a: (JSON.parse(json) as { a: Alert }).a });
    }
    this.pendingAlerts += alerts.length;
    const since = this.now();
    this.oldestPending.push(since);
    try {
      await alertLog.append(payloads, () => {
        for (const p of parsed) this.applyAlert(p.q, sensor, p.a, null);
      });
      this.lastError = null;
    } catch (e) {
      this.lastError = (e as Error).message;
      throw e;
    } finally {
      this.pendingAlerts -= alerts.length;
      this.oldestPending.splice(this.oldestPending.indexOf(since), 1);
    }
    this.maybeCompactAlerts();
  }

  async setStatus(id: string, status: AlertStatus, by: string, note: string | null): Promise<StoredAlert | null> {
    const { alertLog } = this.ready();
    validateAlertId(id);
    const v = validateStatusChange(status, by, note);
    if (!this.alerts.has(id)) return null;
    const at = this.now();
    const rec: AlertLogRecord = { t: 's', id, st: v.status, by: v.by, n: v.note, at };
    let out: StoredAlert | null = null;
    await alertLog.append([Buffer.from(JSON.stringify(rec), 'utf8')], () => {
      out = this.applyStatus(id, v.status, v.by, v.note, at);
    });
    this.maybeCompactAlerts();
    return out === null ? null : copy(out);
  }

  async putRecords(r: { sessions?: readonly MqttSessionRow[]; topics?: readonly TopicMinuteRow[]; coap?: readonly CoapExchangeRow[]; tls?: readonly TlsEndpointRow[] }): Promise<void> {
    const { recordLog } = this.ready();
    const batch = validateRecordBatch(r);
    const payloads: Buffer[] = [];
    const applied: { k: RecordTable; rows: RecordRow[] }[] = [];
    for (const k of RECORD_TABLES) {
      const rows = batch[k] as RecordRow[];
      for (let i = 0; i < rows.length; i += RECORD_CHUNK) {
        const rec: RecordLogRecord = { t: 'r', k, rows: rows.slice(i, i + RECORD_CHUNK) };
        const json = JSON.stringify(rec);
        payloads.push(Buffer.from(json, 'utf8'));
        applied.push(JSON.parse(json) as { k: RecordTable; rows: RecordRow[] });
      }
    }
    if (payloads.length === 0) return;
    await recordLog.append(payloads, () => {
      for (const a of applied) this.applyRows(a.k, a.rows);
    });
    this.maybeCompactRecords();
  }

  // ------------------------------------------------------------------ compaction

  private maybeCompactAlerts(): void {
    const log = this.alertLog;
    if (!log || this.compacting.alerts || this.closed) return;
    if (log.records < this.compactMinRecords || log.records <= this.compactRatio * this.alerts.size) return;
    this.compacting.alerts = true;
    log.rewrite(() => this.alertSnapshot())
      .catch((e: Error) => { this.lastError = `compaction failed: ${e.message}`; })
      .finally(() => { this.compacting.alerts = false; });
  }

  private *alertSnapshot(): Iterable<Buffer> {
    const meta: AlertLogRecord = { t: 'm', next: this.nextSeq, ev: this.evicted };
    yield Buffer.from(JSON.stringify(meta), 'utf8');
    for (let i = this.head; i < this.written.length; i++) {
      const a = this.written[i];
      if (this.alerts.get(a.id) !== a) continue;
      const { sensor, status, statusBy, statusNote, statusAt, seq, ...alert } = a;
      const rec: AlertLogRecord = { t: 'a', q: seq, s: sensor, a: alert, x: { st: status, by: statusBy, n: statusNote, at: statusAt } };
      yield Buffer.from(JSON.stringify(rec), 'utf8');
    }
  }

  private liveRecordRows(): number {
    return RECORD_TABLES.reduce((n, k) => n + this.records[k].size, 0);
  }

  private maybeCompactRecords(): void {
    const log = this.recordLog;
    if (!log || this.compacting.records || this.closed) return;
    const live = this.liveRecordRows();
    if (this.recordLogRows < this.compactMinRecords || this.recordLogRows <= this.compactRatio * live) return;
    this.compacting.records = true;
    log.rewrite(() => this.recordSnapshot(), () => { this.recordLogRows = this.liveRecordRows(); })
      .catch((e: Error) => { this.lastError = `compaction failed: ${e.message}`; })
      .finally(() => { this.compacting.records = false; });
  }

  private *recordSnapshot(): Iterable<Buffer> {
    const meta: RecordLogRecord = { t: 'm', ev: { ...this.recordsEvicted } };
    yield Buffer.from(JSON.stringify(meta), 'utf8');
    for (const k of RECORD_TABLES) {
      let chunk: RecordRow[] = [];
      for (const row of this.records[k].values()) {
        chunk.push(row);
        if (chunk.length === RECORD_CHUNK) {
          yield Buffer.from(JSON.stringify({ t: 'r', k, rows: chunk }), 'utf8');
          chunk = [];
        }
      }
      if (chunk.length > 0) yield Buffer.from(JSON.stringify({ t: 'r', k, rows: chunk }), 'utf8');
    }
  }

  /** Compacts both logs now (tests and maintenance); resolves when done. */
  async compact(): Promise<void> {
    const { alertLog, recordLog } = this.ready();
    await alertLog.rewrite(() => this.alertSnapshot());
    await recordLog.rewrite(() => this.recordSnapshot(), () => { this.recordLogRows = this.liveRecordRows(); });
  }

  // ------------------------------------------------------------------ reads

  /**
   * Alerts sorted ascending by a sort's key, as of write position `upTo`; alerts written since are
   * the "tail", merged in at query time. Rebuilt when the tail grows past an eighth of the store,
   * so a query costs a binary search plus the rows it returns, plus the tail.
   */
  private sortedIndex(sort: NormalizedAlertQuery['sort']): { arr: StoredAlert[]; upTo: number } {
    let idx = this.indexes.get(sort);
    const tail = this.written.length - (idx?.upTo ?? 0);
    if (!idx || tail > Math.max(4096, this.alerts.size / 8)) {
      const arr = [...this.alerts.values()];
      const keys = new Map<StoredAlert, AlertKey>(arr.map((a) => [a, alertKey(a, sort)]));
      arr.sort((x, y) => compareKeys(keys.get(x)!, keys.get(y)!));
      idx = { arr, upTo: this.written.length };
      this.indexes.set(sort, idx);
    }
    return idx;
  }

  async queryAlerts(query: AlertQuery): Promise<AlertPage> {
    this.ready();
    const q = validateAlertQuery(query);
    const after = decodeAlertCursor(q);
    const dir = q.order === 'asc' ? 1 : -1;
    const want = q.limit + 1;
    const idx = this.sortedIndex(q.sort);
    const live = (a: StoredAlert): boolean => this.alerts.get(a.id) === a;
    const beyond = (k: AlertKey): boolean => after === null || dir * compareKeys(k, after) > 0;
    // The tail: written since the index was built, live, matching, after the cursor; in order.
    const tail: { k: AlertKey; a: StoredAlert }[] = [];
    for (let i = Math.max(idx.upTo, this.head); i < this.written.length; i++) {
      const a = this.written[i];
      if (!live(a) || !matchesAlert(a, q)) continue;
      const k = alertKey(a, q.sort);
      if (beyond(k)) tail.push({ k, a });
    }
    tail.sort((x, y) => dir * compareKeys(x.k, y.k));
    // The base, walked in query order from the cursor, merged with the tail.
    const arr = idx.arr;
    let i: number;
    if (after === null) {
      i = dir === 1 ? 0 : arr.length - 1;
    } else {
      let lo = 0;
      let hi = arr.length; // first position whose key is > after
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareKeys(alertKey(arr[mid], q.sort), after) <= 0) lo = mid + 1;
        else hi = mid;
      }
      if (dir === 1) {
        i = lo;
      } else {
        // last position whose key is < after
        let l2 = 0;
        let h2 = arr.length;
        while (l2 < h2) {
          const mid = (l2 + h2) >> 1;
          if (compareKeys(alertKey(arr[mid], q.sort), after) < 0) l2 = mid + 1;
          else h2 = mid;
        }
        i = l2 - 1;
      }
    }
    const out: { k: AlertKey; a: StoredAlert }[] = [];
    let t = 0;
    while (out.length < want) {
      let base: { k: AlertKey; a: StoredAlert } | null = null;
      while (i >= 0 && i < arr.length) {
        const a = arr[i];
        i += dir;
        if (live(a) && matchesAlert(a, q)) {
          base = { k: alertKey(a, q.sort), a };
          i -= dir; // not consumed yet
          break;
        }
      }
      const next = t < tail.length ? tail[t] : null;
      if (base === null && next === null) break;
      if (base !== null && (next === null || dir * compareKeys(base.k, next.k) < 0)) {
        out.push(base);
        i += dir;
      } else if (next !== null) {
        out.push(next);
        t++;
      }
    }
    const page = out.slice(0, q.limit);
    const nextCursor = out.length > q.limit ? encodeAlertCursor(q, page[page.length - 1].k) : null;
    return { alerts: page.map((x) => copy(x.a)), nextCursor };
  }

  async getAlert(id: string): Promise<StoredAlert | null> {
    this.ready();
    validateAlertId(id);
    const a = this.alerts.get(id);
    return a ? copy(a) : null;
  }

  async feed(after: string, limit: number): Promise<FeedPage> {
    this.ready();
    const pos = decodeFeedCursor(after);
    const n = checkFeedLimit(limit);
    // seqs from head on are increasing: binary search for the first one past the cursor.
    let lo = this.head;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.seqs[mid] <= pos.seq) lo = mid + 1;
      else hi = mid;
    }
    const out: StoredAlert[] = [];
    for (let i = lo; i < this.seqs.length && out.length < n; i++) {
      const a = this.written[i];
      if (this.alerts.get(a.id) === a) out.push(copy(a));
    }
    if (out.length === 0) return { alerts: [], cursor: after };
    const last = out[out.length - 1];
    return { alerts: out, cursor: encodeFeedCursor({ seq: last.seq, id: last.id }) };
  }

  async stats(query: StatsQuery): Promise<StatsBucket[]> {
    this.ready();
    const q = validateStatsQuery(query);
    const counts = new Map<string, StatsBucket>();
    for (const a of this.alerts.values()) {
      if (a.firstTs < q.from || a.firstTs > q.to) continue;
      if (q.sensor !== undefined && a.sensor !== q.sensor) continue;
      const ts = bucketStart(a.firstTs, q.bucketSeconds);
      const k = `${ts}\0${a.detector}\0${a.severity}`;
      const b = counts.get(k);
      if (b) b.count++;
      else counts.set(k, { ts, detector: a.detector, severity: a.severity, count: 1 });
    }
    return [...counts.values()].sort((x, y) =>
      x.ts - y.ts || (x.detector < y.detector ? -1 : x.detector > y.detector ? 1 : 0) || severityRank(x.severity) - severityRank(y.severity));
  }

  private rows<T extends RecordRow>(table: RecordTable, sensor: string | undefined): T[] {
    const out: T[] = [];
    for (const r of this.records[table].values()) if (sensor === undefined || r.sensor === sensor) out.push(r as T);
    return out;
  }

  async inventoryClients(query: InventoryQuery): Promise<{ rows: MqttSessionRow[]; nextCursor: string | null }> {
    this.ready();
    const q = validateInventoryQuery(query);
    return pageInventory('clients', aggregateClients(this.rows<MqttSessionRow>('sessions', q.sensor)), clientKey, q.limit, q.cursor);
  }

  async inventoryTopics(query: InventoryQuery): Promise<{ rows: TopicMinuteRow[]; nextCursor: string | null }> {
    this.ready();
    const q = validateInventoryQuery(query);
    return pageInventory('topics', aggregateTopics(this.rows<TopicMinuteRow>('topics', q.sensor)), topicKey, q.limit, q.cursor);
  }

  async inventoryCoapResources(query: InventoryQuery): Promise<{ rows: CoapExchangeRow[]; nextCursor: string | null }> {
    this.ready();
    const q = validateInventoryQuery(query);
    return pageInventory('coap', aggregateCoap(this.rows<CoapExchangeRow>('coap', q.sensor)), coapKey, q.limit, q.cursor);
  }

  async inventoryTls(query: InventoryQuery): Promise<{ rows: (TlsEndpointRow & { daysToExpiry: number | null })[]; nextCursor: string | null }> {
    this.ready();
    const q = validateInventoryQuery(query);
    const page = pageInventory('tls', aggregateTls(this.rows<TlsEndpointRow>('tls', q.sensor)), tlsKey, q.limit, q.cursor);
    const now = this.now();
    return { rows: page.rows.map((r) => ({ ...r, daysToExpiry: daysToExpiry(r.notAfter, now) })), nextCursor: page.nextCursor };
  }

  async health(): Promise<StoreHealth> {
    const open = this.alertLog !== null && !this.closed;
    const torn = (this.recoveries.alerts?.tornBytes ?? 0) + (this.recoveries.records?.tornBytes ?? 0);
    const parts = [
      `${this.alerts.size} alerts in ${this.opts.dir}`,
      `alerts.log ${this.alertLog?.size ?? 0} bytes`,
      `records.log ${this.recordLog?.size ?? 0} bytes`,
    ];
    if (this.evicted > 0) parts.push(`${this.evicted} alerts evicted (max ${this.maxAlerts})`);
    if (torn > 0) parts.push(`${torn} torn bytes cut off at open`);
    if (this.lastError) parts.push(`last error: ${this.lastError}`);
    if (!open) parts.push(this.closed ? 'closed' : 'not open');
    const counters: Record<string, number> = {
      alerts: this.alerts.size,
      alerts_evicted: this.evicted,
      alert_log_bytes: this.alertLog?.size ?? 0,
      record_log_bytes: this.recordLog?.size ?? 0,
      torn_bytes_at_open: torn,
    };
    for (const k of RECORD_TABLES) {
      counters[`${k}_rows`] = this.records[k].size;
      counters[`${k}_rows_evicted`] = this.recordsEvicted[k];
    }
    return {
      ok: open && this.lastError === null,
      kind: 'embedded',
      detail: parts.join('; '),
      pending: this.pendingAlerts,
      spoolBytes: 0,
      spoolRecords: 0,
      lagMs: this.oldestPending.length > 0 ? Math.max(0, this.now() - Math.min(...this.oldestPending)) : 0,
      counters,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.initialized) await this.initialized.catch(() => undefined);
    this.closed = true;
    await this.alertLog?.close();
    await this.recordLog?.close();
    await this.lock?.release();
    this.lock = null;
  }
}


/** A copy callers may keep or change without touching the store's state. */
function copy(a: StoredAlert): StoredAlert {
  return {
    ...a,
    entity: { ...a.entity },
    endpoints: a.endpoints.slice(),
    communityIds: a.communityIds.slice(),
    frames: a.frames.slice(),
    evidence: { ...a.evidence },
  };
}

export function createEmbeddedStore(opts: EmbeddedStoreOptions): EmbeddedStore {
  return new EmbeddedStore(opts);
}
