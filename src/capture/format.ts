// Recognising what a capture file is from its first bytes, and the error raised when it is
// neither pcap nor pcapng. The message is one line meant for the user as is.

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
/** Kuznetsov's patched libpcap (24-byte record headers); tshark reads it, so do we. */
export const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;
export const PCAPNG_SHB_TYPE = 0x0a0d0d0a;

export type CaptureKind = 'pcap' | 'pcapng' | 'gzip' | 'unknown';

/** Thrown when the input is not a capture we can read at all (wrong format, empty). */
export class CaptureFormatError extends Error {
  override readonly name = 'CaptureFormatError';
  constructor(
    readonly file: string,
    /** What the input looked like ("NetXRay/Sniffer capture", "empty file" ...). */
    readonly seen: string,
    message: string,
  ) {
    super(message);
  }
}

/** Classifies the input by its first four bytes (enough for pcap, pcapng and gzip). */
export function captureKind(head: Buffer): CaptureKind {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length < 4) return 'unknown';
  const be = head.readUInt32BE(0);
  const le = head.readUInt32LE(0);
  if (be === PCAPNG_SHB_TYPE) return 'pcapng';
  for (const m of [PCAP_MAGIC_US, PCAP_MAGIC_NS, PCAP_MAGIC_MODIFIED]) {
    if (be === m || le === m) return 'pcap';
  }
  return 'unknown';
}

function startsWith(head: Buffer, ascii: string): boolean {
  if (head.length < ascii.length) return false;
  for (let i = 0; i < ascii.length; i++) if (head[i] !== ascii.charCodeAt(i)) return false;
  return true;
}

function isTextByte(c: number): boolean {
  return (c >= 0x20 && c < 0x7f) || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** A short human description of a non-pcap input, from its first bytes (up to 16). */
export function describeForeignFormat(head: Buffer): string {
  if (startsWith(head, 'XCP\0')) return 'NetXRay/Sniffer capture';
  if (startsWith(head, 'TRSNIFF data')) return 'Sniffer (DOS) capture';
  if (startsWith(head, 'snoop\0\0\0')) return 'snoop capture';
  if (startsWith(head, 'GMBU')) return 'Microsoft Network Monitor 2.x capture';
  if (startsWith(head, 'RTSS')) return 'Microsoft Network Monitor 1.x capture';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip-compressed data';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x28b52ffd) return 'zstd-compressed data';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x04224d18) return 'LZ4-compressed data';
  if (startsWith(head, 'BZh')) return 'bzip2-compressed data';
  if (startsWith(head, '\xfd7zXZ\0')) return 'xz-compressed data';
  if (startsWith(head, 'PK\x03\x04')) return 'zip archive';
  if (head.length >= 16 && looksLikeErf(head)) return 'Endace ERF capture';
  let text = head.length > 0;
  for (let i = 0; i < head.length; i++) if (!isTextByte(head[i])) text = false;
  if (text) return `text ${JSON.stringify(head.toString('latin1'))}`;
  return 'unknown format';
}

/**
 * ERF has no magic number. Its record header starts with a little-endian 64-bit fixed-point
 * timestamp (seconds in the high word), then type, flags, rlen (>= 16) and wlen, big-endian.
 * A plausible date plus a known record type is the same heuristic wiretap uses.
 */
function looksLikeErf(h: Buffer): boolean {
  const secs = h.readUInt32LE(4);
  const type = h[8] & 0x7f;
  const rlen = h.readUInt16BE(10);
  return secs >= 631152000 && secs <= 4102444800 && type >= 1 && type <= 48 && rlen >= 16;
}

function hexBytes(head: Buffer, n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < Math.min(n, head.length); i++) parts.push(head[i].toString(16).padStart(2, '0'));
  return parts.join(' ');
}

/** The error for an input that is not pcap/pcapng; `head` holds its first bytes. */
export function foreignFormatError(file: string, head: Buffer): CaptureFormatError {
  if (head.length === 0) {
    return new CaptureFormatError(file, 'empty file', `iotwatch: ${file}: empty file, not a pcap or pcapng capture`);
  }
  if (head.length < 4) {
    return new CaptureFormatError(
      file,
      'too short',
      `iotwatch: ${file}: only ${head.length} byte(s), too short for a pcap or pcapng file (magic ${hexBytes(head, 4)})`,
    );
  }
  const seen = describeForeignFormat(head);
  const looks = seen === 'unknown format' ? 'unknown format' : `looks like ${seen}`;
  return new CaptureFormatError(
    file,
    seen,
    `iotwatch: ${file}: not a pcap or pcapng file (${looks}, magic ${hexBytes(head, 4)})`,
  );
}
