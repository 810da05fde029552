import { describe, expect, it } from 'vitest';
import { detector as deviceSilent } from '../../../detectors/mqtt.device_silent';
import { detector as topicAclDrift } from '../../../detectors/mqtt.topic_acl_drift';
import type { AnyDetector } from '../../../detectors/lib/detector';
import { at, flow, publish, run } from '../helpers';
import { FlowMemoTable } from '../../../detectors/lib/flow-memo';

// Detectors remember per flow side the entry they looked up last (FlowMemo) and check at their
// own call site that its table has not evicted it since. With room for one entity, a flow that
// comes back after another flow's entity took the room must get a fresh entry in the table: the
// table then evicts twice, and holds the returning entity.
describe.each<[string, AnyDetector]>([
  ['mqtt.device_silent', deviceSilent],
  ['mqtt.topic_acl_drift', topicAclDrift],
])('%s: a remembered entry its table evicted is not used', (id, det) => {
  it('looks the entity up again', () => {
    const a = flow('10.0.0.1', '10.0.0.9');
    const b = flow('10.0.0.2', '10.0.0.9');
    const events = [
      publish(a, at(1), 'plant/a/t', { clientId: 'a' }),
      publish(a, at(2), 'plant/a/t', { clientId: 'a' }),
      publish(b, at(3), 'plant/b/t', { clientId: 'b' }), // takes the only room: 'a' is evicted
      publish(a, at(4), 'plant/a/t', { clientId: 'a' }), // must not reuse the evicted entry
    ];
    const { engine } = run(det, events, { tunables: { maxEntities: 1 } });
    const tables = Object.values(engine.stats().detectors[id].tables);
    expect(tables.reduce((n, t) => n + t.evictions, 0)).toBe(2);
    expect(tables.every((t) => t.size <= 1)).toBe(true);
  });
});

describe('FlowMemoTable', () => {
  it('doubles its columns when memos run out of room, and keeps each memo to its own column', () => {
    const table = new FlowMemoTable();
    const side = flow('10.0.0.1', '10.0.0.9');
    const ids: number[] = [];
    const widths: number[] = [];
    for (let n = 0; n < 9; n++) {
      ids.push(table.register());
      widths.push(table.columns);
    }
    expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // Rebuilt at the first, fifth and ninth memo only.
    expect(widths).toEqual([4, 4, 4, 4, 8, 8, 8, 8, 16]);
    for (const k of ids) table.set(side, `key${k}`, k, { k });
    for (const k of ids) {
      expect(table.get(side, `key${k}`, k)).toEqual({ k });
      expect(table.get(side, 'other', k)).toBeNull();
    }
    // A rebuild empties the table (it is a cache): nothing remembered before it is handed back.
    const before = table.columns;
    for (let n = ids.length; n <= before; n++) table.register();
    expect(table.columns).toBe(before * 2);
    for (const k of ids) expect(table.get(side, `key${k}`, k)).toBeNull();
  });
});
