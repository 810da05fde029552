import { describe, expect, it } from 'vitest';
import type { AnomalyEvent, FlowEnd, FlowStart, IotEvent } from '../../src/events/types';
import { ANOMALY_CODES } from '../../src/events/anomaly-codes';
import { communityIdV1 } from '../../src/flow/community-id';
import { parseIp } from '../../src/flow/address';
import type { AppClassifier, Dir, FlowInfo, TcpAppHandler } from '../../src/flow/types';
import { Conn, harness, pkt, RecordingClassifier, Recorder } from './helpers';

const ofType = <T extends IotEvent['type']>(events: IotEvent[], type: T) =>
  events.filter((e) => e.type === type) as Array<Extract<IotEvent, { type: T }>>;
const starts = (ev: IotEvent[]) => ofType(ev, 'flow.start') as FlowStart[];
const ends = (ev: IotEvent[]) => ofType(ev, 'flow.end') as FlowEnd[];
const anomalies = (ev: IotEvent[]) => ofType(ev, 'anomaly') as AnomalyEvent[];

describe('FlowTable: TCP connection life cycle', () => {
  it('delivers both directions of a handshake + data + FIN connection and describes the flow', () => {
    const h = harness({ sensorId: 'lab-1' });
    const c = new Conn(h);
    c.handshake();
    c.data(0, 'CONNECT');
    c.data(1, 'CONNACK');
    c.data(0, 'PUBLISH');
    c.fin(0);
    c.fin(1);

    const [rec] = h.classifier.handlers;
    expect(rec.text(0)).toBe('CONNECTPUBLISH');
    expect(rec.text(1)).toBe('CONNACK');
    expect(rec.calls.at(-1)).toEqual({ kind: 'end', ts: 8e6, frame: 8 });

    const [st] = starts(h.events);
    expect(st).toMatchObject({ type: 'flow.start', ts: 1e6, frame: 1, midstream: false });
    const cid = communityIdV1(6, parseIp('10.0.0.1')!, 0, parseIp('10.0.0.2')!, 0, 4, 40000, 1883);
    expect(st.flow).toEqual({
      proto: 'tcp', src: '10.0.0.1', sport: 40000, dst: '10.0.0.2', dport: 1883,
      communityId: cid, dir: 'to_server', flowId: 1, sensor: 'lab-1',
    });
    expect(rec.flow.sides[1]).toEqual({
      proto: 'tcp', src: '10.0.0.2', sport: 1883, dst: '10.0.0.1', dport: 40000,
      communityId: cid, dir: 'to_client', flowId: 1, sensor: 'lab-1',
    });
    expect(rec.flow).toMatchObject({ flowId: 1, proto: 'tcp', serverPort: 1883, clientPort: 40000, midstream: false });

    const [end] = ends(h.events);
    expect(end).toMatchObject({
      type: 'flow.end', reason: 'fin', app: 'test', ts: 8e6, frame: 8, firstTs: 1e6, tcpState: 'S1',
      packetsToServer: 5, packetsToClient: 3, bytesToServer: 14, bytesToClient: 7,
    });
    expect(end.flow).toBe(st.flow); // one FlowSide object per direction, shared by events
    expect(h.table.stats()).toMatchObject({ flowsCreated: 1, flowsActive: 0, flowsClosedLingering: 1, flowsEnded: { fin: 1 } });
  });

  it('keeps a closed flow a while so trailing ACKs and retransmissions open nothing', () => {
    const h = harness();
    const c = new Conn(h);
    c.handshake();
    c.data(0, 'x');
    c.fin(0);
    c.fin(1);
    h.send(c.spec(0, 'A')); // last ACK
    h.send(c.spec(1, 'FA', '', (c.nxt[1] - 1) >>> 0)); // retransmitted FIN
    expect(starts(h.events)).toHaveLength(1);
    expect(h.table.stats().packetsIgnored.afterClose).toBe(2);
    // After the linger time the key is free: a later stray ACK is a new (midstream) flow.
    h.send(c.spec(0, 'A'), h.lastTs + 6e6);
    expect(starts(h.events)).toHaveLength(2);
    expect(starts(h.events)[1].midstream).toBe(true);
  });

  it('starts a new flow for a SYN on a closed flow\'s ports (port reuse after close)', () => {
    const h = harness();
    const c = new Conn(h);
    c.handshake();
    c.data(0, 'first');
    c.fin(0);
    c.fin(1);
    const c2 = new Conn(h, c.c, c.s, [777777, 888888]);
    c2.handshake();
    c2.data(0, 'second');
    const st = starts(h.events);
    expect(st.map((e) => e.flow.flowId)).toEqual([1, 2]);
    expect(h.classifier.handlers[1].text(0)).toBe('second');
  });

  it('ends an open flow whose ports a new SYN reuses, as evicted, and counts it', () => {
    const h = harness();
    const c = new Conn(h);
    c.handshake();
    c.data(0, 'old');
    const c2 = new Conn(h, c.c, c.s, [42, 4242]);
    c2.handshake();
    c2.data(0, 'new');
    expect(ends(h.events).map((e) => [e.flow.flowId, e.reason])).toEqual([[1, 'evicted']]);
    expect(h.table.stats().portReuses).toBe(1);
    expect(h.table.stats().evictions).toBe(0);
    expect(h.classifier.handlers[1].text(0)).toBe('new');
  });

  it('treats a retransmitted SYN as the same flow', () => {
    const h = harness();
    const c = new Conn(h);
    h.send(c.spec(0, 'S'));
    h.send(c.spec(0, 'S'));
    expect(starts(h.events)).toHaveLength(1);
    h.table.flush(h.lastTs, h.frame);
    expect(ends(h.events)[0]).toMatchObject({ tcpState: 'S0', reason: 'eof', packetsToServer: 2 });
  });

  it('ends on RST after delivering pending data (gap reported), RST answering SYN is REJ', () => {
    const h = harness();
    const c = new Conn(h);
    c.handshake();
    c.data(0, 'ab');
    c.at(0, 1, 'de'); // buffered behind a 1-byte hole
    h.send(c.spec(1, 'RA'));
    const rec = h.classifier.handlers[0];
    expect(rec.text(0)).toBe('abde');
    expect(rec.gaps(0)).toEqual([1]);
    expect(ends(h.events)[0]).toMatchObject({ reason: 'rst', tcpState: 'S1' });

    const r = harness();
    const d = new Conn(r);
    r.send(d.spec(0, 'S'));
    r.send({ ...d.spec(1, 'RA'), ack: d.nxt[0] + 1 });
    expect(ends(r.events)[0]).toMatchObject({ reason: 'rst', tcpState: 'REJ', app: '' });
    expect(r.table.stats().flowsClosedLingering).toBe(1);
  });

  it('ignores a RST that has no flow, and counts it', () => {
    const h = harness();
    h.send({ src: '1.1.1.1', sport: 1, dst: '2.2.2.2', dport: 2, flags: 'R' });
    expect(h.events).toHaveLength(0);
    expect(h.table.stats().packetsIgnored.orphanRst).toBe(1);
  });

  it('reports S0 for an unanswered SYN at end of input', () => {
    const h = harness();
    const c = new Conn(h);
    h.send(c.spec(0, 'S'));
    h.table.flush(50e6, 77);
    expect(ends(h.events)[0]).toMatchObject({ reason: 'eof', tcpState: 'S0', ts: 50e6, frame: 77 });
  });
});

