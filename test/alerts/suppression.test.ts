import { describe, expect, it } from 'vitest';
import { AlertBook, MAX_FRAMES, type AlertSource } from '../../src/alerts/suppression';
import { alertId } from '../../src/alerts/ids';
import type { Alert, AlertKind, AlertSpec } from '../../src/alerts/types';
import { at, flow } from '../detectors/helpers';

const src: AlertSource = { id: 'test.d', category: 'anomaly', severity: 'low', recommendation: 'fix it', mitre: 'T0814', suppressUs: 3600e6 };
const f = flow('10.0.0.1', '10.0.0.2');

function spec(windowStart: number, count: number, frames: number[], extra: Partial<AlertSpec> = {}): AlertSpec {
  return {
    key: 'k', windowStart, entity: { kind: 'address', value: '10.0.0.1' }, summary: `${count}`, count,
    evidence: { observed: count, baseline: null, threshold: 1, window: 60 },
    proof: { frames, flows: [f.up, f.down], first: windowStart + 1, last: windowStart + 2, n: frames.length },
    ...extra,
  };
}

describe('alert ids', () => {
  it('sha256 of detector, key and window start: 32 hex digits, stable', () => {
    expect(alertId('mqtt.auth_bruteforce', 'fast:192.0.2.7', 1_699_920_000_000_000)).toMatch(/^[0-9a-f]{32}$/);
    expect(alertId('a', 'b', 1)).toBe(alertId('a', 'b', 1));
    expect(new Set([alertId('a', 'b', 1), alertId('a', 'b', 2), alertId('a', 'c', 1), alertId('b', 'b', 1), alertId('a', 'b\u00001', 0)]).size).toBe(5);
  });
});

describe('AlertBook', () => {
  it('folds firings of one key: counts replace within a window and add across windows', () => {
    const log: [AlertKind, Alert][] = [];
    const book = new AlertBook((a, k) => log.push([k, a]), 100);
    const w0 = at(0);
    const w1 = at(60);
    expect(book.raise(src, spec(w0, 3, [1, 2, 3]), w0)).toBe('new');
    expect(book.raise(src, spec(w0, 5, [3, 4]), w0)).toBe('update');
    expect(book.raise(src, spec(w1, 2, [9], { severity: 'high' }), w1)).toBe('update');
    const [a] = book.alerts();
    expect(a).toMatchObject({
      id: alertId('test.d', 'k', w0), count: 7, severity: 'high', frames: [1, 2, 3, 4, 9], firstTs: w0 + 1, lastTs: w1 + 2, summary: '2',
      recommendation: 'fix it', mitre: 'T0814', communityIds: [f.up.communityId],
    });
    expect(a.endpoints).toEqual([`10.0.0.1:${f.up.sport} -> 10.0.0.2:1883`]);
    expect(log.map(([k, x]) => `${k}:${x.count}`)).toEqual(['new:3', 'update:5', 'update:7']);
  });

  it('after the suppression interval the same key opens a new alert', () => {
    const book = new AlertBook(undefined, 100);
    book.raise(src, spec(at(0), 1, [1]), at(0));
    book.raise(src, spec(at(3600), 1, [2]), at(3600));
    const ids = book.alerts().map((a) => a.id);
    expect(ids).toEqual([alertId('test.d', 'k', at(0)), alertId('test.d', 'k', at(3600))]);
  });

  it('caps frames', () => {
    const book = new AlertBook(undefined, 100);
    book.raise(src, spec(0, 1, Array.from({ length: 50 }, (_, i) => i)), 0);
    expect(book.alerts()[0].frames).toHaveLength(MAX_FRAMES);
  });

  it('posture sources never expire', () => {
    const book = new AlertBook(undefined, 100);
    const posture = { ...src, category: 'posture' as const, suppressUs: Infinity };
    book.raise(posture, spec(0, 1, [1]), at(0));
    book.sweep(at(1e7));
    expect(book.raise(posture, spec(0, 2, [2]), at(1e7))).toBe('update');
    expect(book.alerts()).toHaveLength(1);
  });
});
