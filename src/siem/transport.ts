// Delivery of framed messages to a collector over UDP, TCP or TLS, with a bounded queue and
// reconnection. Forwarding is best effort by design: when the collector is away the queue
// keeps the newest maxQueue messages and counts every drop; bytes handed to a TCP socket that
// then dies may be lost. The at-least-once path for a SIEM is the API's feed, not syslog.
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { octetCountingFrame } from './syslog';

export type Framing = 'octet-counting' | 'newline';

export interface TransportOptions {
  /** udp://host:port, tcp://host:port or tls://host:port (default ports 514, 514, 6514). */
  readonly url: string;
  /** TLS: trusted CA certificates (PEM); default the system store. The server is always verified. */
  readonly ca?: string | Buffer | (string | Buffer)[];
  /** TLS client certificate and key (PEM) for collectors that authenticate senders (RFC 5425 section 5). */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** TLS server name to verify, default the URL's host. */
  readonly servername?: string;
  /** Messages held while disconnected or congested (default 10,000). */
  readonly maxQueue?: number;
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  readonly connectTimeoutMs?: number;
  /** Stream framing; UDP sends one message per datagram. */
  readonly framing?: Framing;
}

export interface TransportStats {
  /** Messages handed to the socket. */
  sent: number;
  /** Messages dropped: queue full, or sent after close. */
  dropped: number;
  /** Socket, TLS or send errors. */
  errors: number;
  /** Connections made after the first. */
  reconnects: number;
  queued: number;
  connected: boolean;
  lastError: string | null;
}

export interface Transport {
  send(msg: Buffer): void;
  /** Resolves true once everything queued has been written, false on timeout. */
  flush(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
  stats(): TransportStats;
}

export interface Target {
  readonly protocol: 'udp' | 'tcp' | 'tls';
  readonly host: string;
  readonly port: number;
}

export function parseTarget(url: string): Target {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`syslog url ${JSON.stringify(url)}: expected udp://host:port, tcp://host:port or tls://host:port`);
  }
  const protocol = u.protocol.replace(/:$/, '');
  if (protocol !== 'udp' && protocol !== 'tcp' && protocol !== 'tls') {
    throw new Error(`syslog url ${JSON.stringify(url)}: scheme must be udp, tcp or tls`);
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new Error(`syslog url ${JSON.stringify(url)}: no host`);
  const port = u.port ? Number(u.port) : protocol === 'tls' ? 6514 : 514;
  return { protocol, host, port };
}

const DEFAULTS = { maxQueue: 10_000, reconnectMinMs: 250, reconnectMaxMs: 30_000, connectTimeoutMs: 10_000 };

function frame(msg: Buffer, framing: Framing): Buffer {
  return framing === 'newline' ? Buffer.concat([msg, Buffer.from('\n')]) : octetCountingFrame(msg);
}

export function createTransport(opts: TransportOptions): Transport {
  const target = parseTarget(opts.url);
  return target.protocol === 'udp' ? udpTransport(target, opts) : streamTransport(target, opts);
}

function newStats(): TransportStats {
  return { sent: 0, dropped: 0, errors: 0, reconnects: 0, queued: 0, connected: false, lastError: null };
}

function udpTransport(target: Target, opts: TransportOptions): Transport {
  const maxQueue = opts.maxQueue ?? DEFAULTS.maxQueue;
  const st = newStats();
  const socket = dgram.createSocket(net.isIP(target.host) === 6 ? 'udp6' : 'udp4');
  socket.unref();
  socket.on('error', (err) => {
    st.errors++;
    st.lastError = err.message;
  });
  st.connected = true;
  let inflight = 0;
  let closed = false;
  let idle: (() => void)[] = [];
  return {
    send(msg) {
      if (closed || inflight >= maxQueue) {
        st.dropped++;
        return;
      }
      inflight++;
      socket.send(msg, target.port, target.host, (err) => {
        inflight--;
        if (err) {
          st.errors++;
          st.lastError = err.message;
        } else st.sent++;
        if (inflight === 0) for (const f of idle.splice(0)) f();
      });
    },
    async flush(timeoutMs = 5000) {
      if (inflight === 0) return true;
      return new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), timeoutMs);
        idle.push(() => {
          clearTimeout(t);
          resolve(true);
        });
      });
    },
    async close() {
      if (closed) return;
      await this.flush(2000);
      closed = true;
      st.connected = false;
      idle = [];
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
    stats: () => ({ ...st, queued: inflight }),
  };
}

