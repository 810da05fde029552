// Properties that hold for any input: segmentation does not change what is decoded, random
// bytes never throw and only produce codes from the closed set, and a password never leaves.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IotEvent } from '../../../src/events/types';
import type { Dir } from '../../../src/flow/types';
import { MQTT_ANOMALY_CODES } from '../../../src/protocols/mqtt';
import { Session, clientStream, content, gen } from './helpers/mqtt';

/** Cuts `stream` at the given offsets (any order, duplicates allowed). */
function cut(stream: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((a) => a % (stream.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, stream.length]) {
    if (p > prev) out.push(stream.subarray(prev, p));
    prev = p;
  }
  return out;
}

function decodeSegments(segments: Buffer[], dir: Dir = 0, opts: ConstructorParameters<typeof Session>[0] = {}): IotEvent[] {
  const s = new Session(opts);
  for (const seg of segments) s.send(dir, seg);
  return s.end().events;
}

const serverStream = (v: 3 | 4 | 5): Buffer => Buffer.concat([
  gen({ cmd: 'connack', returnCode: 0, reasonCode: 0, sessionPresent: false, properties: v === 5 ? { topicAliasMaximum: 5, assignedClientIdentifier: 'x' } : undefined }, v),
  ...Array.from({ length: 12 }, (_, i) => gen(i % 3 === 0
    ? { cmd: 'suback', messageId: i + 1, granted: [0, 1] }
    : { cmd: 'publish', topic: `down/${i}`, payload: Buffer.alloc(i * 31, 7), qos: i % 2, messageId: i + 1, properties: v === 5 ? { topicAlias: 1 + (i % 4) } : undefined }, v)),
  gen({ cmd: 'pingresp' }, v),
]);

describe('segmentation', () => {
  for (const v of [3, 4, 5] as const) {
    it(`MQTT level ${v}: any segmentation of a client stream yields the same events`, () => {
      const stream = clientStream(v, 24);
      const reference = decodeSegments([stream]).map(content);
      expect(reference.filter((e) => e.type === 'anomaly')).toEqual([]);
      fc.assert(fc.property(fc.array(fc.nat(), { maxLength: 60 }), (at) => {
        expect(decodeSegments(cut(stream, at)).map(content)).toEqual(reference);
      }), { numRuns: 200 });
    });
  }

  it('both directions interleaved at random (after the CONNECT): the same events per direction', () => {
    const up = clientStream(5, 16);
    const down = serverStream(5);
    const connectLen = up[1] + 2;
    const perDir = (events: IotEvent[], dir: string): unknown[] => events.filter((e) => e.flow.dir === dir).map(content);
    const ref = new Session();
    ref.client(up.subarray(0, connectLen)).server(down).client(up.subarray(connectLen)).end();
    fc.assert(fc.property(fc.array(fc.nat(), { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 30 }), fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }), (a, b, order) => {
      const ups = cut(up.subarray(connectLen), a);
      const downs = cut(down, b);
      const s = new Session().client(up.subarray(0, connectLen));
      let i = 0;
      while (ups.length + downs.length > 0) {
        const takeUp = downs.length === 0 || (ups.length > 0 && order[i++ % order.length]);
        if (takeUp) s.client(ups.shift() as Buffer);
        else s.server(downs.shift() as Buffer);
      }
      s.end();
      expect(perDir(s.events, 'to_server')).toEqual(perDir(ref.events, 'to_server'));
      expect(perDir(s.events, 'to_client')).toEqual(perDir(ref.events, 'to_client'));
    }), { numRuns: 150 });
  });

  it('oversized packets: any segmentation gives the same events and anomalies', () => {
    const stream = Buffer.concat([clientStream(4, 3), gen({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(3000, 1), qos: 1, messageId: 5 }, 4), gen({ cmd: 'pingreq' }, 4)]);
    const reference = decodeSegments([stream], 0, { maxMessageLength: 500 }).map(content);
    expect(reference.filter((e) => e.type === 'anomaly').map((e) => e.code)).toEqual(['mqtt.oversized']);
    fc.assert(fc.property(fc.array(fc.nat(), { maxLength: 40 }), (at) => {
      expect(decodeSegments(cut(stream, at), 0, { maxMessageLength: 500 }).map(content)).toEqual(reference);
    }), { numRuns: 200 });
  });
});

// ---------------------------------------------------------------- robustness

const KNOWN = new Set<string>(MQTT_ANOMALY_CODES);

interface Step {
  dir: Dir;
  gap: number;
  bytes: Uint8Array;
}

function run(steps: Step[], opts: ConstructorParameters<typeof Session>[0]): IotEvent[] {
  const s = new Session(opts);
  for (const st of steps) {
    if (st.gap > 0) s.gap(st.dir, st.gap);
    s.send(st.dir, Buffer.from(st.bytes));
  }
  return s.end().events;
}

function checkRobust(events: IotEvent[]): void {
  for (const e of events) {
    if (e.type === 'anomaly') {
      expect(KNOWN.has(e.code), e.code).toBe(true);
      expect(e.detail).not.toMatch(/internal decoder error/);
    }
    expect(() => JSON.stringify(e)).not.toThrow();
  }
}

const options = fc.record({
  flowMidstream: fc.boolean(),
  maxMessageLength: fc.constantFrom(undefined, 64, 1000),
  assumeEstablished: fc.constantFrom(undefined, 0, 3, 4, 5),
}, { requiredKeys: [] });

