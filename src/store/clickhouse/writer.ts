// The ClickHouse write path: one queue, one loop, one insert in flight.
//
// putAlerts/putRecords enqueue and wait for their batch to be inserted or spooled. The loop
// takes up to batchRows rows (waiting at most lingerMs for more), assigns alert seqs, inserts
// with a timeout, and on any failure appends the batch to the spool and resolves: capture never
// waits longer than insertTimeoutMs on a dead or stuck server. While the spool holds anything,
// new batches go behind it (order is kept), and every retryMs the loop replays the spool's oldest
// records, assigning seqs at replay time, so seq order is always put order.
//
// Seqs are µs of a monotonic wall clock, strictly increasing per process. The feed shows only
// seqs below a horizon (see ClickHouseStore.feed), and `inflightMinSeq` lets this process's own
// reader hold back exactly as far as its insert in flight.
import { appendFile } from 'node:fs/promises';
import type { Alert } from '../../alerts/types';
import { RECORD_TABLES } from '../inventory';
import type { RecordBatch } from '../validate';
import { isDataError } from './connection';
import type { Connection } from './connection';
import { alertRow, coapRowOut, sessionRow, tlsRowOut, topicRowOut } from './rows';
import { COLUMNS } from './schema';
import type { TableName } from './schema';
import { rowsOf } from './spool';
import type { Spool, SpoolItem } from './spool';

export interface WriterOptions {
  /** Rows per insert (default 5000). */
  batchRows: number;
  /** Longest wait for a batch to fill (default 200 ms). */
  lingerMs: number;
  /** An insert slower than this counts as failed: the batch is spooled (default 10 s). */
  insertTimeoutMs: number;
  /** Pause between spool replay attempts while the server is away (default 1 s). */
  retryMs: number;
  /** A spooled batch the server rejects as bad data this often is set aside (dead letter). */
  maxReplayErrors: number;
  /** Where set-aside batches go (JSON lines). */
  deadLetterPath: string;
  /** Runs before every insert (the store makes sure its schema exists); a throw counts as a failed insert. */
  beforeInsert?: () => Promise<void>;
}

