// Turning validated query strings into store queries: times, lists, addresses. The JSON
// schemas bound sizes and characters first; these functions check meaning.
import { ipToText, parseIp } from '../flow/address';
import { ApiError } from './errors';

/** Refuses NUL anywhere: no legitimate identifier, topic or text holds one ([MQTT-1.5.4-2]). */
export const NO_NUL = '^[^\\u0000]*$';

export const MAX_US = Number.MAX_SAFE_INTEGER;

// RFC 3339 date-time (offset required, so no local-time guessing) or a plain date (UTC).
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2}))?$/i;

/** Microseconds since the epoch from digits (µs) or ISO 8601 / RFC 3339 text. */
export function parseTime(text: string, field: string): number {
  const bad = (why: string): ApiError => new ApiError(400, 'bad_request', `${field}: ${why}`);
  if (/^\d{1,20}$/.test(text)) {
    const n = Number(text);
    if (!Number.isSafeInteger(n)) throw bad('microseconds out of range');
    return n;
  }
  const m = ISO.exec(text);
  if (!m) throw bad('expected microseconds since the epoch or an ISO 8601 time with an offset (2024-05-01T12:00:00Z)');
  const [y, mo, d, h = '0', mi = '0', s = '0'] = m.slice(1, 7);
  const frac = m[7] ?? '';
  const off = m[8];
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  const check = new Date(ms);
  if (
    +mo < 1 || +mo > 12 || +h > 23 || +mi > 59 || +s > 59 ||
    check.getUTCFullYear() !== +y || check.getUTCMonth() !== +mo - 1 || check.getUTCDate() !== +d
  ) {
    throw bad('not a calendar time');
  }
  let offsetMin = 0;
  if (off && off.toUpperCase() !== 'Z') {
    const om = /^([+-])(\d{2}):?(\d{2})$/.exec(off)!;
    if (+om[2] > 23 || +om[3] > 59) throw bad('bad offset');
    offsetMin = (om[1] === '-' ? -1 : 1) * (+om[2] * 60 + +om[3]);
  }
  const us = (ms - offsetMin * 60_000) * 1000 + Number(frac.padEnd(6, '0').slice(0, 6));
  if (!Number.isSafeInteger(us) || us < 0) throw bad('time out of range');
  return us;
}

/** "a,b,c" -> ['a','b','c'], each checked; empty items are ignored. */
export function parseList(text: string, field: string, itemPattern: RegExp, max: number): string[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new ApiError(400, 'bad_request', `${field}: empty list`);
  if (items.length > max) throw new ApiError(400, 'bad_request', `${field}: at most ${max} items`);
  for (const it of items) {
    if (!itemPattern.test(it)) throw new ApiError(400, 'bad_request', `${field}: invalid item`);
  }
  return [...new Set(items)];
}

/** An address in the text form the alerts use (RFC 5952 for IPv6), so "::0001" finds "::1". */
export function normalizeAddress(text: string): string {
  const bytes = parseIp(text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text);
  if (!bytes) throw new ApiError(400, 'bad_request', 'address: not an IPv4 or IPv6 address');
  return ipToText(bytes, 0, bytes.length as 4 | 16);
}

/** "300", "300s", "5m", "1h", "1d" -> seconds. */
export function parseBucket(text: string): number {
  const m = /^(\d{1,7})([smhd]?)$/.exec(text);
  if (!m) throw new ApiError(400, 'bad_request', 'bucket: expected seconds or a duration such as 5m, 1h, 1d');
  const n = Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[m[2]];
  if (n < 1 || n > 366 * 86400) throw new ApiError(400, 'bad_request', 'bucket: between 1 second and 366 days');
  return n;
}
