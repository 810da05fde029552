// Reading a capture from a file, standard input or any stream: format detection (pcap,
// pcapng, gzip around either), bounded-memory streaming, and the push parser under it all.
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { createCaptureStats, createPacketRecord, type ChunkParser } from './chunk-parser';
import { captureKind, foreignFormatError } from './format';
import { PcapParser } from './pcap';
import { PcapngParser } from './pcapng';
import type { CaptureStats, PacketHandler } from './types';

/** Bytes looked at before deciding the format (enough for "TRSNIFF data" and ERF). */
const SNIFF_BYTES = 16;
const READ_CHUNK = 1024 * 1024;

export interface CaptureParserOptions {
  /** Name used in errors and warnings (file path, "stdin"). */
  name?: string;
}

/**
 * Push parser for pcap or pcapng, detected from the first bytes: feed() chunks in order,
 * then end(). onPacket receives one reused PacketRecord whose buf may point into the chunk
 * fed. Throws CaptureFormatError (from feed or end) when the input is not pcap/pcapng;
 * damage and truncation become stats.warnings / stats.truncatedAt instead.
 */
export class CaptureParser {
  readonly stats: CaptureStats = createCaptureStats('pcap');
  private readonly rec = createPacketRecord();
  private inner: ChunkParser | null = null;
  private head: Buffer[] = [];
  private headLen = 0;
  private readonly name: string;

  constructor(
    private readonly onPacket: PacketHandler,
    opts: CaptureParserOptions = {},
  ) {
    this.name = opts.name ?? 'input';
  }

  /** 'pcap' | 'pcapng' once known, else null. */
  get format(): 'pcap' | 'pcapng' | null {
    return this.inner === null ? null : this.stats.format === 'pcapng' ? 'pcapng' : 'pcap';
  }

  /** The underlying format parser, once the format is known (for interfaces, header). */
  get parser(): PcapParser | PcapngParser | null {
    return this.inner as PcapParser | PcapngParser | null;
  }

  feed(chunk: Buffer): void {
    if (this.inner !== null) {
      this.inner.feed(chunk);
      return;
    }
    if (chunk.length === 0) return;
    this.head.push(chunk);
    this.headLen += chunk.length;
    if (this.headLen >= SNIFF_BYTES) this.start();
    // Held until the format is known: a copy, since the caller may reuse its buffer.
    else this.head[this.head.length - 1] = Buffer.from(chunk);
  }

  end(): CaptureStats {
    if (this.inner === null) this.start();
    return this.inner!.end();
  }

  private start(): void {
    const all = this.head.length === 1 ? this.head[0] : Buffer.concat(this.head);
    const kind = captureKind(all);
    if (kind === 'pcap') this.inner = new PcapParser(this.onPacket, this.stats, this.rec, this.name);
    else if (kind === 'pcapng') this.inner = new PcapngParser(this.onPacket, this.stats, this.rec, this.name);
    else throw foreignFormatError(this.name, all.subarray(0, SNIFF_BYTES));
    this.head = [];
    this.inner.feed(all);
  }
}

export interface ReadCaptureOptions {
  signal?: AbortSignal;
  /** Read size for files (default 1 MiB). */
  chunkSize?: number;
  /** Awaited after each chunk is parsed (output back-pressure). */
  between?: () => Promise<void>;
  /** Called after each chunk is parsed with the input bytes read so far (compressed bytes for gzip). */
  onRead?: (bytesRead: number) => void;
}

/**
 * Reads a pcap/pcapng file (optionally gzip-compressed); `source` '-' is standard input.
 * Resolves with the reader's stats once the input ends; rejects with CaptureFormatError for
 * a file that is not a capture, with the I/O error for I/O failures, and with signal.reason
 * when aborted.
 *
 * A regular file that is not compressed is read into two buffers used in turn (the next
 * chunk is read while this one is parsed): packets point into them only during their
 * callback, as the PacketRecord contract says. Allocating a fresh 1 MiB buffer per chunk, as
 * a file stream does, costs page faults and zeroed pages for every chunk.
 */
export async function readCapture(
  source: string,
  onPacket: PacketHandler,
  opts: ReadCaptureOptions = {},
): Promise<CaptureStats> {
  if (source === '-') return readCaptureStream(process.stdin, 'stdin', onPacket, opts);
  opts.signal?.throwIfAborted();
  const chunkSize = opts.chunkSize ?? READ_CHUNK;
  const file = await open(source, 'r');
  let viaStream = false;
  try {
    viaStream = !(await file.stat()).isFile();
    if (!viaStream) {
      const stats = await readFile(file, source, onPacket, chunkSize, opts);
      if (stats !== null) return stats;
      viaStream = true; // gzip: the stream path inflates it
    }
  } finally {
    await file.close();
  }
  const input = createReadStream(source, { highWaterMark: chunkSize });
  return readCaptureStream(input, source, onPacket, opts);
}

