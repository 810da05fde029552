import { describe, expect, it } from 'vitest';
import type { DtlsClientHello, DtlsPskIdentity, DtlsServerHello } from '../../../src/events/tls-types';
import type { Dir } from '../../../src/flow/types';
import { createDtlsHandler, type DtlsOptions } from '../../../src/protocols/dtls';
import { clientHelloBody, dtlsHs, dtlsRecord, ext, serverHelloBody, u16, vec16, vec8 } from '../tls/build';
import { collector, fakeFlow } from '../tls/fake-flow';

const HS = 22;
const cookie = Buffer.from('0123456789abcdef');
const ch0 = clientHelloBody({ suites: [0xc0a8, 0xccac], extensions: [] }, true);
const ch1 = clientHelloBody({ suites: [0xc0a8, 0xccac], extensions: [], cookie }, true);
const hvr = Buffer.concat([u16(0xfeff), vec8(cookie)]);
const cke = (kx: 'psk' | 'ecdhe_psk', id = 'sensor-42'): Buffer => kx === 'psk' ? vec16(Buffer.from(id)) : Buffer.concat([vec16(Buffer.from(id)), vec8(Buffer.alloc(65, 4))]);

function run(datagrams: Array<[Dir, Buffer]>, opts: DtlsOptions = {}) {
  const c = collector();
  const h = createDtlsHandler(fakeFlow('udp', 5684), c.emit, opts);
  datagrams.forEach(([dir, d], i) => h.onDatagram(dir, d, 0, d.length, (i + 1) * 1000, i + 1));
  h.onEnd(0, 0);
  return { ...c, stats: h.stats };
}

/** A PSK handshake with a cookie exchange; the ClientKeyExchange comes in three fragments. */
function pskHandshake(suite: number, kx: 'psk' | 'ecdhe_psk', fragmentOrder = [2, 0, 1]): Array<[Dir, Buffer]> {
  const ckeBody = cke(kx);
  const cuts = [[0, 5], [4, 4], [8, ckeBody.length - 8]]; // overlapping fragments (RFC 6347 4.2.3 allows it)
  const frags = fragmentOrder.map((i) => dtlsRecord(HS, dtlsHs(16, ckeBody, 2, cuts[i][0], cuts[i][1]), 0, 10 + i));
  const skeBody = kx === 'psk' ? vec16(Buffer.from('CoAP')) : Buffer.concat([vec16(Buffer.from('CoAP')), Buffer.from([3, 0, 23]), vec8(Buffer.alloc(65, 1))]);
  return [
    [0, dtlsRecord(HS, dtlsHs(1, ch0, 0), 0, 0, 0xfeff)],
    [1, dtlsRecord(HS, dtlsHs(3, hvr, 0), 0, 0, 0xfeff)],
    [0, dtlsRecord(HS, dtlsHs(1, ch1, 1), 0, 1, 0xfeff)],
    [1, Buffer.concat([
      dtlsRecord(HS, dtlsHs(2, serverHelloBody({ version: 0xfefd, suite }), 1), 0, 1),
      dtlsRecord(HS, Buffer.concat([dtlsHs(12, skeBody, 2), dtlsHs(14, Buffer.alloc(0), 3)]), 0, 2),
    ])],
    [0, Buffer.concat(frags)],
    [0, Buffer.concat([dtlsRecord(20, Buffer.from([1]), 0, 20), dtlsRecord(HS, Buffer.alloc(40), 1, 0)])],
    [1, Buffer.concat([dtlsRecord(20, Buffer.from([1]), 0, 5), dtlsRecord(HS, Buffer.alloc(40), 1, 0)])],
    [0, dtlsRecord(23, Buffer.alloc(30), 1, 1)],
    [0, dtlsRecord(21, Buffer.alloc(26), 1, 2)],
  ];
}

