// Each forwarder against a real receiver: a socket this test opens (UDP, TCP, TLS with a
// throwaway certificate made by openssl), parsing what arrives.
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { createEcsSink, createSyslogSink, type AlertForwarder } from '../../src/siem/sink';
import { parseTarget } from '../../src/siem/transport';
import { makeAlert } from '../api/fixtures';
import { makeCertificate, parseCef, parse5424, tcpReceiver, tlsReceiver, udpReceiver, type Receiver } from './receivers';

const open: (AlertForwarder | Receiver)[] = [];
const track = <T extends AlertForwarder | Receiver>(x: T): T => {
  open.push(x);
  return x;
};
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

/** Checks one received line: RFC 5424 structure and the CEF fields of the alert. */
function checkSyslogCef(text: string, i: number): void {
  const a = makeAlert(i);
  const m = parse5424(text);
  expect(m.version).toBe(1);
  expect(m.facility).toBe(16);
  expect(m.severity).toBe({ info: 6, low: 5, medium: 4, high: 3, critical: 2 }[a.severity]);
  expect(m.timestamp).toBe(new Date(a.lastTs / 1000).toISOString().replace('Z', '000Z'));
  expect(m.hostname).toBe('probe-1');
  expect(m.appName).toBe('iotwatch');
  expect(m.procId).toBe(String(process.pid));
  expect(m.msgId).toBe('alert');
  expect(m.sd.origin).toEqual({ software: 'iotwatch', swVersion: '0.1.0' });
  expect(Number(m.sd.meta.sequenceId)).toBeGreaterThan(0);
  const c = parseCef(m.msg);
  expect(c).toMatchObject({ vendor: 'iotwatch', signatureId: a.detector, name: a.summary });
  expect(c.ext.externalId).toBe(a.id);
  expect(c.ext.deviceExternalId).toBe('edge-1');
}

const alerts = (n: number, from = 0) => Array.from({ length: n }, (_, i) => makeAlert(from + i));

