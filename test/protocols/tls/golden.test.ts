// Golden runs: pcaps/tls-*.pcap (recorded by pcaps/record-tls.sh with mosquitto and
// mosquitto_pub) through the capture and flow layers and the TLS decoder; tshark 4.0's decoding
// (fixtures/*.tshark.json, made by make-tshark-fixtures.sh) is the reference, field by field.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TlsAlert, TlsCertificate, TlsClientHello, TlsServerHello } from '../../../src/events/tls-types';
import { createTlsHandler, looksLikeTlsClientHello } from '../../../src/protocols/tls';
import type { TransportEventSink } from '../../../src/events/tls-types';
import { runPcap, type AnyEvent } from './run-pcap';

type Row = Record<string, string[]>;
const PCAPS = join(__dirname, '../../../pcaps');
const fixture = (name: string): Row[] => (JSON.parse(readFileSync(join(__dirname, 'fixtures', `${name}.tshark.json`), 'utf8')) as { rows: Row[] }).rows;
const num = (s: string): number => (s.startsWith('0x') ? parseInt(s, 16) : Number(s));
const nums = (xs: string[] | undefined): number[] => (xs ?? []).map(num);
/** tshark prints "2026-11-24 21:29:06 (UTC)". */
const tsharkTime = (s: string): string => `${s.replace(' (UTC)', '').replace(' ', 'T')}.000Z`;
const serialNorm = (s: string): string => s.replace(/:/g, '').toLowerCase().replace(/^(00)+(?=.)/, '');

function decode(name: string): AnyEvent[] {
  return runPcap(join(PCAPS, `${name}.pcap`), {
    tcp: (flow, _dir, buf, off, len, emit) => {
      const l = looksLikeTlsClientHello(buf, off, len);
      return l ? createTlsHandler(flow, emit as TransportEventSink) : l === undefined ? undefined : null;
    },
  }).events;
}

const CAPTURES = ['tls-mqtt-selfsigned', 'tls-mqtt-mutual', 'tls-mqtt-expired', 'tls-mqtt-13'];

describe.each(CAPTURES)('%s against tshark', (name) => {
  const rows = fixture(name);
  const events = decode(name);
  const at = <T extends AnyEvent>(type: T['type'], frame: number): T[] => events.filter((e) => e.type === type && e.frame === frame) as T[];
  const hsTypes = (r: Row): number[] => nums(r['tls.handshake.type']);

  it('no anomalies on a capture of real peers', () => {
    expect(events.filter((e) => e.type === 'anomaly')).toEqual([]);
  });

  it('ClientHello: versions, suites, extensions, SNI, ALPN, signature algorithms, groups', () => {
    const chRows = rows.filter((r) => hsTypes(r).includes(1));
    expect(chRows.length).toBeGreaterThan(0);
    expect(events.filter((e) => e.type === 'tls.client_hello')).toHaveLength(chRows.length);
    for (const r of chRows) {
      const [ch] = at<TlsClientHello>('tls.client_hello', num(r['frame.number'][0]));
      expect(ch).toBeDefined();
      expect(ch.flow.sport).toBe(num(r['tcp.srcport'][0]));
      expect(ch.recordVersion).toBe(num(r['tls.record.version'][0]));
      expect(ch.legacyVersion).toBe(num(r['tls.handshake.version'][0]));
      expect(ch.supportedVersions).toEqual(nums(r['tls.handshake.extensions.supported_version']));
      expect(ch.cipherSuites).toEqual(nums(r['tls.handshake.ciphersuite']));
      expect(ch.extensions).toEqual(nums(r['tls.handshake.extension.type']));
      expect(ch.sni).toBe(r['tls.handshake.extensions_server_name'][0] ?? null);
      expect(ch.alpn).toEqual(r['tls.handshake.extensions_alpn_str']);
      expect(ch.signatureAlgorithms).toEqual(nums(r['tls.handshake.sig_hash_alg']));
      expect(ch.supportedGroups).toEqual(nums(r['tls.handshake.extensions_supported_group']));
      expect(ch.sessionIdLength).toBe(num(r['tls.handshake.session_id_length'][0]));
      expect(ch.ja4).toMatch(/^t1[23][di]\d{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/);
    }
  });

  it('ServerHello: chosen version and suite; CertificateRequest seen; TLS 1.3 hides certificates', () => {
    const shRows = rows.filter((r) => hsTypes(r).includes(2));
    expect(events.filter((e) => e.type === 'tls.server_hello')).toHaveLength(shRows.length);
    for (const r of shRows) {
      const [sh] = at<TlsServerHello>('tls.server_hello', num(r['frame.number'][0]));
      const sv = r['tls.handshake.extensions.supported_version'];
      const tls13 = sv.length > 0 && num(sv[0]) === 0x0304;
      expect(sh.cipherSuite).toBe(num(r['tls.handshake.ciphersuite'][0]));
      expect(sh.legacyVersion).toBe(num(r['tls.handshake.version'][0]));
      expect(sh.selectedVersion).toBe(tls13 ? 0x0304 : num(r['tls.handshake.version'][0]));
      expect(sh.extensions).toEqual(nums(r['tls.handshake.extension.type']));
      expect(sh.certificatesVisible).toBe(!tls13);
      // in these captures the whole TLS 1.2 server flight is one segment
      expect(sh.clientCertificateRequested).toBe(tls13 ? null : hsTypes(r).includes(13));
    }
  });

  it('certificates: DER hash, order, serial, signature algorithm, validity, DNS SANs', () => {
    const certRows = rows.filter((r) => r['tls.handshake.certificate'].length > 0);
    const total = certRows.reduce((n, r) => n + r['tls.handshake.certificate'].length, 0);
    expect(events.filter((e) => e.type === 'tls.certificate')).toHaveLength(total);
    for (const r of certRows) {
      const certs = at<TlsCertificate>('tls.certificate', num(r['frame.number'][0]));
      const ders = r['tls.handshake.certificate'];
      expect(certs.map((c) => c.sha256)).toEqual(ders.map((h) => createHash('sha256').update(Buffer.from(h.replace(/:/g, ''), 'hex')).digest('hex')));
      expect(certs.map((c) => c.position)).toEqual(ders.map((_, i) => i));
      expect(certs.every((c) => c.chainLength === ders.length)).toBe(true);
      expect(certs.map((c) => c.serial)).toEqual(r['x509af.serialNumber'].map(serialNorm));
      // per certificate: tbs signature, subjectPublicKeyInfo algorithm, outer signatureAlgorithm
      expect(certs.map((c) => c.signatureAlgorithmOid)).toEqual(certs.map((_, i) => r['x509af.algorithm.id'][3 * i + 2]));
      const times = [...r['x509af.utcTime'], ...r['x509af.generalizedTime']].map(tsharkTime);
      expect(certs.flatMap((c) => [c.notBeforeIso, c.notAfterIso])).toEqual(times);
      expect(certs.flatMap((c) => c.sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)))).toEqual(r['x509ce.dNSName']);
      const sender = certs[0].flow.sport === num(r['tcp.srcport'][0]);
      expect(sender).toBe(true);
    }
  });

  it('alerts: level and description in clear, encrypted ones flagged', () => {
    const alertRecords = rows.flatMap((r) => nums(r['tls.record.content_type']).filter((t) => t === 21).map(() => r));
    expect(events.filter((e) => e.type === 'tls.alert')).toHaveLength(alertRecords.length);
    for (const r of rows.filter((x) => nums(x['tls.record.content_type']).includes(21))) {
      const alerts = at<TlsAlert>('tls.alert', num(r['frame.number'][0]));
      const clear = r['tls.alert_message.desc'];
      expect(alerts.filter((a) => !a.encrypted).map((a) => [a.level, a.description])).toEqual(
        clear.map((d, i) => [num(r['tls.alert_message.level'][i]), num(d)]),
      );
    }
  });
});

