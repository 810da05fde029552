// Test-only CoAP encoder (RFC 7252 section 3, RFC 8323 section 3.2): builds messages for pairing
// tests and round-trip properties. Hand-written hex fixtures stay the reference for the formats.

export type OptionValue = Buffer | string | number;

export interface MessageSpec {
  version?: number;
  /** 0 CON, 1 NON, 2 ACK, 3 RST */
  type?: number;
  /** Code byte, or "c.dd". */
  code: number | string;
  mid?: number;
  /** Token as hex. */
  token?: string;
  /** [number, value]; numbers need not be sorted (encoded in ascending order, stable). */
  options?: [number, OptionValue][];
  payload?: Buffer | string;
}

/** Minimal-length uint (RFC 7252 3.2: zero is the empty string). */
export function uint(v: number): Buffer {
  const bytes: number[] = [];
  while (v > 0) {
    bytes.unshift(v % 256);
    v = Math.floor(v / 256);
  }
  return Buffer.from(bytes);
}

function valueBytes(v: OptionValue): Buffer {
  if (typeof v === 'number') return uint(v);
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  return v;
}

export function codeByte(code: number | string): number {
  if (typeof code === 'number') return code;
  const [c, dd] = code.split('.');
  return (Number(c) << 5) | Number(dd);
}

function nibble(v: number): [number, Buffer] {
  if (v < 13) return [v, Buffer.alloc(0)];
  if (v < 269) return [13, Buffer.from([v - 13])];
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v - 269);
  return [14, b];
}

export function encodeOptions(options: [number, OptionValue][]): Buffer {
  const sorted = options.map((o, i) => [o[0], valueBytes(o[1]), i] as const)
    .sort((a, b) => a[0] - b[0] || a[2] - b[2]);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const [num, val] of sorted) {
    const [dn, dext] = nibble(num - prev);
    const [ln, lext] = nibble(val.length);
    parts.push(Buffer.from([(dn << 4) | ln]), dext, lext, val);
    prev = num;
  }
  return Buffer.concat(parts);
}

function body(spec: MessageSpec): Buffer {
  const opts = encodeOptions(spec.options ?? []);
  const payload = spec.payload === undefined ? Buffer.alloc(0) : Buffer.from(spec.payload);
  return payload.length > 0 ? Buffer.concat([opts, Buffer.from([0xff]), payload]) : opts;
}

export function encodeCoap(spec: MessageSpec): Buffer {
  const token = Buffer.from(spec.token ?? '', 'hex');
  const head = Buffer.alloc(4);
  head[0] = ((spec.version ?? 1) << 6) | ((spec.type ?? 0) << 4) | token.length;
  head[1] = codeByte(spec.code);
  head.writeUInt16BE(spec.mid ?? 0, 2);
  return Buffer.concat([head, token, body(spec)]);
}

/** RFC 8323 section 3.2 framing: Len/TKL, extended length, code, token, options, payload. */
export function encodeCoapTcp(spec: MessageSpec): Buffer {
  const token = Buffer.from(spec.token ?? '', 'hex');
  const rest = body(spec);
  const n = rest.length;
  let first: number;
  let ext: Buffer;
  if (n < 13) {
    first = n;
    ext = Buffer.alloc(0);
  } else if (n < 269) {
    first = 13;
    ext = Buffer.from([n - 13]);
  } else if (n < 65805) {
    first = 14;
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(n - 269);
  } else {
    first = 15;
    ext = Buffer.alloc(4);
    ext.writeUInt32BE(n - 65805);
  }
  return Buffer.concat([Buffer.from([(first << 4) | token.length]), ext, Buffer.from([codeByte(spec.code)]), token, rest]);
}

/** "40 01 12 34" -> bytes (spaces and colons ignored). */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/[\s:]/g, ''), 'hex');
}
