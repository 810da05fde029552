// Wire bytes from pcaps/tls-mqtt-expired.pcap (mosquitto_pub 2.0.11 over OpenSSL 3.0), kept
// literally: a table of records and what the handler makes of them.
import { describe, expect, it } from 'vitest';
import type { Dir } from '../../../src/flow/types';
import { createTlsHandler } from '../../../src/protocols/tls';
import { collector, fakeFlow } from './fake-flow';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Frame 4: ClientHello, SNI "localhost", TLS 1.3 and 1.2 offered, 31 suites, 10 extensions.
const CLIENT_HELLO = hex(`
  16030101320100012e030352469506a886a63937c801a76c1757f7125515631e779ae4971a95853375acca20ead26d1b
  696caec53686d4decc8d4fa484f49a8a17124b0868ebf77a93268ca4003e130213031301c02cc030009fcca9cca8ccaa
  c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010000a7
  0000000e000c0000096c6f63616c686f7374000b000403000102000a00160014001d0017001e00190018010001010102
  01030104002300000016000000170000000d002a0028040305030603080708080809080a080b08040805080604010501
  0601030303010302040205020602002b00050403040303002d00020101003300260024001d002042ea87697ba97c7d56
  3383bd24f1565be33cecc0978c4ce21bc6927dbe62b125`);

describe('TLS hex fixtures', () => {
  const table: Array<{ name: string; bytes: Array<[Dir, Buffer]>; expect: unknown[] }> = [
    {
      name: 'OpenSSL 3.0 ClientHello from mosquitto_pub',
      bytes: [[0, CLIENT_HELLO]],
      expect: [{
        type: 'tls.client_hello', recordVersion: 0x0301, legacyVersion: 0x0303, supportedVersions: [0x0304, 0x0303],
        version: 'TLS 1.3', sni: 'localhost', alpn: [], sessionIdLength: 32, length: 306,
        extensions: [0, 11, 10, 35, 22, 23, 13, 43, 45, 51], supportedGroups: [0x1d, 0x17, 0x1e, 0x19, 0x18, 0x100, 0x101, 0x102, 0x103, 0x104],
        ja4: 't13d311000_e8f1e7e78f70_1f22a2ca17c4',
      }],
    },
    {
      name: 'fatal certificate_expired alert (RFC 5246 7.2)',
      bytes: [[0, hex('1503030002022d')]],
      expect: [{ type: 'tls.alert', encrypted: false, level: 2, levelName: 'fatal', description: 45, descriptionName: 'certificate_expired' }],
    },
    {
      name: 'warning close_notify, then ChangeCipherSpec and an encrypted alert',
      bytes: [[1, hex('150303000201 00 140303000101 1503030003aabbcc')]],
      expect: [{ type: 'tls.alert', encrypted: false, level: 1, description: 0 }, { type: 'tls.alert', encrypted: true, level: null }],
    },
    {
      name: 'an SSL 2.0-style or non-TLS start is malformed',
      bytes: [[0, hex('8046010301002d0000001000')]],
      expect: [{ type: 'anomaly', code: 'tls.malformed' }],
    },
  ];
  it.each(table)('$name', ({ bytes, expect: want }) => {
    const c = collector();
    const h = createTlsHandler(fakeFlow(), c.emit);
    bytes.forEach(([d, b], i) => h.onData(d, b, 0, b.length, i, i));
    h.onEnd(9, 9);
    expect(c.events).toMatchObject(want);
    expect(c.events).toHaveLength(want.length);
  });
});