describe('what the captures show', () => {
  it('self-signed broker certificate, 1 day, EC P-256; SNI localhost, then an IP address as SNI from --insecure', () => {
    const ev = decode('tls-mqtt-selfsigned');
    const cert = ev.find((e) => e.type === 'tls.certificate') as TlsCertificate;
    expect(cert).toMatchObject({ selfSigned: true, keyType: 'ec', keySize: 256, curve: 'prime256v1', signatureAlgorithm: 'ecdsa-with-SHA256', subjectCn: 'localhost', sender: 'server' });
    expect(cert.notAfter - cert.notBefore).toBe(86_400_000_000);
    expect((ev.filter((e) => e.type === 'tls.client_hello') as TlsClientHello[]).map((c) => c.sni)).toEqual(['localhost', '127.0.0.1']);
  });

  it('mutual TLS: CA-issued chains both ways, ALPN mqtt, and a handshake_failure for the client without a certificate', () => {
    const ev = decode('tls-mqtt-mutual');
    const certs = ev.filter((e) => e.type === 'tls.certificate') as TlsCertificate[];
    expect(certs.filter((c) => c.sender === 'client').map((c) => c.subjectCn)).toEqual(['sensor-17', 'iotwatch test CA']);
    expect(certs.find((c) => c.sender === 'client' && c.position === 0)).toMatchObject({ keyType: 'ec', curve: 'secp384r1', signatureAlgorithm: 'sha384WithRSAEncryption', selfSigned: false });
    expect(certs.find((c) => c.subjectCn === 'iotwatch test CA')).toMatchObject({ selfSigned: true, isCa: true, keyType: 'rsa', keySize: 2048 });
    expect((ev.find((e) => e.type === 'tls.client_hello') as TlsClientHello).alpn).toEqual(['mqtt']);
    expect(ev.filter((e) => e.type === 'tls.alert' && !(e as TlsAlert).encrypted)).toMatchObject([{ descriptionName: 'handshake_failure', level: 2 }]);
  });

  it('expired certificate: the client refuses with certificate_expired', () => {
    const ev = decode('tls-mqtt-expired');
    expect(ev.find((e) => e.type === 'tls.certificate')).toMatchObject({ notBeforeIso: '2024-01-01T00:00:00.000Z', notAfterIso: '2024-01-02T00:00:00.000Z', selfSigned: true });
    expect(ev.find((e) => e.type === 'tls.alert')).toMatchObject({ encrypted: false, descriptionName: 'certificate_expired', flow: { dir: 'to_server' } });
  });

  it('TLS 1.3: the event says the certificates are not visible', () => {
    const ev = decode('tls-mqtt-13');
    expect(ev.filter((e) => e.type === 'tls.certificate')).toEqual([]);
    expect(ev.find((e) => e.type === 'tls.server_hello')).toMatchObject({ selectedVersion: 0x0304, certificatesVisible: false });
  });
});
