// The recorder: events in, cumulative forensic rows out; bounded, event-time only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FlowSide, IotEvent } from '../../src/events/types';
import { createEmbeddedStore } from '../../src/store/embedded/embedded-store';
import { createRecorder } from '../../src/store/records';
import { decodeCapture } from '../helpers/pipeline';
import { T0 } from './alert-fixtures';

const root = mkdtempSync(join(tmpdir(), 'iotwatch-records-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const S = 1_000_000;

function flow(flowId: number, client = '10.0.0.1', cport = 50000, server = '192.168.1.10', sport = 1883, proto: 'tcp' | 'udp' = 'tcp'): { up: FlowSide; down: FlowSide } {
  const base = { proto, communityId: `1:f${flowId}=`, flowId, sensor: 'flow-sensor' };
  return {
    up: { ...base, src: client, sport: cport, dst: server, dport: sport, dir: 'to_server' },
    down: { ...base, src: server, sport, dst: client, dport: cport, dir: 'to_client' },
  };
}

let frame = 0;
const mqttBase = (f: FlowSide, ts: number, clientId = 'dev-1', username: string | null = 'alice') =>
  ({ ts, frame: ++frame, flow: f, version: 4, clientId, username, length: 20 });

function connect(f: FlowSide, ts: number, clientId = 'dev-1'): IotEvent {
  return {
    ...mqttBase(f, ts, clientId), type: 'mqtt.connect', protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 60,
    password: { present: true, length: 6, hmac: 'x' }, will: null,
  };
}
const connack = (f: FlowSide, ts: number, code = 0): IotEvent => ({ ...mqttBase(f, ts), type: 'mqtt.connack', sessionPresent: false, returnCode: code });
const publish = (f: FlowSide, ts: number, topic: string, payloadLength = 10, retain = false, clientId = 'dev-1'): IotEvent =>
  ({ ...mqttBase(f, ts, clientId), type: 'mqtt.publish', topic, qos: 0, retain, dup: false, payloadLength });
const subscribe = (f: FlowSide, ts: number): IotEvent => ({ ...mqttBase(f, ts), type: 'mqtt.subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 0 }] });
const flowEnd = (f: FlowSide, ts: number, bytes = [0, 0]): IotEvent => ({
  type: 'flow.end', ts, frame: ++frame, flow: f, reason: 'fin', app: 'mqtt', firstTs: T0,
  packetsToServer: 1, packetsToClient: 1, bytesToServer: bytes[0], bytesToClient: bytes[1],
});
function coapReq(f: FlowSide, ts: number, path: string, method = 'GET'): IotEvent {
  return {
    type: 'coap.message', ts, frame: ++frame, flow: f, version: 1, msgType: 'CON', code: '0.01', kind: 'request', method, messageId: frame,
    token: 'ab', options: [], uriPath: path, payloadLength: 0, length: 20,
  };
}
function coapResp(f: FlowSide, ts: number, req: IotEvent | null, code = '2.05', rttUs?: number): IotEvent {
  return {
    type: 'coap.message', ts, frame: ++frame, flow: f, version: 1, msgType: 'ACK', code, kind: 'response', messageId: 0, token: 'ab', options: [],
    payloadLength: 5, length: 30, matched: req !== null, requestFrame: req?.frame, rttUs,
    requestMethod: req ? 'GET' : undefined, requestPath: req ? (req as { uriPath?: string }).uriPath : undefined,
  };
}
// TLS events are built as plain objects: the recorder reads them structurally.
const tls = (type: string, f: FlowSide, ts: number, fields: Record<string, unknown>): IotEvent =>
  ({ type, ts, frame: ++frame, flow: f, ...fields }) as unknown as IotEvent;

describe('recorder', () => {
  it('records an MQTT session from CONNECT to flow end, once it has ended', () => {
    const r = createRecorder('s1');
    const { up, down } = flow(1);
    for (const e of [connect(up, T0), connack(down, T0 + S), subscribe(up, T0 + 2 * S), publish(up, T0 + 3 * S, 'a/b'),
      publish(down, T0 + 4 * S, 'a/b'), flowEnd(up, T0 + 10 * S, [300, 500])]) r.onEvent(e);
    const rows = r.flush();
    expect(rows.sessions).toEqual([{
      sensor: 's1', flowId: 1, communityId: '1:f1=', clientId: 'dev-1', username: 'alice', client: '10.0.0.1:50000',
      server: '192.168.1.10:1883', protocolVersion: 4, tls: false, firstTs: T0, lastTs: T0 + 10 * S, connackCode: 0,
      publishes: 2, subscribes: 1, bytes: 800,
    }]);
    expect(r.flush().sessions).toEqual([]);
    expect(r.stats().live.sessions).toBe(0);
  });

  it('emits growing rows across flushes that a store folds into one', async () => {
    const r = createRecorder('s1');
    const { up, down } = flow(2, 'fd00::1', 40000, 'fd00::2', 1883);
    const store = createEmbeddedStore({ dir: join(root, 'fold') });
    await store.init();
    r.onEvent(connect(up, T0));
    r.onEvent(connack(down, T0 + S, 5));
    await store.putRecords(r.flush());
    r.onEvent(publish(up, T0 + 2 * S, 't'));
    const second = r.flush();
    expect(second.sessions[0]).toMatchObject({ publishes: 1, connackCode: 5, client: '[fd00::1]:40000', server: '[fd00::2]:1883' });
    await store.putRecords(second);
    const inv = await store.inventoryClients({ limit: 10 });
    expect(inv.rows).toHaveLength(1);
    expect(inv.rows[0]).toMatchObject({ publishes: 1, firstTs: T0, lastTs: T0 + 2 * S });
    await store.close();
  });

  it('counts topics per minute: publishes, retained, bytes, distinct publishers', () => {
    const r = createRecorder('s1');
    const a = flow(3);
    const b = flow(4, '10.0.0.2', 50001);
    r.onEvent(publish(a.up, T0 + 1 * S, 'x', 10, true, 'dev-a'));
    r.onEvent(publish(b.up, T0 + 2 * S, 'x', 5, false, 'dev-b'));
    r.onEvent(publish(a.up, T0 + 3 * S, 'x', 1, false, 'dev-a'));
    r.onEvent(publish(a.down, T0 + 4 * S, 'x', 7)); // a delivery: a publish, not a publisher
    r.onEvent(publish(a.up, T0 + 61 * S, 'x', 2, false, 'dev-a'));
    const minute = Math.floor(T0 / 60e6) * 60e6;
    const rows = r.flush().topics.sort((p, q) => p.minute - q.minute);
    expect(rows).toEqual([
      { sensor: 's1', minute, topic: 'x', publishes: 4, retained: 1, bytes: 23, publishers: 2 },
      { sensor: 's1', minute: minute + 60e6, topic: 'x', publishes: 1, retained: 0, bytes: 2, publishers: 1 },
    ]);
  });

  it('aggregates CoAP exchanges: matched with RTT median, unmatched responses, unanswered requests', () => {
    const r = createRecorder('s1', { coapResponseTimeoutUs: 5 * S });
    const { up, down } = flow(5, '10.0.0.5', 5683, '192.168.1.20', 5683, 'udp');
    const q1 = coapReq(up, T0, '/temp');
    const q2 = coapReq(up, T0 + S, '/temp');
    const q3 = coapReq(up, T0 + 2 * S, '/temp');
    r.onEvent(q1); r.onEvent(coapResp(down, T0 + 1000, q1, '2.05', 1000));
    r.onEvent(q2); r.onEvent(coapResp(down, T0 + S + 3000, q2, '2.05', 3000));
    r.onEvent(q3); r.onEvent(coapResp(down, T0 + 2 * S + 2000, q3, '2.05', 2000));
    r.onEvent(coapResp(down, T0 + 3 * S, null, '4.04'));
    r.onEvent(coapReq(up, T0 + 4 * S, '/lost', 'PUT'));
    r.onEvent(coapReq(up, T0 + 20 * S, '/later')); // moves event time past the /lost timeout
    const minute = Math.floor(T0 / 60e6) * 60e6;
    const rows = r.flush().coap;
    const by = (path: string, code: string) => rows.find((x) => x.path === path && x.responseCode === code);
    expect(by('/temp', '2.05')).toEqual({
      sensor: 's1', minute, client: '10.0.0.5', server: '192.168.1.20:5683', method: 'GET', path: '/temp', responseCode: '2.05',
      requests: 3, responses: 3, unmatched: 0, requestBytes: 60, responseBytes: 90, rttUsP50: 2000,
    });
    expect(by('', '4.04')).toMatchObject({ responses: 1, unmatched: 1, requests: 0, client: '10.0.0.5', server: '192.168.1.20:5683' });
    expect(by('/lost', '')).toMatchObject({ method: 'PUT', requests: 1, responses: 0, unmatched: 1, rttUsP50: null });
    expect(by('/later', '')).toBeUndefined(); // still waiting for its response
  });

  it('records TLS and DTLS endpoints with their certificates, read structurally', () => {
    const r = createRecorder('s1');
    const a = flow(6, '10.0.0.1', 50000, '192.168.1.10', 8883);
    r.onEvent(tls('tls.client_hello', a.up, T0, { sni: 'broker.example', alpn: ['mqtt'] }));
    r.onEvent(tls('tls.server_hello', a.down, T0 + 1000, { version: 'TLS 1.2', cipherSuite: 0xc02f, certificatesVisible: true, clientCertificateRequested: true }));
    r.onEvent(tls('tls.certificate', a.down, T0 + 2000, {
      sender: 'server', position: 0, subject: 'CN=broker.example', issuer: 'CN=CA', sha256: 'ab'.repeat(32),
      notBefore: T0 - 10 * 86400 * S, notAfter: T0 + 20 * 86400 * S, selfSigned: false,
    }));
    r.onEvent(tls('tls.certificate', a.down, T0 + 2000, { sender: 'server', position: 1, subject: 'CN=CA', sha256: 'cd'.repeat(32) }));
    // TLS 1.3: no certificates visible; a DTLS server hello with a cipher name; a malformed one.
    const b = flow(7, '10.0.0.2', 50001, '192.168.1.11', 8883);
    r.onEvent(tls('tls.server_hello', b.down, T0 + 5000, { version: 'TLS 1.3', cipherSuite: 0x1301, certificatesVisible: false, clientCertificateRequested: null }));
    const c = flow(8, '10.0.0.3', 5684, '192.168.1.12', 5684, 'udp');
    r.onEvent(tls('dtls.server_hello', c.down, T0 + 6000, { version: 'DTLS 1.2', cipherSuite: 0x00a8, cipherSuiteName: 'TLS_PSK_WITH_AES_128_GCM_SHA256', certificatesVisible: false }));
    const d = flow(9, '10.0.0.4', 50002, '192.168.1.13', 443);
    r.onEvent(tls('tls.server_hello', d.down, T0, { version: 42, cipherSuite: 'nope' }));
    r.onEvent(tls('tls.certificate', d.down, T0, { position: 0 }));
    const rows = r.flush().tls;
    const ep = (server: string) => rows.find((x) => x.server === server);
    expect(ep('192.168.1.10:8883')).toEqual({
      sensor: 's1', server: '192.168.1.10:8883', sni: 'broker.example', version: 'TLS 1.2', cipher: '0xc02f', clientAuth: true,
      subject: 'CN=broker.example', issuer: 'CN=CA', sha256: 'ab'.repeat(32), notBefore: T0 - 10 * 86400 * S, notAfter: T0 + 20 * 86400 * S,
      selfSigned: false, firstTs: T0 + 2000, lastTs: T0 + 2000,
    });
    expect(ep('192.168.1.11:8883')).toMatchObject({ version: 'TLS 1.3', cipher: '0x1301', sha256: '', notAfter: 0 });
    expect(ep('192.168.1.12:5684')).toMatchObject({ version: 'DTLS 1.2', cipher: 'TLS_PSK_WITH_AES_128_GCM_SHA256' });
    expect(ep('192.168.1.13:443')).toMatchObject({ version: '', cipher: '', sha256: '' });
    // MQTT over TLS is a session too, marked tls.
    expect(r.flush().sessions).toEqual([]);
    const s = createRecorder('s1');
    s.onEvent(tls('tls.client_hello', a.up, T0, { sni: 'x', alpn: [] }));
    expect(s.flush().sessions[0]).toMatchObject({ tls: true, clientId: '', server: '192.168.1.10:8883' });
  });

  it('bounds its state and counts what it refuses; late events are counted, not mis-added', () => {
    const r = createRecorder('s1', { maxKeys: 2 });
    for (let i = 1; i <= 3; i++) r.onEvent(connect(flow(100 + i).up, T0 + i));
    expect(r.stats().dropped.sessions).toBe(1);
    expect(r.flush().sessions).toHaveLength(2);
    const late = createRecorder('s1');
    late.onEvent(publish(flow(1).up, T0 + 3600 * S, 'x'));
    late.onEvent(publish(flow(1).up, T0, 'x')); // an hour late: its minute is closed
    expect(late.stats().lateEvents).toBe(1);
    expect(late.flush().topics).toHaveLength(1);
  });

  it('takes the events of a real capture through to an embedded store', async () => {
    const { events } = await decodeCapture(join(__dirname, '..', '..', 'pcaps', 'mqtt-basic.pcap'));
    const r = createRecorder('');
    for (const e of events) r.onEvent(e);
    const rows = r.flush();
    const connects = events.filter((e) => e.type === 'mqtt.connect').length;
    const publishes = events.filter((e) => e.type === 'mqtt.publish').length;
    expect(rows.sessions.length).toBeGreaterThanOrEqual(connects);
    expect(rows.sessions.reduce((n, s) => n + s.publishes, 0)).toBe(publishes);
    expect(rows.topics.reduce((n, t) => n + t.publishes, 0)).toBe(publishes);
    expect(rows.sessions.every((s) => s.sensor === 'test-sensor')).toBe(true);
    const store = createEmbeddedStore({ dir: join(root, 'capture') });
    await store.init();
    await store.putRecords(rows);
    expect((await store.inventoryTopics({ limit: 1000 })).rows.length).toBe(new Set(rows.topics.map((t) => t.topic)).size);
    await store.close();
  });
});
