// The forensic record: events aggregated into the four row types the stores keep (MQTT sessions,
// topic minutes, CoAP exchanges, TLS/DTLS endpoints). An event consumer like a detector: it runs
// on event time only (no wall clock), so a capture analysed twice gives the same rows.
//
// Rows are cumulative: flush() returns every row that changed since the last flush with its
// totals so far, and the stores replace rows by identity (inventory.ts ROW_KEYS), so a session or
// minute that spans several flushes ends up as one row. State is bounded: at most maxKeys live
// keys per table; a new key past it is dropped and counted, and idle or closed state is emitted
// one last time and forgotten.
import type { IotEvent } from '../events/types';
import type { CoapExchangeRow, MqttSessionRow, TlsEndpointRow, TopicMinuteRow } from './types';

export interface RecorderOptions {
  /** Live keys per table (sessions, topic minutes, CoAP exchanges, TLS endpoints). Default 50,000. */
  maxKeys?: number;
  /** A session with no event for this long (µs of event time) is closed at the next flush. Default 1 h. */
  sessionIdleUs?: number;
  /** Minutes are kept open this long after the newest event (late packets still count). Default 5 min. */
  minuteGraceUs?: number;
  /** A CoAP request with no response after this long is recorded as unanswered. Default 60 s. */
  coapResponseTimeoutUs?: number;
  /** Distinct publishers remembered per topic minute (past it the count stops growing). Default 10,000. */
  maxPublishersPerMinute?: number;
}

export interface RecorderRows {
  sessions: MqttSessionRow[];
  topics: TopicMinuteRow[];
  coap: CoapExchangeRow[];
  tls: TlsEndpointRow[];
}

export interface RecorderStats {
  /** Live keys per table. */
  live: Record<keyof RecorderRows, number>;
  /** New keys refused because the table was full, per table. */
  dropped: Record<keyof RecorderRows, number>;
  /** Events for minutes already closed (older than the grace period). */
  lateEvents: number;
}

export interface Recorder {
  onEvent(e: IotEvent): void;
  /** Rows changed since the last flush, with cumulative values. */
  flush(): RecorderRows;
  stats(): RecorderStats;
}

const MINUTE_US = 60_000_000;

