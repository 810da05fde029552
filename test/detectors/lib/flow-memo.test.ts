import { describe, expect, it } from 'vitest';
import { detector as deviceSilent } from '../../../detectors/mqtt.device_silent';
import { detector as topicAclDrift } from '../../../detectors/mqtt.topic_acl_drift';
import { defineDetector, type AnyDetector } from '../../../detectors/lib/detector';
import { createEngine } from '../../../src/alerts/engine';
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
  it('gives each memo a column of its own; a new column empties the table and never hands back a wrong value', () => {
    const table = new FlowMemoTable();
    const side = flow('10.0.0.1', '10.0.0.9').up;
    const other = flow('10.0.0.2', '10.0.0.9').up;
    expect(table.get(side, '', 0)).toBeNull();
    const ids: number[] = [];
    for (let n = 0; n < 9; n++) ids.push(table.register());
    expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(table.columns).toBe(9);
    for (const k of ids) expect(table.get(side, '', k)).toBeNull();
    for (const k of ids) table.set(side, `key${k}`, k, { k });
    for (const k of ids) {
      expect(table.get(side, `key${k}`, k)).toEqual({ k });
      expect(table.get(side, 'other', k)).toBeNull();
      expect(table.get(other, `key${k}`, k)).toBeNull();
    }
    // A side of another flow that maps to the same row (flow ids 2048 apart) takes the row over:
    // neither side is ever handed the other's values.
    const clash = { ...side, flowId: side.flowId + 2048 };
    table.set(clash, 'key0', 0, { clash: true });
    expect(table.get(clash, 'key0', 0)).toEqual({ clash: true });
    expect(table.get(clash, 'key1', 1)).toBeNull();
    expect(table.get(side, 'key0', 0)).toBeNull();
    table.set(side, 'key0', 0, { k: 0 });
    // A rebuild empties the table (it is a cache): nothing remembered before it is handed back.
    table.register();
    for (const k of ids) expect(table.get(side, `key${k}`, k)).toBeNull();
  });
});

describe('the engine flow memo tables', () => {
  it('one per protocol family: MQTT detectors share one, CoAP detectors another', () => {
    const seen = new Map<string, unknown>();
    const probe = (id: string, type: 'mqtt.publish' | 'mqtt.connect' | 'coap.message'): AnyDetector => defineDetector({
      id, category: 'anomaly', severity: 'low', description: id, recommendation: '', mitre: null, usesBaseline: false,
      subscribes: [type], tunables: {}, schema: {},
      create: (ctx) => {
        seen.set(id, ctx.flowMemo);
        return { onEvent: () => undefined };
      },
    });
    createEngine({ detectors: [probe('a', 'mqtt.publish'), probe('b', 'mqtt.connect'), probe('c', 'coap.message'), probe('d', 'coap.message')] });
    expect(seen.get('a')).toBeInstanceOf(FlowMemoTable);
    expect(seen.get('a')).toBe(seen.get('b'));
    expect(seen.get('c')).toBe(seen.get('d'));
    expect(seen.get('a')).not.toBe(seen.get('c'));
  });
});