describe('FlowTable: midstream pickup', () => {
  it('takes the side talking to a well-known server port as the client', () => {
    const h = harness();
    // First packet seen is the server's answer: 1883 -> 50000.
    h.send({ src: '10.0.0.2', sport: 1883, dst: '10.0.0.1', dport: 50000, seq: 9000, ack: 100, flags: 'PA', data: 'resp' });
    h.send({ src: '10.0.0.1', sport: 50000, dst: '10.0.0.2', dport: 1883, seq: 100, ack: 9004, flags: 'PA', data: 'req' });
    const [st] = starts(h.events);
    expect(st.midstream).toBe(true);
    expect(st.flow).toMatchObject({ src: '10.0.0.1', sport: 50000, dst: '10.0.0.2', dport: 1883 });
    const rec = h.classifier.handlers[0];
    expect(rec.text(1)).toBe('resp');
    expect(rec.text(0)).toBe('req');
    expect(rec.flow.midstream).toBe(true);
    h.table.flush(h.lastTs, h.frame);
    expect(ends(h.events)[0].tcpState).toBe('OTH');
  });

  it('otherwise takes the higher (ephemeral) port as the client', () => {
    const h = harness();
    h.send({ src: '10.0.0.2', sport: 7000, dst: '10.0.0.1', dport: 45000, seq: 1, flags: 'A' });
    expect(starts(h.events)[0].flow).toMatchObject({ sport: 45000, dport: 7000, src: '10.0.0.1' });
  });

  it('takes the receiver of a SYN-ACK as the client when the SYN was missed', () => {
    const h = harness();
    h.send({ src: '10.0.0.2', sport: 3000, dst: '10.0.0.1', dport: 2000, seq: 500, ack: 101, flags: 'SA' });
    h.send({ src: '10.0.0.1', sport: 2000, dst: '10.0.0.2', dport: 3000, seq: 101, ack: 501, flags: 'PA', data: 'hi' });
    h.send({ src: '10.0.0.2', sport: 3000, dst: '10.0.0.1', dport: 2000, seq: 501, ack: 103, flags: 'PA', data: 'yo' });
    const [st] = starts(h.events);
    expect(st.flow).toMatchObject({ src: '10.0.0.1', sport: 2000, dst: '10.0.0.2', dport: 3000 });
    expect(st.midstream).toBe(true);
    expect(h.classifier.handlers[0].text(0)).toBe('hi');
    expect(h.classifier.handlers[0].text(1)).toBe('yo');
  });

  it('starts each direction at its first data segment, dropping earlier (older) ones', () => {
    const h = harness();
    const base = { src: '10.0.0.1', sport: 40000, dst: '10.0.0.2', dport: 1883, flags: 'PA' };
    h.send({ ...base, seq: 2000, data: 'later' });
    h.send({ ...base, seq: 1995, data: 'early' }); // before the start point: old
    h.send({ ...base, seq: 2005, data: '!' });
    expect(h.classifier.handlers[0].text(0)).toBe('later!');
    expect(h.table.stats().retransmissions).toBe(1);
  });
});

