// RFC 5424 syslog messages and the RFC 6587 / RFC 5425 octet-counting frame.
//   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG
// Structured data uses only IANA-registered SD-IDs (RFC 5424 section 7): origin (who sent it)
// and meta sequenceId (so a receiver can see gaps), no private enterprise number needed.
import type { Severity } from '../alerts/types';

/** RFC 5424 section 6.2.1 severities for alert severities. */
export const SYSLOG_SEVERITY: Readonly<Record<Severity, number>> = { critical: 2, high: 3, medium: 4, low: 5, info: 6 };

/** local0: where security appliances usually log; configurable. */
export const DEFAULT_FACILITY = 16;

export interface SyslogHeader {
  /** 0..23 */
  readonly facility: number;
  readonly severity: number;
  /** µs since the epoch. */
  readonly timestampUs: number;
  readonly hostname: string;
  readonly appName: string;
  readonly procId: string;
  readonly msgId: string;
  /** 1..2147483647, wrapping (RFC 5424 section 7.3.1). */
  readonly sequenceId?: number;
  readonly software?: { name: string; version: string };
}

/** PRINTUSASCII only (RFC 5424 section 6), capped; '-' (NILVALUE) when empty. */
export function headerField(s: string, max: number): string {
  const clean = s.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return clean === '' ? '-' : clean;
}

/** PARAM-VALUE escaping: '"', '\' and ']' (RFC 5424 section 6.3.3). */
export function escapeSdValue(s: string): string {
  return s.replace(/[\\"\]]/g, (c) => `\\${c}`);
}

/** RFC 3339 with TIME-SECFRAC of six digits, UTC. */
export function syslogTimestamp(us: number): string {
  const ms = Math.floor(us / 1000);
  return new Date(ms).toISOString().replace('Z', `${String(Math.floor(us) - ms * 1000).padStart(3, '0')}Z`);
}

export function formatSyslog(h: SyslogHeader, msg: string): string {
  if (!Number.isInteger(h.facility) || h.facility < 0 || h.facility > 23) throw new Error('syslog facility must be 0..23');
  const pri = h.facility * 8 + h.severity;
  const sd: string[] = [];
  if (h.software) sd.push(`[origin software="${escapeSdValue(h.software.name)}" swVersion="${escapeSdValue(h.software.version)}"]`);
  if (h.sequenceId !== undefined) sd.push(`[meta sequenceId="${h.sequenceId}"]`);
  return [
    `<${pri}>1`,
    syslogTimestamp(h.timestampUs),
    headerField(h.hostname, 255),
    headerField(h.appName, 48),
    headerField(h.procId, 128),
    headerField(h.msgId, 32),
    sd.length ? sd.join('') : '-',
    msg,
  ].join(' ');
}

/**
 * Cuts a message to at most maxBytes of UTF-8 without splitting a character, and without
 * leaving a dangling CEF escape backslash at the end. Returns the bytes.
 */
export function truncateUtf8(msg: string, maxBytes: number): { bytes: Buffer; truncated: boolean } {
  const buf = Buffer.from(msg, 'utf8');
  if (buf.length <= maxBytes) return { bytes: buf, truncated: false };
  let end = maxBytes;
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--; // back to a character start
  let cut = buf.subarray(0, end);
  let slashes = 0;
  while (slashes < cut.length && cut[cut.length - 1 - slashes] === 0x5c) slashes++;
  if (slashes % 2 === 1) cut = cut.subarray(0, cut.length - 1);
  return { bytes: cut, truncated: true };
}

/** Octet-counting framing: MSG-LEN SP SYSLOG-MSG (RFC 6587 section 3.4.1, RFC 5425 section 4.3). */
export function octetCountingFrame(msg: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${msg.length} `, 'ascii'), msg]);
}