describe('DTLS handler: PSK handshakes', () => {
  it('plain PSK (RFC 4279 2): hellos, cookie, identity with hint, encrypted alert', () => {
    const r = run(pskHandshake(0xc0a8, 'psk'));
    expect(r.types()).toEqual(['dtls.client_hello', 'dtls.client_hello', 'dtls.server_hello', 'dtls.psk_identity', 'dtls.alert']);
    const [a, b] = r.events as DtlsClientHello[];
    expect([a.cookie, b.cookie, a.messageSeq, b.messageSeq]).toEqual(['', cookie.toString('hex'), 0, 1]);
    expect(a.cipherSuites).toEqual([0xc0a8, 0xccac]);
    expect(r.events[2]).toMatchObject({ cipherSuite: 0xc0a8, cipherSuiteName: 'TLS_PSK_WITH_AES_128_CCM_8', keyExchange: 'psk', helloVerifyRequested: true, certificatesVisible: true } satisfies Partial<DtlsServerHello>);
    expect(r.events[3]).toMatchObject({ identity: 'sensor-42', identityHex: Buffer.from('sensor-42').toString('hex'), identityLength: 9, identityHint: 'CoAP', keyExchange: 'psk', frame: 5, epoch: 0 } satisfies Partial<DtlsPskIdentity>);
    expect(r.events[4]).toMatchObject({ type: 'dtls.alert', encrypted: true, epoch: 1, sequence: 2 });
    expect(r.stats).toMatchObject({ fragmentedMessages: 1, encryptedRecords: 4 });
    expect(r.codes()).toEqual([]);
  });

  it('ECDHE_PSK (RFC 5489 2): the identity precedes the ECDH point, in any fragment order', () => {
    for (const order of [[0, 1, 2], [2, 1, 0], [1, 2, 0]]) {
      const r = run(pskHandshake(0xccac, 'ecdhe_psk', order));
      expect(r.events.find((e) => e.type === 'dtls.psk_identity')).toMatchObject({ identity: 'sensor-42', keyExchange: 'ecdhe_psk', cipherSuite: 0xccac, identityHint: 'CoAP' });
    }
  });

  it('non-printable identity bytes are escaped, hex keeps them', () => {
    const steps = pskHandshake(0xc0a8, 'psk');
    steps[4] = [0, dtlsRecord(HS, dtlsHs(16, vec16(Buffer.from([0x64, 0x00, 0xff])), 2), 0, 9)];
    const r = run(steps);
    expect(r.events.find((e) => e.type === 'dtls.psk_identity')).toMatchObject({ identity: 'd\\x00\\xff', identityHex: '6400ff' });
  });

  it('retransmitted flights are recognised, not emitted twice (RFC 6347 4.2.4)', () => {
    const steps = pskHandshake(0xc0a8, 'psk');
    const r = run([steps[0], steps[0], steps[1], steps[2], steps[3], steps[3], ...steps.slice(4)]);
    expect(r.types().filter((t) => t !== 'dtls.alert')).toEqual(['dtls.client_hello', 'dtls.client_hello', 'dtls.server_hello', 'dtls.psk_identity']);
    expect(r.stats.retransmissions).toBe(4); // the ClientHello, and ServerHello + ServerKeyExchange + ServerHelloDone
  });

  it('a ClientHello with a new random starts a new handshake on the same 5-tuple', () => {
    const first = pskHandshake(0xc0a8, 'psk');
    const again = pskHandshake(0xc0a8, 'psk').map(([d, b]) => [d, Buffer.from(b)] as [Dir, Buffer]);
    const body = clientHelloBody({ suites: [0xc0a8], extensions: [], random: Buffer.alloc(32, 0x77) }, true);
    again[0] = [0, dtlsRecord(HS, dtlsHs(1, body, 0), 0, 0)];
    const r = run([...first, ...again]);
    expect(r.types().filter((t) => t === 'dtls.psk_identity')).toHaveLength(2);
  });

  it('a certificate-based suite gives no psk_identity; DTLS 1.3 hides certificates, unified-header records are counted', () => {
    const r = run([
      [1, dtlsRecord(HS, dtlsHs(2, serverHelloBody({ version: 0xfefd, suite: 0xc0ae }), 1), 0, 1)],
      [0, dtlsRecord(HS, dtlsHs(16, vec8(Buffer.alloc(65)), 2), 0, 2)],
    ]);
    expect(r.types()).toEqual(['dtls.server_hello']);
    expect(r.events[0]).toMatchObject({ keyExchange: 'other', helloVerifyRequested: false });
    const r13 = run([
      [1, dtlsRecord(HS, dtlsHs(2, serverHelloBody({ version: 0xfefd, suite: 0x1301, extensions: [ext(43, u16(0xfefc))] }), 0), 0, 0)],
      [1, Buffer.concat([Buffer.from([0x2e, 0x00, 0x01]), u16(3), Buffer.alloc(3), Buffer.from([0x2a, 0x00, 0x02]), u16(2), Buffer.alloc(2)])],
    ]);
    expect(r13.events[0]).toMatchObject({ selectedVersion: 0xfefc, version: 'DTLS 1.3', certificatesVisible: false });
    expect(r13.stats.dtls13Records).toBe(2);
  });

  it('a plaintext alert at epoch 0', () => {
    const r = run([[1, dtlsRecord(21, Buffer.from([2, 40]), 0, 3)]]);
    expect(r.events[0]).toMatchObject({ type: 'dtls.alert', encrypted: false, level: 2, description: 40, descriptionName: 'handshake_failure', epoch: 0, sequence: 3 });
  });
});

