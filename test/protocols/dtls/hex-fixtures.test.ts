// Wire bytes from pcaps/dtls-coap-psk.pcap (libcoap 4.3.1 over OpenSSL 3.0), kept literally so
// the ECDHE-PSK case that tshark 4.0 does not decode is pinned to exact bytes.
import { describe, expect, it } from 'vitest';
import type { Dir } from '../../../src/flow/types';
import { createDtlsHandler } from '../../../src/protocols/dtls';
import { collector, fakeFlow } from '../tls/fake-flow';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Frame 4: ServerHello (0xccac) + ServerKeyExchange (hint "CoAP", x25519 point) + ServerHelloDone.
const SERVER_FLIGHT = hex(`
  16fefd000000000000000100410200003500010000000000 35fefdffc536edcd62e723f847107119adfe3ab2bd11df6e
  467f105b7ea640290da51700ccac00000dff01000100002300000017000016fefd00000000000000020036
  0c00002a000200000000002a0004436f415003001d20ad314b06c206762e8f9c9a00d34b4cc69daf6cd063dc4f33d208
  caa04a36693e16fefd0000000000000003000c0e0000000003000000000000`);
// Frame 5: ClientKeyExchange, RFC 5489 section 2: psk_identity<2> "device-01" then ecdh_Yc<1>
// (32-byte x25519 key); then ChangeCipherSpec and the epoch-1 Finished.
const CLIENT_FLIGHT = hex(`
  16fefd000000000000000200381000002c000200000000002c 0009 6465766963652d3031
  20 8c74a1103fcda9503046be52548dedeabddb46e7cb8179cad97eb5d66c47bb6a
  14fefd0000000000000003000101
  16fefd000100000000000000280867cbdca3419a732e3c1a3b6e3bdb0970b69a6e63a4984ce1ddd2ee0ca790d03d859dfec82dc4e8`);

describe('DTLS hex fixtures (libcoap ECDHE-PSK)', () => {
  const table: Array<{ name: string; datagrams: Array<[Dir, Buffer]>; expect: unknown[] }> = [
    {
      name: 'server flight: ServerHello chooses TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256',
      datagrams: [[1, SERVER_FLIGHT]],
      expect: [{ type: 'dtls.server_hello', cipherSuite: 0xccac, keyExchange: 'ecdhe_psk', legacyVersion: 0xfefd, extensions: [0xff01, 35, 23], epoch: 0, sequence: 1 }],
    },
    {
      name: 'client flight: identity device-01 (6465766963652d3031), hint CoAP',
      datagrams: [[1, SERVER_FLIGHT], [0, CLIENT_FLIGHT]],
      expect: [
        { type: 'dtls.server_hello' },
        { type: 'dtls.psk_identity', identity: 'device-01', identityHex: '6465766963652d3031', identityLength: 9, identityHint: 'CoAP', keyExchange: 'ecdhe_psk', cipherSuite: 0xccac, epoch: 0, sequence: 2 },
      ],
    },
    {
      name: 'client flight without the ServerHello: the suite is unknown, no identity is guessed',
      datagrams: [[0, CLIENT_FLIGHT]],
      expect: [],
    },
  ];
  it.each(table)('$name', ({ datagrams, expect: want }) => {
    const c = collector();
    const h = createDtlsHandler(fakeFlow('udp', 5684), c.emit);
    datagrams.forEach(([d, b], i) => h.onDatagram(d, b, 0, b.length, i, i));
    expect(c.events).toMatchObject(want);
    expect(c.events).toHaveLength(want.length);
  });
});