/** Monotonic wall clock in µs: wall time at process start plus a monotonic offset. */
export function clockUs(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

const RECORD_TABLE_NAME: Record<(typeof RECORD_TABLES)[number], TableName> = {
  sessions: 'mqtt_sessions', topics: 'topic_minutes', coap: 'coap_exchanges', tls: 'tls_endpoints',
};

interface Pending {
  item: SpoolItem;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class Writer {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private running = false;
  private closing = false;
  /** flush() callers waiting: skip the linger. */
  private urgent = 0;
  private wake: (() => void) | null = null;
  private retryAt = 0;
  private lastSeq = 0;
  private replayErrors = 0;
  private idle: Promise<void> = Promise.resolve();
  /** Lowest seq of the insert in flight, or null. */
  inflightMinSeq: number | null = null;
  lastError: string | null = null;
  lastErrorAt: number | null = null;
  readonly counters = {
    alerts_inserted: 0, record_rows_inserted: 0, inserts: 0, insert_failures: 0,
    alerts_spooled: 0, record_rows_spooled: 0, alerts_replayed: 0, record_rows_replayed: 0,
    alerts_dropped: 0, record_rows_dropped: 0, dead_lettered_rows: 0,
  };

  constructor(private readonly conn: Connection, private readonly db: string, private readonly spool: Spool, private readonly opts: WriterOptions) {}

  get pendingRows(): number {
    return this.queuedRows;
  }

  /** Enqueue time (ms) of the oldest alert or row not yet durable anywhere but memory. */
  get oldestQueuedMs(): number | null {
    return this.queue.length > 0 ? this.queue[0].item.t : null;
  }

  nextSeq(): number {
    this.lastSeq = Math.max(this.lastSeq + 1, clockUs());
    return this.lastSeq;
  }

  enqueue(item: SpoolItem): Promise<void> {
    if (this.closing) return Promise.reject(new Error('store is closing'));
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.queuedRows += rowsOf(item);
      this.kick();
    });
  }

  /** Starts replaying a spool left by an earlier run. */
  start(): void {
    if (this.spool.records > 0) this.kick();
  }

  private kick(): void {
    if (this.wake) {
      const w = this.wake;
      this.wake = null;
      w();
    }
    if (!this.running) {
      this.running = true;
      this.idle = this.loop().finally(() => { this.running = false; });
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = null; resolve(); }, Math.max(0, ms));
      this.wake = () => { clearTimeout(t); resolve(); };
    });
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (this.spool.records > 0) {
        if (!this.closing && Date.now() >= this.retryAt && (await this.replayOnce())) continue;
        if (this.queue.length > 0) {
          await this.spoolPending(this.take(Number.POSITIVE_INFINITY));
          continue;
        }
        if (this.closing) return;
        await this.sleep(this.retryAt - Date.now());
        continue;
      }
      if (this.queue.length === 0) {
        if (this.closing) return;
        await this.sleep(60_000);
        continue;
      }
      const age = Date.now() - this.queue[0].item.t;
      if (!this.closing && this.urgent === 0 && this.queuedRows < this.opts.batchRows && age < this.opts.lingerMs) {
        await this.sleep(this.opts.lingerMs - age);
        continue;
      }
      const batch = this.take(this.opts.batchRows);
      try {
        await this.insertItems(batch.map((p) => p.item), false);
        for (const p of batch) p.resolve();
      } catch (e) {
        this.failed(e);
        await this.spoolPending(batch);
      }
    }
  }

  /** Whole items from the head of the queue, up to maxRows rows (at least one item). */
  private take(maxRows: number): Pending[] {
    const out: Pending[] = [];
    let rows = 0;
    while (this.queue.length > 0) {
      const n = rowsOf(this.queue[0].item);
      if (out.length > 0 && rows + n > maxRows) break;
      out.push(this.queue.shift() as Pending);
      rows += n;
    }
    this.queuedRows -= rows;
    return out;
  }

  private failed(e: unknown): void {
    this.counters.insert_failures++;
    this.lastError = e instanceof Error ? e.message : String(e);
    this.lastErrorAt = Date.now();
    this.retryAt = Date.now() + this.opts.retryMs;
  }

  private async spoolPending(batch: Pending[]): Promise<void> {
    const keep: Pending[] = [];
    let bytes = 0;
    for (const p of batch) {
      bytes += JSON.stringify(p.item).length + 8;
      if (this.spool.full(bytes)) {
        // Past the spool's bound: counted, visible in health, and capture goes on.
        if (p.item.k === 'a') this.counters.alerts_dropped += p.item.a.length;
        else this.counters.record_rows_dropped += rowsOf(p.item);
        p.resolve();
      } else {
        keep.push(p);
      }
    }
    try {
      await this.spool.append(keep.map((p) => p.item));
      for (const p of keep) {
        if (p.item.k === 'a') this.counters.alerts_spooled += p.item.a.length;
        else this.counters.record_rows_spooled += rowsOf(p.item);
        p.resolve();
      }
    } catch (e) {
      for (const p of keep) p.reject(e as Error);
    }
  }

  /** Inserts items in order: their alerts as one insert, then each record table. */
  private async insertItems(items: readonly SpoolItem[], replay: boolean): Promise<void> {
    const alertRows: Record<string, unknown>[] = [];
    const seqs: number[] = [];
    const records: Record<TableName, Record<string, unknown>[]> = {
      alerts: [], alert_status: [], mqtt_sessions: [], topic_minutes: [], coap_exchanges: [], tls_endpoints: [],
    };
    for (const it of items) {
      if (it.k === 'a') {
        for (const a of it.a) {
          const seq = this.nextSeq();
          seqs.push(seq);
          alertRows.push(alertRow(a as Alert, it.s, seq));
        }
      } else {
        const b: RecordBatch = it.b;
        const version = this.nextSeq();
        for (const r of b.sessions) records.mqtt_sessions.push(sessionRow(r, version));
        for (const r of b.topics) records.topic_minutes.push(topicRowOut(r, version));
        for (const r of b.coap) records.coap_exchanges.push(coapRowOut(r, version));
        for (const r of b.tls) records.tls_endpoints.push(tlsRowOut(r, version));
      }
    }
    // Held from seq assignment until the insert is answered: this process's feed stays below it.
    this.inflightMinSeq = seqs.length > 0 ? seqs[0] : null;
    try {
      await this.opts.beforeInsert?.();
      this.counters.inserts++;
      await this.conn.insert(`${this.db}.alerts`, COLUMNS.alerts.map((c) => c.name), alertRows, this.opts.insertTimeoutMs);
    } finally {
      this.inflightMinSeq = null;
    }
    let recordRows = 0;
    for (const k of RECORD_TABLES) {
      const t = RECORD_TABLE_NAME[k];
      await this.conn.insert(`${this.db}.${t}`, COLUMNS[t].map((c) => c.name), records[t], this.opts.insertTimeoutMs);
      recordRows += records[t].length;
    }
    if (replay) {
      this.counters.alerts_replayed += alertRows.length;
      this.counters.record_rows_replayed += recordRows;
    } else {
      this.counters.alerts_inserted += alertRows.length;
      this.counters.record_rows_inserted += recordRows;
    }
  }

  /** Replays the spool's oldest batch; true when it made progress. */
  private async replayOnce(): Promise<boolean> {
    const { items, end } = await this.spool.next(this.opts.batchRows);
    if (items.length === 0) {
      // Only acks were left: empty the file.
      await this.spool.ack([], end);
      return true;
    }
    try {
      await this.insertItems(items, true);
    } catch (e) {
      this.failed(e);
      if (!isDataError(e) || ++this.replayErrors < this.opts.maxReplayErrors) return false;
      // The server keeps refusing these rows as data: set them aside rather than block the spool
      // forever. Outages and overload (anything else) are retried for as long as they last.
      await appendFile(this.opts.deadLetterPath, items.map((i) => JSON.stringify(i)).join('\n') + '\n');
      this.counters.dead_lettered_rows += items.reduce((n, i) => n + rowsOf(i), 0);
    }
    this.replayErrors = 0;
    await this.spool.ack(items, end);
    return true;
  }

  /** Resolves once everything queued so far is inserted or spooled. */
  async flush(): Promise<void> {
    const waits = this.queue.map((p) => new Promise<void>((resolve) => {
      const { resolve: r0, reject: j0 } = p;
      p.resolve = () => { r0(); resolve(); };
      p.reject = (e) => { j0(e); resolve(); };
    }));
    if (waits.length === 0) return;
    // Skip the linger: a flush wants the rows out now.
    this.urgent++;
    this.kick();
    try {
      await Promise.all(waits);
    } finally {
      this.urgent--;
    }
  }

  /** Inserts or spools what is queued, then stops; the spool stays for the next run. */
  async close(): Promise<void> {
    this.closing = true;
    this.kick();
    await this.idle;
  }
}
