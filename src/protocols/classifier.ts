// Which decoder gets a flow: by content first, port second ([MQTT-3.1.0-1] a client's first
// packet is CONNECT, so a stream that opens with a valid CONNECT is MQTT on any port).
import type { EventSink } from '../events/types';
import type { AppClassifier, Dir, FlowInfo, TcpAppHandler, UdpAppHandler } from '../flow/types';
import { COAP_WS_SUBPROTOCOL, createCoapHandler, createCoapTcpHandler, createCoapWsHandler, looksLikeCoap } from './coap';
import { createDtlsHandler, looksLikeDtls } from './dtls';
import { createMqttHandler, looksLikeMqttConnect, looksLikeMqttStream, type MqttOptions } from './mqtt';
import { createTlsHandler, looksLikeTlsClientHello } from './tls';
import { createWebSocketHandler, findHeadEnd, looksLikeWebSocketUpgrade, parseHttpHead, tokens } from './websocket';

export interface ClassifierOptions {
  emit: EventSink;
  mqtt: MqttOptions;
  /** Ports where midstream MQTT is recognised from valid fixed headers. Default [1883]. */
  mqttPorts?: readonly number[];
  /** UDP ports where CoAP is decoded with the ordinary header check. Default [5683]. */
  coapPorts?: readonly number[];
  /** Further UDP ports where CoAP is decoded only if it passes the strict header check. */
  coapStrictPorts?: readonly number[];
  /** TCP ports for CoAP over TCP (RFC 8323). Default [5683]. */
  coapTcpPorts?: readonly number[];
  /** UDP ports where DTLS is expected (CoAPS). Default [5684]; a DTLS ClientHello is recognised on any port. */
  dtlsPorts?: readonly number[];
}

export function createClassifier(opts: ClassifierOptions): AppClassifier {
  const emit = opts.emit;
  const mqttPorts = new Set(opts.mqttPorts ?? [1883]);
  const coapPorts = new Set(opts.coapPorts ?? [5683]);
  const coapStrict = new Set(opts.coapStrictPorts ?? []);
  const coapTcpPorts = new Set(opts.coapTcpPorts ?? [5683]);
  const dtlsPorts = new Set(opts.dtlsPorts ?? [5684]);
  const mqttInner = (f: FlowInfo): TcpAppHandler => createMqttHandler(f, emit, opts.mqtt);
  const onPort = (set: Set<number>, f: FlowInfo): boolean => set.has(f.serverPort) || set.has(f.clientPort);

  return {
    tcp(flow: FlowInfo, dir: Dir, buf: Buffer, off: number, len: number): TcpAppHandler | null | undefined {
      // What the client says first decides, whatever the port: an MQTT CONNECT, a TLS
      // ClientHello (MQTT over TLS on 8883 and anywhere else), or an HTTP Upgrade to an MQTT
      // WebSocket. The first byte tells the three apart (0x10, 0x16, 'G').
      if (dir === 0 && !flow.midstream && len > 0) {
        const first = buf[off];
        if (first === 0x10) {
          const c = looksLikeMqttConnect(buf, off, len);
          if (c === true) return createMqttHandler(flow, emit, opts.mqtt);
          if (c === undefined) return undefined;
        } else if (first === 0x16) {
          const t = looksLikeTlsClientHello(buf, off, len);
          if (t === true) return createTlsHandler(flow, emit);
          if (t === undefined) return undefined;
        } else if (first === 0x47) {
          const w = looksLikeWebSocketUpgrade(buf, off, len);
          if (w === true) return createWebSocketHandler(flow, emit, mqttInner);
          if (w === undefined) return undefined;
          // CoAP over WebSocket (RFC 8323 section 4): the client offers the "coap" subprotocol.
          if (looksLikeWebSocketUpgrade(buf, off, len, { anySubprotocol: true }) && offersCoap(buf, off, len)) {
            return createWebSocketHandler(flow, emit, (f) => createCoapWsHandler(f, emit), { subprotocols: [COAP_WS_SUBPROTOCOL], app: 'coap-ws' });
          }
        }
      }
      if (onPort(mqttPorts, flow)) {
        if (flow.midstream || dir === 1) {
          if (looksLikeMqttStream(buf, off, len)) return createMqttHandler(flow, emit, { ...opts.mqtt, midstream: true });
        }
        return null;
      }
      if (onPort(coapTcpPorts, flow)) return createCoapTcpHandler(flow, emit);
      return null;
    },
    udp(flow: FlowInfo, _dir: Dir, buf: Buffer, off: number, len: number): UdpAppHandler | null | undefined {
      // DTLS first: its record header (content type 20-25, version fe fd/fe ff) is no valid CoAP.
      if (looksLikeDtls(buf, off, len)) return createDtlsHandler(flow, emit);
      if (onPort(dtlsPorts, flow)) return undefined;
      if (onPort(coapPorts, flow)) return looksLikeCoap(buf, off, len, false) ? createCoapHandler(flow, emit) : undefined;
      if (onPort(coapStrict, flow)) return looksLikeCoap(buf, off, len, true) ? createCoapHandler(flow, emit) : undefined;
      return null;
    },
  };
}

/** Whether an HTTP Upgrade request offers the CoAP WebSocket subprotocol. */
function offersCoap(buf: Buffer, off: number, len: number): boolean {
  const end = findHeadEnd(buf, off, len);
  if (end < 0) return false;
  const head = parseHttpHead(buf, off, end);
  return typeof head !== 'string' && tokens(head.headers.get('sec-websocket-protocol')).includes(COAP_WS_SUBPROTOCOL);
}
