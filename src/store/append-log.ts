// A crash-safe append-only log, shared by the embedded store and the ClickHouse spool.
//
// File: an 8-byte magic, then frames [u32le length][u32le CRC-32 of payload][payload].
// Appends are group-committed: every append queued while a write is in flight goes out in the
// next single write + fdatasync, and a caller's promise resolves only after that fdatasync.
// Recovery reads frames until the first one that is short or fails its CRC: that is a write
// torn by a crash (the only writer appends at the end), so everything before it is intact.
// The torn tail is copied aside (never silently destroyed) and the file truncated to the last
// good frame, so later appends never land behind garbage.
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const LOG_MAGIC = Buffer.from('IOTWLOG1', 'latin1');
export const FRAME_HEADER = 8;
/** Refuse absurd lengths on recovery: a torn length field could otherwise ask for gigabytes. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3), as zlib computes it; node:zlib only has crc32 from Node 22. */
export function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function frame(payload: Buffer): Buffer {
  if (payload.length > MAX_RECORD_BYTES) throw new Error(`log record of ${payload.length} bytes exceeds ${MAX_RECORD_BYTES}`);
  const out = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, FRAME_HEADER);
  return out;
}

export interface LogRecovery {
  /** Complete records read. */
  records: number;
  /** Size of the file after recovery (header and complete frames). */
  bytes: number;
  /** Bytes of a torn or corrupt tail that were cut off (0 when the file was clean). */
  tornBytes: number;
  /** Where the cut-off tail was saved, or null. */
  tornFile: string | null;
}

export interface AppendLogOptions {
  /** fdatasync after each group commit (default true). Off only for throwaway benchmarks. */
  fsync?: boolean;
}

type Op =
  | { kind: 'append'; frames: Buffer[]; records: number; onCommit?: () => void; resolve: () => void; reject: (e: Error) => void }
  | { kind: 'exclusive'; run: () => Promise<void>; resolve: () => void; reject: (e: Error) => void };

export class AppendLog {
  private ops: Op[] = [];
  private draining = false;
  private closed = false;
  private _size: number;
  private _records: number;

  private constructor(readonly path: string, private fh: FileHandle, size: number, records: number, private readonly fsync: boolean) {
    this._size = size;
    this._records = records;
  }

  /**
   * Opens (creating if needed) and recovers a log, calling onRecord for each complete record
   * in order. A torn tail is saved to `<path>.torn-<offset>` and cut off.
   */
  static async open(path: string, onRecord: (payload: Buffer, offset: number) => void, opts: AppendLogOptions = {}): Promise<{ log: AppendLog; recovery: LogRecovery }> {
    const fh = await fsp.open(path, await exists(path) ? 'r+' : 'w+');
    try {
      const recovery = await recover(path, fh, onRecord);
      return { log: new AppendLog(path, fh, recovery.bytes, recovery.records, opts.fsync ?? true), recovery };
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** Bytes in the file (committed or being committed). */
  get size(): number {
    return this._size;
  }

  /** Records in the file. */
  get records(): number {
    return this._records;
  }

  /**
   * Appends records; resolves once they are on disk. onCommit runs synchronously right after the
   * fdatasync and before any later operation, so in-memory state follows the file's order exactly.
   */
  append(payloads: readonly Buffer[], onCommit?: () => void): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`log ${this.path} is closed`));
    let frames: Buffer[];
    try {
      frames = payloads.map(frame);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return new Promise((resolve, reject) => {
      this.ops.push({ kind: 'append', frames, records: payloads.length, onCommit, resolve, reject });
      this.kick();
    });
  }

