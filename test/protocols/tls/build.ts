// Test-only builders for TLS/DTLS wire bytes (RFC 8446 section 3 presentation language).
export const u8 = (n: number): Buffer => Buffer.from([n & 0xff]);
export const u16 = (n: number): Buffer => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
export const u24 = (n: number): Buffer => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
export const vec8 = (b: Buffer): Buffer => Buffer.concat([u8(b.length), b]);
export const vec16 = (b: Buffer): Buffer => Buffer.concat([u16(b.length), b]);
export const vec24 = (b: Buffer): Buffer => Buffer.concat([u24(b.length), b]);
export const list16 = (xs: number[]): Buffer => Buffer.concat(xs.map(u16));
export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

export function ext(type: number, body: Buffer): Buffer {
  return Buffer.concat([u16(type), vec16(body)]);
}

export const sniExt = (name: string): Buffer => ext(0, vec16(Buffer.concat([u8(0), vec16(Buffer.from(name))])));
export const alpnExt = (names: string[]): Buffer => ext(16, vec16(Buffer.concat(names.map((n) => vec8(Buffer.from(n))))));
export const sigAlgsExt = (algs: number[]): Buffer => ext(13, vec16(list16(algs)));
export const groupsExt = (groups: number[]): Buffer => ext(10, vec16(list16(groups)));
export const versionsExt = (vs: number[]): Buffer => ext(43, vec8(list16(vs)));

export interface HelloSpec {
  version?: number;
  random?: Buffer;
  sessionId?: Buffer;
  cookie?: Buffer; // DTLS only
  suites?: number[];
  extensions?: Buffer[] | null; // null: no extensions block at all
}

export function clientHelloBody(s: HelloSpec = {}, dtls = false): Buffer {
  const parts = [
    u16(s.version ?? (dtls ? 0xfefd : 0x0303)),
    s.random ?? Buffer.alloc(32, 0x11),
    vec8(s.sessionId ?? Buffer.alloc(0)),
  ];
  if (dtls) parts.push(vec8(s.cookie ?? Buffer.alloc(0)));
  parts.push(vec16(list16(s.suites ?? [0x1301, 0xc02f])), vec8(Buffer.from([0])));
  if (s.extensions !== null) parts.push(vec16(Buffer.concat(s.extensions ?? [sniExt('broker.example')])));
  return Buffer.concat(parts);
}

export function serverHelloBody(s: { version?: number; random?: Buffer; suite?: number; extensions?: Buffer[] | null } = {}): Buffer {
  const parts = [u16(s.version ?? 0x0303), s.random ?? Buffer.alloc(32, 0x22), vec8(Buffer.alloc(0)), u16(s.suite ?? 0xc02f), u8(0)];
  if (s.extensions !== null && s.extensions !== undefined) parts.push(vec16(Buffer.concat(s.extensions)));
  return Buffer.concat(parts);
}

/** TLS handshake message: type, 3-byte length, body. */
export const hs = (type: number, body: Buffer): Buffer => Buffer.concat([u8(type), u24(body.length), body]);
/** TLS record. */
export const record = (type: number, body: Buffer, version = 0x0303): Buffer => Buffer.concat([u8(type), u16(version), u16(body.length), body]);

/** DTLS handshake fragment (RFC 6347 4.2.2). */
export function dtlsHs(type: number, body: Buffer, seq: number, fragOff = 0, fragLen = body.length - fragOff, total = body.length): Buffer {
  return Buffer.concat([u8(type), u24(total), u16(seq), u24(fragOff), u24(fragLen), body.subarray(fragOff, fragOff + fragLen)]);
}

/** DTLS record (RFC 6347 4.1). */
export function dtlsRecord(type: number, body: Buffer, epoch = 0, seq = 0, version = 0xfefd): Buffer {
  const s = Buffer.alloc(6);
  s.writeUIntBE(seq, 0, 6);
  return Buffer.concat([u8(type), u16(version), u16(epoch), s, u16(body.length), body]);
}
