// Every control packet type in MQTT 3.1, 3.1.1 and 5, as hex: decoded by the connection decoder,
// and round-tripped through mqtt-packet's generator where it can express the packet.
import { describe, expect, it } from 'vitest';
import type { Dir } from '../../../src/flow/types';
import { decodeMqttPackets } from '../../../src/protocols/mqtt';
import { SECRET, codesOf, gen, hex, hmac } from './helpers/mqtt';

interface Fixture {
  name: string;
  v: 3 | 4 | 5;
  dir: Dir;
  hex: string;
  /** mqtt-packet object whose generate() gives exactly `hex`. */
  packet?: object;
  expect: Record<string, unknown>;
}

const userpass = { username: 'alice', password: { present: true, length: 7, hmac: hmac('s3cret!') } };

const FIXTURES: Fixture[] = [
  // ---------------------------------------------------------------- MQTT 3.1 (MQIsdp, level 3)
  {
    name: '3.1 CONNECT with will, user name and password', v: 3, dir: 0,
    hex: `10 3c 00 06 4d 51 49 73 64 70 03 ee 00 1e 00 06 64 65 76 2d 33 31 00 0d 64 65 76 2f 33 31 2f 73
          74 61 74 75 73 00 07 6f 66 66 6c 69 6e 65 00 05 61 6c 69 63 65 00 07 73 33 63 72 65 74 21`,
    packet: { cmd: 'connect', protocolId: 'MQIsdp', protocolVersion: 3, clean: true, keepalive: 30, clientId: 'dev-31', username: 'alice', password: Buffer.from('s3cret!'), will: { topic: 'dev/31/status', payload: Buffer.from('offline'), qos: 1, retain: true } },
    expect: {
      type: 'mqtt.connect', version: 3, protocolName: 'MQIsdp', protocolVersion: 3, clientId: 'dev-31', ...userpass,
      cleanStart: true, keepAlive: 30, length: 62, will: { topic: 'dev/31/status', qos: 1, retain: true, payloadLength: 7 },
    },
  },
  { name: '3.1 CONNACK accepted', v: 3, dir: 1, hex: '20 02 00 00', packet: { cmd: 'connack', returnCode: 0, sessionPresent: false }, expect: { type: 'mqtt.connack', returnCode: 0, sessionPresent: false, length: 4 } },
  {
    name: '3.1 PUBLISH QoS 2 with DUP [MQTT-3.3.1-1]', v: 3, dir: 0, hex: '3c 09 00 03 61 2f 62 00 07 68 69',
    packet: { cmd: 'publish', topic: 'a/b', payload: Buffer.from('hi'), qos: 2, messageId: 7, dup: true, retain: false },
    expect: { type: 'mqtt.publish', topic: 'a/b', qos: 2, dup: true, retain: false, messageId: 7, payloadLength: 2, length: 11 },
  },
  { name: '3.1 PUBACK', v: 3, dir: 1, hex: '40 02 00 07', expect: { type: 'mqtt.puback', messageId: 7 } },
  { name: '3.1 PUBREC', v: 3, dir: 1, hex: '50 02 00 07', expect: { type: 'mqtt.pubrec', messageId: 7, reasonCode: undefined } },
  { name: '3.1 PUBREL (flags 0010) [MQTT-3.6.1-1]', v: 3, dir: 0, hex: '62 02 00 07', expect: { type: 'mqtt.pubrel', messageId: 7 } },
  { name: '3.1 PUBCOMP', v: 3, dir: 1, hex: '70 02 00 07', expect: { type: 'mqtt.pubcomp', messageId: 7 } },
  {
    name: '3.1 SUBSCRIBE', v: 3, dir: 0, hex: '82 0b 00 01 00 06 74 6f 70 69 63 58 00',
    expect: { type: 'mqtt.subscribe', messageId: 1, subscriptions: [{ topic: 'topicX', qos: 0 }] },
  },
  { name: '3.1 SUBACK', v: 3, dir: 1, hex: '90 03 00 01 00', expect: { type: 'mqtt.suback', messageId: 1, granted: [0] } },
  { name: '3.1 UNSUBSCRIBE', v: 3, dir: 0, hex: 'a2 0a 00 02 00 06 74 6f 70 69 63 58', expect: { type: 'mqtt.unsubscribe', messageId: 2, topics: ['topicX'] } },
  { name: '3.1 UNSUBACK', v: 3, dir: 1, hex: 'b0 02 00 02', expect: { type: 'mqtt.unsuback', messageId: 2, reasonCodes: undefined } },
  { name: '3.1 PINGREQ', v: 3, dir: 0, hex: 'c0 00', expect: { type: 'mqtt.pingreq', length: 2 } },
  { name: '3.1 PINGRESP', v: 3, dir: 1, hex: 'd0 00', expect: { type: 'mqtt.pingresp', length: 2 } },
  { name: '3.1 DISCONNECT', v: 3, dir: 0, hex: 'e0 00', expect: { type: 'mqtt.disconnect', reasonCode: undefined } },

  // ---------------------------------------------------------------- MQTT 3.1.1 (level 4)
  {
    name: '3.1.1 CONNECT, clean session 0 [MQTT-3.1.2-4]', v: 4, dir: 0,
    hex: '10 22 00 04 4d 51 54 54 04 c0 00 3c 00 08 73 65 6e 73 6f 72 2d 37 00 03 62 6f 62 00 07 68 75 6e 74 65 72 32',
    packet: { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: false, keepalive: 60, clientId: 'sensor-7', username: 'bob', password: Buffer.from('hunter2') },
    expect: {
      type: 'mqtt.connect', version: 4, protocolName: 'MQTT', protocolVersion: 4, clientId: 'sensor-7', username: 'bob',
      cleanStart: false, keepAlive: 60, will: null, password: { present: true, length: 7, hmac: hmac('hunter2') },
    },
  },
  { name: '3.1.1 CONNACK refused, not authorized (rc 5)', v: 4, dir: 1, hex: '20 02 00 05', packet: { cmd: 'connack', returnCode: 5, sessionPresent: false }, expect: { type: 'mqtt.connack', returnCode: 5, sessionPresent: false } },
  { name: '3.1.1 CONNACK session present [MQTT-3.2.2-2]', v: 4, dir: 1, hex: '20 02 01 00', packet: { cmd: 'connack', returnCode: 0, sessionPresent: true }, expect: { type: 'mqtt.connack', returnCode: 0, sessionPresent: true } },
  {
    name: '3.1.1 PUBLISH QoS 0 retained (no packet identifier) [MQTT-2.3.1-5]', v: 4, dir: 0, hex: '31 0f 00 09 73 65 6e 73 6f 72 73 2f 74 32 31 2e 35',
    packet: { cmd: 'publish', topic: 'sensors/t', payload: Buffer.from('21.5'), qos: 0, retain: true },
    expect: { type: 'mqtt.publish', topic: 'sensors/t', qos: 0, retain: true, dup: false, messageId: undefined, payloadLength: 4, length: 17 },
  },
  {
    name: '3.1.1 PUBLISH QoS 1', v: 4, dir: 1, hex: '32 11 00 09 73 65 6e 73 6f 72 73 2f 74 01 02 32 31 2e 35',
    packet: { cmd: 'publish', topic: 'sensors/t', payload: Buffer.from('21.5'), qos: 1, messageId: 258 },
    expect: { type: 'mqtt.publish', topic: 'sensors/t', qos: 1, messageId: 258, payloadLength: 4 },
  },
  { name: '3.1.1 PUBACK', v: 4, dir: 1, hex: '40 02 01 02', packet: { cmd: 'puback', messageId: 258 }, expect: { type: 'mqtt.puback', messageId: 258, reasonCode: undefined } },
  { name: '3.1.1 PUBREC', v: 4, dir: 1, hex: '50 02 00 09', packet: { cmd: 'pubrec', messageId: 9 }, expect: { type: 'mqtt.pubrec', messageId: 9 } },
  { name: '3.1.1 PUBREL', v: 4, dir: 0, hex: '62 02 00 09', packet: { cmd: 'pubrel', messageId: 9 }, expect: { type: 'mqtt.pubrel', messageId: 9 } },
  { name: '3.1.1 PUBCOMP', v: 4, dir: 1, hex: '70 02 00 09', packet: { cmd: 'pubcomp', messageId: 9 }, expect: { type: 'mqtt.pubcomp', messageId: 9 } },
  {
    name: '3.1.1 SUBSCRIBE with wildcards [MQTT-4.7.1-2]', v: 4, dir: 0,
    hex: '82 18 00 03 00 09 73 65 6e 73 6f 72 73 2f 23 01 00 07 2b 2f 61 6c 61 72 6d 02',
    packet: { cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'sensors/#', qos: 1 }, { topic: '+/alarm', qos: 2 }] },
    expect: { type: 'mqtt.subscribe', messageId: 3, subscriptions: [{ topic: 'sensors/#', qos: 1 }, { topic: '+/alarm', qos: 2 }] },
  },
  { name: '3.1.1 SUBACK with a failure (0x80) [MQTT-3.9.3-2]', v: 4, dir: 1, hex: '90 05 00 03 01 02 80', packet: { cmd: 'suback', messageId: 3, granted: [1, 2, 128] }, expect: { type: 'mqtt.suback', messageId: 3, granted: [1, 2, 128] } },
  {
    name: '3.1.1 UNSUBSCRIBE two filters', v: 4, dir: 0, hex: 'a2 16 00 04 00 09 73 65 6e 73 6f 72 73 2f 23 00 07 2b 2f 61 6c 61 72 6d',
    packet: { cmd: 'unsubscribe', messageId: 4, unsubscriptions: ['sensors/#', '+/alarm'] },
    expect: { type: 'mqtt.unsubscribe', messageId: 4, topics: ['sensors/#', '+/alarm'] },
  },
  { name: '3.1.1 UNSUBACK', v: 4, dir: 1, hex: 'b0 02 00 04', packet: { cmd: 'unsuback', messageId: 4 }, expect: { type: 'mqtt.unsuback', messageId: 4 } },
  { name: '3.1.1 PINGREQ', v: 4, dir: 0, hex: 'c0 00', packet: { cmd: 'pingreq' }, expect: { type: 'mqtt.pingreq' } },
  { name: '3.1.1 PINGRESP', v: 4, dir: 1, hex: 'd0 00', packet: { cmd: 'pingresp' }, expect: { type: 'mqtt.pingresp' } },
  { name: '3.1.1 DISCONNECT', v: 4, dir: 0, hex: 'e0 00', packet: { cmd: 'disconnect' }, expect: { type: 'mqtt.disconnect', length: 2 } },
  {
    name: '3.1.1 CONNECT from a mosquitto bridge (level 0x84)', v: 4, dir: 0,
    hex: '10 10 00 04 4d 51 54 54 84 02 00 3c 00 04 62 72 2d 31',
    expect: { type: 'mqtt.connect', protocolVersion: 4, clientId: 'br-1', version: 4 },
  },

  // ---------------------------------------------------------------- MQTT 5 (level 5)
  {
    name: '5 CONNECT with every CONNECT and Will property type', v: 5, dir: 0,
    hex: `10 ae 01 00 04 4d 51 54 54 05 c6 00 0a
          57                                  # property length 87
          11 00 00 0e 10                      # session expiry interval (four-byte)
          21 00 14                            # receive maximum (two-byte)
          27 00 01 00 00                      # maximum packet size
          22 00 08                            # topic alias maximum
          19 01 17 00                         # request response / problem information (byte)
          26 00 04 73 69 74 65 00 05 6e 6f 72 74 68   # user property site=north (string pair)
          26 00 04 73 69 74 65 00 05 73 6f 75 74 68   # user property site=south (repeated)
          26 00 04 72 61 63 6b 00 01 34               # user property rack=4
          15 00 0b 53 43 52 41 4d 2d 53 48 41 2d 31   # authentication method (string)
          16 00 0c 63 6c 69 65 6e 74 2d 66 69 72 73 74  # authentication data (binary)
          00 02 63 35                          # client id
          2d                                   # will property length 45
          18 00 00 00 05 01 01 02 00 00 00 3c 03 00 0a 74 65 78 74 2f 70 6c 61 69 6e
          08 00 04 63 35 2f 72 09 00 03 01 02 03 26 00 01 6b 00 01 76
          00 07 63 35 2f 77 69 6c 6c 00 03 62 79 65 00 05 63 61 72 6f 6c 00 03 70 77 35`,
    packet: {
      cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, keepalive: 10, clientId: 'c5', username: 'carol', password: Buffer.from('pw5'),
      properties: { sessionExpiryInterval: 3600, receiveMaximum: 20, maximumPacketSize: 65536, topicAliasMaximum: 8, requestResponseInformation: true, requestProblemInformation: false, userProperties: { site: ['north', 'south'], rack: '4' }, authenticationMethod: 'SCRAM-SHA-1', authenticationData: Buffer.from('client-first') },
      will: { topic: 'c5/will', payload: Buffer.from('bye'), qos: 0, retain: false, properties: { willDelayInterval: 5, payloadFormatIndicator: true, messageExpiryInterval: 60, contentType: 'text/plain', responseTopic: 'c5/r', correlationData: Buffer.from([1, 2, 3]), userProperties: { k: 'v' } } },
    },
    expect: {
      type: 'mqtt.connect', version: 5, clientId: 'c5', username: 'carol', password: { present: true, length: 3, hmac: hmac('pw5') },
      properties: {
        sessionExpiryInterval: 3600, receiveMaximum: 20, maximumPacketSize: 65536, topicAliasMaximum: 8,
        requestResponseInformation: true, requestProblemInformation: false, userProperties: { site: ['north', 'south'], rack: '4' },
        authenticationMethod: 'SCRAM-SHA-1', authenticationData: { present: true, length: 12, hmac: hmac('client-first') },
      },
      will: {
        topic: 'c5/will', qos: 0, retain: false, payloadLength: 3,
        properties: { willDelayInterval: 5, payloadFormatIndicator: true, messageExpiryInterval: 60, contentType: 'text/plain', responseTopic: 'c5/r', correlationData: '010203', userProperties: { k: 'v' } },
      },
    },
  },
  {
    name: '5 CONNACK with every CONNACK property', v: 5, dir: 1,
    hex: `20 67 01 00 64 11 00 00 1c 20 21 00 0a 24 01 25 00 27 00 10 00 00 12 00 06 61 75 74 6f 2d 31 22 00 04
          1f 00 02 6f 6b 26 00 01 61 00 01 62 28 01 29 01 2a 00 13 00 1e 1a 00 05 72 65 73 70 2f 1c 00 0a 6f 74
          68 65 72 3a 31 38 38 33 15 00 0b 53 43 52 41 4d 2d 53 48 41 2d 31 16 00 0c 73 65 72 76 65 72 2d 66 69 6e 61 6c`,
    packet: { cmd: 'connack', reasonCode: 0, sessionPresent: true, properties: { sessionExpiryInterval: 7200, receiveMaximum: 10, maximumQoS: 1, retainAvailable: false, maximumPacketSize: 1048576, assignedClientIdentifier: 'auto-1', topicAliasMaximum: 4, reasonString: 'ok', userProperties: { a: 'b' }, wildcardSubscriptionAvailable: true, subscriptionIdentifiersAvailable: true, sharedSubscriptionAvailable: false, serverKeepAlive: 30, responseInformation: 'resp/', serverReference: 'other:1883', authenticationMethod: 'SCRAM-SHA-1', authenticationData: Buffer.from('server-final') } },
    expect: {
      type: 'mqtt.connack', sessionPresent: true, returnCode: 0, clientId: 'auto-1',
      properties: {
        sessionExpiryInterval: 7200, receiveMaximum: 10, maximumQoS: 1, retainAvailable: false, maximumPacketSize: 1048576,
        assignedClientIdentifier: 'auto-1', topicAliasMaximum: 4, reasonString: 'ok', userProperties: { a: 'b' },
        wildcardSubscriptionAvailable: true, subscriptionIdentifiersAvailable: true, sharedSubscriptionAvailable: false,
        serverKeepAlive: 30, responseInformation: 'resp/', serverReference: 'other:1883', authenticationMethod: 'SCRAM-SHA-1',
        authenticationData: { present: true, length: 12, hmac: hmac('server-final') },
      },
    },
  },
  {
    name: '5 PUBLISH with every PUBLISH property (variable byte integer subscription id)', v: 5, dir: 1,
    hex: `32 49 00 04 76 35 2f 74 00 0c 3e 01 01 02 00 00 01 2c 23 00 03 08 00 08 76 35 2f 72 65 70 6c 79 09 00 03
          63 69 64 26 00 05 74 72 61 63 65 00 02 78 31 0b 80 80 01 03 00 10 61 70 70 6c 69 63 61 74 69 6f 6e 2f 6a 73
          6f 6e 7b 7d`,
    packet: { cmd: 'publish', topic: 'v5/t', payload: Buffer.from('{}'), qos: 1, messageId: 12, properties: { payloadFormatIndicator: true, messageExpiryInterval: 300, topicAlias: 3, responseTopic: 'v5/reply', correlationData: Buffer.from('cid'), userProperties: { trace: 'x1' }, subscriptionIdentifier: 16384, contentType: 'application/json' } },
    expect: {
      type: 'mqtt.publish', topic: 'v5/t', qos: 1, messageId: 12, payloadLength: 2, topicAlias: 3,
      properties: { payloadFormatIndicator: true, messageExpiryInterval: 300, topicAlias: 3, responseTopic: 'v5/reply', correlationData: '636964', userProperties: { trace: 'x1' }, subscriptionIdentifier: 16384, contentType: 'application/json' },
    },
  },
  {
    name: '5 PUBLISH with simple properties (fast path)', v: 5, dir: 0,
    hex: '30 2d 00 04 76 35 2f 74 24 02 00 00 01 2c 23 00 03 03 00 10 61 70 70 6c 69 63 61 74 69 6f 6e 2f 6a 73 6f 6e 09 00 03 63 69 64 0b c8 01 7b 7d',
    packet: { cmd: 'publish', topic: 'v5/t', payload: Buffer.from('{}'), qos: 0, properties: { messageExpiryInterval: 300, topicAlias: 3, contentType: 'application/json', correlationData: Buffer.from('cid'), subscriptionIdentifier: 200 } },
    expect: { type: 'mqtt.publish', topic: 'v5/t', topicAlias: 3, properties: { messageExpiryInterval: 300, topicAlias: 3, contentType: 'application/json', correlationData: '636964', subscriptionIdentifier: 200 } },
  },
  { name: '5 PUBACK without reason code: Success [MQTT-3.4.2-1]', v: 5, dir: 1, hex: '40 02 00 0c', packet: { cmd: 'puback', messageId: 12, reasonCode: 0 }, expect: { type: 'mqtt.puback', messageId: 12, reasonCode: 0, properties: undefined } },
  {
    name: '5 PUBACK No matching subscribers, reason string and user property', v: 5, dir: 1, hex: '40 14 00 0c 10 10 1f 00 06 6e 6f 62 6f 64 79 26 00 01 71 00 01 72',
    packet: { cmd: 'puback', messageId: 12, reasonCode: 0x10, properties: { reasonString: 'nobody', userProperties: { q: 'r' } } },
    expect: { type: 'mqtt.puback', reasonCode: 0x10, properties: { reasonString: 'nobody', userProperties: { q: 'r' } } },
  },
  { name: '5 PUBREC Unspecified error', v: 5, dir: 1, hex: '50 09 00 0d 80 05 1f 00 02 6e 6f', packet: { cmd: 'pubrec', messageId: 13, reasonCode: 0x80, properties: { reasonString: 'no' } }, expect: { type: 'mqtt.pubrec', messageId: 13, reasonCode: 0x80, properties: { reasonString: 'no' } } },
  { name: '5 PUBREL Packet Identifier not found, empty properties', v: 5, dir: 0, hex: '62 04 00 0d 92 00', packet: { cmd: 'pubrel', messageId: 13, reasonCode: 0x92 }, expect: { type: 'mqtt.pubrel', reasonCode: 0x92, properties: undefined } },
  { name: '5 PUBCOMP', v: 5, dir: 1, hex: '70 02 00 0d', packet: { cmd: 'pubcomp', messageId: 13, reasonCode: 0 }, expect: { type: 'mqtt.pubcomp', reasonCode: 0 } },
  {
    name: '5 SUBSCRIBE with options and a subscription identifier', v: 5, dir: 0,
    hex: '82 20 00 05 0a 0b ac 02 26 00 01 75 00 01 76 00 03 61 2f 2b 1d 00 0a 24 73 68 61 72 65 2f 67 2f 62 20',
    packet: { cmd: 'subscribe', messageId: 5, properties: { subscriptionIdentifier: 300, userProperties: { u: 'v' } }, subscriptions: [{ topic: 'a/+', qos: 1, nl: true, rap: true, rh: 1 }, { topic: '$share/g/b', qos: 0, nl: false, rap: false, rh: 2 }] },
    expect: {
      type: 'mqtt.subscribe', messageId: 5, properties: { subscriptionIdentifier: 300, userProperties: { u: 'v' } },
      subscriptions: [
        { topic: 'a/+', qos: 1, noLocal: true, retainAsPublished: true, retainHandling: 1 },
        { topic: '$share/g/b', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 2 },
      ],
    },
  },
  { name: '5 SUBACK with reason codes', v: 5, dir: 1, hex: '90 10 00 05 0a 1f 00 07 70 61 72 74 69 61 6c 01 80 9e', packet: { cmd: 'suback', messageId: 5, granted: [1, 0x80, 0x9e], properties: { reasonString: 'partial' } }, expect: { type: 'mqtt.suback', granted: [1, 0x80, 0x9e], properties: { reasonString: 'partial' } } },
  { name: '5 UNSUBSCRIBE with a user property', v: 5, dir: 0, hex: 'a2 14 00 06 0c 26 00 03 77 68 79 00 04 64 6f 6e 65 00 03 61 2f 2b', packet: { cmd: 'unsubscribe', messageId: 6, unsubscriptions: ['a/+'], properties: { userProperties: { why: 'done' } } }, expect: { type: 'mqtt.unsubscribe', topics: ['a/+'], properties: { userProperties: { why: 'done' } } } },
  { name: '5 UNSUBACK with reason codes', v: 5, dir: 1, hex: 'b0 0c 00 06 07 1f 00 04 67 6f 6e 65 00 11', packet: { cmd: 'unsuback', messageId: 6, granted: [0, 0x11], properties: { reasonString: 'gone' } }, expect: { type: 'mqtt.unsuback', messageId: 6, reasonCodes: [0, 0x11], properties: { reasonString: 'gone' } } },
  { name: '5 PINGREQ', v: 5, dir: 0, hex: 'c0 00', expect: { type: 'mqtt.pingreq', version: 5 } },
  { name: '5 PINGRESP', v: 5, dir: 1, hex: 'd0 00', expect: { type: 'mqtt.pingresp', version: 5 } },
  { name: '5 DISCONNECT, remaining length 0: Normal disconnection [MQTT-3.14.2-1]', v: 5, dir: 0, hex: 'e0 00', expect: { type: 'mqtt.disconnect', reasonCode: 0 } },
  {
    name: '5 DISCONNECT Session taken over, with properties', v: 5, dir: 1, hex: 'e0 1d 8e 1b 11 00 00 00 00 1f 00 0a 74 61 6b 65 6e 20 6f 76 65 72 1c 00 06 62 3a 31 38 38 33',
    packet: { cmd: 'disconnect', reasonCode: 0x8e, properties: { sessionExpiryInterval: 0, reasonString: 'taken over', serverReference: 'b:1883' } },
    expect: { type: 'mqtt.disconnect', reasonCode: 0x8e, properties: { sessionExpiryInterval: 0, reasonString: 'taken over', serverReference: 'b:1883' } },
  },
  {
    name: '5 AUTH Continue authentication', v: 5, dir: 0, hex: 'f0 2a 18 28 15 00 0b 53 43 52 41 4d 2d 53 48 41 2d 31 16 00 0c 63 6c 69 65 6e 74 2d 66 69 6e 61 6c 1f 00 08 63 6f 6e 74 69 6e 75 65',
    packet: { cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-1', authenticationData: Buffer.from('client-final'), reasonString: 'continue' } },
    expect: { type: 'mqtt.auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-1', authenticationData: { present: true, length: 12, hmac: hmac('client-final') }, reasonString: 'continue' } },
  },
  { name: '5 AUTH remaining length 0: Success [MQTT-3.15.2-1]', v: 5, dir: 1, hex: 'f0 00', expect: { type: 'mqtt.auth', reasonCode: 0, properties: undefined } },
];