describe('FlowTable: reassembly through the table', () => {
  it('reorders, drops retransmissions, trims overlaps; frames are those of the unblocking packet', () => {
    const h = harness();
    const c = new Conn(h);
    c.handshake(); // frames 1-3
    c.at(0, 5, 'FGHIJ'); // 4: ahead of a hole
    c.at(0, 0, 'ABCDE'); // 5: fills it
    c.at(0, 3, 'DEFGHIJKL'); // 6: overlaps delivered data, 2 new bytes
    c.at(0, 0, 'ABC'); // 7: retransmission
    const rec = h.classifier.handlers[0];
    expect(rec.text(0)).toBe('ABCDEFGHIJKL');
    expect(rec.calls.filter((x) => x.kind === 'data').map((x) => x.frame)).toEqual([5, 5, 6]);
    expect(h.table.stats()).toMatchObject({ outOfOrder: 1, overlaps: 1, retransmissions: 1, gaps: 0 });
  });

  it('reports a gap and resyncs when the other side acknowledges data never seen', () => {
    const h = harness();
    const c = new Conn(h);
    c.handshake();
    c.data(0, 'AAAA');
    c.at(0, 10, 'KKKK'); // bytes 4..13 of this direction never captured
    c.nxt[0] += 14;
    h.send(c.spec(1, 'A')); // server acks all 18
    c.data(0, 'ZZ');
    const rec = h.classifier.handlers[0];
    expect(rec.gaps(0)).toEqual([10]);
    expect(rec.stream(0, 0x2e).toString()).toBe('AAAA..........KKKKZZ');
    const gap = anomalies(h.events)[0];
    expect(gap).toMatchObject({ type: 'anomaly', code: 'tcp.gap', layer: 'tcp', frame: 6 });
    expect(gap.flow.dir).toBe('to_server');
    expect(Object.keys(ANOMALY_CODES)).toContain(gap.code);
    expect(h.table.stats()).toMatchObject({ gaps: 1, gapBytes: 10 });
  });

  it('gives up a hole when the per-direction bound is hit, and says so', () => {
    const h = harness({ maxBufferedBytesPerFlow: 10 });
    const c = new Conn(h);
    c.handshake();
    c.at(1, 2, 'cdefgh');
    c.at(1, 8, 'ijkl'); // 10 bytes would be buffered: fits
    c.at(1, 12, 'm'); // 11: over the bound, hole 'ab' is lost
    const rec = h.classifier.handlers[0];
    expect(rec.gaps(1)).toEqual([2]);
    expect(rec.text(1)).toBe('cdefghijklm');
    expect(h.table.stats().boundHits.maxBufferedBytesPerFlow).toBe(1);
    expect(anomalies(h.events).map((a) => [a.code, a.flow.dir])).toEqual([['tcp.gap', 'to_client']]);
  });

  it('bounds buffered bytes over all flows', () => {
    const h = harness({ maxBufferedBytesTotal: 8 });
    const a = new Conn(h, { ip: '10.0.0.1', port: 40001 });
    const b = new Conn(h, { ip: '10.0.0.1', port: 40002 });
    a.handshake();
    b.handshake();
    a.at(0, 1, 'xxxxxx'); // 6 buffered
    b.at(0, 1, 'yyyyyy'); // would be 12: b gives up its own hole
    expect(h.table.stats()).toMatchObject({ bufferedBytes: 6, boundHits: { maxBufferedBytesTotal: 1 } });
    expect(h.classifier.handlers.map((r) => r.flow.clientPort)).toEqual([40002]);
    expect(h.classifier.handlers[0].gaps(0)).toEqual([1]);
  });

  it('emits tcp.overlap_mismatch when overlapping buffered segments differ', () => {
    const h = harness();
    const c = new Conn(h);
    c.handshake();
    c.at(0, 4, 'EFGH');
    c.at(0, 6, 'XX');
    const [a] = anomalies(h.events);
    expect(a).toMatchObject({ code: 'tcp.overlap_mismatch', layer: 'tcp', frame: 5 });
    expect(Object.keys(ANOMALY_CODES)).toContain(a.code);
    expect(h.table.stats().overlapMismatches).toBe(1);
  });

  it('delivers to the handler buffered data behind a hole at FIN, with the gap', () => {
    const h = harness();
    const c = new Conn(h);
    c.handshake();
    c.data(0, 'ab');
    c.at(0, 2, 'ef');
    c.nxt[0] += 4;
    c.fin(0);
    c.fin(1);
    const rec = h.classifier.handlers[0];
    expect(rec.stream(0, 0x2e).toString()).toBe('ab..ef');
    expect(rec.calls.at(-1)?.kind).toBe('end');
  });

  it('handles the data stream crossing 2^32 through the table', () => {
    const h = harness();
    const c = new Conn(h, undefined, undefined, [0xfffffff0, 0xfffffffe]);
    c.handshake();
    c.data(0, 'x'.repeat(10)); // up to 2^32 - 5
    c.data(0, 'z'.repeat(10)); // crosses 2^32
    c.at(1, 3, 'later');
    c.data(1, 'abc');
    const rec = h.classifier.handlers[0];
    expect(rec.text(0)).toBe('x'.repeat(10) + 'z'.repeat(10));
    expect(rec.text(1)).toBe('abclater');
    expect(h.table.stats().gaps).toBe(0);
  });
});

