import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TlsAlert, TlsCertificate, TlsServerHello } from '../../../src/events/tls-types';
import type { Dir } from '../../../src/flow/types';
import { createTlsHandler, looksLikeTlsClientHello, type TlsOptions } from '../../../src/protocols/tls';
import { clientHelloBody, ext, hs, record, serverHelloBody, u16, vec16, vec24, vec8 } from './build';
import { collector, fakeFlow, strip } from './fake-flow';

const der = (name: string): Buffer => new X509Certificate(readFileSync(join(__dirname, 'fixtures', name))).raw;
const certMsg = (...certs: Buffer[]): Buffer => hs(11, vec24(Buffer.concat(certs.map((c) => vec24(c)))));
const CCS = record(20, Buffer.from([1]));
const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

/** A TLS 1.2 mutual-authentication handshake, then application data and an encrypted close_notify. */
function tls12Mutual(): Array<[Dir, Buffer]> {
  const serverFlight = Buffer.concat([
    hs(2, serverHelloBody({ suite: 0xc02f, extensions: [ext(0xff01, vec8(Buffer.alloc(0)))] })),
    certMsg(der('ec384-issued.pem'), der('rsa1024-sha1.pem')),
    hs(12, Buffer.alloc(100, 3)),
    hs(13, Buffer.concat([vec8(Buffer.from([1, 64])), vec16(Buffer.from([4, 3])), vec16(Buffer.alloc(0))])),
    hs(14, Buffer.alloc(0)),
  ]);
  return [
    [0, record(22, hs(1, clientHelloBody({ extensions: [ext(0, vec16(Buffer.concat([Buffer.from([0]), vec16(Buffer.from('broker.local'))])))] })), 0x0301)],
    [1, record(22, serverFlight)],
    [0, Buffer.concat([record(22, Buffer.concat([certMsg(der('ed25519-selfsigned.pem')), hs(16, vec8(Buffer.alloc(65, 4))), hs(15, Buffer.alloc(72, 5))])), CCS, record(22, Buffer.alloc(40, 6))])],
    [1, Buffer.concat([CCS, record(22, Buffer.alloc(40, 7))])],
    [0, record(23, Buffer.alloc(300, 8))],
    [1, Buffer.concat([record(23, Buffer.alloc(50, 9)), record(23, Buffer.alloc(60, 9))])],
    [0, record(21, Buffer.alloc(26, 10))],
  ];
}

function run(steps: Array<[Dir, Buffer]>, split = Infinity, opts: TlsOptions = {}) {
  const c = collector();
  const h = createTlsHandler(fakeFlow(), c.emit, opts);
  let frame = 0;
  for (const [dir, bytes] of steps) {
    frame++;
    for (let i = 0; i < bytes.length; i += split) {
      const n = Math.min(split, bytes.length - i);
      // hand the bytes inside a larger buffer, as the reassembler may
      const host = Buffer.concat([Buffer.alloc(3, 0xee), bytes.subarray(i, i + n), Buffer.alloc(2, 0xee)]);
      h.onData(dir, host, 3, n, frame * 1000, frame);
    }
  }
  h.onEnd(99_000, 99);
  return { ...c, stats: h.stats };
}

describe('TLS handler: a TLS 1.2 handshake with client certificates', () => {
  const r = run(tls12Mutual());

  it('emits hello, server hello, the chains in both directions, and the encrypted alert, in order', () => {
    expect(r.types()).toEqual([
      'tls.client_hello', 'tls.server_hello', 'tls.certificate', 'tls.certificate', 'tls.certificate', 'tls.alert',
    ]);
  });

  it('the ServerHello says the server asked for a client certificate (RFC 5246 7.4.4)', () => {
    const sh = r.events[1] as TlsServerHello;
    expect(sh).toMatchObject({ selectedVersion: 0x0303, version: 'TLS 1.2', cipherSuite: 0xc02f, certificatesVisible: true, clientCertificateRequested: true, frame: 2 });
    expect(sh.flow.dir).toBe('to_client');
  });

  it('certificates carry position, chain length and sender', () => {
    const certs = r.events.filter((e) => e.type === 'tls.certificate') as TlsCertificate[];
    expect(certs.map((c) => [c.sender, c.position, c.chainLength, c.subjectCn])).toEqual([
      ['server', 0, 2, 'leaf.local'], ['server', 1, 2, 'legacy.local'], ['client', 0, 1, 'gateway-7'],
    ]);
    expect(certs[2].flow.dir).toBe('to_server');
  });

  it('an alert after ChangeCipherSpec is flagged encrypted; application data is skipped and counted', () => {
    expect(r.events[5]).toMatchObject({ type: 'tls.alert', encrypted: true, level: null, description: null });
    expect(r.stats.applicationDataRecords).toBe(3);
    expect(r.stats.encryptedRecords).toBe(6);
    expect(r.codes()).toEqual([]);
  });

  it('the same events for any segmentation: 1, 2, 3, 7 and 100 bytes at a time', () => {
    for (const split of [1, 2, 3, 7, 100]) expect(strip(run(tls12Mutual(), split).events)).toEqual(strip(r.events));
  });

  it('a handshake message spanning two records (RFC 5246 6.2.1) gives the same events', () => {
    const steps = tls12Mutual();
    const flight = steps[1][1].subarray(5);
    steps[1] = [1, Buffer.concat([record(22, flight.subarray(0, 61)), record(22, flight.subarray(61, 700)), record(22, flight.subarray(700))])];
    expect(strip(run(steps).events)).toEqual(strip(r.events));
  });
});

