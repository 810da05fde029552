// DTLS decoder: hellos, HelloVerifyRequest, fragment reassembly, PSK identities, alerts.
export { createDtlsHandler, type DtlsHandler, type DtlsOptions, type DtlsStats } from './state';
export { looksLikeDtls, readDtlsRecord, readHandshakeFragment, type DtlsRecord, type HandshakeFragment } from './parser';
export { pskKeyExchange, cipherSuiteName, parsePskClientKeyExchange, parsePskServerKeyExchange } from './psk';
