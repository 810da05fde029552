// Reading a capture from a file, standard input or any stream: format detection (pcap,
// pcapng, gzip around either), bounded-memory streaming, and the push parser under it all.
import { createReadStream } from 'node:fs';
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
}

/**
 * Reads a pcap/pcapng file (optionally gzip-compressed); `source` '-' is standard input.
 * Resolves with the reader's stats once the input ends; rejects with CaptureFormatError for
 * a file that is not a capture, with the stream's error for I/O failures, and with
 * signal.reason when aborted.
 */
export async function readCapture(
  source: string,
  onPacket: PacketHandler,
  opts: ReadCaptureOptions = {},
): Promise<CaptureStats> {
  if (source === '-') return readCaptureStream(process.stdin, 'stdin', onPacket, opts);
  const input = createReadStream(source, { highWaterMark: opts.chunkSize ?? READ_CHUNK });
  return readCaptureStream(input, source, onPacket, opts);
}

/** readCapture for an already open stream of bytes; `name` is used in messages. */
export async function readCaptureStream(
  input: Readable,
  name: string,
  onPacket: PacketHandler,
  opts: ReadCaptureOptions = {},
): Promise<CaptureStats> {
  const { signal } = opts;
  signal?.throwIfAborted();
  const parser = new CaptureParser(onPacket, { name });
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
      await readGzip(first, done ? null : it, parser, name, signal);
    } else {
      parser.feed(first);
      if (!done) {
        for (;;) {
          const r = await it.next();
          if (r.done) break;
          signal?.throwIfAborted();
          parser.feed(toBuffer(r.value));
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
  signal: AbortSignal | undefined,
): Promise<void> {
  async function* compressed(): AsyncGenerator<Buffer> {
    yield first;
    if (rest === null) return;
    for (;;) {
      const r = await rest.next();
      if (r.done) return;
      yield toBuffer(r.value);
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