describe('TLS handler: flights, versions, alerts', () => {
  it('abbreviated handshake: the server flight ends with its ChangeCipherSpec, no certificate request', () => {
    const r = run([
      [0, record(22, hs(1, clientHelloBody()))],
      [1, Buffer.concat([record(22, hs(2, serverHelloBody())), CCS, record(22, Buffer.alloc(40))])],
    ]);
    expect(r.events[1]).toMatchObject({ type: 'tls.server_hello', clientCertificateRequested: false });
  });

  it('a server flight cut short leaves clientCertificateRequested unknown (null)', () => {
    const r = run([[0, record(22, hs(1, clientHelloBody()))], [1, record(22, hs(2, serverHelloBody()))]]);
    expect(r.events[1]).toMatchObject({ type: 'tls.server_hello', clientCertificateRequested: null });
  });

  it('TLS 1.3: certificates not visible, everything after the ServerHello skipped, plaintext alert still read', () => {
    const r = run([
      [0, record(22, hs(1, clientHelloBody({ extensions: [ext(43, vec8(u16(0x0304)))] })))],
      [1, Buffer.concat([record(22, hs(2, serverHelloBody({ suite: 0x1301, extensions: [ext(43, u16(0x0304))] }))), CCS, record(23, Buffer.alloc(900)), record(23, Buffer.alloc(300))])],
      [0, record(21, Buffer.from([2, 48]))],
    ]);
    expect(r.types()).toEqual(['tls.client_hello', 'tls.server_hello', 'tls.alert']);
    expect(r.events[1]).toMatchObject({ selectedVersion: 0x0304, certificatesVisible: false, clientCertificateRequested: null });
    expect(r.events[2]).toMatchObject({ encrypted: false, description: 48, descriptionName: 'unknown_ca' });
    expect(r.stats.encryptedRecords).toBe(2);
  });

  it('HelloRetryRequest (RFC 8446 4.1.4): the second ClientHello is read too', () => {
    const r = run([
      [0, record(22, hs(1, clientHelloBody()))],
      [1, Buffer.concat([record(22, hs(2, serverHelloBody({ random: HRR_RANDOM, suite: 0x1301, extensions: [ext(43, u16(0x0304))] }))), CCS])],
      [0, Buffer.concat([CCS, record(22, hs(1, clientHelloBody({ random: Buffer.alloc(32, 0x33) })))])],
    ]);
    expect(r.types()).toEqual(['tls.client_hello', 'tls.server_hello', 'tls.client_hello']);
    expect(r.events[1]).toMatchObject({ helloRetryRequest: true });
  });

  it('a plaintext fatal alert before encryption (RFC 5246 7.2)', () => {
    const r = run([[0, record(22, hs(1, clientHelloBody()))], [1, record(21, Buffer.from([2, 40]))]]);
    expect(r.events[1]).toMatchObject({ type: 'tls.alert', encrypted: false, level: 2, levelName: 'fatal', description: 40, descriptionName: 'handshake_failure' });
  });
});

