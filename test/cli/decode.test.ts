// `iotwatch decode`: the summary's counts are those of the events the full output prints.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { EventCounts } from '../../src/cli/decode';
import type { IotEvent } from '../../src/events/types';

const root = join(__dirname, '..', '..');
const home = mkdtempSync(join(tmpdir(), 'iotwatch-decode-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'iotwatch.js'), ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, IOTWATCH_HOME: home, IOTWATCH_SENSOR_ID: 'test' },
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

function naive(events: { type: string; code?: string }[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of events) {
    const k = e.type === 'anomaly' ? `anomaly:${e.code}` : e.type;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

const sorted = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1));

describe('EventCounts', () => {
  it('counts as a Map keyed by type (anomalies by code) would, in any order of events', () => {
    const types = ['mqtt.publish', 'mqtt.puback', 'coap.message', 'flow.start', 'flow.end', 'anomaly'];
    const codes = ['mqtt.malformed', 'coap.malformed', 'tcp.gap'];
    const event = fc.record({ type: fc.constantFrom(...types), code: fc.constantFrom(...codes) });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 300 }), (events) => {
        const c = new EventCounts();
        // Strings built at run time, as a decoder's would not be: identity must not matter.
        for (const e of events) c.add({ ...e, type: e.type.split('').join('') } as unknown as IotEvent);
        expect(sorted(c.toMap())).toEqual(sorted(naive(events)));
      }),
    );
  });
});

describe('iotwatch decode --summary', () => {
  for (const file of ['plant-attack.pcap', 'coap-basic.pcap', 'mqtt-basic.pcap', 'dtls-fragmented.pcap']) {
    it(`counts exactly the events decode prints (${file})`, () => {
      const path = join(root, 'pcaps', file);
      const events = cli(['decode', path]).trim().split('\n').map((l) => JSON.parse(l) as { type: string; code?: string });
      const summary = JSON.parse(cli(['decode', '--summary', '--json', path])) as { events: Record<string, number> };
      expect(Object.entries(summary.events)).toEqual(sorted(naive(events)));
      const text = cli(['decode', '--summary', path]);
      expect(text).toContain(`events: ${events.length}\n`);
    });
  }
});
