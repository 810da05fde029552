// Events of the encrypted and tunnelled transports (issue 5): TLS, DTLS. Facts seen in clear
// on the wire, never guesses about what the encryption hides. The event type names are a fixed
// interface; TlsEvent is meant to join IotEvent.
//
// Versions and code points are numbers as on the wire (0x0303 = TLS 1.2, 0xfefd = DTLS 1.2),
// so they compare directly with tshark's fields; `version` strings are for people.
import type { AnomalyEvent, EventBase } from './types';

/** What a ClientHello offers; shared by TLS and DTLS (RFC 8446 section 4.1.2, RFC 6347 4.2.1). */
export interface HelloOffer {
  /** legacy_version / client_version field. */
  readonly legacyVersion: number;
  /** supported_versions extension (RFC 8446 4.2.1), GREASE included as sent; [] when absent. */
  readonly supportedVersions: readonly number[];
  /** Highest version offered, GREASE ignored: e.g. 'TLS 1.3', 'TLS 1.2', 'DTLS 1.2'. */
  readonly version: string;
  /** Cipher suites in offer order, GREASE included (tshark lists them too). */
  readonly cipherSuites: readonly number[];
  /** Extension types in order, GREASE included. */
  readonly extensions: readonly number[];
  /** server_name (RFC 6066 section 3) host_name, or null when absent. */
  readonly sni: string | null;
  /** ALPN protocol names offered (RFC 7301), [] when absent. */
  readonly alpn: readonly string[];
  /** signature_algorithms (RFC 8446 4.2.3), [] when absent. */
  readonly signatureAlgorithms: readonly number[];
  /** supported_groups (RFC 8446 4.2.7 / RFC 8422 elliptic_curves), [] when absent. */
  readonly supportedGroups: readonly number[];
  /** Length of the legacy session id (0-32). */
  readonly sessionIdLength: number;
  /** JA4 fingerprint (FoxIO JA4 spec) and its raw, unhashed form (JA4_r). */
  readonly ja4: string;
  readonly ja4r: string;
  /** Number of PSK identities offered in pre_shared_key (RFC 8446 4.2.11); 0 when absent. */
  readonly pskIdentities: number;
}

export interface TlsClientHello extends EventBase, HelloOffer {
  readonly type: 'tls.client_hello';
  /** Version in the record header that carried the ClientHello. */
  readonly recordVersion: number;
  /** Size of the ClientHello handshake message (header included). */
  readonly length: number;
}

export interface TlsServerHello extends EventBase {
  readonly type: 'tls.server_hello';
  readonly legacyVersion: number;
  /** Negotiated version: supported_versions' selected_version for TLS 1.3, else legacy_version. */
  readonly selectedVersion: number;
  readonly version: string;
  readonly cipherSuite: number;
  readonly compressionMethod: number;
  readonly extensions: readonly number[];
  /** Selected ALPN protocol (TLS <= 1.2 only: TLS 1.3 sends it encrypted), or null. */
  readonly alpn: string | null;
  readonly sessionIdLength: number;
  /** RFC 8446 4.1.3: a ServerHello whose random is the HelloRetryRequest magic. */
  readonly helloRetryRequest: boolean;
  /** False for TLS 1.3: the certificates are encrypted and no tls.certificate events follow. */
  readonly certificatesVisible: boolean;
  /**
   * Whether the server asked for a client certificate (CertificateRequest, RFC 5246 7.4.4);
   * null when that cannot be seen (TLS 1.3, or the server flight was cut short).
   */
  readonly clientCertificateRequested: boolean | null;
}