  /**
   * Replaces the whole log with the given records (compaction), atomically: written to a temporary
   * file, fsynced, renamed over the log, directory fsynced. Appends queued after it go to the new file.
   * produce() runs at the point in the queue where the rewrite happens, so it sees every earlier commit.
   */
  rewrite(produce: () => Iterable<Buffer>, onCommit?: () => void): Promise<void> {
    return this.exclusive(async () => {
      const tmp = `${this.path}.compact`;
      const out = await fsp.open(tmp, 'w');
      let size = LOG_MAGIC.length;
      let records = 0;
      try {
        await out.write(LOG_MAGIC, 0, LOG_MAGIC.length, 0);
        let chunk: Buffer[] = [];
        let chunkBytes = 0;
        const flush = async (): Promise<void> => {
          if (chunk.length === 0) return;
          const b = Buffer.concat(chunk);
          await out.write(b, 0, b.length, size);
          size += b.length;
          chunk = [];
          chunkBytes = 0;
        };
        for (const p of produce()) {
          const f = frame(p);
          chunk.push(f);
          chunkBytes += f.length;
          records++;
          if (chunkBytes >= 1 << 20) await flush();
        }
        await flush();
        if (this.fsync) await out.sync();
      } finally {
        await out.close();
      }
      await fsp.rename(tmp, this.path);
      await syncDir(dirname(this.path));
      await this.fh.close();
      this.fh = await fsp.open(this.path, 'r+');
      this._size = size;
      this._records = records;
      onCommit?.();
    });
  }

  /** Empties the log (keeps the header), e.g. once a spool has been replayed completely. */
  reset(onCommit?: () => void): Promise<void> {
    return this.exclusive(async () => {
      await this.fh.truncate(LOG_MAGIC.length);
      if (this.fsync) await this.fh.datasync();
      this._size = LOG_MAGIC.length;
      this._records = 0;
      onCommit?.();
    });
  }

  /** Reads up to maxRecords complete records starting at a frame boundary `offset`. */
  async readFrom(offset: number, maxRecords: number): Promise<{ payloads: Buffer[]; next: number }> {
    const payloads: Buffer[] = [];
    let pos = Math.max(offset, LOG_MAGIC.length);
    const end = this._size;
    const header = Buffer.allocUnsafe(FRAME_HEADER);
    while (payloads.length < maxRecords && pos + FRAME_HEADER <= end) {
      await readExactly(this.fh, header, pos);
      const len = header.readUInt32LE(0);
      if (pos + FRAME_HEADER + len > end) break;
      const p = Buffer.allocUnsafe(len);
      await readExactly(this.fh, p, pos + FRAME_HEADER);
      if (crc32(p) !== header.readUInt32LE(4)) throw new Error(`log ${this.path}: CRC mismatch at ${pos}`);
      payloads.push(p);
      pos += FRAME_HEADER + len;
    }
    return { payloads, next: pos };
  }

  /** Waits for queued operations, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.exclusive(async () => undefined).catch(() => undefined);
    this.closed = true;
    await this.fh.close();
  }

  private exclusive(run: () => Promise<void>): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`log ${this.path} is closed`));
    return new Promise((resolve, reject) => {
      this.ops.push({ kind: 'exclusive', run, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (!this.draining) {
      this.draining = true;
      void this.drain();
    }
  }

  private async drain(): Promise<void> {
    try {
      while (this.ops.length > 0) {
        const head = this.ops[0];
        if (head.kind === 'exclusive') {
          this.ops.shift();
          try {
            await head.run();
            head.resolve();
          } catch (e) {
            head.reject(e as Error);
          }
          continue;
        }
        // Group commit: every append queued up to the next exclusive op goes in one write.
        const batch: Extract<Op, { kind: 'append' }>[] = [];
        while (this.ops.length > 0 && this.ops[0].kind === 'append') batch.push(this.ops.shift() as Extract<Op, { kind: 'append' }>);
        const buf = Buffer.concat(batch.flatMap((b) => b.frames));
        const at = this._size;
        try {
          await writeExactly(this.fh, buf, at);
          if (this.fsync) await this.fh.datasync();
        } catch (e) {
          // Cut back whatever part of the batch reached the file, so the log stays a clean
          // sequence of committed frames; if even that fails the next open's recovery will.
          await this.fh.truncate(at).catch(() => undefined);
          for (const b of batch) b.reject(e as Error);
          continue;
        }
        this._size = at + buf.length;
        for (const b of batch) {
          this._records += b.records;
          try {
            b.onCommit?.();
          } catch (e) {
            b.reject(e as Error);
            continue;
          }
          b.resolve();
        }
      }
    } finally {
      this.draining = false;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fsp.access(path);
    return true;
  } catch {
    return false;
  }
}

async function readExactly(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, position + off);
    if (bytesRead === 0) throw new Error('unexpected end of log file');
    off += bytesRead;
  }
}

async function writeExactly(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, position + off);
    off += bytesWritten;
  }
}

export async function syncDir(dir: string): Promise<void> {
  // Makes a rename or a new file's directory entry durable; not every platform allows it.
  try {
    const d = await fsp.open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* best effort */
  }
}

