// Running a capture file (or stdin) through a pipeline, with progress on standard error
// for inputs that take longer than a second.
import { statSync } from 'node:fs';
import { readCapture } from '../capture/reader';
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
  const total = path === '-' ? 0 : statSync(path).size;
  let bytesRead = 0;
  const started = performance.now();
  let timer: NodeJS.Timeout | null = null;
  let printed = false;
  if (opts.progress !== false) {
    // Fires between chunks: the reader yields to the event loop after each one.
    timer = setInterval(() => {
      const secs = (performance.now() - started) / 1000;
      const pct = total > 0 ? ` ${((100 * bytesRead) / total).toFixed(1)}%` : '';
      process.stderr.write(`iotwatch: ${opts.label ?? path}:${pct} ${packets} packets, ${Math.round(packets / secs)} packets/s\n`);
      printed = true;
    }, 1000);
    timer.unref();
  }
  try {
    return await readCapture(path, counting, { between: opts.between, onRead: (n) => { bytesRead = n; } });
  } finally {
    if (timer) clearInterval(timer);
    if (printed) process.stderr.write(`iotwatch: ${opts.label ?? path}: done, ${packets} packets\n`);
  }
}