describe('DTLS handler: anomalies and bounds', () => {
  it('dtls.malformed: a datagram that is not DTLS, a bad ClientHello, a ClientKeyExchange that does not fit the suite', () => {
    expect(run([[0, Buffer.from('hello world, not dtls')]]).codes()).toEqual(['dtls.malformed']);
    expect(run([[0, dtlsRecord(HS, dtlsHs(1, Buffer.from([0xfe, 0xfd, 1]), 0))]]).codes()).toEqual(['dtls.malformed']);
    const steps = pskHandshake(0xccac, 'ecdhe_psk');
    steps[4] = [0, dtlsRecord(HS, dtlsHs(16, cke('psk'), 2), 0, 9)];
    expect(run(steps).codes()).toEqual(['dtls.malformed']);
    expect(run([[0, dtlsRecord(HS, Buffer.alloc(5))]]).codes()).toEqual(['dtls.malformed']);
  });

  it('dtls.bad_fragment: a fragment whose message length contradicts earlier ones', () => {
    const body = Buffer.alloc(100, 1);
    const r = run([
      [1, dtlsRecord(HS, dtlsHs(11, body, 2, 0, 50), 0, 1)],
      [1, dtlsRecord(HS, dtlsHs(11, Buffer.alloc(120, 1), 2, 50, 50), 0, 2)],
    ]);
    expect(r.codes()).toEqual(['dtls.bad_fragment']);
  });

  it('dtls.oversized: a message over maxMessageBytes, and more messages pending than maxPendingMessages', () => {
    const big = Buffer.alloc(2000);
    expect(run([[1, dtlsRecord(HS, dtlsHs(11, big, 2, 0, 100), 0, 1)]], { maxMessageBytes: 1000 }).codes()).toEqual(['dtls.oversized']);
    const pend = run([0, 1, 2].map((seq) => [1, dtlsRecord(HS, dtlsHs(11, Buffer.alloc(100), seq, 0, 10), 0, seq)] as [Dir, Buffer]), { maxPendingMessages: 2 });
    expect(pend.codes()).toEqual(['dtls.oversized']);
  });

  it('certificates in clear (DTLS 1.2) become tls.certificate events; bad DER is tls.bad_certificate, a bad list dtls.malformed', () => {
    const certList = (...ders: Buffer[]): Buffer => {
      const entries = Buffer.concat(ders.map((d) => Buffer.concat([Buffer.from([0, d.length >> 8, d.length & 0xff]), d])));
      return Buffer.concat([Buffer.from([0, entries.length >> 8, entries.length & 0xff]), entries]);
    };
    const r = run([
      [1, dtlsRecord(HS, dtlsHs(2, serverHelloBody({ version: 0xfefd, suite: 0xc0ae }), 1), 0, 1)],
      [1, dtlsRecord(HS, dtlsHs(11, certList(Buffer.from('junk')), 2), 0, 2)],
      [1, dtlsRecord(HS, dtlsHs(11, Buffer.from([0, 0, 9, 1]), 3), 0, 3)],
    ]);
    expect(r.codes()).toEqual(['tls.bad_certificate', 'dtls.malformed']);
  });

  it('tls12_cid records are counted as encrypted', () => {
    const r = run([[0, dtlsRecord(25, Buffer.alloc(30), 1, 4)]]);
    expect(r.stats).toMatchObject({ cidRecords: 1, encryptedRecords: 1 });
    expect(r.events).toEqual([]);
  });
});
