// tls.cert_expired: a certificate presented outside its validity period, judged at the capture's
// own time (not the analyst's clock): expired, or not yet valid. Clients that go on with the
// session do not check certificates.
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { serverEndpoint } from './lib/endpoints';
import { Findings, findingSpec } from './lib/posture';
import { certTimeUs, type TlsCertificate } from './lib/tls-inputs';

export const id = 'tls.cert_expired';
export const category = 'posture';

export const tunables = {
  includeNotYetValid: true,
};

export const schema: Schema<typeof tunables> = {
  includeNotYetValid: { type: 'boolean', description: 'also report certificates whose notBefore is after the capture time' },
};

export function create(ctx: DetectorContext, t: typeof tunables) {
  const findings = new Findings<{ cert: TlsCertificate | null; expired: boolean }>(ctx, () => ({ cert: null, expired: true }), (f) => {
    const c = f.x.cert!;
    const ts = f.proof.last;
    const days = Math.round(((f.x.expired ? ts - certTimeUs(c.notAfter) : certTimeUs(c.notBefore) - ts) / 86_400e6) * 10) / 10;
    ctx.alert(findingSpec(f, {
      entity: { kind: 'certificate', value: c.sha256 },
      summary: f.x.expired
        ? `Certificate "${c.subject}" presented by ${serverEndpoint(c.flow)} expired ${days} days before the capture.`
        : `Certificate "${c.subject}" presented by ${serverEndpoint(c.flow)} is not valid until ${days} days after the capture.`,
      evidence: {
        metric: f.x.expired ? 'days since notAfter' : 'days until notBefore', observed: days, baseline: null, threshold: 0, window: 0,
        subject: c.subject, issuer: c.issuer ?? null, notBefore: iso(c.notBefore), notAfter: iso(c.notAfter),
        presentedBy: c.flow.dir === 'to_server' ? 'client' : 'server',
      },
    }));
  });

  return {
    onEvent(e: TlsCertificate): void {
      const notAfter = certTimeUs(e.notAfter);
      const notBefore = certTimeUs(e.notBefore);
      if (Number.isNaN(notAfter) || Number.isNaN(notBefore)) return ctx.count('unparsable_validity');
      const expired = e.ts > notAfter;
      if (!expired && !(t.includeNotYetValid && e.ts < notBefore)) return;
      const f = findings.observe(e.sha256 || e.subject);
      f.proof.add(e);
      f.x.cert = e;
      f.x.expired = expired;
      findings.report(f);
    },
    tick: (now: number) => findings.tick(now),
    flush: () => findings.flush(),
  };
}

function iso(t: number | string): string {
  const us = certTimeUs(t);
  return Number.isNaN(us) ? String(t) : new Date(us / 1000).toISOString();
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'high',
  usesBaseline: false,
  subscribes: ['tls.certificate'],
  description: 'A TLS certificate presented after its notAfter (or before its notBefore), at capture time.',
  recommendation: 'Renew the certificate now and automate renewal; check why peers accepted it (certificate validation disabled?).',
  mitre: 'T0830', // Adversary-in-the-Middle: peers that accept an expired certificate accept a forged one
});
