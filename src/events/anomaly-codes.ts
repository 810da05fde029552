// The closed set of anomaly codes. Stable: detectors, stores and users' rules key on them.
// Add codes here (never rename); each must be exercised by at least one test.
export const ANOMALY_CODES = {
  // MQTT
  'mqtt.malformed': 'a control packet does not parse (bad lengths, bad fields)',
  'mqtt.truncated': 'a control packet ends before its declared remaining length (stream ended or gap)',
  'mqtt.oversized': 'a control packet is larger than the configured maximum; its body was skipped',
  'mqtt.invalid_qos': 'QoS 3 in a PUBLISH or subscription [MQTT-3.3.1-4]',
  'mqtt.reserved_packet_type': 'packet type 0, or 15 before MQTT 5 [MQTT-2.2.1]',
  'mqtt.invalid_flags': 'reserved fixed-header flags have the wrong value [MQTT-2.2.2-2]',
  'mqtt.missing_connect': 'the client sent packets without a CONNECT first [MQTT-3.1.0-1]',
  'mqtt.double_connect': 'a second CONNECT on one connection [MQTT-3.1.0-2]',
  'mqtt.message_before_connack': 'the server sent, or the client was answered with, traffic before CONNACK',
  'mqtt.invalid_utf8': 'a UTF-8 string field is not well-formed UTF-8 or contains U+0000 [MQTT-1.5.3-1]',
  'mqtt.wildcard_in_publish': 'a PUBLISH topic name contains + or # [MQTT-3.3.2-2]',
  'mqtt.invalid_property': 'an MQTT 5 property is unknown, duplicated, or not allowed in this packet',
  'mqtt.unknown_topic_alias': 'a PUBLISH uses a topic alias that was never set on this connection',
  'mqtt.desync': 'the stream no longer frames as MQTT; decoding resumed at the next plausible packet',
  'mqtt.invalid_reason_code': 'a return/reason code that is not defined for this packet type and protocol version',
  'mqtt.state_limit': 'a per-connection bound was reached (topic aliases); what exceeded it was not kept',
  // CoAP
  'coap.malformed': 'a CoAP message does not parse (header, token length, options)',
  'coap.bad_option': 'an option with reserved delta/length nibble 15 or running past the message',
  'coap.bad_version': 'CoAP version other than 1',
  'coap.bad_oscore': 'the OSCORE option value does not parse: reserved flag bits, partial IV length 6/7, lengths past the value (RFC 8613 6.1)',
  'coap.state_limit': 'a flow holds more pending CoAP requests than its bound; the oldest was forgotten (first hit per flow; all hits counted)',
  'coap.oversized': 'a CoAP-over-TCP message is larger than the configured maximum; its bytes were skipped',
  'coap.truncated': 'a CoAP-over-TCP stream ended inside a message',
  'coap.desync': 'a CoAP-over-TCP direction no longer frames (reserved token length, or bytes missing); decoding stopped there',
  // transport
  'tcp.gap': 'bytes missing from a TCP stream (capture loss or a segment never seen)',
  'tcp.overlap_mismatch': 'a retransmitted TCP segment carries different bytes than the original',
  'ip.bad_header': 'an IP header is inconsistent (length, version)',
  'ip.fragment_overlap': 'IPv4 fragments overlap',
  'ip.fragment_timeout': 'an IPv4 datagram was never completed (fragments expired or evicted)',
  // TLS, DTLS, WebSocket (issue 5)
  'tls.malformed': 'a TLS record or handshake message does not parse; that direction is no longer decoded',
  'tls.truncated': 'the stream ended, or bytes were lost, inside a TLS record or handshake message',
  'tls.oversized': 'a TLS handshake message is larger than the configured maximum; it was skipped',
  'tls.bad_certificate': 'a certificate in a TLS Certificate message is not parseable DER X.509',
  'dtls.malformed': 'a DTLS record or handshake message does not parse; the rest of the datagram was skipped',
  'dtls.bad_fragment': 'a DTLS handshake fragment contradicts earlier fragments or runs past its message (RFC 6347 4.2.3)',
  'dtls.oversized': 'a fragmented DTLS handshake message exceeds the reassembly bounds; it was dropped',
  'websocket.malformed': 'the HTTP Upgrade exchange or a WebSocket frame header does not parse',
  'websocket.bad_upgrade': 'the Upgrade was refused or its 101 answer is inconsistent (Sec-WebSocket-Accept, subprotocol)',
  'websocket.protocol_error': 'a frame breaks RFC 6455 (masking direction, reserved bits or opcodes, control frame or fragmentation rules) or MQTT-over-WebSocket framing [MQTT-6.0.0-1]',
  'websocket.oversized': 'the HTTP Upgrade headers are larger than the configured maximum',
  'websocket.truncated': 'the stream ended, or bytes were lost, inside a WebSocket frame',
  'websocket.unsupported': 'frames compressed with permessage-deflate (RFC 7692) are not decoded',
} as const;

export type AnomalyCode = keyof typeof ANOMALY_CODES;
