// The outage spool: what could not be written to ClickHouse, in order, on local disk, in the
// same crash-safe framing as the embedded store (append-log.ts). Replay progress is itself a
// record ("ack up to offset N"), so the spool is one append-only file: after a crash, replay
// resumes after the last ack. A batch inserted but not yet acked when the process died is
// inserted again on restart; ReplacingMergeTree keeps one row per alert id, so readers still
// see each alert once.
import { AppendLog, LOG_MAGIC } from '../append-log';
import type { LogRecovery } from '../append-log';
import type { Alert } from '../../alerts/types';
import type { RecordBatch } from '../validate';

export type SpoolItem =
  | { k: 'a'; s: string; a: Alert[]; t: number }
  | { k: 'r'; b: RecordBatch; t: number };

type SpoolRecord = SpoolItem | { k: 'ack'; o: number };

export interface SpoolOptions {
  /** Largest spool file; past it new items are refused (counted as dropped by the writer). */
  maxBytes?: number;
  fsync?: boolean;
}

export class Spool {
  /** File offset of the first record not yet replayed. */
  private pos: number = LOG_MAGIC.length;
  /** Data records after pos, and the rows (alerts or record rows) in them. */
  private pendingRecords = 0;
  private pendingRows = 0;
  /** Enqueue time (ms) of the oldest unreplayed item, for the store's lag. */
  private oldest: number | null = null;

  private constructor(private readonly log: AppendLog, readonly recovery: LogRecovery, private readonly maxBytes: number) {}

  static async open(path: string, opts: SpoolOptions = {}): Promise<Spool> {
    const seen: { offset: number; end: number; rec: SpoolRecord }[] = [];
    const { log, recovery } = await AppendLog.open(path, (p, offset) => {
      seen.push({ offset, end: offset + 8 + p.length, rec: JSON.parse(p.toString('utf8')) as SpoolRecord });
    }, { fsync: opts.fsync });
    const s = new Spool(log, recovery, opts.maxBytes ?? 2 * 1024 ** 3);
    for (const x of seen) {
      if (x.rec.k === 'ack') {
        s.pos = x.rec.o;
        s.pendingRecords = 0;
        s.pendingRows = 0;
        s.oldest = null;
      } else if (x.offset >= s.pos) {
        s.count(x.rec, 1);
      }
    }
    return s;
  }

  private count(item: SpoolItem, sign: 1 | -1): void {
    this.pendingRecords += sign;
    this.pendingRows += sign * rowsOf(item);
    if (sign === 1 && this.oldest === null) this.oldest = item.t;
  }

  get records(): number {
    return this.pendingRecords;
  }

  get rows(): number {
    return this.pendingRows;
  }

  /** Bytes on disk beyond the header (replayed records stay until the spool empties). */
  get bytes(): number {
    return this.log.size - LOG_MAGIC.length;
  }

  get oldestMs(): number | null {
    return this.oldest;
  }

  /** Whether `bytes` more would pass the bound. */
  full(bytes: number): boolean {
    return this.log.size + bytes > this.maxBytes;
  }

  async append(items: readonly SpoolItem[]): Promise<void> {
    if (items.length === 0) return;
    await this.log.append(items.map((i) => Buffer.from(JSON.stringify(i), 'utf8')), () => {
      for (const i of items) this.count(i, 1);
    });
  }

  /** The next unreplayed items (up to maxRows rows, at least one item), and where they end. */
  async next(maxRows: number): Promise<{ items: SpoolItem[]; end: number }> {
    const items: SpoolItem[] = [];
    let rows = 0;
    let at = this.pos;
    while (rows < maxRows) {
      const { payloads, next } = await this.log.readFrom(at, 1);
      if (payloads.length === 0) break;
      const rec = JSON.parse(payloads[0].toString('utf8')) as SpoolRecord;
      if (rec.k !== 'ack') {
        if (items.length > 0 && rows + rowsOf(rec) > maxRows) break;
        items.push(rec);
        rows += rowsOf(rec);
      }
      at = next;
    }
    return { items, end: at };
  }

  /** Marks everything before `end` replayed; empties the file once nothing is left. */
  async ack(items: readonly SpoolItem[], end: number): Promise<void> {
    const done = (): void => {
      this.pos = end;
      for (const i of items) this.count(i, -1);
      this.oldest = null;
    };
    if (end >= this.log.size) {
      await this.log.reset(() => {
        this.pos = LOG_MAGIC.length;
        this.pendingRecords = 0;
        this.pendingRows = 0;
        this.oldest = null;
      });
    } else {
      await this.log.append([Buffer.from(JSON.stringify({ k: 'ack', o: end }), 'utf8')], done);
      // The oldest still waiting is at the new position; it is read lazily for the lag figure.
      const { items: head } = await this.next(1);
      this.oldest = head[0]?.t ?? null;
    }
  }

  close(): Promise<void> {
    return this.log.close();
  }
}

export function rowsOf(item: SpoolItem): number {
  return item.k === 'a' ? item.a.length : item.b.sessions.length + item.b.topics.length + item.b.coap.length + item.b.tls.length;
}
