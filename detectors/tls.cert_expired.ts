// tls.cert_expired: a certificate presented outside its validity period, judged at the capture's
// own time (not the analyst's clock): expired, or not yet valid. Clients that go on with the
// session do not check certificates.
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { Findings, findingSpec } from './lib/posture';
import type { TlsCertificate } from '../src/events/tls-types';
import { DAY_US, presenter } from './lib/tls';

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
    const days = Math.round(((f.x.expired ? ts - c.notAfter : c.notBefore - ts) / DAY_US) * 10) / 10;
    ctx.alert(findingSpec(f, {
      entity: { kind: 'certificate', value: c.sha256 },
      summary: f.x.expired
        ? `Certificate "${c.subject}" presented by ${presenter(c)} expired ${days} days before the capture.`
        : `Certificate "${c.subject}" presented by ${presenter(c)} is not valid until ${days} days after the capture.`,
      evidence: {
        metric: f.x.expired ? 'days since notAfter' : 'days until notBefore', observed: days, baseline: null, threshold: 0, window: 0,
        subject: c.subject, issuer: c.issuer, notBefore: c.notBeforeIso, notAfter: c.notAfterIso, presentedBy: c.sender,
      },
    }));
  });

  return {
    onEvent(e: TlsCertificate): void {
      const expired = e.ts > e.notAfter;
      if (!expired && !(t.includeNotYetValid && e.ts < e.notBefore)) return;
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

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'high',
  usesBaseline: false,
  subscribes: ['tls.certificate'],
  description: 'A TLS certificate presented after its notAfter (or before its notBefore), at capture time.',
  recommendation: 'Renew the certificate now and automate renewal; check why peers accepted it (certificate validation disabled?).',
  mitre: 'T0830', // Adversary-in-the-Middle: peers that accept an expired certificate accept a forged one
});
