// The TLS/DTLS events the tls.* and dtls.* detectors consume. The TLS decoder is being built in
// parallel (src/events/tls-types.ts); these are the minimal shapes assumed until it lands, so the
// detectors can be wired by swapping these interfaces for the real ones. Every field a detector
// reads is listed here; optional fields are ones a passive decoder cannot always know.
import type { EventBase } from '../../src/events/types';

/** A version as the decoder names it: 'SSL 3.0', 'TLS 1.0'...'TLS 1.3', 'DTLS 1.0', 'DTLS 1.2', or the wire code (0x0303). */
export type TlsVersion = string | number;

export interface TlsClientHello extends EventBase {
  readonly type: 'tls.client_hello' | 'dtls.client_hello';
  /** Highest version offered (supported_versions when present, else legacy_version). */
  readonly version: TlsVersion;
  readonly sni?: string;
}

export interface TlsServerHello extends EventBase {
  readonly type: 'tls.server_hello' | 'dtls.server_hello';
  /** Negotiated version (supported_versions extension when present). */
  readonly version: TlsVersion;
  readonly cipherSuite?: number | string;
  /**
   * Whether the server's flight carried a CertificateRequest before ServerHelloDone (TLS/DTLS <= 1.2).
   * undefined when it cannot be seen (TLS 1.3 encrypts it, or the flight was not complete).
   */
  readonly certificateRequested?: boolean;
}

export interface TlsCertificate extends EventBase {
  readonly type: 'tls.certificate';
  /** One event per certificate in the Certificate message; 0 = the end-entity certificate. */
  readonly chainIndex?: number;
  readonly subject: string;
  readonly issuer?: string;
  /** Validity, microseconds since the epoch or an ISO 8601 string. */
  readonly notBefore: number | string;
  readonly notAfter: number | string;
  /** Subject equals issuer and the signature verifies with the certificate's own key. */
  readonly selfSigned: boolean;
  /** SHA-256 of the DER certificate, hex. */
  readonly sha256: string;
}

export interface TlsAlertEvent extends EventBase {
  readonly type: 'tls.alert' | 'dtls.alert';
  readonly level: number | string;
  readonly description: number | string;
}

/** The psk_identity of a DTLS ClientKeyExchange (RFC 4279 section 2), in the clear. */
export interface DtlsPskIdentity extends EventBase {
  readonly type: 'dtls.psk_identity';
  readonly identity: string;
}

export type TlsInputEvent = TlsClientHello | TlsServerHello | TlsCertificate | TlsAlertEvent | DtlsPskIdentity;

/** Ordinal of a version: SSL 2.0 = 0, SSL 3.0 = 1, TLS 1.0 = 2, 1.1 = 3, 1.2 = 4, 1.3 = 5 (DTLS 1.0 = 3, 1.2 = 4, 1.3 = 5). -1 unknown. */
export function versionRank(v: TlsVersion): number {
  if (typeof v === 'number') {
    switch (v) {
      case 0x0002: return 0;
      case 0x0300: return 1;
      case 0x0301: return 2;
      case 0x0302: return 3;
      case 0x0303: return 4;
      case 0x0304: return 5;
      case 0xfeff: return 3;
      case 0xfefd: return 4;
      case 0xfefc: return 5;
      default: return -1;
    }
  }
  const m = /^(SSL|TLS|DTLS)\s*v?(\d)\.(\d)$/i.exec(v.trim());
  if (m === null) return -1;
  const [, proto, maj, min] = m;
  const p = proto.toUpperCase();
  if (p === 'SSL') return maj === '2' ? 0 : maj === '3' ? 1 : -1;
  if (p === 'TLS' && maj === '1') return ({ '0': 2, '1': 3, '2': 4, '3': 5 } as Record<string, number>)[min] ?? -1;
  if (p === 'DTLS' && maj === '1') return ({ '0': 3, '2': 4, '3': 5 } as Record<string, number>)[min] ?? -1;
  return -1;
}

export function versionLabel(v: TlsVersion): string {
  if (typeof v === 'string') return v;
  const names: Record<number, string> = {
    0x0002: 'SSL 2.0', 0x0300: 'SSL 3.0', 0x0301: 'TLS 1.0', 0x0302: 'TLS 1.1', 0x0303: 'TLS 1.2', 0x0304: 'TLS 1.3',
    0xfeff: 'DTLS 1.0', 0xfefd: 'DTLS 1.2', 0xfefc: 'DTLS 1.3',
  };
  return names[v] ?? `0x${v.toString(16).padStart(4, '0')}`;
}

/** A certificate time in µs since the epoch, NaN when it does not parse. Pure: no clock. */
export function certTimeUs(t: number | string): number {
  if (typeof t === 'number') return t;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? NaN : ms * 1000;
}
