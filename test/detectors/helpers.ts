// Event builders and a runner for detector tests: hand-built events, capture time as the clock.
import { createHash } from 'node:crypto';
import type {
  AnomalyEvent, CoapMessage, FlowEnd, FlowSide, FlowStart, MqttConnack, MqttConnect, MqttDisconnect,
  MqttPublish, MqttSubscribe,
} from '../../src/events/types';
import type { Alert, AlertKind, AlertSpec } from '../../src/alerts/types';
import { createEngine, type Engine, type EngineMode } from '../../src/alerts/engine';
import type { AnyDetector, DetectorContext, InputEvent } from '../../detectors/lib/detector';
import { BoundedMap, LruTable, type LruEntry } from '../../detectors/lib/tables';
import { FlowMemoTable } from '../../detectors/lib/flow-memo';
import type { DtlsPskIdentity, DtlsServerHello, TlsCertificate, TlsServerHello } from '../../src/events/tls-types';

/** 2023-11-14T00:00:00Z in µs: a multiple of a day, so minute, hour and day windows start here. */
export const T0 = 1_699_920_000_000_000;
/** Capture time `s` seconds after T0. */
export const at = (s: number): number => T0 + Math.round(s * 1_000_000);

let frameNo = 0;
let flowNo = 0;
const nextFrame = (): number => ++frameNo;

/** Both sides of one flow: up = client -> server (to_server), down = server -> client. */
export interface Flow {
  readonly up: FlowSide;
  readonly down: FlowSide;
}

export function flow(client: string, server: string, opts: { cport?: number; sport?: number; proto?: 'tcp' | 'udp' } = {}): Flow {
  const id = ++flowNo;
  const cport = opts.cport ?? 40_000 + id;
  const sport = opts.sport ?? 1883;
  const proto = opts.proto ?? 'tcp';
  const communityId = `1:${createHash('sha1').update(`${client}:${cport}-${server}:${sport}/${proto}`).digest('base64')}`;
  const base = { proto, communityId, flowId: id, sensor: 'test' };
  return {
    up: { ...base, src: client, sport: cport, dst: server, dport: sport, dir: 'to_server' } as FlowSide,
    down: { ...base, src: server, sport, dst: client, dport: cport, dir: 'to_client' } as FlowSide,
  };
}

export const coapFlow = (client: string, server: string, cport?: number): Flow => flow(client, server, { cport, sport: 5683, proto: 'udp' });

interface Session {
  clientId?: string;
  username?: string | null;
  version?: number;
}

const mqttBase = (side: FlowSide, t: number, s: Session) => ({
  ts: t, frame: nextFrame(), flow: side, version: s.version ?? 4, clientId: s.clientId ?? '', username: s.username ?? null, length: 20,
});

export const hmacOf = (password: string): string => createHash('sha256').update(`k:${password}`).digest('hex');

export function connect(f: Flow, t: number, s: Session & { password?: string | null; will?: null } = {}): MqttConnect {
  const pw = s.password ?? null;
  return {
    ...mqttBase(f.up, t, s), type: 'mqtt.connect', protocolName: 'MQTT', protocolVersion: s.version ?? 4, cleanStart: true, keepAlive: 60,
    password: { present: pw !== null, length: pw?.length ?? 0, hmac: pw === null ? '' : hmacOf(pw) }, will: null,
  };
}

export function connack(f: Flow, t: number, returnCode: number, s: Session = {}): MqttConnack {
  return { ...mqttBase(f.down, t, s), type: 'mqtt.connack', sessionPresent: false, returnCode };
}

export function publish(f: Flow, t: number, topic: string, s: Session & { retain?: boolean; payloadLength?: number; down?: boolean } = {}): MqttPublish {
  return {
    ...mqttBase(s.down === true ? f.down : f.up, t, s), type: 'mqtt.publish', topic, qos: 0, retain: s.retain ?? false, dup: false,
    payloadLength: s.payloadLength ?? 8,
  };
}

export function subscribe(f: Flow, t: number, filters: readonly string[], s: Session = {}): MqttSubscribe {
  return { ...mqttBase(f.up, t, s), type: 'mqtt.subscribe', messageId: 1, subscriptions: filters.map((topic) => ({ topic, qos: 0 })) };
}

export function disconnect(f: Flow, t: number, s: Session = {}): MqttDisconnect {
  return { ...mqttBase(f.up, t, s), type: 'mqtt.disconnect' };
}