describe('FlowTable: idle expiry in capture time', () => {
  it('ends idle flows with reason idle, stamped when they became idle', () => {
    const h = harness({ tcpIdleTimeoutUs: 10e6, udpIdleTimeoutUs: 5e6 });
    const c = new Conn(h);
    c.handshake(); // ts 1..3 s
    h.send({ src: '10.0.0.9', sport: 5000, dst: '10.0.0.2', dport: 5683, proto: 'udp', data: 'coap' }, 4e6);
    h.table.expire(9e6);
    expect(ends(h.events)).toHaveLength(0);
    h.table.expire(9.5e6); // UDP idle since 4 s + 5 s
    expect(ends(h.events).map((e) => [e.flow.proto, e.reason, e.ts, e.frame])).toEqual([['udp', 'idle', 9e6, 4]]);
    h.table.expire(13.5e6); // TCP idle since 3 s + 10 s
    expect(ends(h.events).map((e) => [e.flow.proto, e.reason, e.ts, e.frame])).toEqual([
      ['udp', 'idle', 9e6, 4], ['tcp', 'idle', 13e6, 3],
    ]);
    expect(h.classifier.handlers.every((r) => r.calls.at(-1)?.kind === 'end')).toBe(true);
    expect(h.table.stats()).toMatchObject({ flowsActive: 0, flowsEnded: { idle: 2 } });
  });

  it('a packet after the idle timeout ends the old flow and starts a new one, without expire()', () => {
    const h = harness({ tcpIdleTimeoutUs: 10e6 });
    const c = new Conn(h);
    c.handshake();
    c.data(0, 'a', 4e6);
    c.data(0, 'b', 100e6);
    expect(ends(h.events).map((e) => [e.reason, e.ts])).toEqual([['idle', 14e6]]);
    expect(starts(h.events).map((e) => [e.flow.flowId, e.midstream])).toEqual([[1, false], [2, true]]);
  });

  it('never looks at the wall clock: a capture from 1970 expires nothing while its time stands still', () => {
    const h = harness({ udpIdleTimeoutUs: 1 });
    h.send({ src: '10.0.0.9', sport: 5000, dst: '10.0.0.2', dport: 5683, proto: 'udp', data: 'a' }, 0);
    h.send({ src: '10.0.0.9', sport: 5000, dst: '10.0.0.2', dport: 5683, proto: 'udp', data: 'b' }, 1);
    h.table.expire(1);
    expect(ends(h.events)).toHaveLength(0);
  });
});

