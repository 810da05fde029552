import { describe, expect, it } from 'vitest';
import { hasWildcard, isAuthFailure, literalDepth, subtreeAncestors, topicSubtree, unshared } from '../../../detectors/lib/mqtt';
import { versionLabel, versionRank } from '../../../detectors/lib/tls';

describe('topic helpers', () => {
  it.each([
    ['plant/meters/m1/kw', 2, 'plant/meters'],
    ['plant/+/kw', 2, 'plant'],
    ['plant/#', 2, 'plant'],
    ['#', 2, ''],
    ['status', 2, 'status'],
    ['a/b/c', 1, 'a'],
  ])('topicSubtree(%s, %d) = %s', (topic, depth, want) => {
    expect(topicSubtree(topic, depth)).toBe(want);
  });

  it('subtreeAncestors', () => {
    expect(subtreeAncestors('a/b')).toEqual(['a/b', 'a', '']);
    expect(subtreeAncestors('')).toEqual(['']);
  });

  it('filters', () => {
    expect(unshared('$share/g1/plant/#')).toBe('plant/#');
    expect(unshared('plant/#')).toBe('plant/#');
    expect(hasWildcard('a/+/b')).toBe(true);
    expect(hasWildcard('a/b')).toBe(false);
    expect(literalDepth('#')).toBe(0);
    expect(literalDepth('plant/meters/+/kw')).toBe(2);
    expect(literalDepth('plant/meters/m1')).toBe(3);
  });
});

describe('isAuthFailure', () => {
  it('3.1.1 codes 4 and 5 [MQTT-3.2.2.3]', () => {
    expect([0, 1, 2, 3, 4, 5].map((c) => isAuthFailure(4, c))).toEqual([false, false, false, false, true, true]);
    expect(isAuthFailure(4, 0x86)).toBe(false);
  });
  it('v5 reason codes 0x86, 0x87, 0x8C', () => {
    expect([0x80, 0x86, 0x87, 0x8c, 4].map((c) => isAuthFailure(5, c))).toEqual([false, true, true, true, false]);
  });
  it('unknown version accepts both', () => {
    expect(isAuthFailure(0, 5) && isAuthFailure(0, 0x87)).toBe(true);
  });
});

describe('TLS input helpers', () => {
  it('ranks versions by name and wire code', () => {
    expect(['SSL 3.0', 'TLS 1.0', 'TLSv1.1', 'TLS 1.2', 'TLS 1.3', 'DTLS 1.0', 'DTLS 1.2', 'bogus'].map(versionRank)).toEqual([1, 2, 3, 4, 5, 3, 4, -1]);
    expect([0x0300, 0x0301, 0x0303, 0xfeff, 0xfefd, 0x1234].map(versionRank)).toEqual([1, 2, 4, 3, 4, -1]);
  });
  it('labels wire codes', () => {
    expect([0x0301, 0xfefd, 0x1234].map(versionLabel)).toEqual(['TLS 1.0', 'DTLS 1.2', '0x1234']);
  });
});

describe('duration', () => {
  it('words for windows', async () => {
    const { duration } = await import('../../../detectors/lib/format');
    expect([45, 60, 300, 600, 90, 86_400, 3600, 5400].map(duration)).toEqual(['45 s', '60 s', '5 min', '10 min', '90 s', '24 h', '60 min', '90 min']);
  });
});
