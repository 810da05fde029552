// Opaque cursors: base64url of a small JSON object. Opaque to clients, but decoded strictly here:
// a cursor is user input that ends up in SQL, so every field is type-checked before use.
import { CursorError } from './errors';
import { wellFormed } from './validate';

const MAX_CURSOR_LENGTH = 2048;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

export function encodeCursor(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Decodes a cursor to a plain object with kind `kind`; throws CursorError on anything else. */
export function decodeCursor(cursor: string, kind: string): Record<string, unknown> {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) {
    throw new CursorError('malformed cursor');
  }
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new CursorError('malformed cursor');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new CursorError('malformed cursor');
  const o = v as Record<string, unknown>;
  if (o.v !== 1) throw new CursorError('unsupported cursor version');
  if (o.k !== kind) throw new CursorError(`cursor is not a ${kind} cursor`);
  return o;
}

export function cursorInt(o: Record<string, unknown>, field: string): number {
  const n = o[field];
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new CursorError(`cursor field ${field} invalid`);
  return n;
}

export function cursorString(o: Record<string, unknown>, field: string, maxLength = 1024): string {
  const s = o[field];
  if (typeof s !== 'string' || s.length > maxLength || !wellFormed(s)) throw new CursorError(`cursor field ${field} invalid`);
  return s;
}

/** A keyset position: a tuple of numbers and strings, checked against the expected shape. */
export function cursorTuple(o: Record<string, unknown>, field: string, shape: readonly ('n' | 's')[]): (number | string)[] {
  const t = o[field];
  if (!Array.isArray(t) || t.length !== shape.length) throw new CursorError(`cursor field ${field} invalid`);
  return t.map((x: unknown, i) => {
    if (shape[i] === 'n') {
      if (typeof x !== 'number' || !Number.isSafeInteger(x)) throw new CursorError(`cursor field ${field} invalid`);
      return x;
    }
    if (typeof x !== 'string' || x.length > 4096 || !wellFormed(x)) throw new CursorError(`cursor field ${field} invalid`);
    return x;
  });
}