export function flowStart(f: Flow, t: number, midstream = false): FlowStart {
  return { type: 'flow.start', ts: t, frame: nextFrame(), flow: f.up, midstream };
}

export function flowEnd(f: Flow, t: number, tcpState = 'S1', reason: FlowEnd['reason'] = 'fin'): FlowEnd {
  return {
    type: 'flow.end', ts: t, frame: nextFrame(), flow: f.up, reason, app: '', firstTs: t, packetsToServer: 1, packetsToClient: 0,
    bytesToServer: 60, bytesToClient: 0, tcpState,
  };
}

export function anomaly(f: Flow, t: number, code: string): AnomalyEvent {
  return { type: 'anomaly', ts: t, frame: nextFrame(), flow: f.up, code, layer: code.split('.')[0], detail: code };
}

const METHODS: Record<string, string> = { GET: '0.01', POST: '0.02', PUT: '0.03', DELETE: '0.04' };

export function coapRequest(f: Flow, t: number, method: string, path: string, o: { length?: number; oscore?: boolean } = {}): CoapMessage {
  return {
    type: 'coap.message', ts: t, frame: nextFrame(), flow: f.up, version: 1, msgType: 'CON', code: METHODS[method] ?? '0.05', kind: 'request',
    method, messageId: frameNo, token: 'ab', options: [], uriPath: path, payloadLength: 0, length: o.length ?? 20,
    ...(o.oscore === true ? { oscore: { kid: '01' } } : {}),
  };
}

export function coapResponse(f: Flow, t: number, code: string, o: { length?: number; matched?: boolean; requestMethod?: string; requestPath?: string; observe?: number; msgType?: CoapMessage['msgType'] } = {}): CoapMessage {
  return {
    type: 'coap.message', ts: t, frame: nextFrame(), flow: f.down, version: 1, msgType: o.msgType ?? 'ACK', code, kind: 'response',
    messageId: frameNo, token: 'ab', options: [], payloadLength: 0, length: o.length ?? 30, matched: o.matched ?? true,
    ...(o.requestMethod !== undefined ? { requestMethod: o.requestMethod, requestPath: o.requestPath ?? '/' } : {}),
    ...(o.observe !== undefined ? { observe: o.observe } : {}),
  };
}

export function coapReset(f: Flow, t: number, toClient = true): CoapMessage {
  return {
    type: 'coap.message', ts: t, frame: nextFrame(), flow: toClient ? f.down : f.up, version: 1, msgType: 'RST', code: '0.00', kind: 'empty',
    messageId: frameNo, token: '', options: [], payloadLength: 0, length: 4,
  };
}

const VERSION_NAMES: Record<number, string> = { 0x0300: 'SSL 3.0', 0x0301: 'TLS 1.0', 0x0302: 'TLS 1.1', 0x0303: 'TLS 1.2', 0x0304: 'TLS 1.3', 0xfeff: 'DTLS 1.0', 0xfefd: 'DTLS 1.2' };

/** A ServerHello negotiating `selectedVersion` (wire code); TLS 1.3 hides CertificateRequest (null). */
export function serverHello(f: Flow, t: number, selectedVersion: number, clientCertificateRequested: boolean | null = null): TlsServerHello {
  return {
    type: 'tls.server_hello', ts: t, frame: nextFrame(), flow: f.down, legacyVersion: Math.min(selectedVersion, 0x0303), selectedVersion,
    version: VERSION_NAMES[selectedVersion] ?? 'unknown', cipherSuite: 0xc02f, compressionMethod: 0, extensions: [], alpn: null, sessionIdLength: 32,
    helloRetryRequest: false, certificatesVisible: selectedVersion !== 0x0304, clientCertificateRequested,
  };
}

export function dtlsServerHello(f: Flow, t: number, selectedVersion: number): DtlsServerHello {
  return {
    type: 'dtls.server_hello', ts: t, frame: nextFrame(), flow: f.down, epoch: 0, sequence: 1, legacyVersion: selectedVersion, selectedVersion,
    version: VERSION_NAMES[selectedVersion] ?? 'unknown', cipherSuite: 0xc0a8, cipherSuiteName: 'TLS_PSK_WITH_AES_128_CCM_8', keyExchange: 'psk',
    extensions: [], sessionIdLength: 0, helloVerifyRequested: true, certificatesVisible: false,
  };
}

const iso = (us: number): string => new Date(us / 1000).toISOString();

