// Real receivers for the SIEM tests (UDP, TCP, TLS sockets opened by the test) and strict
// parsers for what arrives: RFC 5424 messages, octet-counted frames, CEF.
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';

export interface Syslog5424 {
  pri: number;
  facility: number;
  severity: number;
  version: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  sd: Record<string, Record<string, string>>;
  msg: string;
}

const HEADER = /^<(\d{1,3})>([1-9]\d{0,2}) (\S+) (\S+) (\S+) (\S+) (\S+) /;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

/** Parses one RFC 5424 message (section 6), checking field sizes and the SD grammar. */
export function parse5424(text: string): Syslog5424 {
  const m = HEADER.exec(text);
  if (!m) throw new Error(`not RFC 5424: ${text.slice(0, 80)}`);
  const pri = Number(m[1]);
  if (pri > 191) throw new Error('PRI out of range');
  const [, , version, timestamp, hostname, appName, procId, msgId] = m;
  if (timestamp !== '-' && !TIMESTAMP.test(timestamp)) throw new Error(`bad TIMESTAMP ${timestamp}`);
  if (hostname.length > 255 || appName.length > 48 || procId.length > 128 || msgId.length > 32) throw new Error('header field too long');
  for (const f of [hostname, appName, procId, msgId]) if (!/^[\x21-\x7e]+$/.test(f)) throw new Error(`non-PRINTUSASCII header field ${f}`);
  let rest = text.slice(m[0].length);
  const sd: Record<string, Record<string, string>> = {};
  if (rest.startsWith('-')) rest = rest.slice(1);
  else {
    while (rest.startsWith('[')) {
      const id = /^\[([^\s=\]"]{1,32})/.exec(rest);
      if (!id) throw new Error('bad SD-ID');
      rest = rest.slice(id[0].length);
      const params: Record<string, string> = {};
      for (;;) {
        if (rest.startsWith(']')) {
          rest = rest.slice(1);
          break;
        }
        const p = /^ ([^\s=\]"]{1,32})="/.exec(rest);
        if (!p) throw new Error(`bad SD-PARAM at ${rest.slice(0, 30)}`);
        rest = rest.slice(p[0].length);
        let v = '';
        for (;;) {
          const c = rest[0];
          if (c === undefined) throw new Error('unterminated PARAM-VALUE');
          if (c === '\\' && (rest[1] === '"' || rest[1] === '\\' || rest[1] === ']')) {
            v += rest[1];
            rest = rest.slice(2);
          } else if (c === '"') {
            rest = rest.slice(1);
            break;
          } else if (c === ']') {
            throw new Error('unescaped ] in PARAM-VALUE');
          } else {
            v += c;
            rest = rest.slice(1);
          }
        }
        params[p[1]] = v;
      }
      sd[id[1]] = params;
    }
  }
  if (rest !== '' && !rest.startsWith(' ')) throw new Error('no SP before MSG');
  return {
    pri, facility: pri >> 3, severity: pri & 7, version: Number(version), timestamp, hostname, appName, procId, msgId, sd,
    msg: rest.slice(1),
  };
}

export interface Cef {
  version: number;
  vendor: string;
  product: string;
  deviceVersion: string;
  signatureId: string;
  name: string;
  severity: number;
  ext: Record<string, string>;
}

/** Parses CEF:0 with the spec's escapes: \| and \\ in the header; \= \\ \n \r in values. */
export function parseCef(line: string): Cef {
  if (!line.startsWith('CEF:')) throw new Error('not CEF');
  const header: string[] = [];
  let cur = '';
  let i = 4;
  while (header.length < 7) {
    const c = line[i];
    if (c === undefined) throw new Error('CEF header cut short');
    if (c === '\\' && (line[i + 1] === '|' || line[i + 1] === '\\')) {
      cur += line[i + 1];
      i += 2;
    } else if (c === '|') {
      header.push(cur);
      cur = '';
      i++;
    } else {
      if (c === '\n' || c === '\r') throw new Error('line break in CEF header');
      cur += c;
      i++;
    }
  }
  const extText = line.slice(i);
  // Keys start after a space (or at the start) and end at an unescaped '='.
  const ext: Record<string, string> = {};
  const marks: { key: string; start: number; valueStart: number }[] = [];
  for (let j = 0; j < extText.length; j++) {
    if (extText[j] === '\\') {
      j++;
      continue;
    }
    if (extText[j] === '=') {
      const before = extText.slice(0, j);
      const km = /(?:^| )([A-Za-z0-9_]+)$/.exec(before);
      if (!km) throw new Error(`unescaped = inside a value at ${j}`);
      marks.push({ key: km[1], start: j - km[1].length, valueStart: j + 1 });
    }
  }
  marks.forEach((mk, k) => {
    const end = k + 1 < marks.length ? marks[k + 1].start - 1 : extText.length;
    const raw = extText.slice(mk.valueStart, end);
    ext[mk.key] = raw.replace(/\\(.)/g, (_, ch: string) => (ch === 'n' ? '\n' : ch === 'r' ? '\r' : ch));
  });
  return {
    version: Number(header[0]), vendor: header[1], product: header[2], deviceVersion: header[3], signatureId: header[4],
    name: header[5], severity: Number(header[6]), ext,
  };
}

/** Splits an octet-counted stream (RFC 6587 section 3.4.1) into messages, strictly. */
export class OctetCountingParser {
  private buf = Buffer.alloc(0);
  readonly messages: string[] = [];

  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const sp = this.buf.indexOf(0x20);
      if (sp < 0) return;
      const lenText = this.buf.subarray(0, sp).toString('ascii');
      if (!/^[1-9]\d{0,8}$/.test(lenText)) throw new Error(`bad MSG-LEN ${JSON.stringify(lenText)}`);
      const len = Number(lenText);
      if (this.buf.length < sp + 1 + len) return;
      this.messages.push(this.buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
      this.buf = this.buf.subarray(sp + 1 + len);
    }
  }
}

export interface Receiver {
  readonly port: number;
  readonly messages: string[];
  /** Connections accepted (stream receivers). */
  connections: number;
  errors: Error[];
  waitFor(n: number, ms?: number): Promise<void>;
  /** Drops every open connection (the collector restarting). */
  kick(): void;
  close(): Promise<void>;
}

async function waitUntil(pred: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function udpReceiver(): Promise<Receiver> {
  const s = dgram.createSocket('udp4');
  const messages: string[] = [];
  s.on('message', (b) => messages.push(b.toString('utf8')));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return {
    port: s.address().port,
    messages,
    connections: 0,
    errors: [],
    waitFor: (n, ms = 5000) => waitUntil(() => messages.length >= n, ms, () => `${messages.length}/${n} datagrams`),
    kick() {},
    close: () => new Promise<void>((r) => s.close(() => r())),
  };
}

type Framer = 'octet-counting' | 'newline';

function streamReceiver(server: net.Server, framer: Framer, port: number): Receiver {
  const messages: string[] = [];
  const sockets = new Set<net.Socket>();
  const rec: Receiver = {
    port,
    messages,
    connections: 0,
    errors: [],
    waitFor: (n, ms = 5000) => waitUntil(() => messages.length >= n, ms, () => `${messages.length}/${n} messages`),
    kick() {
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
  const onSocket = (sock: net.Socket): void => {
    rec.connections++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', (e) => rec.errors.push(e));
    if (framer === 'octet-counting') {
      const p = new OctetCountingParser();
      sock.on('data', (c: Buffer) => {
        try {
          p.push(c);
        } catch (e) {
          rec.errors.push(e as Error);
        }
        messages.push(...p.messages.splice(0));
      });
    } else {
      let buf = '';
      sock.setEncoding('utf8');
      sock.on('data', (c: string) => {
        buf += c;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          messages.push(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    }
  };
  server.on(server instanceof tls.Server ? 'secureConnection' : 'connection', onSocket);
  server.on('tlsClientError', (e: Error) => rec.errors.push(e));
  return rec;
}

export async function tcpReceiver(framer: Framer = 'octet-counting', port = 0): Promise<Receiver> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return streamReceiver(server, framer, (server.address() as net.AddressInfo).port);
}

export interface Pki {
  readonly cert: string;
  readonly key: string;
}

/** A throwaway self-signed certificate for localhost/127.0.0.1, made with openssl. */
export function makeCertificate(cn = 'localhost'): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'iotwatch-pki-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn},IP:127.0.0.1`,
  ], { stdio: 'ignore' });
  const pki = { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
  rmSync(dir, { recursive: true, force: true });
  return pki;
}

export async function tlsReceiver(pki: Pki, framer: Framer = 'octet-counting', opts: { requestCert?: boolean; ca?: string } = {}): Promise<Receiver> {
  const server = tls.createServer({ cert: pki.cert, key: pki.key, requestCert: opts.requestCert, rejectUnauthorized: !!opts.requestCert, ca: opts.ca });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return streamReceiver(server, framer, (server.address() as net.AddressInfo).port);
}