describe('FlowTable: bounds', () => {
  it('evicts the least recently used flow at maxFlows and counts the bound hit', () => {
    const h = harness({ maxFlows: 2 });
    const u = (port: number, data: string) =>
      h.send({ src: '10.0.0.9', sport: port, dst: '10.0.0.2', dport: 5683, proto: 'udp', data });
    u(1001, 'a');
    u(1002, 'b');
    u(1001, 'c'); // 1002 is now least recently used
    u(1003, 'd');
    expect(ends(h.events).map((e) => [e.flow.sport, e.reason, e.frame])).toEqual([[1002, 'evicted', 4]]);
    expect(h.table.stats()).toMatchObject({ evictions: 1, boundHits: { maxFlows: 1 }, flowsActive: 2 });
  });

  it('reclaims lingering closed flows before evicting open ones', () => {
    const h = harness({ maxFlows: 2 });
    const c = new Conn(h);
    c.handshake();
    c.fin(0);
    c.fin(1);
    h.send({ src: '10.0.0.9', sport: 1001, dst: '10.0.0.2', dport: 5683, proto: 'udp', data: 'a' });
    h.send({ src: '10.0.0.9', sport: 1002, dst: '10.0.0.2', dport: 5683, proto: 'udp', data: 'b' });
    expect(h.table.stats()).toMatchObject({ evictions: 0, boundHits: { maxFlows: 1 }, flowsClosedLingering: 0, flowsActive: 2 });
  });

  it('evicts across TCP and UDP by recency', () => {
    const h = harness({ maxFlows: 2 });
    const c = new Conn(h);
    h.send({ src: '10.0.0.9', sport: 1001, dst: '10.0.0.2', dport: 5683, proto: 'udp', data: 'a' });
    c.handshake();
    h.send({ src: '10.0.0.9', sport: 1001, dst: '10.0.0.2', dport: 5683, proto: 'udp', data: 'b' });
    h.send({ src: '10.0.0.9', sport: 1002, dst: '10.0.0.2', dport: 5683, proto: 'udp', data: 'c' });
    expect(ends(h.events).map((e) => [e.flow.proto, e.reason, e.tcpState])).toEqual([['tcp', 'evicted', 'S1']]);
  });
});