describe('TLS handler: anomalies', () => {
  it('tls.malformed: a bad record header stops that direction', () => {
    const r = run([[0, Buffer.from('GET / HTTP/1.1\r\n\r\n')], [0, record(22, hs(1, clientHelloBody()))]]);
    expect(r.codes()).toEqual(['tls.malformed']);
    expect(r.types()).toEqual(['anomaly']);
    expect(r.stats.desyncs).toBe(1);
  });

  it('tls.malformed: a ClientHello that does not parse', () => {
    const r = run([[0, record(22, hs(1, Buffer.from([3, 3, 1])))]]);
    expect(r.codes()).toEqual(['tls.malformed']);
  });

  it('tls.truncated: the stream ends inside a handshake message', () => {
    const full = record(22, hs(1, clientHelloBody()));
    const r = run([[0, full.subarray(0, 30)]]);
    expect(r.codes()).toEqual(['tls.truncated']);
  });

  it('tls.truncated: a gap before encryption; a gap inside an encrypted record is survived', () => {
    const c = collector();
    const h = createTlsHandler(fakeFlow(), c.emit);
    const ch = record(22, hs(1, clientHelloBody()));
    h.onData(0, ch, 0, 20, 1, 1);
    h.onGap(0, 10, 2, 2);
    expect(c.codes()).toEqual(['tls.truncated']);

    const c2 = collector();
    const h2 = createTlsHandler(fakeFlow(), c2.emit);
    const flight = Buffer.concat([record(22, hs(2, serverHelloBody())), CCS]);
    h2.onData(1, flight, 0, flight.length, 1, 1);
    const app = record(23, Buffer.alloc(100));
    h2.onData(1, app, 0, 30, 2, 2);
    h2.onGap(1, 50, 3, 3);
    const tail = Buffer.concat([app.subarray(80), record(21, Buffer.alloc(26))]);
    h2.onData(1, tail, 0, tail.length, 4, 4);
    expect(c2.types()).toEqual(['tls.server_hello', 'tls.alert']);
    expect(h2.stats.applicationDataRecords).toBe(1);
  });

  it('tls.oversized: a handshake message over the bound is skipped, the next one is read', () => {
    const flight = Buffer.concat([hs(2, serverHelloBody()), certMsg(der('ec384-issued.pem')), hs(13, Buffer.from([0, 0, 0, 0, 0])), hs(14, Buffer.alloc(0))]);
    for (const split of [Infinity, 5]) {
      const r = run([[1, record(22, flight)]], split, { maxHandshakeBytes: 300 });
      expect(r.codes()).toEqual(['tls.oversized']);
      expect(r.events.find((e) => e.type === 'tls.server_hello')).toMatchObject({ clientCertificateRequested: true });
      expect(r.stats.certificatesNotDescribed).toBe(1);
    }
  });

  it('tls.bad_certificate: DER that is not a certificate; the chain goes on', () => {
    const r = run([[1, record(22, Buffer.concat([hs(2, serverHelloBody()), certMsg(Buffer.from('garbage'), der('rsa1024-sha1.pem')), hs(14, Buffer.alloc(0))]))]]);
    expect(r.codes()).toEqual(['tls.bad_certificate']);
    expect(r.events.filter((e) => e.type === 'tls.certificate').map((e) => (e as TlsCertificate).position)).toEqual([1]);
  });

  it('maxCertificates bounds the certificates described per message', () => {
    const r = run([[1, record(22, Buffer.concat([hs(2, serverHelloBody()), certMsg(der('ec384-issued.pem'), der('rsa1024-sha1.pem')), hs(14, Buffer.alloc(0))]))]], Infinity, { maxCertificates: 1 });
    expect(r.events.filter((e) => e.type === 'tls.certificate')).toHaveLength(1);
    expect(r.stats.certificatesNotDescribed).toBe(1);
  });

  it('an alert record of the wrong size before encryption is reported as encrypted (its content is unknown)', () => {
    const r = run([[1, record(21, Buffer.alloc(5))]]);
    expect(r.events[0]).toMatchObject({ type: 'tls.alert', encrypted: true } satisfies Partial<TlsAlert>);
  });
});

describe('looksLikeTlsClientHello', () => {
  const ch = record(22, hs(1, clientHelloBody()), 0x0301);
  it('true for a ClientHello record, undefined while too short, false otherwise', () => {
    expect(looksLikeTlsClientHello(ch, 0, ch.length)).toBe(true);
    expect(looksLikeTlsClientHello(ch, 0, 10)).toBe(true);
    for (const n of [0, 1, 2, 4, 5, 8, 9]) expect(looksLikeTlsClientHello(ch, 0, n)).toBeUndefined();
    expect(looksLikeTlsClientHello(Buffer.from('\x10\x0c\x00\x04MQTT'), 0, 8)).toBe(false);
    expect(looksLikeTlsClientHello(record(22, hs(2, serverHelloBody())), 0, 20)).toBe(false);
    expect(looksLikeTlsClientHello(Buffer.from([22, 3, 9, 0, 50, 1]), 0, 6)).toBe(false);
    expect(looksLikeTlsClientHello(Buffer.from([22, 3, 1, 0x50, 0, 1]), 0, 6)).toBe(false); // record too long
    expect(looksLikeTlsClientHello(Buffer.from([22, 3, 1, 0, 50, 1, 0, 0, 10, 3]), 0, 10)).toBe(false); // hello too short
    expect(looksLikeTlsClientHello(Buffer.from([22, 3, 1, 0, 50, 1, 0, 0, 46, 2]), 0, 10)).toBe(false); // SSL 2 version
  });
});
