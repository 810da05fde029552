// Line output to standard output with back-pressure: the reader waits for the terminal or
// pipe between chunks instead of buffering a whole capture's JSON in memory.
import { once } from 'node:events';
import type { Writable } from 'node:stream';

const FLUSH_AT = 64 * 1024;

export class LineWriter {
  private parts: string[] = [];
  private size = 0;
  private closed = false;

  constructor(private readonly out: Writable = process.stdout) {
    // A closed pipe (`| head`) is handled once for the process in main(); a writer only stops writing.
    out.on('error', () => {
      this.closed = true;
    });
  }

  line(s: string): void {
    if (this.closed) return;
    this.parts.push(s, '\n');
    this.size += s.length + 1;
    if (this.size >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.size === 0 || this.closed) return;
    this.out.write(this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }

  /** Resolves when the destination has room again. */
  async drained(): Promise<void> {
    this.flush();
    if (this.out.writableNeedDrain) await once(this.out, 'drain');
  }

  async end(): Promise<void> {
    await this.drained();
  }
}
