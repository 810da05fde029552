import { describe, expect, it } from 'vitest';
import { detector } from '../../detectors/tls.self_signed';
import { at, certificate, flow, run } from './helpers';

const f = flow('10.0.0.5', '10.0.0.1', { sport: 8883 });

describe('tls.self_signed', () => {
  it('a self-signed end-entity certificate', () => {
    const { alerts } = run(detector, [certificate(f, at(1), { selfSigned: true, subject: 'CN=mosquitto' })]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'medium', mitre: 'T0830', evidence: { observed: 'CN=mosquitto', presentedBy: ['server 10.0.0.1:8883'] } });
  });

  it('CA-issued, a self-signed root further up the chain, or a pinned fingerprint: nothing', () => {
    const events = [certificate(f, at(1)), certificate(f, at(1), { selfSigned: true, position: 2, sha256: 'bb'.repeat(32) })];
    expect(run(detector, events).alerts).toHaveLength(0);
    const pinned = certificate(f, at(1), { selfSigned: true, sha256: 'cc'.repeat(32) });
    expect(run(detector, [pinned], { tunables: { allowSha256: ['CC:'.repeat(31) + 'CC'] } }).alerts).toHaveLength(0);
  });

  it('one finding per certificate, naming who presented it', () => {
    const client = certificate(f, at(2), { selfSigned: true, fromClient: true });
    const { alerts, log } = run(detector, [certificate(f, at(1), { selfSigned: true }), client]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].evidence.presentedBy).toEqual(['server 10.0.0.1:8883', 'client 10.0.0.5']);
    expect(log.map(([k]) => k)).toEqual(['new', 'update']);
  });
});
