// The typed event stream: facts about what was seen on the wire, never judgements.
// Detectors, stores and the API all consume these; field names are an interface.
//
import type { TlsEvent } from './tls-types';

// Performance note: events on the hot path share one FlowSide object per flow
// direction (endpoints and Community ID are computed once per flow, not per event).

/** One direction of a flow: who sent the packet that carried the message, to whom. */
export interface FlowSide {
  /** transport: 'tcp' | 'udp'; 'ip' only for IP-layer anomalies that belong to no flow (flowId 0). */
  readonly proto: 'tcp' | 'udp' | 'ip';
  readonly src: string;
  readonly sport: number;
  readonly dst: string;
  readonly dport: number;
  /** Community ID v1 of the flow (same for both directions). */
  readonly communityId: string;
  /** 'to_server' (client -> server) or 'to_client', relative to who opened the flow. */
  readonly dir: Direction;
  /** Flow number, 1-based, in order of first packet; stable for one input. */
  readonly flowId: number;
  /** Id of the sensor that saw the flow (FlowTable's sensorId option). */
  readonly sensor: string;
}

export type Direction = 'to_server' | 'to_client';

/** Fields every event carries. */
export interface EventBase {
  readonly type: string;
  /** Capture time of the packet that completed the message, in microseconds since the epoch. */
  readonly ts: number;
  /** 1-based packet number in the input (like tshark's frame.number). */
  readonly frame: number;
  readonly flow: FlowSide;
}

// ---------------------------------------------------------------- MQTT

/** A password as it leaves the decoder: never the secret itself. */
export interface PasswordInfo {
  readonly present: boolean;
  readonly length: number;
  /** HMAC-SHA-256 (hex) of the password under the installation secret; '' when absent. */
  readonly hmac: string;
}

/** MQTT v5 properties, names as in the spec (camelCase as mqtt-packet names them). */
export type MqttProperties = Record<string, unknown>;

interface MqttBase extends EventBase {
  /** Protocol level of the connection (3 = 3.1, 4 = 3.1.1, 5 = 5.0); 0 while unknown (midstream). */
  readonly version: number;
  /** Client id and username of the session, from this flow's CONNECT ('' / null while unknown). */
  readonly clientId: string;
  readonly username: string | null;
  /** Total length of the MQTT control packet on the wire (fixed header included). */
  readonly length: number;
}

export interface MqttConnect extends MqttBase {
  readonly type: 'mqtt.connect';
  readonly protocolName: string;
  readonly protocolVersion: number;
  readonly cleanStart: boolean;
  readonly keepAlive: number;
  readonly password: PasswordInfo;
  readonly will: { topic: string; qos: number; retain: boolean; payloadLength: number; properties?: MqttProperties } | null;
  readonly properties?: MqttProperties;
}

export interface MqttConnack extends MqttBase {
  readonly type: 'mqtt.connack';
  readonly sessionPresent: boolean;
  /** 3.1.1 return code or v5 reason code. */
  readonly returnCode: number;
  readonly properties?: MqttProperties;
}

export interface MqttPublish extends MqttBase {
  readonly type: 'mqtt.publish';
  /** Topic name, with a v5 topic alias resolved per connection. */
  readonly topic: string;
  readonly qos: number;
  readonly retain: boolean;
  readonly dup: boolean;
  readonly messageId?: number;
  readonly payloadLength: number;
  readonly topicAlias?: number;
  readonly properties?: MqttProperties;
}

/** PUBACK, PUBREC, PUBREL, PUBCOMP. */
export interface MqttAck extends MqttBase {
  readonly type: 'mqtt.puback' | 'mqtt.pubrec' | 'mqtt.pubrel' | 'mqtt.pubcomp';
  readonly messageId: number;
  readonly reasonCode?: number;
  readonly properties?: MqttProperties;
}

export interface MqttSubscription {
  readonly topic: string;
  readonly qos: number;
  readonly noLocal?: boolean;
  readonly retainAsPublished?: boolean;
  readonly retainHandling?: number;
}

export interface MqttSubscribe extends MqttBase {
  readonly type: 'mqtt.subscribe';
  readonly messageId: number;
  readonly subscriptions: readonly MqttSubscription[];
  readonly properties?: MqttProperties;
}

export interface MqttSuback extends MqttBase {
  readonly type: 'mqtt.suback';
  readonly messageId: number;
  /** Granted QoS (0-2) or failure/reason codes (>= 0x80). */
  readonly granted: readonly number[];
  readonly properties?: MqttProperties;
}

export interface MqttUnsubscribe extends MqttBase {
  readonly type: 'mqtt.unsubscribe';
  readonly messageId: number;
  readonly topics: readonly string[];
  readonly properties?: MqttProperties;
}

export interface MqttUnsuback extends MqttBase {
  readonly type: 'mqtt.unsuback';
  readonly messageId: number;
  readonly reasonCodes?: readonly number[];
  readonly properties?: MqttProperties;
}

export interface MqttPing extends MqttBase {
  readonly type: 'mqtt.pingreq' | 'mqtt.pingresp';
}

export interface MqttDisconnect extends MqttBase {
  readonly type: 'mqtt.disconnect';
  readonly reasonCode?: number;
  readonly properties?: MqttProperties;
}

export interface MqttAuth extends MqttBase {
  readonly type: 'mqtt.auth';
  readonly reasonCode: number;
  readonly properties?: MqttProperties;
}

