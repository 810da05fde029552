// tls.no_client_auth: a TLS server on an IoT port that completes its handshake flight without a
// CertificateRequest (RFC 5246 7.4.4): any client can connect, and only a password (if any) stands
// between it and the broker. TLS 1.3 hides the CertificateRequest, so only <= 1.2 is judged.
// (DTLS servers here use PSKs, which authenticate the client; the decoder does not report a
// DTLS CertificateRequest.)
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { serverEndpoint } from './lib/endpoints';
import { Findings, findingSpec } from './lib/posture';
import type { TlsServerHello } from '../src/events/tls-types';

export const id = 'tls.no_client_auth';
export const category = 'posture';

export const tunables = {
  ports: [8883, 5684] as readonly number[],
  alpn: ['mqtt', 'coap'] as readonly string[],
};

export const schema: Schema<typeof tunables> = {
  ports: { type: 'integer[]', min: 1, max: 65535, description: 'server ports judged (MQTT over TLS, CoAP over TLS); empty: every port' },
  alpn: { type: 'string[]', description: 'servers that select one of these ALPN protocols are judged on any port' },
};

export function create(ctx: DetectorContext, t: typeof tunables) {
  const ports = new Set(t.ports);
  const alpn = new Set(t.alpn);
  const findings = new Findings<null>(ctx, () => null, (f) => {
    ctx.alert(findingSpec(f, {
      entity: { kind: 'server', value: f.key },
      summary: `Server ${f.key} completed ${f.proof.n} handshake${f.proof.n === 1 ? '' : 's'} without asking the client for a certificate.`,
      evidence: { metric: 'handshakes without CertificateRequest', observed: f.proof.n, baseline: null, threshold: 1, window: 0 },
    }));
  });

  return {
    onEvent(e: TlsServerHello): void {
      if (e.clientCertificateRequested !== false) return;
      const port = e.flow.dir === 'to_client' ? e.flow.sport : e.flow.dport;
      if (ports.size > 0 && !ports.has(port) && (e.alpn === null || !alpn.has(e.alpn))) return;
      const f = findings.observe(serverEndpoint(e.flow));
      f.proof.add(e);
      findings.report(f);
    },
    tick: (now: number) => findings.tick(now),
    flush: () => findings.flush(),
  };
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'low',
  usesBaseline: false,
  subscribes: ['tls.server_hello'],
  description: 'A TLS server on an MQTT or CoAP port that does not request a client certificate.',
  recommendation: 'Require client certificates (mutual TLS) for devices on the broker or gateway (mosquitto: require_certificate true), issued per device from a private CA.',
  mitre: null, // a missing control, not an adversary technique
});
