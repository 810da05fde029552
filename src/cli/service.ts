// iotwatch serve (the REST API over a store) and iotwatch sensor (the whole service: live
// capture, detectors, store, API). The service layer is the one place that runs on the wall
// clock: batching timers and the API's own clocks. Detection still runs on capture time.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../alerts/config';
import { createEngine, type Engine } from '../alerts/engine';
import { loadTokens, type TokenConfig } from '../api/auth';
import { build } from '../api/app';
import type { CaptureHealth, MetricsSnapshot } from '../api/sources';
import { startLiveCapture, type LiveCapture } from '../capture/live';
import type { IotEvent } from '../events/types';
import { Pipeline } from '../pipeline';
import type { AlertStore } from '../store/types';
import { iotwatchHome, loadSecret } from '../util/secret';
import { CAPTURE_OPTIONS, CliError, pipelineOptions, sensorId } from './common';
import { openStoreFromOptions, STORE_OPTIONS, StoreFeeder } from './store-options';
import { createSyslogSink, type AlertForwarder } from '../siem';

export const DEFAULT_LISTEN = '127.0.0.1:8087';

export const SERVE_HELP = `usage: iotwatch serve [--clickhouse URL] [--store DIR] [--listen HOST:PORT] [--tokens FILE]

Serves the REST API (/api/v1, OpenAPI at /api/v1/openapi.json, /metrics) and the web console (/)
over the alert store.

options:
  --clickhouse URL     ClickHouse HTTP URL (default: $IOTWATCH_CLICKHOUSE_URL; none: the embedded store)
  --store DIR          embedded store directory (default: $IOTWATCH_HOME/store)
  --listen HOST:PORT   default ${DEFAULT_LISTEN} ($IOTWATCH_LISTEN); beyond loopback a token is mandatory
  --tokens FILE        hashed API tokens with scopes (JSON); $IOTWATCH_API_TOKEN sets one read-write token
`;

export const SENSOR_HELP = `usage: iotwatch sensor --interface IFACE [options]

Runs the whole service on a SPAN port: live capture (libpcap through the optional package 'cap'),
decoding, every detector, the store and the API. SIGINT or SIGTERM stops it cleanly: pending
messages are decoded, alerts and baselines written, the store flushed.

options:
  --interface IFACE    interface to capture on (required)
  --bpf FILTER         BPF capture filter (default: MQTT, MQTT over TLS/WebSocket, CoAP and CoAPS ports
                       are not assumed: everything is captured and classified by content)
  --baseline FILE      start from this baseline (default: $IOTWATCH_HOME/baseline.json when present,
                       which the sensor saves every 5 minutes and when it stops)
  --config FILE        detector tunables (JSON)
  --no-api             do not serve the API
  --syslog URL         forward every new alert to syslog (RFC 5424 + CEF): udp://, tcp:// or tls://HOST:PORT
  --syslog-ca FILE     CA certificate(s) for tls:// syslog
  (and --clickhouse, --store, --listen, --tokens as for serve; capture options as for decode)
`;

const SERVICE_OPTIONS = {
  ...STORE_OPTIONS,
  listen: { type: 'string' },
  tokens: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseListen(s: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError(`--listen: expected HOST:PORT, got ${JSON.stringify(s)}`, 2);
  }
  return { host: m[1], port };
}

function tokenConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): TokenConfig | undefined {
  const single = env.IOTWATCH_API_TOKEN || undefined;
  let entries;
  try {
    entries = file ? loadTokens(file) : undefined;
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  if (!single && !entries) return undefined;
  return { token: single, tokens: entries };
}

/** Resolves on the first SIGINT/SIGTERM. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(sig);
    };
    const onInt = (): void => on('SIGINT');
    const onTerm = (): void => on('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}

async function startApi(store: AlertStore, v: { listen?: string; tokens?: string }, metrics?: () => MetricsSnapshot, health?: () => CaptureHealth) {
  const { host, port } = parseListen(v.listen ?? process.env.IOTWATCH_LISTEN ?? DEFAULT_LISTEN);
  const app = build({ store, tokens: tokenConfig(v.tokens), listenHost: host, metrics, health, cursorSecret: loadSecret() });
  await app.listen({ host, port });
  const addr = app.server.address();
  const where = typeof addr === 'object' && addr ? `${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}` : `${host}:${port}`;
  process.stderr.write(`iotwatch: API listening on http://${where}/api/v1 (console at /)\n`);
  return app;
}

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...SERVICE_OPTIONS, 'sensor-id': { type: 'string' } } });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const store = await openStoreFromOptions(values, sensorId(values));
  const app = await startApi(store, values);
  const sig = await untilSignal();
  process.stderr.write(`iotwatch: ${sig}: stopping\n`);
  await app.close();
  await store.close();
  return 0;
}

export async function sensorCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...CAPTURE_OPTIONS,
      ...SERVICE_OPTIONS,
      interface: { type: 'string', short: 'i' },
      bpf: { type: 'string' },
      baseline: { type: 'string' },
      config: { type: 'string' },
      'no-api': { type: 'boolean' },
      syslog: { type: 'string' },
      'syslog-ca': { type: 'string' },
    },
  });
  if (values.help) {
    process.stdout.write(SENSOR_HELP);
    return 0;
  }
  if (!values.interface) throw new CliError('sensor: --interface is required (see iotwatch sensor --help)', 2);
  const sensor = sensorId(values);
  const baselinePath = values.baseline ?? join(iotwatchHome(), 'baseline.json');
  let baseline: unknown;
  if (existsSync(baselinePath)) {
    try {
      baseline = JSON.parse(readFileSync(baselinePath, 'utf8'));
    } catch (err) {
      throw new CliError(`baseline ${baselinePath}: ${(err as Error).message}`);
    }
  } else if (values.baseline) throw new CliError(`baseline ${baselinePath}: no such file`);
  let config: unknown;
  try {
    config = values.config ? loadConfig(values.config) : undefined;
  } catch (err) {
    throw new CliError((err as Error).message);
  }

  let syslog: AlertForwarder | null = null;
  if (values.syslog) {
    try {
      syslog = createSyslogSink({ url: values.syslog, ca: values['syslog-ca'] ? readFileSync(values['syslog-ca']) : undefined, sensor });
    } catch (err) {
      throw new CliError(`--syslog: ${(err as Error).message}`, 2);
    }
  }
  const store = await openStoreFromOptions(values, sensor);
  const feeder = new StoreFeeder(store, sensor);
  const alertsByDetector: Record<string, number> = {};
  let engine: Engine;
  try {
    engine = createEngine({
      mode: 'detect', config, baseline,
      onAlert: (a, kind) => {
        if (kind === 'new') {
          alertsByDetector[a.detector] = (alertsByDetector[a.detector] ?? 0) + 1;
          syslog?.send(a);
        }
        feeder.onAlert(a);
      },
    });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  let events = 0;
  let lastPacketWall = 0;
  const pipeline = new Pipeline({
    ...pipelineOptions(values),
    emit: (e: IotEvent) => {
      events++;
      engine.onEvent(e);
      feeder.onEvent(e);
    },
  });
  let capture: LiveCapture;
  try {
    capture = startLiveCapture({ iface: values.interface, bpf: values.bpf ?? '' }, (rec) => {
      lastPacketWall = Date.now();
      pipeline.packet(rec);
    });
  } catch (err) {
    await store.close();
    throw new CliError(`sensor: ${(err as Error).message}`);
  }
  process.stderr.write(`iotwatch: sensor ${sensor} capturing on ${values.interface}${values.bpf ? ` (${values.bpf})` : ''}\n`);

  const metrics = (): MetricsSnapshot => {
    const c = capture.stats();
    const f = pipeline.flows.stats();
    return {
      packets: c.packets, bytes: c.bytes,
      drops: { kernel: c.drops, flow_table_full: f.evictions },
      flowsActive: f.flowsActive, flowsTotal: f.flowsCreated, events, alertsByDetector,
    };
  };
  const health = (): CaptureHealth => {
    const c = capture.stats();
    return {
      ok: true, detail: `live ${values.interface}`, packets: c.packets, drops: c.drops,
      lastPacketAgeSeconds: lastPacketWall ? (Date.now() - lastPacketWall) / 1000 : null,
    };
  };
  const app = values['no-api'] ? null : await startApi(store, values, metrics, health);

  const saveBaseline = (): void => {
    const tmp = `${baselinePath}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(engine.exportBaseline()) + '\n');
    renameSync(tmp, baselinePath);
  };
  let flushing = Promise.resolve();
  const flushTimer = setInterval(() => {
    flushing = flushing.then(() => feeder.flush()).catch((err) => {
      process.stderr.write(`iotwatch: store: ${(err as Error).message}\n`);
    });
  }, 1000);
  const baselineTimer = setInterval(saveBaseline, 5 * 60 * 1000);

  const sig = await untilSignal();
  process.stderr.write(`iotwatch: ${sig}: stopping capture and flushing\n`);
  clearInterval(flushTimer);
  clearInterval(baselineTimer);
  capture.stop();
  pipeline.finish();
  engine.flush();
  await flushing;
  await feeder.flush();
  saveBaseline();
  await app?.close();
  await store.close();
  if (syslog) {
    await syslog.flush(5000);
    await syslog.close();
  }
  const c = capture.stats();
  process.stderr.write(`iotwatch: ${c.packets} packets, ${events} events, ${feeder.alertsWritten} alert writes; baseline saved to ${baselinePath}\n`);
  return 0;
}
