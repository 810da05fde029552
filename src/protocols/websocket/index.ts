// MQTT over WebSocket: the Upgrade, RFC 6455 frames, payload streamed to an inner TCP decoder.
export {
  createWebSocketHandler, looksLikeWebSocketUpgrade, MQTT_SUBPROTOCOLS,
  type WebSocketHandler, type WebSocketInfo, type WebSocketOptions,
} from './state';
export { acceptKey, findHeadEnd, parseHttpHead, readFrameHeader, unmask, tokens, OPCODE, type FrameHeader, type HttpHead } from './parser';
