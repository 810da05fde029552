// CoAP: decoder (RFC 7252, RFC 8323 framing), content check, and per-flow handlers.
export {
  type CoapAnomalyCode, type CoapDecodeError, type CoapDecodeResult, type CoapDecoded, type CoapKind,
  type CoapMsgType, type CoapOptionFormat, type CoapOscore,
  COAP_OPTIONS, STRICT_MAX_LENGTH, TCP_FRAME_INCOMPLETE, TCP_FRAME_INVALID,
  coapCodeString, coapOptionName, coapTcpFrameLength, looksLikeCoap, parseCoap, parseCoapTcp,
} from './parser';
export {
  type CoapHandlerOptions, type CoapStats, DEFAULT_MAX_PENDING, EXCHANGE_LIFETIME_US, createCoapStats,
} from './exchanges';
export { type CoapUdpHandler, createCoapHandler } from './state';
export { type CoapTcpHandler, type CoapTcpHandlerOptions, DEFAULT_MAX_TCP_MESSAGE, createCoapTcpHandler } from './tcp-state';

/** IANA-registered CoAP port for UDP and TCP (RFC 7252 section 12.7, RFC 8323 section 11.2). */
export const COAP_PORT = 5683;
export { COAP_WS_SUBPROTOCOL, DEFAULT_MAX_WS_MESSAGE, createCoapWsHandler, tcpLengthHeader } from './ws-state';
