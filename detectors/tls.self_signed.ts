// tls.self_signed: an end-entity certificate that signs itself. Peers can only trust it by pinning
// it or by not validating at all, and the second is the common case on IoT devices.
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { Findings, findingSpec } from './lib/posture';
import { CappedSet } from './lib/tables';
import type { TlsCertificate } from '../src/events/tls-types';
import { presenter } from './lib/tls';

export const id = 'tls.self_signed';
export const category = 'posture';

export const tunables = {
  leafOnly: true,
  allowSha256: [] as readonly string[],
};

export const schema: Schema<typeof tunables> = {
  leafOnly: { type: 'boolean', description: 'only the end-entity certificate (a self-signed root at the end of a chain is normal)' },
  allowSha256: { type: 'string[]', description: 'SHA-256 fingerprints of pinned self-signed certificates not to report' },
};

class Presented {
  subject = '';
  readonly by = new CappedSet(100);
}

export function create(ctx: DetectorContext, t: typeof tunables) {
  const allowed = new Set(t.allowSha256.map((h) => h.toLowerCase().replace(/:/g, '')));
  const findings = new Findings<Presented>(ctx, () => new Presented(), (f) => {
    const by = f.x.by.values(10);
    ctx.alert(findingSpec(f, {
      entity: { kind: 'certificate', value: f.key },
      summary: `Self-signed certificate "${f.x.subject}" presented by ${by.join(', ')}.`,
      evidence: { metric: 'self-signed end-entity certificate', observed: f.x.subject, baseline: null, threshold: null, window: 0, presentedBy: by },
    }));
  });

  return {
    onEvent(e: TlsCertificate): void {
      if (!e.selfSigned || (t.leafOnly && e.position !== 0) || allowed.has(e.sha256.toLowerCase())) return;
      const f = findings.observe(e.sha256 || e.subject);
      f.proof.add(e);
      f.x.subject = e.subject;
      f.x.by.add(presenter(e));
      findings.report(f);
    },
    tick: (now: number) => findings.tick(now),
    flush: () => findings.flush(),
  };
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'medium',
  usesBaseline: false,
  subscribes: ['tls.certificate'],
  description: 'A self-signed end-entity TLS certificate.',
  recommendation: 'Issue certificates from a private CA that devices trust (and pin), and make sure clients validate the chain and the name.',
  mitre: 'T0830', // Adversary-in-the-Middle: peers that accept one self-signed certificate accept another
});