describe('syslog over UDP', () => {
  it('sends one RFC 5424 + CEF message per datagram', async () => {
    const rx = track(await udpReceiver());
    const sink = track(createSyslogSink({ url: `udp://127.0.0.1:${rx.port}`, hostname: 'probe-1', sensor: 'edge-1' }));
    for (const a of alerts(20)) sink.send(a);
    expect(await sink.flush()).toBe(true);
    await rx.waitFor(20);
    rx.messages.forEach((m) => checkSyslogCef(m, Number(parseCef(parse5424(m).msg).ext.cs1.replace('client_id:sensor-', ''))));
    expect(rx.messages.map((m) => Number(parse5424(m).sd.meta.sequenceId)).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(sink.stats()).toMatchObject({ sent: 20, dropped: 0, errors: 0 });
  });

  it('cuts datagrams to 2048 bytes by default, keeping valid UTF-8, and counts it', async () => {
    const rx = track(await udpReceiver());
    const sink = track(createSyslogSink({ url: `udp://127.0.0.1:${rx.port}`, hostname: 'probe-1' }));
    sink.send(makeAlert(1, { recommendation: 'é'.repeat(3000) }));
    await rx.waitFor(1);
    expect(Buffer.byteLength(rx.messages[0])).toBeLessThanOrEqual(2048);
    expect(rx.messages[0]).not.toContain('\ufffd');
    expect(sink.stats().truncated).toBe(1);
  });
});

describe('syslog over TCP (octet counting, RFC 6587)', () => {
  it('delivers every message, in order, framed', async () => {
    const rx = track(await tcpReceiver());
    const sink = track(createSyslogSink({ url: `tcp://127.0.0.1:${rx.port}`, hostname: 'probe-1', sensor: 'edge-1' }));
    // Summaries with line breaks: octet counting needs no delimiter, so nothing may split a message.
    for (const a of alerts(200)) sink.send({ ...a, summary: `${a.summary}\nsecond line` });
    expect(await sink.flush()).toBe(true);
    await rx.waitFor(200);
    expect(rx.errors).toEqual([]);
    rx.messages.forEach((m, i) => {
      const p = parse5424(m);
      expect(p).toMatchObject({ facility: 16, hostname: 'probe-1', appName: 'iotwatch', msgId: 'alert', sd: { meta: { sequenceId: String(i + 1) } } });
      const c = parseCef(p.msg);
      expect(c.ext.externalId).toBe(makeAlert(i).id);
      expect(c.ext.msg).toBe(`${makeAlert(i).summary}\nsecond line`);
    });
    sink.send(makeAlert(0));
    await rx.waitFor(201);
    checkSyslogCef(rx.messages[200], 0);
    expect(rx.connections).toBe(1);
  });

  it('reconnects after the collector drops the connection, and after it comes back on the same port', async () => {
    const rx = track(await tcpReceiver());
    const sink = track(createSyslogSink({ url: `tcp://127.0.0.1:${rx.port}`, hostname: 'probe-1', reconnectMinMs: 20, reconnectMaxMs: 100 }));
    for (const a of alerts(5)) sink.send(a);
    await rx.waitFor(5);
    rx.kick();
    await new Promise((r) => setTimeout(r, 50));
    for (const a of alerts(5, 5)) sink.send(a);
    await rx.waitFor(10);
    expect(rx.connections).toBe(2);
    expect(sink.stats().reconnects).toBe(1);
    // The collector goes away entirely, then returns on the same port.
    const port = rx.port;
    await rx.close();
    open.splice(open.indexOf(rx), 1);
    await new Promise((r) => setTimeout(r, 50));
    for (const a of alerts(3, 10)) sink.send(a);
    await new Promise((r) => setTimeout(r, 100));
    const rx2 = track(await tcpReceiver('octet-counting', port));
    await rx2.waitFor(3, 5000);
    expect(rx2.messages.map((m) => parseCef(parse5424(m).msg).ext.externalId)).toEqual(alerts(3, 10).map((a) => a.id));
    expect(sink.stats().connected).toBe(true);
  });

  it('keeps a bounded queue while the collector is down, dropping the oldest and counting drops', async () => {
    // A port with nothing listening: take one and close it.
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const sink = track(createSyslogSink({ url: `tcp://127.0.0.1:${port}`, hostname: 'probe-1', maxQueue: 10, reconnectMinMs: 20, reconnectMaxMs: 40 }));
    for (const a of alerts(25)) sink.send(a);
    expect(sink.stats()).toMatchObject({ queued: 10, dropped: 15, connected: false });
    await new Promise((r) => setTimeout(r, 100));
    expect(sink.stats().errors).toBeGreaterThan(0);
    const rx = track(await tcpReceiver('octet-counting', port));
    await rx.waitFor(10, 5000);
    expect(rx.messages.map((m) => parseCef(parse5424(m).msg).ext.externalId)).toEqual(alerts(10, 15).map((a) => a.id));
    expect(sink.stats()).toMatchObject({ queued: 0, dropped: 15, sent: 10 });
  });

  it('counts messages sent after close as dropped', async () => {
    const rx = track(await tcpReceiver());
    const sink = createSyslogSink({ url: `tcp://127.0.0.1:${rx.port}`, hostname: 'probe-1' });
    sink.send(makeAlert(1));
    await sink.close();
    sink.send(makeAlert(2));
    expect(sink.stats().dropped).toBe(1);
    await rx.waitFor(1);
  });
});

describe('syslog over TLS (RFC 5425)', () => {
  const pki = makeCertificate();

  it('delivers over a verified TLS connection', async () => {
    const rx = track(await tlsReceiver(pki));
    const sink = track(createSyslogSink({ url: `tls://localhost:${rx.port}`, ca: pki.cert, hostname: 'probe-1', sensor: 'edge-1' }));
    for (const a of alerts(30)) sink.send(a);
    expect(await sink.flush()).toBe(true);
    await rx.waitFor(30);
    rx.messages.forEach((m, i) => checkSyslogCef(m, i));
    expect(sink.stats()).toMatchObject({ sent: 30, errors: 0, connected: true });
  });

  it('sends a client certificate when the collector asks for one', async () => {
    const client = makeCertificate('probe-1');
    const rx = track(await tlsReceiver(pki, 'octet-counting', { requestCert: true, ca: client.cert }));
    const sink = track(createSyslogSink({ url: `tls://127.0.0.1:${rx.port}`, ca: pki.cert, cert: client.cert, key: client.key, hostname: 'probe-1', sensor: 'edge-1' }));
    sink.send(makeAlert(0));
    await rx.waitFor(1);
    checkSyslogCef(rx.messages[0], 0);
  });

  it('refuses a collector whose certificate it cannot verify, and sends nothing', async () => {
    const other = makeCertificate();
    const rx = track(await tlsReceiver(other));
    const sink = track(createSyslogSink({ url: `tls://localhost:${rx.port}`, ca: pki.cert, hostname: 'probe-1', reconnectMinMs: 20 }));
    sink.send(makeAlert(0));
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.messages).toEqual([]);
    expect(sink.stats()).toMatchObject({ connected: false, sent: 0, queued: 1 });
    expect(sink.stats().lastError).toMatch(/self.signed|certificate/i);
  });
});