async function recover(path: string, fh: FileHandle, onRecord: (payload: Buffer, offset: number) => void): Promise<LogRecovery> {
  const { size } = await fh.stat();
  if (size < LOG_MAGIC.length) {
    // New file, or one torn while its header was being written (a prefix of the magic).
    const head = Buffer.alloc(size);
    if (size > 0) await readExactly(fh, head, 0);
    if (!LOG_MAGIC.subarray(0, size).equals(head)) throw new Error(`${path} is not an iotwatch log (bad header)`);
    await fh.truncate(0);
    await writeExactly(fh, LOG_MAGIC, 0);
    await fh.sync();
    await syncDir(dirname(path));
    return { records: 0, bytes: LOG_MAGIC.length, tornBytes: 0, tornFile: null };
  }
  const magic = Buffer.alloc(LOG_MAGIC.length);
  await readExactly(fh, magic, 0);
  if (!magic.equals(LOG_MAGIC)) throw new Error(`${path} is not an iotwatch log (bad header)`);

  const CHUNK = 4 << 20;
  let buf = Buffer.alloc(0);
  let bufStart = LOG_MAGIC.length; // file offset of buf[0]
  let readPos = LOG_MAGIC.length;
  let pos = LOG_MAGIC.length; // offset of the next frame
  let records = 0;
  let bad = false;
  const fill = async (need: number): Promise<boolean> => {
    // Ensures buf holds bytes [pos, pos + need); false if the file ends first.
    while (bufStart + buf.length < pos + need) {
      if (readPos >= size) return false;
      const n = Math.min(Math.max(CHUNK, need), size - readPos);
      const more = Buffer.allocUnsafe(n);
      await readExactly(fh, more, readPos);
      readPos += n;
      buf = Buffer.concat([buf.subarray(pos - bufStart), more]);
      bufStart = pos;
    }
    return true;
  };
  while (pos < size) {
    if (!(await fill(FRAME_HEADER))) { bad = true; break; }
    const o = pos - bufStart;
    const len = buf.readUInt32LE(o);
    const crc = buf.readUInt32LE(o + 4);
    if (len > MAX_RECORD_BYTES || !(await fill(FRAME_HEADER + len))) { bad = true; break; }
    const s = pos - bufStart + FRAME_HEADER;
    const payload = buf.subarray(s, s + len);
    if (crc32(payload) !== crc) { bad = true; break; }
    onRecord(Buffer.from(payload), pos);
    records++;
    pos += FRAME_HEADER + len;
  }
  let tornFile: string | null = null;
  const tornBytes = bad ? size - pos : 0;
  if (bad) {
    tornFile = join(dirname(path), `${basename(path)}.torn-${pos}`);
    const tail = Buffer.alloc(tornBytes);
    await readExactly(fh, tail, pos);
    await fsp.writeFile(tornFile, tail);
    await fh.truncate(pos);
    await fh.sync();
  }
  return { records, bytes: pos, tornBytes, tornFile };
}
