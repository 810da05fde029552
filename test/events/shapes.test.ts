import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/reader';
import { Pipeline } from '../../src/pipeline';
import { EVENT_TYPES, type IotEvent } from '../../src/events/types';

// Every site that reads events of one type (an engine route, a detector) stays fast only while
// those events come in a few hidden classes: past four, V8 falls back to megamorphic lookups for
// every read. Building an event by spreading two objects made a new class for nearly every event
// (480 for 500 CONNACKs); this holds the decoders to a handful per type on every repo capture.
setFlagsFromString('--allow-natives-syntax');
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

const ROOT = resolve(__dirname, '../..');
const CAPTURE = /\.(pcap|pcapng|cap)(\.gz)?$/;

function captures(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...captures(p));
    else if (CAPTURE.test(e.name)) out.push(p);
  }
  return out;
}

describe('event shapes', () => {
  it('sanity: the check tells hidden classes apart', () => {
    expect(sameMap({ a: 1, b: 2 }, { a: 3, b: 4 })).toBe(true);
    expect(sameMap({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(false);
  });

  it('events of one type come in at most four hidden classes on every repo capture', async () => {
    const files = [...captures(join(ROOT, 'pcaps')), ...captures(join(ROOT, 'test/fixtures'))];
    expect(files.length).toBeGreaterThan(20);
    const shapes = new Map<string, IotEvent[]>();
    const counts = new Map<string, number>();
    for (const file of files) {
      const p = new Pipeline({
        sensorId: 'shapes', secret: Buffer.alloc(32), emitFlowEvents: true,
        emit: (e) => {
          let seen = shapes.get(e.type);
          if (seen === undefined) shapes.set(e.type, (seen = []));
          counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
          if (!seen.some((o) => sameMap(o, e))) seen.push(e);
        },
      });
      try {
        await readCapture(file, p.packet);
      } catch {
        // Damaged fixtures: what was read before the damage counts.
      }
      p.finish();
    }
    const over = [...shapes].filter(([, s]) => s.length > 4).map(([t, s]) => `${t}: ${s.length} classes for ${counts.get(t)} events`);
    expect(over).toEqual([]);
    // The engine routes every type in EVENT_TYPES from the start; one missing there is still
    // routed (and counted), but first seen mid-capture it costs the optimised engine a deopt.
    expect([...counts.keys()].filter((t) => !(EVENT_TYPES as readonly string[]).includes(t))).toEqual([]);
    // The types this was about, seen often enough to tell.
    for (const t of ['mqtt.connack', 'mqtt.suback', 'dtls.alert']) expect(counts.get(t) ?? 0).toBeGreaterThan(10);
  });
});
