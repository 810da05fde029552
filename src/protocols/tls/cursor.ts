// Bounds-checked reading of TLS presentation-language fields (RFC 8446 section 3).
// A read past the end throws Truncated; the parse functions catch it at their boundary,
// so nothing escapes to the pipeline.

export class Truncated extends Error {
  constructor(what: string) {
    super(what);
    this.name = 'Truncated';
  }
}

export class Cursor {
  pos: number;
  constructor(readonly buf: Buffer, off: number, readonly end: number) {
    this.pos = off;
  }
  get left(): number {
    return this.end - this.pos;
  }
  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) throw new Truncated(what);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }
  u16(what: string): number {
    this.need(2, what);
    const v = (this.buf[this.pos] << 8) | this.buf[this.pos + 1];
    this.pos += 2;
    return v;
  }
  u24(what: string): number {
    this.need(3, what);
    const v = (this.buf[this.pos] << 16) | (this.buf[this.pos + 1] << 8) | this.buf[this.pos + 2];
    this.pos += 3;
    return v;
  }
  u48(what: string): number {
    this.need(6, what);
    const v = this.buf.readUIntBE(this.pos, 6);
    this.pos += 6;
    return v;
  }
  /** A sub-cursor over the next n bytes; this cursor skips them. */
  sub(n: number, what: string): Cursor {
    this.need(n, what);
    const c = new Cursor(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return c;
  }
  /** Vector with a length prefix of `lenBytes` bytes (RFC 8446 3.4). */
  vec(lenBytes: 1 | 2 | 3, what: string): Cursor {
    const n = lenBytes === 1 ? this.u8(what) : lenBytes === 2 ? this.u16(what) : this.u24(what);
    return this.sub(n, what);
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  rest(): Buffer {
    const b = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return b;
  }
}
