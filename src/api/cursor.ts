// API cursors wrap the store's opaque cursors. The wrapper names what the cursor pages
// (an inventory cursor is refused on /alerts), carries a tag so a truncated or edited cursor
// is refused before it reaches the store, and is base64url so it is safe in a URL and as an
// SSE event id (no CR, LF or NUL). With a secret the tag is an HMAC and forging needs the key;
// the default tag is a plain digest, stable across restarts so SIEM consumers keep their place.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ApiError } from './errors';

export type CursorKind = 'alerts' | 'feed' | 'clients' | 'topics' | 'coap' | 'tls';

export interface DecodedCursor {
  /** The store's own cursor. */
  readonly store: string;
  /** Feed only: alerts with seq <= this were already delivered from the page after `store`. */
  readonly seq?: number;
}

/** Room for a store cursor of 2 KiB after base64url and the tag. */
export const MAX_CURSOR_LENGTH = 4096;
const TAG_BYTES = 9;

export interface CursorCodec {
  encode(kind: CursorKind, c: DecodedCursor): string;
  /** Throws ApiError bad_cursor on anything this codec did not make for `kind`. */
  decode(kind: CursorKind, text: string): DecodedCursor;
}

export function createCursorCodec(secret?: Buffer): CursorCodec {
  const tag = (payload: string): Buffer =>
    (secret ? createHmac('sha256', secret) : createHash('sha256').update('iotwatch-cursor\0'))
      .update(payload).digest().subarray(0, TAG_BYTES);
  const bad = (): ApiError => new ApiError(400, 'bad_cursor', 'cursor is malformed, forged or from another listing');

  return {
    encode(kind, c) {
      const payload = Buffer.from(JSON.stringify(c.seq === undefined ? [1, kind, c.store] : [1, kind, c.store, c.seq]))
        .toString('base64url');
      return `${payload}.${tag(payload).toString('base64url')}`;
    },
    decode(kind, text) {
      if (text.length > MAX_CURSOR_LENGTH) throw bad();
      const m = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{12})$/.exec(text);
      if (!m) throw bad();
      const given = Buffer.from(m[2], 'base64url');
      const want = tag(m[1]);
      if (given.length !== want.length || !timingSafeEqual(given, want)) throw bad();
      let v: unknown;
      try {
        v = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8'));
      } catch {
        throw bad();
      }
      if (!Array.isArray(v) || v[0] !== 1 || v[1] !== kind || typeof v[2] !== 'string') throw bad();
      if (v.length === 3) return { store: v[2] };
      if (v.length === 4 && Number.isSafeInteger(v[3]) && v[3] >= 0) return { store: v[2], seq: v[3] as number };
      throw bad();
    },
  };
}