function streamTransport(target: Target, opts: TransportOptions): Transport {
  const maxQueue = opts.maxQueue ?? DEFAULTS.maxQueue;
  const minDelay = opts.reconnectMinMs ?? DEFAULTS.reconnectMinMs;
  const maxDelay = opts.reconnectMaxMs ?? DEFAULTS.reconnectMaxMs;
  const framing = opts.framing ?? 'octet-counting';
  const st = newStats();
  const queue: Buffer[] = [];
  let socket: net.Socket | null = null;
  let ready = false;
  let blocked = false;
  let timer: NodeJS.Timeout | null = null;
  let delay = minDelay;
  let connections = 0;
  let closed = false;
  let waiters: (() => void)[] = [];

  const settle = (): void => {
    if (queue.length === 0 && !blocked && (!socket || socket.writableLength === 0)) for (const f of waiters.splice(0)) f();
  };

  const pump = (): void => {
    if (!socket || !ready) {
      if (!socket && !timer && !closed) connect();
      return;
    }
    while (queue.length > 0 && !blocked) {
      const b = queue.shift()!;
      st.sent++;
      if (!socket.write(b)) blocked = true;
    }
    settle();
  };

  const scheduleReconnect = (): void => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = null;
      connect();
    }, delay);
    timer.unref();
    delay = Math.min(maxDelay, delay * 2);
  };

  function connect(): void {
    if (closed || socket) return;
    const onReady = (): void => {
      ready = true;
      st.connected = true;
      delay = minDelay;
      if (connections++ > 0) st.reconnects++;
      s.setTimeout(0);
      pump();
    };
    const s: net.Socket = target.protocol === 'tls'
      ? tls.connect({
        host: target.host,
        port: target.port,
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        servername: opts.servername ?? (net.isIP(target.host) ? undefined : target.host),
        rejectUnauthorized: true,
      }, onReady)
      : net.connect({ host: target.host, port: target.port }, onReady);
    socket = s;
    s.unref();
    s.setTimeout(opts.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs, () => s.destroy(new Error('connect timeout')));
    s.on('drain', () => {
      blocked = false;
      pump();
    });
    // Collectors do not talk back; anything read is discarded.
    s.on('data', () => {});
    s.on('error', (err) => {
      st.errors++;
      st.lastError = err.message;
    });
    s.on('close', () => {
      socket = null;
      ready = false;
      blocked = false;
      st.connected = false;
      if (closed) settle();
      else scheduleReconnect();
    });
  }

  return {
    send(msg) {
      if (closed) {
        st.dropped++;
        return;
      }
      if (queue.length >= maxQueue) {
        queue.shift(); // keep the newest
        st.dropped++;
      }
      queue.push(frame(msg, framing));
      pump();
    },
    async flush(timeoutMs = 5000) {
      pump();
      if (queue.length === 0 && !blocked && (!socket || socket.writableLength === 0)) return true;
      return new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), timeoutMs);
        t.unref();
        waiters.push(() => {
          clearTimeout(t);
          resolve(true);
        });
        // writableLength reaching 0 has no event of its own: poll gently while waiting.
        const poll = setInterval(() => {
          if (!waiters.length) clearInterval(poll);
          else settle();
        }, 10);
        poll.unref();
      });
    },
    async close() {
      if (closed) return;
      // Give a live or connecting socket a moment to drain; while the collector is known to be
      // down (waiting to reconnect) waiting would only delay shutdown.
      if (socket) await this.flush(2000);
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      st.dropped += queue.length;
      queue.length = 0;
      const s = socket;
      if (s) {
        await new Promise<void>((resolve) => {
          s.once('close', () => resolve());
          s.end();
          setTimeout(() => s.destroy(), 1000).unref();
        });
      }
      waiters = [];
    },
    stats: () => ({ ...st, queued: queue.length }),
  };
}
