// TLS decoder: ClientHello/ServerHello facts, JA4, certificates (TLS <= 1.2), alerts.
export { createTlsHandler, looksLikeTlsClientHello, type TlsHandler, type TlsOptions, type TlsStats } from './state';
export {
  CONTENT, HS, EXT, isGrease, versionName, parseAlert, parseClientHello, parseServerHello,
  parseHelloVerifyRequest, parseCertificateList, printable,
  type AlertFacts, type ClientHelloFacts, type ServerHelloFacts,
} from './parser';
export { computeJa4, type Ja4 } from './ja4';
export { describeCertificate, walkCertificate, decodeOid, CertificateCache, type CertificateFacts } from './x509';
export { anomaly, type TransportAnomalyCode } from './anomalies';