/** "addr:port", IPv6 in brackets (the form alerts' endpoints use). */
export function endpointText(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** Reads a field of an event this module may not know the type of (TLS events arrive structurally). */
function field<T>(e: unknown, name: string, check: (v: unknown) => v is T): T | undefined {
  const v = (e as Record<string, unknown>)[name];
  return check(v) ? v : undefined;
}
const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

interface SessionState {
  row: MqttSessionRow;
  mqttBytes: number;
  ended: boolean;
  dirty: boolean;
}

interface MinuteState {
  row: TopicMinuteRow;
  publishers: Set<string>;
  dirty: boolean;
}

interface CoapState {
  row: CoapExchangeRow;
  rtts: number[];
  dirty: boolean;
}

interface PendingRequest {
  sensor: string;
  ts: number;
  length: number;
  client: string;
  server: string;
  method: string;
  path: string;
}

interface TlsFlow {
  sni: string;
  server: string;
  version: string;
  cipher: string;
  clientAuth: boolean;
  helloSeen: boolean;
  certificatesVisible: boolean;
  emitted: boolean;
  /** Key of the endpoint this flow was last counted under. */
  endpointKey: string | null;
  cert: Pick<TlsEndpointRow, 'subject' | 'issuer' | 'sha256' | 'notBefore' | 'notAfter' | 'selfSigned'> | null;
}

interface EndpointState {
  row: TlsEndpointRow;
  dirty: boolean;
}

const MAX_RTT_SAMPLES = 255;

export function createRecorder(sensor: string, opts: RecorderOptions = {}): Recorder {
  const maxKeys = opts.maxKeys ?? 50_000;
  const idleUs = opts.sessionIdleUs ?? 3_600_000_000;
  const graceUs = opts.minuteGraceUs ?? 5 * MINUTE_US;
  const coapTimeoutUs = opts.coapResponseTimeoutUs ?? 60_000_000;
  const maxPublishers = opts.maxPublishersPerMinute ?? 10_000;

  const sessions = new Map<string, SessionState>();
  const minutes = new Map<string, MinuteState>();
  const coap = new Map<string, CoapState>();
  const pending = new Map<string, PendingRequest>(); // by flow + request frame
  const tlsFlows = new Map<string, TlsFlow>();
  const endpoints = new Map<string, EndpointState>();
  const dropped = { sessions: 0, topics: 0, coap: 0, tls: 0 };
  let lateEvents = 0;
  let newest = 0;

  const sensorOf = (e: IotEvent): string => (sensor !== '' ? sensor : e.flow.sensor);
  const flowKey = (e: IotEvent): string => `${e.flow.flowId}\0${e.flow.communityId}`;
  const clientEnd = (e: IotEvent): string => (e.flow.dir === 'to_server' ? endpointText(e.flow.src, e.flow.sport) : endpointText(e.flow.dst, e.flow.dport));
  const serverEnd = (e: IotEvent): string => (e.flow.dir === 'to_server' ? endpointText(e.flow.dst, e.flow.dport) : endpointText(e.flow.src, e.flow.sport));

  function session(e: IotEvent, tls: boolean): SessionState | null {
    const k = flowKey(e);
    let s = sessions.get(k);
    if (!s) {
      if (sessions.size >= maxKeys) {
        dropped.sessions++;
        return null;
      }
      s = {
        row: {
          sensor: sensorOf(e), flowId: e.flow.flowId, communityId: e.flow.communityId, clientId: '', username: null,
          client: clientEnd(e), server: serverEnd(e), protocolVersion: 0, tls, firstTs: e.ts, lastTs: e.ts,
          connackCode: null, publishes: 0, subscribes: 0, bytes: 0,
        },
        mqttBytes: 0, ended: false, dirty: true,
      };
      sessions.set(k, s);
    }
    s.dirty = true;
    if (e.ts > s.row.lastTs) s.row.lastTs = e.ts;
    if (e.ts < s.row.firstTs) s.row.firstTs = e.ts;
    return s;
  }

  function onMqtt(e: Extract<IotEvent, { type: `mqtt.${string}` }>): void {
    const s = session(e, false);
    if (!s) return;
    const r = s.row;
    // The decoder carries the CONNECT's identity on every later message of the flow.
    if (r.clientId === '' && e.clientId !== '') r.clientId = e.clientId;
    if (r.username === null && e.username !== null) r.username = e.username;
    if (r.protocolVersion === 0 && e.version !== 0) r.protocolVersion = e.version;
    s.mqttBytes += e.length;
    r.bytes = Math.max(r.bytes, s.mqttBytes);
    switch (e.type) {
      case 'mqtt.connect':
        r.clientId = e.clientId;
        r.username = e.username;
        r.protocolVersion = e.protocolVersion;
        break;
      case 'mqtt.connack':
        r.connackCode = e.returnCode;
        break;
      case 'mqtt.publish':
        r.publishes++;
        onPublish(e);
        break;
      case 'mqtt.subscribe':
        r.subscribes++;
        break;
      default:
        break;
    }
  }

  function onPublish(e: Extract<IotEvent, { type: 'mqtt.publish' }>): void {
    const minute = Math.floor(e.ts / MINUTE_US) * MINUTE_US;
    if (minute + MINUTE_US + graceUs < newest) {
      lateEvents++;
      return;
    }
    const k = `${minute}\0${e.topic}`;
    let m = minutes.get(k);
    if (!m) {
      if (minutes.size >= maxKeys) {
        dropped.topics++;
        return;
      }
      m = { row: { sensor: sensorOf(e), minute, topic: e.topic, publishes: 0, retained: 0, bytes: 0, publishers: 0 }, publishers: new Set(), dirty: true };
      minutes.set(k, m);
    }
    m.dirty = true;
    m.row.publishes++;
    if (e.retain) m.row.retained++;
    m.row.bytes += e.payloadLength;
    // Publishers are clients sending PUBLISH to a broker; deliveries to subscribers count as publishes only.
    if (e.flow.dir === 'to_server' && m.publishers.size < maxPublishers) {
      m.publishers.add(e.clientId !== '' ? `id:${e.clientId}` : `ep:${clientEnd(e)}`);
      m.row.publishers = m.publishers.size;
    }
  }

  function coapKeyed(sensorId: string, minute: number, client: string, server: string, method: string, path: string, code: string): CoapState | null {
    const k = JSON.stringify([minute, client, server, method, path, code]);
    let c = coap.get(k);
    if (!c) {
      if (coap.size >= maxKeys) {
        dropped.coap++;
        return null;
      }
      c = {
        row: {
          sensor: sensorId, minute, client, server, method, path, responseCode: code, requests: 0, responses: 0, unmatched: 0,
          requestBytes: 0, responseBytes: 0, rttUsP50: null,
        },
        rtts: [], dirty: true,
      };
      coap.set(k, c);
    }
    c.dirty = true;
    return c;
  }

  function unanswered(p: PendingRequest): void {
    const c = coapKeyed(p.sensor, Math.floor(p.ts / MINUTE_US) * MINUTE_US, p.client, p.server, p.method, p.path, '');
    if (!c) return;
    c.row.requests++;
    c.row.unmatched++;
    c.row.requestBytes += p.length;
  }

  function onCoap(e: Extract<IotEvent, { type: 'coap.message' }>): void {
    const f = e.flow;
    if (e.kind === 'request') {
      // The sender of a request is the client of that exchange (CoAP endpoints can be both).
      const k = `${flowKey(e)}\0${e.frame}`;
      if (pending.size >= maxKeys) {
        // Oldest first: Map iteration order is insertion order.
        const [oldKey, old] = pending.entries().next().value as [string, PendingRequest];
        pending.delete(oldKey);
        unanswered(old);
      }
      pending.set(k, { sensor: sensorOf(e), ts: e.ts, length: e.length, client: f.src, server: endpointText(f.dst, f.dport), method: e.method ?? e.code, path: e.uriPath ?? '/' });
      return;
    }
    if (e.kind !== 'response') return;
    const p = e.requestFrame !== undefined ? pending.get(`${flowKey(e)}\0${e.requestFrame}`) : undefined;
    if (e.matched && p) {
      pending.delete(`${flowKey(e)}\0${e.requestFrame}`);
      const c = coapKeyed(p.sensor, Math.floor(p.ts / MINUTE_US) * MINUTE_US, p.client, p.server, p.method, p.path, e.code);
      if (!c) return;
      c.row.requests++;
      c.row.responses++;
      c.row.requestBytes += p.length;
      c.row.responseBytes += e.length;
      if (e.rttUs !== undefined && c.rtts.length < MAX_RTT_SAMPLES) c.rtts.push(e.rttUs);
      return;
    }
    // A response whose request we did not see (or did not keep).
    const c = coapKeyed(sensorOf(e), Math.floor(e.ts / MINUTE_US) * MINUTE_US, f.dst, endpointText(f.src, f.sport), e.requestMethod ?? '', e.requestPath ?? '', e.code);
    if (!c) return;
    c.row.responses++;
    c.row.unmatched++;
    c.row.responseBytes += e.length;
  }

  function tlsFlow(e: IotEvent): TlsFlow | null {
    const k = flowKey(e);
    let t = tlsFlows.get(k);
    if (!t) {
      if (tlsFlows.size >= maxKeys) {
        dropped.tls++;
        return null;
      }
      t = {
        sni: '', server: serverEnd(e), version: '', cipher: '', clientAuth: false, helloSeen: false,
        certificatesVisible: false, emitted: false, endpointKey: null, cert: null,
      };
      tlsFlows.set(k, t);
    }
    return t;
  }

  function emitEndpoint(t: TlsFlow, e: IotEvent): void {
    const cert = t.cert ?? { subject: '', issuer: '', sha256: '', notBefore: 0, notAfter: 0, selfSigned: false };
    const k = JSON.stringify([t.server, t.sni, cert.sha256]);
    let ep = endpoints.get(k);
    if (!ep) {
      if (endpoints.size >= maxKeys) {
        dropped.tls++;
        return;
      }
      ep = {
        row: {
          sensor: sensorOf(e), server: t.server, sni: t.sni, version: t.version, cipher: t.cipher, clientAuth: t.clientAuth,
          ...cert, firstTs: e.ts, lastTs: e.ts,
        },
        dirty: true,
      };
      endpoints.set(k, ep);
    }
    const r = ep.row;
    r.version = t.version;
    r.cipher = t.cipher;
    r.clientAuth = r.clientAuth || t.clientAuth;
    if (e.ts > r.lastTs) r.lastTs = e.ts;
    if (e.ts < r.firstTs) r.firstTs = e.ts;
    ep.dirty = true;
    t.emitted = true;
    t.endpointKey = k;
  }

  function onTls(e: IotEvent, type: string): void {
    const t = tlsFlow(e);
    if (!t) return;
    if (type === 'tls.client_hello' || type === 'dtls.client_hello') {
      t.sni = field(e, 'sni', isString) ?? '';
      // MQTT over TLS: the session is recorded as TLS even though its packets stay encrypted.
      const alpn = field(e, 'alpn', isStringArray) ?? [];
      const port = e.flow.dir === 'to_server' ? e.flow.dport : e.flow.sport;
      if (type === 'tls.client_hello' && (alpn.includes('mqtt') || port === 8883)) session(e, true);
      return;
    }
    if (type === 'tls.server_hello' || type === 'dtls.server_hello') {
      t.server = endpointText(e.flow.src, e.flow.sport);
      t.helloSeen = true;
      t.version = field(e, 'version', isString) ?? '';
      const suite = field(e, 'cipherSuite', isNumber);
      t.cipher = field(e, 'cipherSuiteName', isString) ?? (suite === undefined ? '' : `0x${suite.toString(16).padStart(4, '0')}`);
      if (field(e, 'clientCertificateRequested', isBool) === true) t.clientAuth = true;
      t.certificatesVisible = field(e, 'certificatesVisible', isBool) ?? false;
      // TLS 1.3 hides certificates: the endpoint is all there is to record.
      if (!t.certificatesVisible) emitEndpoint(t, e);
      return;
    }
    if (type === 'tls.certificate') {
      const sender = field(e, 'sender', isString);
      if (sender === 'client') {
        t.clientAuth = true;
        if (t.emitted) emitEndpoint(t, e);
        return;
      }
      if (field(e, 'position', isNumber) !== 0) return;
      t.cert = {
        subject: field(e, 'subject', isString) ?? '',
        issuer: field(e, 'issuer', isString) ?? '',
        sha256: field(e, 'sha256', isString) ?? '',
        notBefore: Math.max(0, Math.trunc(field(e, 'notBefore', isNumber) ?? 0)),
        notAfter: Math.max(0, Math.trunc(field(e, 'notAfter', isNumber) ?? 0)),
        selfSigned: field(e, 'selfSigned', isBool) ?? false,
      };
      emitEndpoint(t, e);
    }
  }

  function onFlowEnd(e: Extract<IotEvent, { type: 'flow.end' }>): void {
    const k = flowKey(e);
    const s = sessions.get(k);
    if (s) {
      s.ended = true;
      s.dirty = true;
      s.row.lastTs = Math.max(s.row.lastTs, e.ts);
      // Transport bytes when the flow table counted them; MQTT packet bytes otherwise.
      s.row.bytes = Math.max(s.mqttBytes, e.bytesToServer + e.bytesToClient);
    }
    const t = tlsFlows.get(k);
    if (t) {
      if (t.helloSeen && !t.emitted) emitEndpoint(t, e);
      else if (t.emitted && t.endpointKey) {
        const ep = endpoints.get(t.endpointKey);
        if (ep && e.ts > ep.row.lastTs) {
          ep.row.lastTs = e.ts;
          ep.dirty = true;
        }
      }
      tlsFlows.delete(k);
    }
  }

  return {
    onEvent(e: IotEvent): void {
      if (e.ts > newest) newest = e.ts;
      const type = e.type as string;
      if (type.startsWith('mqtt.')) onMqtt(e as Extract<IotEvent, { type: `mqtt.${string}` }>);
      else if (type === 'coap.message') onCoap(e as Extract<IotEvent, { type: 'coap.message' }>);
      else if (type === 'flow.end') onFlowEnd(e as Extract<IotEvent, { type: 'flow.end' }>);
      else if (type.startsWith('tls.') || type.startsWith('dtls.')) onTls(e, type);
    },

    flush(): RecorderRows {
      const out: RecorderRows = { sessions: [], topics: [], coap: [], tls: [] };
      for (const [k, p] of pending) {
        if (p.ts + coapTimeoutUs >= newest) break; // insertion order is time order
        pending.delete(k);
        unanswered(p);
      }
      for (const [k, s] of sessions) {
        const idle = s.row.lastTs + idleUs < newest;
        if (s.dirty) out.sessions.push({ ...s.row });
        s.dirty = false;
        if (s.ended || idle) sessions.delete(k);
      }
      for (const [k, m] of minutes) {
        if (m.dirty) out.topics.push({ ...m.row });
        m.dirty = false;
        if (m.row.minute + MINUTE_US + graceUs < newest) minutes.delete(k);
      }
      for (const [k, c] of coap) {
        if (c.dirty) {
          c.row.rttUsP50 = median(c.rtts);
          out.coap.push({ ...c.row });
        }
        c.dirty = false;
        if (c.row.minute + MINUTE_US + graceUs + coapTimeoutUs < newest) coap.delete(k);
      }
      for (const [k, ep] of endpoints) {
        if (ep.dirty) out.tls.push({ ...ep.row });
        ep.dirty = false;
        // Endpoints stay (for firstTs) until idle like sessions; they are few.
        if (ep.row.lastTs + idleUs < newest) endpoints.delete(k);
      }
      return out;
    },

    stats(): RecorderStats {
      return {
        live: { sessions: sessions.size, topics: minutes.size, coap: coap.size, tls: endpoints.size },
        dropped: { ...dropped },
        lateEvents,
      };
    },
  };
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = xs.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? Math.round(s[mid]) : Math.round((s[mid - 1] + s[mid]) / 2);
}
