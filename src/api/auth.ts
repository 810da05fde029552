// Bearer API tokens. Tokens are kept only as sha256 digests and compared digest to digest
// with timingSafeEqual over every configured token, so neither the match nor its position
// leaks through timing. Rule: whenever a token is configured, or the API listens beyond
// loopback, every route but /api/v1/health needs one; beyond loopback with no token at all,
// every such route is refused, so an exposed API is never open.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ApiError } from './errors';

export type TokenScope = 'read' | 'read-write';

export interface TokenEntry {
  readonly name: string;
  /** Hex sha256 of the token. */
  readonly sha256: string;
  readonly scope: TokenScope;
}

export interface TokenConfig {
  /** One read-write token in clear (IOTWATCH_API_TOKEN, read by the caller). */
  readonly token?: string;
  /** Hashed tokens, as from loadTokens(). */
  readonly tokens?: readonly TokenEntry[];
}

export interface Principal {
  readonly name: string;
  readonly scope: TokenScope;
}

/** Shorter tokens are refused at start-up: a guessable token is no protection. */
export const MIN_TOKEN_LENGTH = 16;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Reads a tokens file: JSON [{name, sha256, scope}]. Throws with the file and entry named. */
export function loadTokens(path: string): TokenEntry[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`${path}: ${e.code === 'ENOENT' ? 'no such tokens file' : `not a JSON tokens file (${e.message})`}`);
  }
  return parseTokenEntries(data, path);
}

export function parseTokenEntries(data: unknown, source = 'tokens'): TokenEntry[] {
  if (!Array.isArray(data)) throw new Error(`${source}: expected a JSON array of {name, sha256, scope}`);
  const names = new Set<string>();
  return data.map((e: unknown, i) => {
    const o = e as Record<string, unknown> | null;
    const where = `${source}[${i}]`;
    if (!o || typeof o !== 'object' || Array.isArray(o)) throw new Error(`${where}: expected an object`);
    if (typeof o.name !== 'string' || o.name.length === 0 || o.name.length > 128) {
      throw new Error(`${where}: name must be a string of 1..128 characters`);
    }
    if (typeof o.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(o.sha256)) {
      throw new Error(`${where}: sha256 must be 64 hex digits (sha256 of the token)`);
    }
    if (o.scope !== 'read' && o.scope !== 'read-write') throw new Error(`${where}: scope must be "read" or "read-write"`);
    if (names.has(o.name)) throw new Error(`${where}: duplicate name ${JSON.stringify(o.name)}`);
    names.add(o.name);
    return { name: o.name, sha256: o.sha256.toLowerCase(), scope: o.scope };
  });
}

/** True for hosts that only this machine can reach. Unknown names count as beyond loopback. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined || host === 'localhost') return true;
  let h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h.toLowerCase().startsWith('::ffff:') && isIP(h.slice(7)) === 4) h = h.slice(7);
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return /^(0{0,4}:){2,7}0{0,3}1$/.test(h) || h === '::1';
  return false;
}

interface DigestEntry { readonly name: string; readonly scope: TokenScope; readonly digest: Buffer }

export interface Authenticator {
  /** Whether a request needs a token at all. */
  readonly required: boolean;
  /** The caller for an Authorization header value; throws 401 ApiErrors. */
  authenticate(header: string | undefined): Principal | null;
}

export function createAuthenticator(cfg: TokenConfig | undefined, listenHost: string | undefined): Authenticator {
  const entries: DigestEntry[] = [];
  if (cfg?.token !== undefined) {
    if (cfg.token.length < MIN_TOKEN_LENGTH) throw new Error(`API token must be at least ${MIN_TOKEN_LENGTH} characters`);
    entries.push({ name: 'api-token', scope: 'read-write', digest: createHash('sha256').update(cfg.token, 'utf8').digest() });
  }
  for (const t of parseTokenEntries(cfg?.tokens ?? [])) {
    entries.push({ name: t.name, scope: t.scope, digest: Buffer.from(t.sha256, 'hex') });
  }
  const beyondLoopback = !isLoopbackHost(listenHost);
  const required = entries.length > 0 || beyondLoopback;

  return {
    required,
    authenticate(header) {
      if (!required) return null;
      if (entries.length === 0) {
        throw new ApiError(401, 'auth_not_configured',
          'this API listens beyond loopback and no API token is configured: set IOTWATCH_API_TOKEN or a tokens file',
          { 'www-authenticate': 'Bearer realm="iotwatch"' });
      }
      const m = header === undefined ? null : /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header);
      if (!m) {
        throw new ApiError(401, 'unauthorized', 'a bearer token is required (Authorization: Bearer TOKEN)',
          { 'www-authenticate': 'Bearer realm="iotwatch"' });
      }
      const digest = createHash('sha256').update(m[1], 'utf8').digest();
      let found: DigestEntry | null = null;
      for (const e of entries) {
        // No early exit: every entry costs the same whatever matches.
        if (timingSafeEqual(digest, e.digest) && found === null) found = e;
      }
      if (!found) {
        throw new ApiError(401, 'invalid_token', 'the bearer token is not valid',
          { 'www-authenticate': 'Bearer realm="iotwatch", error="invalid_token"' });
      }
      return { name: found.name, scope: found.scope };
    },
  };
}

export function requireWrite(p: Principal | null, required: boolean): void {
  if (required && p?.scope !== 'read-write') {
    throw new ApiError(403, 'forbidden', 'this token is read-only; a read-write token is needed',
      { 'www-authenticate': 'Bearer realm="iotwatch", error="insufficient_scope"' });
  }
}
