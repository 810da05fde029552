// Golden runs: pcaps/dtls-*.pcap (pcaps/record-tls.sh: libcoap's coap-server-openssl and
// coap-client-openssl with PSK from 127.0.0.2/.3, openssl s_client with single PSK suites from
// .4/.5, openssl s_server/s_client with RSA_PSK and a 300-byte MTU from .6/.7) through the
// capture and flow layers and the DTLS decoder, against tshark 4.0 (fixtures/*.tshark.json).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DtlsAlert, DtlsClientHello, DtlsPskIdentity, DtlsServerHello, TlsCertificate, TransportEventSink } from '../../../src/events/tls-types';
import { createDtlsHandler, looksLikeDtls } from '../../../src/protocols/dtls';
import { runPcap, type AnyEvent } from '../tls/run-pcap';

type Row = Record<string, string[]>;
const PCAPS = join(__dirname, '../../../pcaps');
const fixture = (name: string): Row[] => (JSON.parse(readFileSync(join(__dirname, 'fixtures', `${name}.tshark.json`), 'utf8')) as { rows: Row[] }).rows;
const num = (s: string): number => (s.startsWith('0x') ? parseInt(s, 16) : Number(s));
const nums = (xs: string[] | undefined): number[] => (xs ?? []).map(num);

function decode(name: string): AnyEvent[] {
  return runPcap(join(PCAPS, `${name}.pcap`), {
    udp: (flow, _dir, buf, off, len, emit) => (looksLikeDtls(buf, off, len) ? createDtlsHandler(flow, emit as TransportEventSink) : null),
  }).events;
}

describe.each(['dtls-coap-psk', 'dtls-fragmented'])('%s against tshark', (name) => {
  const rows = fixture(name);
  const events = decode(name);
  const at = <T extends AnyEvent>(type: T['type'], frame: number): T[] => events.filter((e) => e.type === type && e.frame === frame) as T[];
  /** Frames where tshark completed (reassembled) a handshake message of this type. */
  const completed = (type: number): Row[] => rows.filter((r) => {
    const types = nums(r['dtls.handshake.type']);
    return types.some((t, i) => t === type && num(r['dtls.handshake.fragment_offset'][i]) + num(r['dtls.handshake.fragment_length'][i]) === num(r['dtls.handshake.length'][i]));
  });

  it('no anomalies on a capture of real peers', () => {
    expect(events.filter((e) => e.type === 'anomaly')).toEqual([]);
  });

  it('ClientHello: record header, version, suites, extensions, SNI, cookie', () => {
    const chRows = completed(1);
    expect(events.filter((e) => e.type === 'dtls.client_hello')).toHaveLength(chRows.length);
    for (const r of chRows) {
      const [ch] = at<DtlsClientHello>('dtls.client_hello', num(r['frame.number'][0]));
      expect(ch.flow.sport).toBe(num(r['udp.srcport'][0]));
      expect(ch.recordVersion).toBe(num(r['dtls.record.version'][0]));
      expect(ch.epoch).toBe(num(r['dtls.record.epoch'][0]));
      expect(ch.sequence).toBe(num(r['dtls.record.sequence_number'][0]));
      expect(ch.messageSeq).toBe(num(r['dtls.handshake.message_seq'][0]));
      expect(ch.legacyVersion).toBe(num(r['dtls.handshake.version'][0]));
      expect(ch.cipherSuites).toEqual(nums(r['dtls.handshake.ciphersuite']));
      expect(ch.extensions).toEqual(nums(r['dtls.handshake.extension.type']));
      expect(ch.sni).toBe(r['dtls.handshake.extensions_server_name'][0] ?? null);
      expect(ch.cookie).toBe((r['dtls.handshake.cookie'][0] ?? '').replace(/:/g, ''));
      expect(ch.sessionIdLength).toBe(num(r['dtls.handshake.session_id_length'][0]));
      expect(ch.ja4).toMatch(/^dd2[di]\d{4}00_[0-9a-f]{12}_[0-9a-f]{12}$/);
    }
  });

  it('ServerHello: chosen suite; HelloVerifyRequest seen before it', () => {
    const shRows = completed(2);
    expect(events.filter((e) => e.type === 'dtls.server_hello')).toHaveLength(shRows.length);
    for (const r of shRows) {
      const [sh] = at<DtlsServerHello>('dtls.server_hello', num(r['frame.number'][0]));
      const i = nums(r['dtls.handshake.type']).indexOf(2);
      expect(sh.cipherSuite).toBe(num(r['dtls.handshake.ciphersuite'][0]));
      expect(sh.legacyVersion).toBe(num(r['dtls.handshake.version'][0]));
      expect(sh.epoch).toBe(num(r['dtls.record.epoch'][i]));
      expect(sh.helloVerifyRequested).toBe(rows.some((x) => nums(x['dtls.handshake.type']).includes(3) && num(x['frame.number'][0]) < sh.frame && num(x['udp.srcport'][0]) === sh.flow.sport));
    }
  });

  it('PSK identities: equal to tshark where it shows them (PSK, RSA_PSK); the hint too', () => {
    const ids = events.filter((e) => e.type === 'dtls.psk_identity') as DtlsPskIdentity[];
    expect(ids.length).toBe(completed(16).length);
    for (const r of rows.filter((x) => x['dtls.handshake.identity'].length > 0)) {
      const [id] = at<DtlsPskIdentity>('dtls.psk_identity', num(r['frame.number'][0]));
      expect(id.identityHex).toBe(r['dtls.handshake.identity'][0].replace(/:/g, ''));
    }
    for (const r of rows.filter((x) => x['dtls.handshake.hint'].length > 0)) {
      const hint = Buffer.from(r['dtls.handshake.hint'][0].replace(/:/g, ''), 'hex').toString('latin1');
      const later = ids.find((i) => i.frame > num(r['frame.number'][0]) && i.flow.dport === num(r['udp.srcport'][0]));
      if (later) expect(later.identityHint).toBe(hint);
    }
  });

  it('certificates (reassembled from fragments): DER hash, serial, signature algorithm, validity, DNS SANs', () => {
    const certRows = rows.filter((r) => r['dtls.handshake.certificate'].length > 0);
    expect(events.filter((e) => e.type === 'tls.certificate')).toHaveLength(certRows.reduce((n, r) => n + r['dtls.handshake.certificate'].length, 0));
    for (const r of certRows) {
      const certs = at<TlsCertificate>('tls.certificate', num(r['frame.number'][0]));
      const ders = r['dtls.handshake.certificate'];
      expect(certs.map((c) => c.sha256)).toEqual(ders.map((h) => createHash('sha256').update(Buffer.from(h.replace(/:/g, ''), 'hex')).digest('hex')));
      expect(certs.map((c) => c.serial)).toEqual(r['x509af.serialNumber'].map((x) => x.replace(/^(00)+(?=.)/, '')));
      expect(certs.map((c) => c.signatureAlgorithmOid)).toEqual(certs.map((_, i) => r['x509af.algorithm.id'][3 * i + 2]));
      expect(certs.flatMap((c) => [c.notBeforeIso, c.notAfterIso])).toEqual(r['x509af.utcTime'].map((t) => `${t.replace(' (UTC)', '').replace(' ', 'T')}.000Z`));
      expect(certs.flatMap((c) => c.sans.filter((x) => x.startsWith('DNS:')).map((x) => x.slice(4)))).toEqual(r['x509ce.dNSName']);
      expect(certs.every((c) => c.sender === 'server' && c.flow.proto === 'udp')).toBe(true);
    }
  });

  it('alerts: clear ones match, those at epoch > 0 are flagged encrypted', () => {
    const alertRows = rows.filter((r) => nums(r['dtls.record.content_type']).includes(21));
    const alerts = events.filter((e) => e.type === 'dtls.alert') as DtlsAlert[];
    expect(alerts).toHaveLength(alertRows.length);
    for (const r of alertRows) {
      const [a] = at<DtlsAlert>('dtls.alert', num(r['frame.number'][0]));
      const i = nums(r['dtls.record.content_type']).indexOf(21);
      expect(a.epoch).toBe(num(r['dtls.record.epoch'][i]));
      expect(a.encrypted).toBe(r['dtls.alert_message.desc'].length === 0);
      if (!a.encrypted) expect([a.level, a.description]).toEqual([num(r['dtls.alert_message.level'][0]), num(r['dtls.alert_message.desc'][0])]);
    }
  });
});