describe('FlowTable: classification', () => {
  it('asks again while the classifier answers undefined, then replays everything to the handler', () => {
    const cl = new RecordingClassifier([undefined, undefined]);
    const h = harness({}, cl);
    const c = new Conn(h);
    c.handshake();
    c.data(0, 'one'); // frame 4: undefined
    c.data(1, 'two'); // frame 5: undefined
    c.data(0, 'three'); // frame 6: handler
    c.data(1, 'four'); // frame 7
    const rec = cl.handlers[0];
    expect(cl.tcpCalls).toBe(3);
    expect(rec.calls.map((x) => x.kind === 'data' && [x.dir, x.bytes.toString(), x.frame])).toEqual([
      [0, 'one', 4], [1, 'two', 5], [0, 'three', 6], [1, 'four', 7],
    ]);
    expect(h.table.stats().bufferedBytes).toBe(0);
  });

  it('shows the classifier the direction\'s bytes from the start while undecided', () => {
    const seen: string[] = [];
    const cl: AppClassifier = {
      tcp(flow, _dir, buf, off, len) {
        seen.push(buf.subarray(off, off + len).toString());
        return seen.length < 2 ? undefined : new Recorder(flow);
      },
      udp: () => null,
    };
    const h = harness({}, cl as unknown as RecordingClassifier);
    const c = new Conn(h);
    c.handshake();
    c.data(0, 'CON');
    c.data(0, 'NECT');
    expect(seen).toEqual(['CON', 'CONNECT']);
  });

  it('zeroes the bytes it held while undecided once they are replayed or dropped', () => {
    // A flow's first bytes are usually its CONNECT, password included.
    const seen: Buffer[] = [];
    const replayed: Buffer[] = [];
    const answers = [undefined, undefined, 'attach'];
    const cl: AppClassifier = {
      tcp(flow, _dir, buf) {
        seen.push(buf);
        if (answers.shift() === undefined) return undefined;
        const r = new Recorder(flow);
        const onData = r.onData.bind(r);
        r.onData = (d, b, o, l, ts, fr) => { replayed.push(b); onData(d, b, o, l, ts, fr); };
        return r;
      },
      udp: () => null,
    };
    const h = harness({}, cl as unknown as RecordingClassifier);
    const c = new Conn(h);
    c.handshake();
    c.data(0, 'CON');
    c.data(0, 'NECT');
    c.data(0, 'pw');
    // The classifier saw the direction's bytes joined in copies of its own; the handler got the
    // held copies, then the packet: every copy is zero now, and the handler saw all the bytes.
    const copies = [seen[1], seen[2], replayed[0], replayed[1]];
    expect(copies.map((b) => b.length)).toEqual([7, 9, 3, 4]);
    for (const b of copies) expect(b.every((x) => x === 0)).toBe(true);
    expect(h.table.stats().bufferedBytes).toBe(0);

    // A classifier that never decides, and notes each held copy the table shows it.
    const undecided = (opts: Parameters<typeof harness>[0]) => {
      const held: Buffer[] = [];
      const h = harness(opts, {
        tcp: (f: unknown) => {
          for (const p of (f as { pending: { data: Buffer | null }[] | null }).pending ?? []) if (p.data !== null && !held.includes(p.data)) held.push(p.data);
          return undefined;
        },
        udp: () => null,
      } as unknown as RecordingClassifier);
      const c = new Conn(h);
      c.handshake();
      c.data(0, 'secret');
      c.data(0, 'more');
      return { h, c, held };
    };
    // Dropped: the table gives up on a flow after holding its bytes.
    const dropped = undecided({ classifyMaxAttempts: 2 });
    // Ended: the flow closes while the classifier is still undecided.
    const ended = undecided({});
    ended.c.fin(0);
    ended.c.fin(1);
    for (const { h, held } of [dropped, ended]) {
      expect(held.map((b) => b.length)).toEqual([6]);
      expect(held[0].every((x) => x === 0)).toBe(true);
      expect(h.table.stats().bufferedBytes).toBe(0);
    }
  });

  it('stops asking after null; the flow has no app and nothing is buffered for it', () => {
    const cl = new RecordingClassifier([null]);
    const h = harness({}, cl);
    const c = new Conn(h);
    c.handshake();
    c.data(0, 'GET / HTTP/1.1');
    c.at(0, 100, 'ahead of a hole');
    c.data(1, 'HTTP/1.1 200 OK');
    c.fin(0);
    c.fin(1);
    expect(cl.tcpCalls).toBe(1);
    expect(ends(h.events)[0]).toMatchObject({ app: '', reason: 'fin', bytesToServer: 29 });
    expect(h.table.stats()).toMatchObject({ bufferedBytes: 0, gaps: 0 });
  });

  it('gives up after classifyMaxAttempts and counts the bound hit', () => {
    const cl = new RecordingClassifier(new Array(10).fill(undefined));
    const h = harness({ classifyMaxAttempts: 3 }, cl);
    const c = new Conn(h);
    c.handshake();
    for (let i = 0; i < 6; i++) c.data(0, 'x');
    expect(cl.tcpCalls).toBe(3);
    expect(h.table.stats()).toMatchObject({ boundHits: { classifyMaxAttempts: 1 }, bufferedBytes: 0 });
  });

  it('gives up when held bytes would exceed classifyMaxBytes', () => {
    const cl = new RecordingClassifier(new Array(10).fill(undefined));
    const h = harness({ classifyMaxBytes: 5 }, cl);
    const c = new Conn(h);
    c.handshake();
    c.data(0, 'abc');
    c.data(0, 'def');
    c.data(0, 'ghi');
    expect(cl.tcpCalls).toBe(2);
    expect(h.table.stats().boundHits.classifyMaxBytes).toBe(1);
  });

  it('replays a gap seen before classification to the handler, in order', () => {
    const cl = new RecordingClassifier([undefined]);
    const h = harness({}, cl);
    const c = new Conn(h);
    c.handshake();
    c.data(0, 'ab');
    c.at(0, 1, 'de');
    c.nxt[0] += 3;
    h.send(c.spec(1, 'A')); // acks over the hole: gap of 1, then 'de' -> handler
    const rec = cl.handlers[0];
    expect(rec.calls.map((x) => (x.kind === 'data' ? x.bytes.toString() : x.kind === 'gap' ? `gap${x.missing}` : x.kind)))
      .toEqual(['ab', 'gap1', 'de']);
  });
});

