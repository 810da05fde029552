// tls.cert_expiring: a certificate that expires within `days` of the capture time: the outage
// (devices unable to connect) is scheduled. Judged at capture time, not the analyst's clock.
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { Findings, findingSpec } from './lib/posture';
import type { TlsCertificate } from '../src/events/tls-types';
import { DAY_US as DAY, presenter } from './lib/tls';

export const id = 'tls.cert_expiring';
export const category = 'posture';

export const tunables = {
  days: 30,
  urgentDays: 7,
};

export const schema: Schema<typeof tunables> = {
  days: { type: 'number', min: 0, max: 3650, description: 'report certificates expiring within this many days of the capture' },
  urgentDays: { type: 'number', min: 0, max: 3650, description: 'within this many days the finding is medium severity' },
};

export function create(ctx: DetectorContext, t: typeof tunables) {
  const findings = new Findings<{ cert: TlsCertificate | null }>(ctx, () => ({ cert: null }), (f) => {
    const c = f.x.cert!;
    const left = Math.round(((c.notAfter - f.proof.last) / DAY) * 10) / 10;
    ctx.alert(findingSpec(f, {
      entity: { kind: 'certificate', value: c.sha256 },
      severity: left <= t.urgentDays ? 'medium' : 'low',
      summary: `Certificate "${c.subject}" presented by ${presenter(c)} expires in ${left} days (${c.notAfterIso}).`,
      evidence: {
        metric: 'days until notAfter', observed: left, baseline: null, threshold: t.days, window: 0,
        subject: c.subject, issuer: c.issuer, notAfter: c.notAfterIso, presentedBy: c.sender,
      },
    }));
  });

  return {
    onEvent(e: TlsCertificate): void {
      // Already expired is tls.cert_expired's.
      if (e.notAfter < e.ts || e.notAfter - e.ts > t.days * DAY) return;
      const f = findings.observe(e.sha256 || e.subject);
      f.proof.add(e);
      f.x.cert = e;
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
  subscribes: ['tls.certificate'],
  description: 'A TLS certificate that expires within 30 days of the capture time.',
  recommendation: 'Renew and deploy the certificate before it expires, and automate renewal (ACME, EST) so devices do not fall off the network.',
  mitre: null, // an operational risk (a scheduled outage), not an adversary technique
});