describe('what the DTLS captures show', () => {
  it('ECDHE-PSK identities, which tshark 4.0 does not decode, from libcoap clients on two addresses', () => {
    const ev = decode('dtls-coap-psk');
    const ids = ev.filter((e) => e.type === 'dtls.psk_identity') as DtlsPskIdentity[];
    // Expected bytes: libcoap's client sends -u device-01 / device-02 as the identity, and
    // coap-server-openssl's default hint is "CoAP" (RFC 5489 section 2 layout).
    expect(ids.map((i) => [i.flow.src, i.keyExchange, i.cipherSuite, i.identityHex, i.identityHint])).toEqual([
      ['127.0.0.2', 'ecdhe_psk', 0xccac, '6465766963652d3031', 'CoAP'],
      ['127.0.0.3', 'ecdhe_psk', 0xccac, '6465766963652d3032', 'CoAP'],
      ['127.0.0.4', 'psk', 0xc0a8, '6465766963652d3033', 'CoAP'],
    ]);
    const fixtureRows = fixture('dtls-coap-psk');
    const shown = fixtureRows.filter((r) => r['dtls.handshake.identity'].length > 0).map((r) => r['dtls.handshake.identity'][0]);
    expect(shown).toEqual(['6465766963652d3033']); // tshark shows only the plain PSK one
    // the DHE-PSK client from 127.0.0.5 finds no shared suite: the server's fatal alert
    expect(ev.find((e) => e.type === 'dtls.alert' && e.flow.dst === '127.0.0.5' && !(e as DtlsAlert).encrypted)).toMatchObject({ descriptionName: 'handshake_failure' });
  });

  it('fragmented handshake (300-byte MTU): RSA_PSK identity reassembled from two fragments, wrong key ends in bad_record_mac', () => {
    const ev = decode('dtls-fragmented');
    expect(ev.filter((e) => e.type === 'tls.certificate')).toMatchObject([
      { subjectCn: 'broker.local', keyType: 'rsa', keySize: 2048, selfSigned: false }, { subjectCn: 'broker.local' },
    ]);
    expect((ev.filter((e) => e.type === 'dtls.psk_identity') as DtlsPskIdentity[]).map((i) => [i.identity, i.keyExchange, i.identityHint])).toEqual([
      ['sensor-rsa-psk', 'rsa_psk', 'gw-hint'], ['wrong', 'rsa_psk', 'gw-hint'],
    ]);
    expect(ev.find((e) => e.type === 'dtls.alert' && !(e as DtlsAlert).encrypted)).toMatchObject({ descriptionName: 'bad_record_mac', level: 2 });
  });
});
