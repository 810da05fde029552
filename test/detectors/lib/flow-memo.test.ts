import { describe, expect, it } from 'vitest';
import { detector as deviceSilent } from '../../../detectors/mqtt.device_silent';
import { detector as topicAclDrift } from '../../../detectors/mqtt.topic_acl_drift';
import { defineDetector, type AnyDetector } from '../../../detectors/lib/detector';
import { createEngine } from '../../../src/alerts/engine';
import { at, flow, publish, run } from '../helpers';
import { FlowMemo, FlowMemoTable } from '../../../detectors/lib/flow-memo';
import { FLOW_MEMO } from '../../../src/flow/flow-side';
import { decodeCapture } from '../../helpers/pipeline';

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

describe('FlowMemo', () => {
  const entry = (tag: string) => ({ lru: 1, tag });

  it('gives each memo a column of its own, per flow side and key', () => {
    const table = new FlowMemoTable();
    const side = flow('10.0.0.1', '10.0.0.9').up;
    const other = flow('10.0.0.2', '10.0.0.9').up;
    const memos = Array.from({ length: 9 }, () => new FlowMemo<ReturnType<typeof entry>>(table));
    // Nothing remembered yet, and no column taken before a memo's first set().
    for (const m of memos) expect(m.get(side, '')).toBeNull();
    expect(table.columns).toBe(0);
    memos.forEach((m, k) => m.set(side, `key${k}`, entry(`v${k}`)));
    expect(table.columns).toBe(9);
    memos.forEach((m, k) => {
      expect(m.get(side, `key${k}`)).toEqual(entry(`v${k}`));
      expect(m.getSide(side)).toEqual(entry(`v${k}`));
      expect(m.get(side, 'other')).toBeNull();
      expect(m.get(other, `key${k}`)).toBeNull();
      expect(m.getSide(other)).toBeNull();
    });
    // A new key for one memo replaces its entry and no other's.
    memos[3].set(side, 'key3b', entry('w3'));
    expect(memos[3].get(side, 'key3')).toBeNull();
    expect(memos[3].get(side, 'key3b')).toEqual(entry('w3'));
    expect(memos[4].get(side, 'key4')).toEqual(entry('v4'));
  });

  it('a memo that takes its column later widens a side\'s entries and keeps the others', () => {
    const table = new FlowMemoTable();
    const side = flow('10.0.0.1', '10.0.0.9').up;
    const first = new FlowMemo<ReturnType<typeof entry>>(table);
    const later = new FlowMemo<ReturnType<typeof entry>>(table);
    first.set(side, 'a', entry('first'));
    expect(later.get(side, 'a')).toBeNull();
    expect(later.getSide(side)).toBeNull();
    later.set(side, 'b', entry('later'));
    expect(first.get(side, 'a')).toEqual(entry('first'));
    expect(later.get(side, 'b')).toEqual(entry('later'));
  });

  it('never reads what another family\'s memos left on a side', () => {
    const mqtt = new FlowMemo<ReturnType<typeof entry>>(new FlowMemoTable());
    const coap = new FlowMemo<ReturnType<typeof entry>>(new FlowMemoTable());
    const side = flow('10.0.0.1', '10.0.0.9').up;
    mqtt.set(side, 'k', entry('mqtt'));
    // Same column (0) in its own table: the side's entries are the other table's.
    expect(coap.get(side, 'k')).toBeNull();
    expect(coap.getSide(side)).toBeNull();
    coap.set(side, 'k', entry('coap'));
    expect(coap.get(side, 'k')).toEqual(entry('coap'));
    expect(mqtt.get(side, 'k')).toBeNull();
  });

  it('is hidden: no part of the side as data (JSON, keys, spreads, equality)', () => {
    const side = flow('10.0.0.1', '10.0.0.9').up;
    const before = JSON.stringify(side);
    const copy = { ...side };
    new FlowMemo(new FlowMemoTable()).set(side, 'k', entry('x'));
    expect(JSON.stringify(side)).toBe(before);
    expect(Object.keys(side)).toEqual(Object.keys(copy));
    expect({ ...side }).toEqual(copy);
    expect(side).toEqual(copy);
    expect(Object.getOwnPropertyDescriptor(side, FLOW_MEMO)?.enumerable).toBe(false);
  });

  it('flow table sides carry the slot from the start, hidden', async () => {
    const { events } = await decodeCapture('pcaps/plant-benign.pcap');
    const sides = new Set(events.map((e) => e.flow).filter((f) => f.flowId > 0));
    expect(sides.size).toBeGreaterThan(10);
    for (const f of sides) {
      const d = Object.getOwnPropertyDescriptor(f, FLOW_MEMO);
      expect(d).toBeDefined();
      expect(d!.enumerable).toBe(false);
    }
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
