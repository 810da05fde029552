// Running a capture file (or stdin) through a pipeline, with progress on standard error
// for inputs that take longer than a second.
import { createReadStream, statSync, type ReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { readCaptureStream } from '../capture/reader';
import type { CaptureStats, PacketHandler } from '../capture/types';

export interface RunInputOptions {
  /** Awaited between chunks (output back-pressure). */
  between?: () => Promise<void>;
  /** Print progress to stderr when the input takes more than a second. Default true. */
  progress?: boolean;
  label?: string;
}

export async function runInput(path: string, onPacket: PacketHandler, opts: RunInputOptions = {}): Promise<CaptureStats> {
  let packets = 0;
  const counting: PacketHandler = (rec) => {
    packets++;
    onPacket(rec);
  };
  let file: ReadStream | null = null;
  let total = 0;
  let source: Readable;
  if (path === '-') source = process.stdin;
  else {
    total = statSync(path).size;
    file = createReadStream(path, { highWaterMark: 1024 * 1024 });
    source = file;
  }
  const between = opts.between;
  const input = between ? Readable.from(gate(source, between)) : source;
  const started = performance.now();
  let timer: NodeJS.Timeout | null = null;
  let printed = false;
  if (opts.progress !== false) {
    timer = setInterval(() => {
      const secs = (performance.now() - started) / 1000;
      const done = file ? file.bytesRead : 0;
      const pct = total > 0 ? ` ${((100 * done) / total).toFixed(1)}%` : '';
      process.stderr.write(
        `iotwatch: ${opts.label ?? path}:${pct} ${packets} packets, ${Math.round(packets / secs)} packets/s\n`,
      );
      printed = true;
    }, 1000);
    timer.unref();
  }
  try {
    return await readCaptureStream(input, path === '-' ? 'stdin' : path, counting);
  } finally {
    if (timer) clearInterval(timer);
    if (printed) process.stderr.write(`iotwatch: ${opts.label ?? path}: done, ${packets} packets\n`);
  }
}

async function* gate(src: Readable, between: () => Promise<void>): AsyncGenerator<Buffer> {
  for await (const chunk of src) {
    await between();
    yield chunk as Buffer;
  }
}