describe('MQTT control packets, one per type and level', () => {
  it.each(FIXTURES)('$name', (f) => {
    const bytes = hex(f.hex);
    if (f.packet !== undefined) expect(gen(f.packet, f.v).toString('hex')).toBe(bytes.toString('hex'));
    const events = decodeMqttPackets(bytes, f.v, { dir: f.dir, secret: SECRET });
    expect(codesOf(events)).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ length: bytes.length, version: f.v, ...f.expect });
    expect(events[0].flow.dir).toBe(f.dir === 0 ? 'to_server' : 'to_client');
    // mqtt-packet decodes the same bytes to the same event.
    const viaLibrary = decodeMqttPackets(bytes, f.v, { dir: f.dir, secret: SECRET, forceFull: true });
    expect(viaLibrary).toEqual(events);
  });

  it('covers all fifteen packet types at every level', () => {
    for (const v of [3, 4, 5]) {
      const types = new Set(FIXTURES.filter((f) => f.v === v).map((f) => hex(f.hex)[0] >> 4));
      const expected = v === 5 ? 15 : 14;
      expect(types.size, `level ${v}`).toBe(expected);
    }
  });

  it('all fixtures back to back, as one segment, give the same events as one by one', () => {
    for (const v of [3, 4, 5] as const) {
      for (const dir of [0, 1] as const) {
        // One CONNECT per stream: a second one is mqtt.double_connect.
        const list = FIXTURES.filter((f) => f.v === v && f.dir === dir && !f.name.includes('bridge'));
        const one = list.flatMap((f) => decodeMqttPackets(hex(f.hex), v, { dir, secret: SECRET }));
        const all = decodeMqttPackets(Buffer.concat(list.map((f) => hex(f.hex))), v, { dir, secret: SECRET });
        expect(all.map((e) => e.type)).toEqual(one.map((e) => e.type));
        expect(codesOf(all)).toEqual([]);
      }
    }
  });
});