/** One certificate of a chain sent in clear: TLS <= 1.2, and DTLS 1.0/1.2 (flow.proto 'udp'). */
export interface TlsCertificate extends EventBase {
  readonly type: 'tls.certificate';
  /** 0 = the sender's own (leaf) certificate, then the chain as sent. */
  readonly position: number;
  readonly chainLength: number;
  /** Whose certificate: 'server' (in the to_client direction) or 'client'. */
  readonly sender: 'server' | 'client';
  /** 'C=.., O=.., CN=..' in certificate order. */
  readonly subject: string;
  readonly issuer: string;
  readonly subjectCn: string | null;
  /** Serial number as lower-case hex, no separators. */
  readonly serial: string;
  /** subjectAltName entries: 'DNS:x', 'IP Address:1.2.3.4', 'URI:..', 'email:..'. */
  readonly sans: readonly string[];
  /** Validity in microseconds since the epoch and as ISO 8601. */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly notBeforeIso: string;
  readonly notAfterIso: string;
  /** 'rsa' | 'ec' | 'ed25519' | 'ed448' | 'dsa' | 'rsa-pss' | ... */
  readonly keyType: string;
  /** Key size in bits (RSA modulus, EC curve size). 0 when unknown. */
  readonly keySize: number;
  /** EC named curve (e.g. 'prime256v1') when keyType is 'ec'. */
  readonly curve?: string;
  /** Certificate.signatureAlgorithm (RFC 5280 4.1.1.2): name and dotted OID. */
  readonly signatureAlgorithm: string;
  readonly signatureAlgorithmOid: string;
  /** Issuer equals subject and the signature verifies with the certificate's own key. */
  readonly selfSigned: boolean;
  readonly isCa: boolean;
  /** SHA-256 of the DER, lower-case hex without separators. */
  readonly sha256: string;
  /** DER size in bytes. */
  readonly length: number;
}

export interface TlsAlert extends EventBase {
  readonly type: 'tls.alert';
  /** True when the alert record was encrypted (after ChangeCipherSpec): level/description unknown. */
  readonly encrypted: boolean;
  /** 1 warning, 2 fatal (RFC 5246 7.2); null when encrypted. */
  readonly level: number | null;
  readonly levelName: 'warning' | 'fatal' | 'unknown' | null;
  readonly description: number | null;
  readonly descriptionName: string | null;
}

// ---------------------------------------------------------------- DTLS

export interface DtlsRecordRef {
  /** Record epoch and 48-bit sequence number (RFC 6347 section 4.1) of the carrying record. */
  readonly epoch: number;
  readonly sequence: number;
}

export interface DtlsClientHello extends EventBase, HelloOffer, DtlsRecordRef {
  readonly type: 'dtls.client_hello';
  readonly recordVersion: number;
  /** Cookie echoed after a HelloVerifyRequest (RFC 6347 4.2.1), hex; '' when empty. */
  readonly cookie: string;
  /** Handshake message_seq. */
  readonly messageSeq: number;
  readonly length: number;
}

export interface DtlsServerHello extends EventBase, DtlsRecordRef {
  readonly type: 'dtls.server_hello';
  readonly legacyVersion: number;
  readonly selectedVersion: number;
  readonly version: string;
  readonly cipherSuite: number;
  /** IANA name of the suite when it is in the decoder's table (PSK families and common ones). */
  readonly cipherSuiteName: string | null;
  /** 'psk' | 'dhe_psk' | 'rsa_psk' | 'ecdhe_psk' | 'other' */
  readonly keyExchange: PskKeyExchange | 'other';
  readonly extensions: readonly number[];
  readonly sessionIdLength: number;
  /** The server asked for a cookie first (a HelloVerifyRequest was seen on this flow). */
  readonly helloVerifyRequested: boolean;
  readonly certificatesVisible: boolean;
}

export type PskKeyExchange = 'psk' | 'dhe_psk' | 'rsa_psk' | 'ecdhe_psk';

export interface DtlsPskIdentity extends EventBase, DtlsRecordRef {
  readonly type: 'dtls.psk_identity';
  /** The identity with non-printable bytes escaped as \xNN (RFC 4279 section 5.1 recommends UTF-8). */
  readonly identity: string;
  readonly identityHex: string;
  readonly identityLength: number;
  /** The server's psk_identity_hint from its ServerKeyExchange, printable; null when none was sent. */
  readonly identityHint: string | null;
  readonly keyExchange: PskKeyExchange;
  readonly cipherSuite: number;
}

export interface DtlsAlert extends EventBase, DtlsRecordRef {
  readonly type: 'dtls.alert';
  readonly encrypted: boolean;
  readonly level: number | null;
  readonly levelName: 'warning' | 'fatal' | 'unknown' | null;
  readonly description: number | null;
  readonly descriptionName: string | null;
}

export type TlsEvent =
  | TlsClientHello | TlsServerHello | TlsCertificate | TlsAlert
  | DtlsClientHello | DtlsServerHello | DtlsPskIdentity | DtlsAlert;

/** Where the TLS/DTLS/WebSocket decoders deliver: their events and anomalies. */
export type TransportEventSink = (event: TlsEvent | AnomalyEvent) => void;