describe('FlowTable: UDP', () => {
  it('classifies on the first datagram and delivers every datagram with its direction', () => {
    const h = harness();
    const req = { src: '2001:db8::10', sport: 50000, dst: '2001:db8::1', dport: 5683, proto: 'udp' as const };
    const resp = { src: req.dst, sport: req.dport, dst: req.src, dport: req.sport, proto: 'udp' as const };
    h.send({ ...req, data: 'GET' });
    h.send({ ...resp, data: '2.05' });
    h.send({ ...req, data: '' });
    expect(h.classifier.udpCalls).toBe(1);
    const rec = h.classifier.handlers[0];
    expect(rec.calls.map((x) => x.kind === 'data' && [x.dir, x.bytes.toString(), x.frame])).toEqual([
      [0, 'GET', 1], [1, '2.05', 2], [0, '', 3],
    ]);
    expect(starts(h.events)[0].flow).toMatchObject({ proto: 'udp', src: '2001:db8::10', dst: '2001:db8::1', dport: 5683 });
    h.table.flush(h.lastTs, h.frame);
    const [end] = ends(h.events);
    expect(end).toMatchObject({ reason: 'eof', app: 'test', packetsToServer: 2, packetsToClient: 1, bytesToServer: 3, bytesToClient: 4 });
    expect(end.tcpState).toBeUndefined();
  });

  it('takes the receiver as the client when the first datagram comes from a server port', () => {
    const h = harness();
    h.send({ src: '10.0.0.2', sport: 5683, dst: '10.0.0.1', dport: 40000, proto: 'udp', data: 'resp' });
    expect(starts(h.events)[0].flow).toMatchObject({ src: '10.0.0.1', sport: 40000, dport: 5683 });
    expect(h.classifier.handlers[0].calls[0]).toMatchObject({ dir: 1 });
  });

  it('replays datagrams seen while the classifier was undecided', () => {
    const cl = new RecordingClassifier([undefined]);
    const h = harness({}, cl);
    const d = { src: '10.0.0.1', sport: 40000, dst: '10.0.0.2', dport: 5683, proto: 'udp' as const };
    h.send({ ...d, data: 'a' });
    h.send({ ...d, data: 'b' });
    expect(cl.handlers[0].calls.map((x) => x.kind === 'data' && x.bytes.toString())).toEqual(['a', 'b']);
  });
});

