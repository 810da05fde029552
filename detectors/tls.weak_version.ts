// tls.weak_version: a TLS or DTLS server negotiating a version below the minimum (default 1.2):
// TLS 1.0/1.1 and DTLS 1.0 are deprecated (RFC 8996), SSL 3.0 is broken (RFC 7568).
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { serverEndpoint } from './lib/endpoints';
import { Findings, findingSpec } from './lib/posture';
import { CappedSet } from './lib/tables';
import type { DtlsServerHello, TlsServerHello } from '../src/events/tls-types';
import { versionLabel, versionRank } from './lib/tls';

export const id = 'tls.weak_version';
export const category = 'posture';

export const tunables = {
  minVersion: 'TLS 1.2',
};

export const schema: Schema<typeof tunables> = {
  minVersion: { type: 'string', enum: ['TLS 1.1', 'TLS 1.2', 'TLS 1.3'], description: 'lowest acceptable negotiated version (DTLS 1.2 ranks with TLS 1.2)' },
};

class Versions {
  readonly seen = new CappedSet(8);
  lowest = Infinity;
}

export function create(ctx: DetectorContext, t: typeof tunables) {
  const min = versionRank(t.minVersion);
  const findings = new Findings<Versions>(ctx, () => new Versions(), (f) => {
    const versions = f.x.seen.values();
    ctx.alert(findingSpec(f, {
      entity: { kind: 'server', value: f.key },
      severity: f.x.lowest <= 1 ? 'high' : 'medium',
      summary: `Server ${f.key} negotiated ${versions.join(', ')} in ${f.proof.n} handshake${f.proof.n === 1 ? '' : 's'}, below ${t.minVersion}.`,
      evidence: { metric: 'negotiated version', observed: versions.join(', '), baseline: null, threshold: t.minVersion, window: 0, handshakes: f.proof.n },
    }));
  });

  return {
    onEvent(e: TlsServerHello | DtlsServerHello): void {
      // A HelloRetryRequest is not the negotiated version yet.
      if (e.type === 'tls.server_hello' && e.helloRetryRequest) return;
      const rank = versionRank(e.selectedVersion);
      if (rank < 0) return ctx.count('unknown_version');
      if (rank >= min) return;
      const f = findings.observe(serverEndpoint(e.flow));
      f.proof.add(e);
      f.x.seen.add(versionLabel(e.selectedVersion));
      f.x.lowest = Math.min(f.x.lowest, rank);
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
  subscribes: ['tls.server_hello', 'dtls.server_hello'],
  description: 'A TLS or DTLS server negotiating a version below TLS 1.2 / DTLS 1.2.',
  recommendation: 'Configure the server for TLS 1.2 or later (DTLS 1.2 or later) only, and update clients that cannot follow.',
  mitre: 'T0830', // Adversary-in-the-Middle: old protocol versions allow downgrade and decryption attacks
});