describe('robustness', () => {
  it('random bytes in random segments, gaps and directions never throw and yield only known codes', () => {
    const step = fc.record({ dir: fc.constantFrom<Dir>(0, 1), gap: fc.oneof(fc.constant(0), fc.constant(0), fc.nat({ max: 300 })), bytes: fc.uint8Array({ maxLength: 400 }) });
    fc.assert(fc.property(fc.array(step, { maxLength: 20 }), options, (steps, opts) => {
      checkRobust(run(steps, opts));
    }), { numRuns: 400 });
  });

  it('valid streams with random bytes flipped never throw and yield only known codes', () => {
    const streams = [clientStream(3, 8), clientStream(4, 8), clientStream(5, 8), serverStream(5)];
    fc.assert(fc.property(
      fc.nat({ max: streams.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), options,
      (which, flips, at, opts) => {
        const b = Buffer.from(streams[which]);
        for (const [pos, val] of flips) b[pos % b.length] = val;
        const dir: Dir = which === 3 ? 1 : 0;
        checkRobust(run(cut(b, at).map((bytes) => ({ dir, gap: 0, bytes })), opts));
      }), { numRuns: 500 });
  });

  it('a desync is reported at most once per loss of framing, not per byte', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 200, maxLength: 3000 }), (junk) => {
      const events = run([{ dir: 0, gap: 0, bytes: junk }], { assumeEstablished: 4 });
      const desyncs = events.filter((e) => e.type === 'anomaly' && e.code === 'mqtt.desync').length;
      const decoded = events.filter((e) => e.type.startsWith('mqtt.')).length;
      // Each new desync needs a cleanly decoded packet before it.
      expect(desyncs).toBeLessThanOrEqual(decoded + 1);
    }), { numRuns: 300 });
  });
});

// ---------------------------------------------------------------- credentials

describe('passwords never leave the decoder', () => {
  const secretText = fc.string({ unit: fc.constantFrom(...'PQRSTUVWXYZqwertyuiop0123456789!%&'.split('')), minLength: 8, maxLength: 40 });

  it('no event or anomaly carries the password or authentication data, in any encoding', () => {
    fc.assert(fc.property(secretText, secretText, fc.constantFrom(3, 4, 5), fc.array(fc.nat(), { maxLength: 12 }), fc.boolean(),
      (password, authData, v, at, breakIt) => {
        const connect = gen({
          cmd: 'connect', protocolId: v === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: v, clean: true, keepalive: 30, clientId: 'pw-test',
          username: 'user', password: Buffer.from(password),
          properties: v === 5 ? { authenticationMethod: 'X', authenticationData: Buffer.from(authData) } : undefined,
        }, v);
        const auth = v === 5 ? gen({ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'X', authenticationData: Buffer.from(authData) } }, 5) : Buffer.alloc(0);
        const stream = Buffer.concat([connect, auth]);
        // Sometimes make the CONNECT malformed after the password (trailing byte) or cut it short.
        const bytes = breakIt ? Buffer.concat([stream, Buffer.from([0x10])]) : stream;
        const s = new Session();
        for (const seg of cut(bytes, at)) s.client(seg);
        const ack = v === 5 ? gen({ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'X', authenticationData: Buffer.from(authData) } }, 5) : gen({ cmd: 'connack', returnCode: 0 }, v);
        s.server(ack).end();
        const json = JSON.stringify(s.events);
        for (const clear of [password, authData]) {
          expect(json).not.toContain(clear);
          expect(json).not.toContain(Buffer.from(clear).toString('hex'));
          expect(json).not.toContain(Buffer.from(clear).toString('base64'));
        }
        expect(s.messages[0]).toMatchObject({ type: 'mqtt.connect', password: { present: true, length: password.length } });
      }), { numRuns: 300 });
  });

  it('buffered CONNECT bytes are zeroed once decoded', () => {
    const password = 'correct-horse-battery';
    const connect = gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 30, clientId: 'z', username: 'u', password: Buffer.from(password) }, 4);
    const s = new Session().client(connect.subarray(0, 10)).client(connect.subarray(10));
    const pend = (s.conn as unknown as { dirs: { pend: Buffer | null }[] }).dirs[0].pend;
    expect(pend).not.toBeNull();
    expect((pend as Buffer).includes(Buffer.from(password))).toBe(false);
    // All of it, not just the packet's bytes: the buffer comes from Node's pool, whose memory is
    // not cleared, so a tail left as allocated could hold any freed buffer's bytes.
    expect((pend as Buffer).every((b) => b === 0)).toBe(true);
    expect(s.messages[0]).toMatchObject({ password: { present: true, length: password.length } });
  });

  it('bytes held while looking for the next packet are zeroed too', () => {
    // After a desync the decoder buffers candidate bytes; a CONNECT among them, or skipped as
    // garbage, must not stay in the buffer in the clear.
    const password = 'resync-secret-password';
    const connect = gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 30, clientId: 'z', username: 'u', password: Buffer.from(password) }, 4);
    const pub = gen({ cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 0, retain: false, dup: false }, 4);
    const garbage = Buffer.from([0x00, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    for (let cutAt = 1; cutAt < connect.length; cutAt += 7) {
      const s = new Session().client(garbage).client(connect.subarray(0, cutAt)).client(Buffer.concat([connect.subarray(cutAt), pub]));
      const pend = (s.conn as unknown as { dirs: { pend: Buffer | null }[] }).dirs[0].pend;
      if (pend !== null) expect(pend.includes(Buffer.from(password))).toBe(false);
      s.end();
      expect(JSON.stringify(s.events)).not.toContain(password);
    }
  });
});