describe('ECS JSON lines', () => {
  it('over TCP: one parseable ECS document per line', async () => {
    const rx = track(await tcpReceiver('newline'));
    const sink = track(createEcsSink({ url: `tcp://127.0.0.1:${rx.port}`, sensor: 'edge-1', hostname: 'probe-1' }));
    for (const a of alerts(25)) sink.send({ ...a, summary: `${a.summary}\nwith a break` });
    await rx.waitFor(25);
    rx.messages.forEach((line, i) => {
      const d = JSON.parse(line);
      expect(d).toMatchObject({ event: { kind: 'alert', id: makeAlert(i).id }, rule: { id: makeAlert(i).detector }, observer: { name: 'edge-1', hostname: 'probe-1' } });
      expect(d.message).toBe(`${makeAlert(i).summary}\nwith a break`);
    });
  });

  it('over TLS', async () => {
    const pki = makeCertificate();
    const rx = track(await tlsReceiver(pki, 'newline'));
    const sink = track(createEcsSink({ url: `tls://localhost:${rx.port}`, ca: pki.cert }));
    sink.send(makeAlert(3));
    await rx.waitFor(1);
    expect(JSON.parse(rx.messages[0]).source).toEqual({ ip: '10.0.0.3', port: 40003 });
  });

  it('as the MSG of a syslog message', async () => {
    const rx = track(await udpReceiver());
    const sink = track(createSyslogSink({ url: `udp://127.0.0.1:${rx.port}`, format: 'ecs', hostname: 'probe-1', maxMessageBytes: 8192 }));
    sink.send(makeAlert(2));
    await rx.waitFor(1);
    expect(JSON.parse(parse5424(rx.messages[0]).msg).event.id).toBe(makeAlert(2).id);
  });
});

describe('targets', () => {
  it('parses URLs with default ports, and refuses others', () => {
    expect(parseTarget('udp://siem.example')).toEqual({ protocol: 'udp', host: 'siem.example', port: 514 });
    expect(parseTarget('tls://[2001:db8::1]')).toEqual({ protocol: 'tls', host: '2001:db8::1', port: 6514 });
    expect(parseTarget('tcp://10.0.0.1:1514')).toEqual({ protocol: 'tcp', host: '10.0.0.1', port: 1514 });
    for (const bad of ['http://x', 'x', 'udp://', '']) expect(() => parseTarget(bad)).toThrow(/syslog url/);
  });

  it('stamps messages with the wall clock when asked', async () => {
    const rx = track(await udpReceiver());
    const sink = track(createSyslogSink({ url: `udp://127.0.0.1:${rx.port}`, timestamp: 'now', now: () => Date.UTC(2030, 0, 1), hostname: 'h' }));
    sink.send(makeAlert(1));
    await rx.waitFor(1);
    expect(parse5424(rx.messages[0]).timestamp).toBe('2030-01-01T00:00:00.000000Z');
  });
});