/** A certificate; validity in µs (default: 2023-01-01 to 2024-06-01, valid at T0). */
export function certificate(f: Flow, t: number, o: { position?: number; subject?: string; notBefore?: number; notAfter?: number; selfSigned?: boolean; sha256?: string; fromClient?: boolean } = {}): TlsCertificate {
  const notBefore = o.notBefore ?? Date.parse('2023-01-01T00:00:00Z') * 1000;
  const notAfter = o.notAfter ?? Date.parse('2024-06-01T00:00:00Z') * 1000;
  const subject = o.subject ?? 'CN=broker.plant.local';
  return {
    type: 'tls.certificate', ts: t, frame: nextFrame(), flow: o.fromClient === true ? f.up : f.down, position: o.position ?? 0, chainLength: 1,
    sender: o.fromClient === true ? 'client' : 'server', subject, issuer: o.selfSigned === true ? subject : 'CN=Plant CA', subjectCn: subject.replace(/^CN=/, ''),
    serial: '01', sans: [], notBefore, notAfter, notBeforeIso: iso(notBefore), notAfterIso: iso(notAfter), keyType: 'ec', keySize: 256,
    signatureAlgorithm: 'ecdsa-with-SHA256', signatureAlgorithmOid: '1.2.840.10045.4.3.2', selfSigned: o.selfSigned ?? false, isCa: false,
    sha256: o.sha256 ?? 'aa'.repeat(32), length: 500,
  };
}

export function pskIdentity(f: Flow, t: number, identity: string): DtlsPskIdentity {
  return {
    type: 'dtls.psk_identity', ts: t, frame: nextFrame(), flow: f.up, epoch: 0, sequence: 3, identity, identityHex: Buffer.from(identity).toString('hex'),
    identityLength: identity.length, identityHint: null, keyExchange: 'psk', cipherSuite: 0xc0a8,
  };
}

/** `n` events spread evenly over [from, from + seconds). */
export function spread<E>(n: number, from: number, seconds: number, make: (t: number, i: number) => E): E[] {
  return Array.from({ length: n }, (_, i) => make(at(from + (seconds * i) / n), i));
}

export interface RunOptions {
  tunables?: Record<string, unknown>;
  learningPeriod?: number;
  mode?: EngineMode;
  baseline?: unknown;
  /** flush at this capture time (µs); default: after the last event. */
  end?: number;
  config?: Record<string, unknown>;
}

export interface Run {
  alerts: Alert[];
  log: [AlertKind, Alert][];
  engine: Engine;
}

/** Run one detector over events (sorted by time, stably) and flush. */
export function run(det: AnyDetector, events: readonly InputEvent[], o: RunOptions = {}): Run {
  const log: [AlertKind, Alert][] = [];
  const engine = createEngine({
    mode: o.mode ?? 'detect',
    detectors: [det],
    baseline: o.baseline,
    config: { learningPeriod: o.learningPeriod ?? 0, ...o.config, detectors: { [det.id]: o.tunables ?? {} } },
    onAlert: (a, kind) => log.push([kind, a]),
  });
  const sorted = events.slice().sort((a, b) => a.ts - b.ts);
  for (const e of sorted) engine.onEvent(e);
  engine.flush(o.end ?? (sorted.length > 0 ? sorted[sorted.length - 1].ts : T0));
  return { alerts: engine.alerts(), log, engine };
}

/** A detector context with a hand-driven clock, for testing detectors/lib without the engine. */
export interface FakeContext extends DetectorContext {
  now: number;
  startTs: number;
  learningEnd: number;
  learning: boolean;
  readonly raised: AlertSpec[];
}

export function fakeContext(o: Partial<Pick<FakeContext, 'now' | 'startTs' | 'learningEnd'>> = {}): FakeContext {
  const ctx = {
    id: 'test', now: o.now ?? T0, startTs: o.startTs ?? T0, learningEnd: o.learningEnd ?? T0, baselineLoaded: false,
    get learning() {
      return this.now < this.learningEnd;
    },
    raised: [] as AlertSpec[],
    alert(spec: AlertSpec) {
      this.raised.push(spec);
    },
    lru: <V extends LruEntry>(_: string, max: number) => new LruTable<V>(max),
    bounded: <K, V>(_: string, max: number) => new BoundedMap<K, V>(max),
    flowMemo: new FlowMemoTable(),
    count() {},
  };
  return ctx as FakeContext;
}