describe('FlowTable: events and counters', () => {
  it('emits no flow events when emitFlowEvents is false, but still anomalies', () => {
    const h = harness({ emitFlowEvents: false });
    const c = new Conn(h);
    c.handshake();
    c.at(0, 2, 'cd');
    c.at(0, 3, 'X');
    h.table.flush(h.lastTs, h.frame);
    expect(h.events.map((e) => e.type)).toEqual(['anomaly', 'anomaly']);
  });

  it('assigns flow ids 1, 2, 3 in order of creation and counts ignored packets', () => {
    const h = harness();
    for (const port of [3, 1, 2]) h.send({ src: '10.0.0.1', sport: port, dst: '10.0.0.2', dport: 9, proto: 'udp', data: 'x' });
    h.table.packet({ ...pkt({ src: '10.0.0.1', sport: 1, dst: '10.0.0.2', dport: 2 }), proto: 1 }, 1, 99);
    h.table.packet({ ...pkt({ src: '10.0.0.1', sport: 1, dst: '10.0.0.2', dport: 2 }), payloadLen: 1e6 }, 1, 100);
    expect(starts(h.events).map((e) => [e.flow.sport, e.flow.flowId])).toEqual([[3, 1], [1, 2], [2, 3]]);
    expect(h.table.stats().packetsIgnored).toEqual({ notTcpUdp: 1, malformed: 1, orphanRst: 0, afterClose: 0 });
    h.table.flush(h.lastTs, h.frame);
    expect(ends(h.events).map((e) => e.flow.flowId)).toEqual([1, 2, 3]);
  });

  it('exposes every counter', () => {
    const h = harness();
    expect(h.table.stats()).toEqual({
      packets: 0, flowsCreated: 0, flowsActive: 0, flowsClosedLingering: 0,
      flowsEnded: { fin: 0, rst: 0, idle: 0, evicted: 0, eof: 0 }, evictions: 0, portReuses: 0,
      bufferedBytes: 0, bufferedBytesPeak: 0,
      boundHits: { maxFlows: 0, maxBufferedBytesPerFlow: 0, maxBufferedBytesTotal: 0, classifyMaxAttempts: 0, classifyMaxBytes: 0 },
      gaps: 0, gapBytes: 0, overlaps: 0, overlapMismatches: 0, retransmissions: 0, outOfOrder: 0,
      packetsIgnored: { notTcpUdp: 0, malformed: 0, orphanRst: 0, afterClose: 0 },
    });
  });

  it('passes a decoder exactly one object per flow as FlowInfo', () => {
    const infos = new Set<FlowInfo>();
    const cl: AppClassifier = {
      tcp: (flow): TcpAppHandler => {
        infos.add(flow);
        return { app: 'x', onData: (_d: Dir) => undefined, onGap: () => undefined, onEnd: () => undefined };
      },
      udp: () => null,
    };
    const h = harness({}, cl as unknown as RecordingClassifier);
    const c = new Conn(h);
    c.handshake();
    c.data(0, 'a');
    c.data(1, 'b');
    expect(infos.size).toBe(1);
    h.table.flush(h.lastTs, h.frame);
    expect(ends(h.events)[0].app).toBe('x');
  });
});