export type MqttEvent =
  | MqttConnect | MqttConnack | MqttPublish | MqttAck | MqttSubscribe | MqttSuback
  | MqttUnsubscribe | MqttUnsuback | MqttPing | MqttDisconnect | MqttAuth;

// ---------------------------------------------------------------- CoAP

export interface CoapOption {
  readonly number: number;
  readonly name: string;
  /** Decoded value: string for string options, number for uint options, hex for opaque ones. */
  readonly value: string | number;
}

export interface CoapBlock {
  readonly num: number;
  readonly more: boolean;
  /** Block size in bytes (2^(szx+4)). */
  readonly size: number;
}

export interface CoapMessage extends EventBase {
  readonly type: 'coap.message';
  readonly version: number;
  /** 'CON' | 'NON' | 'ACK' | 'RST' */
  readonly msgType: 'CON' | 'NON' | 'ACK' | 'RST';
  /** Code as "c.dd", e.g. "0.01" or "2.05". */
  readonly code: string;
  /** 'request' | 'response' | 'empty' | 'signal' (RFC 8323 7.xx) | 'reserved' */
  readonly kind: 'request' | 'response' | 'empty' | 'signal' | 'reserved';
  /** GET, POST, PUT, DELETE, FETCH, PATCH, iPATCH for requests. */
  readonly method?: string;
  readonly messageId: number;
  /** Token as lower-case hex ('' when empty). */
  readonly token: string;
  readonly options: readonly CoapOption[];
  readonly uriHost?: string;
  /** Uri-Path segments joined with '/', with a leading '/' ('/' when none). */
  readonly uriPath?: string;
  readonly uriQuery?: string;
  readonly contentFormat?: number;
  readonly observe?: number;
  readonly block1?: CoapBlock;
  readonly block2?: CoapBlock;
  readonly size1?: number;
  readonly size2?: number;
  /** RFC 8613 OSCORE option fields when the option is present. */
  readonly oscore?: { kid?: string; kidContext?: string; partialIv?: string };
  readonly payloadLength: number;
  /** Size of the whole CoAP message (UDP payload). */
  readonly length: number;
  /** For responses: whether a request explains it, that request's frame and the response time. */
  readonly matched?: boolean;
  readonly requestFrame?: number;
  readonly rttUs?: number;
  /** For responses: the request's method and path, so consumers need not pair again. */
  readonly requestMethod?: string;
  readonly requestPath?: string;
}

// ---------------------------------------------------------------- flows and anomalies

export interface FlowStart extends EventBase {
  readonly type: 'flow.start';
  /** Whether the flow was picked up midstream (no SYN seen). */
  readonly midstream: boolean;
}

export interface FlowEnd extends EventBase {
  readonly type: 'flow.end';
  /** fin | rst | idle | evicted | eof */
  readonly reason: 'fin' | 'rst' | 'idle' | 'evicted' | 'eof';
  /** Application protocol detected on the flow ('' if none). */
  readonly app: string;
  readonly firstTs: number;
  readonly packetsToServer: number;
  readonly packetsToClient: number;
  readonly bytesToServer: number;
  readonly bytesToClient: number;
  /** TCP: handshake state ('S0' SYN without answer, 'S1' established, 'REJ' RST to SYN, 'OTH' midstream). */
  readonly tcpState?: string;
}

/** A protocol or transport anomaly. `code` is from a closed set (see src/events/anomaly-codes.ts). */
export interface AnomalyEvent extends EventBase {
  readonly type: 'anomaly';
  readonly code: string;
  /** 'mqtt' | 'coap' | 'tcp' | 'ip' | ... */
  readonly layer: string;
  readonly detail: string;
  /** Present for MQTT anomalies where the session is known. */
  readonly clientId?: string;
  /** MQTT: the control packet type (0-15) the anomaly concerns, when one was framed. */
  readonly packetType?: number;
  /** mqtt.oversized: bytes of the packet that were skipped, fixed header included (Suricata's skipped_length). */
  readonly skippedLength?: number;
}

export type IotEvent = MqttEvent | CoapMessage | FlowStart | FlowEnd | AnomalyEvent | TlsEvent;

/** Every event type, once (a record, so the compiler rejects a type left out or one that does not exist). */
const TYPES: Record<IotEvent['type'], true> = {
  'mqtt.connect': true, 'mqtt.connack': true, 'mqtt.publish': true, 'mqtt.puback': true, 'mqtt.pubrec': true,
  'mqtt.pubrel': true, 'mqtt.pubcomp': true, 'mqtt.subscribe': true, 'mqtt.suback': true, 'mqtt.unsubscribe': true,
  'mqtt.unsuback': true, 'mqtt.pingreq': true, 'mqtt.pingresp': true, 'mqtt.disconnect': true, 'mqtt.auth': true,
  'coap.message': true, 'flow.start': true, 'flow.end': true, anomaly: true,
  'tls.client_hello': true, 'tls.server_hello': true, 'tls.certificate': true, 'tls.alert': true,
  'dtls.client_hello': true, 'dtls.server_hello': true, 'dtls.psk_identity': true, 'dtls.alert': true,
};

/** The `type` of every event the decoder emits. */
export const EVENT_TYPES: readonly IotEvent['type'][] = Object.keys(TYPES) as IotEvent['type'][];

/** Where the decoder delivers events. */
export type EventSink = (event: IotEvent) => void;