/** readCapture's loop for an uncompressed regular file; null when the file is gzip. */
async function readFile(
  file: FileHandle,
  name: string,
  onPacket: PacketHandler,
  chunkSize: number,
  opts: ReadCaptureOptions,
): Promise<CaptureStats | null> {
  const { signal, between, onRead } = opts;
  const parser = new CaptureParser(onPacket, { name });
  const bufs = [Buffer.allocUnsafeSlow(chunkSize), Buffer.allocUnsafeSlow(chunkSize)];
  let k = 0;
  let n = (await file.read(bufs[0], 0, chunkSize, null)).bytesRead;
  if (n >= 2 && bufs[0][0] === 0x1f && bufs[0][1] === 0x8b) return null;
  let total = 0;
  let next: Promise<{ bytesRead: number }> | null = null;
  try {
    while (n > 0) {
      signal?.throwIfAborted();
      const cur = bufs[k];
      k ^= 1;
      next = file.read(bufs[k], 0, chunkSize, null);
      total += n;
      parser.feed(n === chunkSize ? cur : cur.subarray(0, n));
      onRead?.(total);
      if (between !== undefined) await between();
      n = (await next).bytesRead;
      next = null;
    }
    signal?.throwIfAborted();
    return parser.end();
  } catch (err) {
    // A read started ahead must settle before the file is closed.
    if (next !== null) await next.catch(() => undefined);
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
}

/** readCapture for an already open stream of bytes; `name` is used in messages. */
export async function readCaptureStream(
  input: Readable,
  name: string,
  onPacket: PacketHandler,
  opts: ReadCaptureOptions = {},
): Promise<CaptureStats> {
  const { signal, between, onRead } = opts;
  signal?.throwIfAborted();
  const parser = new CaptureParser(onPacket, { name });
  let read = 0;
  const onAbort = (): void => {
    input.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    // Enough bytes to see a gzip magic (1f 8b).
    let first: Buffer = Buffer.alloc(0);
    let done = false;
    while (first.length < 2) {
      const r = await it.next();
      if (r.done) {
        done = true;
        break;
      }
      first = first.length === 0 ? toBuffer(r.value) : Buffer.concat([first, toBuffer(r.value)]);
    }
    signal?.throwIfAborted();
    if (first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) {
      await readGzip(first, done ? null : it, parser, name, opts);
    } else {
      parser.feed(first);
      read = first.length;
      onRead?.(read);
      if (between !== undefined) await between();
      if (!done) {
        for (;;) {
          const r = await it.next();
          if (r.done) break;
          signal?.throwIfAborted();
          const chunk = toBuffer(r.value);
          parser.feed(chunk);
          read += chunk.length;
          onRead?.(read);
          if (between !== undefined) await between();
        }
      }
    }
    signal?.throwIfAborted();
    return parser.end();
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!input.destroyed && input !== process.stdin) input.destroy();
  }
}

function toBuffer(v: unknown): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array);
}

async function readGzip(
  first: Buffer,
  rest: AsyncIterator<Buffer> | null,
  parser: CaptureParser,
  name: string,
  opts: ReadCaptureOptions,
): Promise<void> {
  const { signal, between, onRead } = opts;
  let read = first.length;
  async function* compressed(): AsyncGenerator<Buffer> {
    yield first;
    if (rest === null) return;
    for (;;) {
      const r = await rest.next();
      if (r.done) return;
      const chunk = toBuffer(r.value);
      read += chunk.length;
      yield chunk;
    }
  }
  const gunzip = createGunzip({ chunkSize: READ_CHUNK });
  const src = Readable.from(compressed(), { objectMode: false });
  src.on('error', (err) => gunzip.destroy(err));
  src.pipe(gunzip);
  let out = 0;
  try {
    for await (const chunk of gunzip) {
      signal?.throwIfAborted();
      out += (chunk as Buffer).length;
      parser.feed(chunk as Buffer);
      onRead?.(read);
      if (between !== undefined) await between();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A cut or corrupt gzip stream is damage like a cut capture: keep what was decoded.
    if (typeof code === 'string' && code.startsWith('Z_')) {
      parser.stats.warnings.push(
        `${name}: gzip stream damaged after ${out} decompressed bytes (${(err as Error).message})`,
      );
      if (parser.stats.truncatedAt === undefined) parser.stats.truncatedAt = out;
      return;
    }
    throw err;
  } finally {
    src.destroy();
  }
}
