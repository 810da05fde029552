// Alert forwarders: RFC 5424 syslog with CEF (or ECS JSON) as the MSG, and ECS JSON lines
// for collectors with a json_lines input. Both never throw at the caller: send() queues.
import { hostname as osHostname } from 'node:os';
import type { Alert } from '../alerts/types';
import type { StoredAlert } from '../store/types';
import { alertToCef } from './cef';
import { alertToEcs } from './ecs';
import { DEFAULT_FACILITY, SYSLOG_SEVERITY, formatSyslog, truncateUtf8 } from './syslog';
import { createTransport, parseTarget, type Transport, type TransportOptions, type TransportStats } from './transport';

export interface SinkStats extends TransportStats {
  /** Messages cut to maxMessageBytes. */
  truncated: number;
}

export interface AlertForwarder {
  /** Queues one alert; never throws, never waits. */
  send(alert: Alert | StoredAlert): void;
  flush(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
  stats(): SinkStats;
}

export interface SyslogSinkOptions extends Omit<TransportOptions, 'framing'> {
  /** MSG payload: CEF (default) or an ECS JSON document. */
  readonly format?: 'cef' | 'ecs';
  /** 0..23, default 16 (local0). */
  readonly facility?: number;
  readonly hostname?: string;
  readonly appName?: string;
  /** iotwatch version, in the CEF header and the origin SD element. */
  readonly version?: string;
  /** Sensor id for alerts that are not StoredAlerts. */
  readonly sensor?: string;
  /**
   * Syslog TIMESTAMP: the alert's lastTs (default: the same capture gives the same messages)
   * or the wall clock at sending.
   */
  readonly timestamp?: 'alert' | 'now';
  /** Default 2048 for UDP (RFC 5426 section 3.2), 65536 for TCP and TLS. */
  readonly maxMessageBytes?: number;
  /** Wall clock in ms (tests). */
  readonly now?: () => number;
}

export function createSyslogSink(opts: SyslogSinkOptions): AlertForwarder {
  const target = parseTarget(opts.url);
  const transport: Transport = createTransport({ ...opts, framing: 'octet-counting' });
  const maxBytes = opts.maxMessageBytes ?? (target.protocol === 'udp' ? 2048 : 65_536);
  const host = opts.hostname ?? osHostname();
  const version = opts.version ?? '0.1.0';
  const now = opts.now ?? Date.now;
  let seq = 0;
  let truncated = 0;
  return {
    send(alert) {
      seq = seq >= 2_147_483_647 ? 1 : seq + 1;
      const msg = opts.format === 'ecs'
        ? JSON.stringify(alertToEcs(alert, { version, sensor: opts.sensor, hostname: host }))
        : alertToCef(alert, { version, sensor: opts.sensor });
      const line = formatSyslog({
        facility: opts.facility ?? DEFAULT_FACILITY,
        severity: SYSLOG_SEVERITY[alert.severity],
        timestampUs: opts.timestamp === 'now' ? now() * 1000 : alert.lastTs,
        hostname: host,
        appName: opts.appName ?? 'iotwatch',
        procId: String(process.pid),
        msgId: 'alert',
        sequenceId: seq,
        software: { name: 'iotwatch', version },
      }, msg);
      const t = truncateUtf8(line, maxBytes);
      if (t.truncated) truncated++;
      transport.send(t.bytes);
    },
    flush: (ms) => transport.flush(ms),
    close: () => transport.close(),
    stats: () => ({ ...transport.stats(), truncated }),
  };
}

export interface EcsSinkOptions extends Omit<TransportOptions, 'framing'> {
  readonly version?: string;
  readonly sensor?: string;
  readonly hostname?: string;
}

/** ECS documents as JSON lines over TCP or TLS (or one per datagram over UDP). */
export function createEcsSink(opts: EcsSinkOptions): AlertForwarder {
  const transport = createTransport({ ...opts, framing: 'newline' });
  const host = opts.hostname ?? osHostname();
  return {
    send(alert) {
      transport.send(Buffer.from(JSON.stringify(alertToEcs(alert, { version: opts.version, sensor: opts.sensor, hostname: host }))));
    },
    flush: (ms) => transport.flush(ms),
    close: () => transport.close(),
    stats: () => ({ ...transport.stats(), truncated: 0 }),
  };
}
