// Pure parsers for DTLS records and handshake fragment headers (RFC 6347 4.1 and 4.2.2,
// RFC 9147 section 4 for the DTLS 1.3 unified header).

export const DTLS_HEADER = 13;
export const DTLS_HS_HEADER = 12;
/** RFC 6347 4.1: a record's length must not exceed 2^14 + 2048. */
export const DTLS_MAX_RECORD = 16384 + 2048;
/** RFC 9146: DTLS 1.2 record carrying a connection id; its header length depends on the negotiated CID. */
export const CONTENT_TLS12_CID = 25;

export type DtlsRecord =
  | { kind: 'plain'; type: number; version: number; epoch: number; sequence: number; bodyOff: number; bodyLen: number; next: number }
  /** RFC 9147 4: 001CSLEE. `bodyLen` is -1 when the length is unknown (connection id present). */
  | { kind: 'unified'; epochBits: number; cid: boolean; bodyOff: number; bodyLen: number; next: number }
  /** RFC 9146 tls12_cid record: the CID length is not visible in the record itself. */
  | { kind: 'cid'; version: number; epoch: number; sequence: number; next: number };

const isDtlsVersion = (v: number): boolean => v === 0xfeff || v === 0xfefd || v === 0xfefc || v === 0x0100;

/** One record at `off` of a datagram ending at `end`; an error text when it does not frame. */
export function readDtlsRecord(buf: Buffer, off: number, end: number): DtlsRecord | string {
  const first = buf[off];
  if ((first & 0xe0) === 0x20) {
    // Unified header: C (0x10) connection id, S (0x08) 16-bit sequence, L (0x04) length present.
    const cid = (first & 0x10) !== 0;
    let p = off + 1;
    if (cid) return { kind: 'unified', epochBits: first & 3, cid, bodyOff: -1, bodyLen: -1, next: end };
    p += first & 0x08 ? 2 : 1;
    if (first & 0x04) {
      if (p + 2 > end) return 'unified header truncated';
      const len = buf.readUInt16BE(p);
      p += 2;
      if (p + len > end) return `DTLS 1.3 record of ${len} bytes runs past the datagram`;
      return { kind: 'unified', epochBits: first & 3, cid, bodyOff: p, bodyLen: len, next: p + len };
    }
    if (p > end) return 'unified header truncated';
    return { kind: 'unified', epochBits: first & 3, cid, bodyOff: p, bodyLen: end - p, next: end };
  }
  if (off + DTLS_HEADER > end) return `${end - off} bytes are too few for a DTLS record header`;
  const type = first;
  const version = buf.readUInt16BE(off + 1);
  const epoch = buf.readUInt16BE(off + 3);
  const sequence = buf.readUIntBE(off + 5, 6);
  if (!isDtlsVersion(version)) return `record version 0x${version.toString(16)}`;
  if (type === CONTENT_TLS12_CID) return { kind: 'cid', version, epoch, sequence, next: end };
  if (type < 20 || type > 24) return `record content type ${type}`;
  const len = buf.readUInt16BE(off + 11);
  if (len > DTLS_MAX_RECORD) return `record length ${len}`;
  if (off + DTLS_HEADER + len > end) return `record of ${len} bytes runs past the datagram`;
  return { kind: 'plain', type, version, epoch, sequence, bodyOff: off + DTLS_HEADER, bodyLen: len, next: off + DTLS_HEADER + len };
}

export interface HandshakeFragment {
  type: number;
  /** Length of the whole message. */
  length: number;
  messageSeq: number;
  fragmentOffset: number;
  fragmentLength: number;
  /** Offset of the fragment bytes. */
  dataOff: number;
}

/** Handshake header (RFC 6347 4.2.2); null when it does not fit or is inconsistent. */
export function readHandshakeFragment(buf: Buffer, off: number, end: number): HandshakeFragment | string {
  if (off + DTLS_HS_HEADER > end) return 'handshake header truncated';
  const f: HandshakeFragment = {
    type: buf[off],
    length: buf.readUIntBE(off + 1, 3),
    messageSeq: buf.readUInt16BE(off + 4),
    fragmentOffset: buf.readUIntBE(off + 6, 3),
    fragmentLength: buf.readUIntBE(off + 9, 3),
    dataOff: off + DTLS_HS_HEADER,
  };
  if (f.dataOff + f.fragmentLength > end) return `fragment of ${f.fragmentLength} bytes runs past the record`;
  if (f.fragmentOffset + f.fragmentLength > f.length) {
    return `fragment ${f.fragmentOffset}+${f.fragmentLength} runs past the message length ${f.length}`;
  }
  return f;
}

/**
 * Classifier check: a datagram that starts with a DTLS 1.0/1.2 record header (RFC 6347 4.1)
 * whose length fits in the datagram.
 */
export function looksLikeDtls(buf: Buffer, off: number, len: number): boolean {
  if (len < DTLS_HEADER) return false;
  const type = buf[off];
  if (type < 20 || type > 25) return false;
  if (!isDtlsVersion(buf.readUInt16BE(off + 1))) return false;
  if (type === CONTENT_TLS12_CID) return true;
  const rlen = buf.readUInt16BE(off + 11);
  if (rlen > DTLS_MAX_RECORD || DTLS_HEADER + rlen > len) return false;
  // a handshake record at epoch 0 must carry a whole handshake header
  if (type === 22 && buf.readUInt16BE(off + 3) === 0 && rlen < DTLS_HS_HEADER) return false;
  return true;
}
