// iotwatch analyze FILE... (alerts) and iotwatch learn FILE... -o baseline.json (baselines).
// One detector engine spans every input; each input gets its own pipeline (frame numbers
// and flows are per file, as tshark numbers them).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../alerts/config';
import { createEngine, type Engine } from '../alerts/engine';
import type { Alert, Severity } from '../alerts/types';
import { SEVERITIES } from '../alerts/types';
import { jsonReplacer } from '../events/serialize';
import type { IotEvent } from '../events/types';
import { Pipeline } from '../pipeline';
import { CAPTURE_OPTIONS, CliError, pipelineOptions } from './common';
import { formatSummary, type InputSummary } from './decode';
import { runInput } from './inputs';
import { LineWriter } from './output';
import { createRecorder } from '../store/records';
import { openStoreFromOptions, STORE_OPTIONS } from './store-options';
import { sensorId } from './common';

/** The SIEM formats and transports (node:net, node:tls, node:dgram), loaded only when asked for. */
function siem(): typeof import('../siem') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../siem') as typeof import('../siem');
}

export const ANALYZE_HELP = `usage: iotwatch analyze [options] FILE...

Decodes captures and runs every detector over them: prints a summary of the alerts (by
severity and detector, top entities) and the capture statistics.

options:
  --json                    one alert per line (JSON) on standard output instead of the summary
  --format FORMAT           with one alert per line: json (default with --json) or ecs (Elastic Common Schema)
  --syslog URL              also send every alert to a syslog collector (RFC 5424, CEF payload):
                            udp://HOST:PORT, tcp://HOST:PORT (octet counting) or tls://HOST:PORT
  --syslog-ca FILE          CA certificate(s) for tls:// (default: the system store)
  --baseline FILE           baselines learned from known-good traffic (iotwatch learn)
  --config FILE             detector tunables (JSON; see the README's detector catalogue)
  --clickhouse URL          write alerts and records to ClickHouse (default: $IOTWATCH_CLICKHOUSE_URL)
  --store DIR               embedded store directory (default: $IOTWATCH_HOME/store)
  --no-store                write nothing: print only
  (and the capture options of iotwatch decode: --sensor-id, --secret-file, --max-mqtt-message,
   --mqtt-port, --coap-port)
`;

export const LEARN_HELP = `usage: iotwatch learn [options] FILE... -o BASELINE.json

Learns per-entity baselines (clients, usernames, addresses, topics, CoAP resources, PSK
identities) from known-good captures, for iotwatch analyze --baseline.

options:
  -o, --output FILE         where to write the baseline (required)
  --config FILE             detector tunables
  (and the capture options of iotwatch decode)
`;

/**
 * Events per detector batch (see EngineOptions.batch): files are offline input, so detectors
 * may run over events in batches, each over a batch in turn, with the same alerts.
 */
const ENGINE_BATCH = 1024;

const ANALYZE_OPTIONS = {
  ...CAPTURE_OPTIONS,
  ...STORE_OPTIONS,
  'no-store': { type: 'boolean' },
  format: { type: 'string' },
  syslog: { type: 'string' },
  'syslog-ca': { type: 'string' },
  json: { type: 'boolean' },
  baseline: { type: 'string' },
  config: { type: 'string' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface RunResult {
  engine: Engine;
  inputs: InputSummary[];
  counts: Map<string, number>;
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`${what} ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${what} ${path}: not valid JSON (${(err as Error).message})`);
  }
}

function parseAnalyzeArgs(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, options: ANALYZE_OPTIONS });
}

type AnalyzeArgs = ReturnType<typeof parseAnalyzeArgs>;

async function runEngine({ values, positionals }: AnalyzeArgs, mode: 'detect' | 'learn', onEvent?: (e: IotEvent) => void): Promise<RunResult> {
  const cmd = mode === 'learn' ? 'learn' : 'analyze';
  if (positionals.length === 0) throw new CliError(`${cmd}: no capture file given (see iotwatch ${cmd} --help)`, 2);
  let config: unknown;
  try {
    config = values.config ? loadConfig(values.config) : undefined;
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const baseline = values.baseline ? readJson(values.baseline, 'baseline') : undefined;
  let engine: Engine;
  try {
    engine = createEngine({ mode, config, baseline, batch: ENGINE_BATCH });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const base = pipelineOptions(values);
  // The engine's own method (bound), not a closure around it: one call less per event.
  const emit = onEvent === undefined ? engine.onEvent.bind(engine) : (e: IotEvent): void => {
    engine.onEvent(e);
    onEvent(e);
  };
  const inputs: InputSummary[] = [];
  for (const file of positionals) {
    const pipeline = new Pipeline({ ...base, emit });
    const t0 = performance.now();
    const capture = await runInput(file, pipeline.packet);
    const stats = pipeline.finish();
    for (const w of capture.warnings) process.stderr.write(`iotwatch: warning: ${w}\n`);
    inputs.push({ file, capture, pipeline: stats, seconds: (performance.now() - t0) / 1000 });
  }
  engine.flush();
  return { engine, inputs, counts: engine.eventCounts() };
}

export async function analyzeCommand(argv: string[]): Promise<number> {
  const args = parseAnalyzeArgs(argv);
  const values = args.values;
  if (values.help) {
    process.stdout.write(ANALYZE_HELP);
    return 0;
  }
  const sensor = sensorId(values);
  const recorder = values['no-store'] ? null : createRecorder(sensor);
  const format = values.format ?? 'json';
  if (format !== 'json' && format !== 'ecs') throw new CliError(`--format: expected json or ecs, got ${JSON.stringify(format)}`, 2);
  const r = await runEngine(args, 'detect', recorder ? (e) => recorder.onEvent(e) : undefined);
  const out = new LineWriter();
  const alerts = r.engine.alerts();
  let stored = '';
  if (recorder) {
    // Same ids for the same capture: analysing it again replaces its alerts, never duplicates them.
    const store = await openStoreFromOptions(values, sensor);
    try {
      await store.putAlerts(alerts, sensor);
      await store.putRecords(recorder.flush());
    } finally {
      await store.close();
    }
    stored = `${alerts.length} alerts written to the ${store.kind} store`;
  }
  if (typeof values.syslog === 'string') await forwardToSyslog(alerts, values.syslog, values['syslog-ca'], sensor);
  if (values.json || values.format !== undefined) {
    const ecs = format === 'ecs' ? siem().alertToEcsLine : undefined;
    for (const a of alerts) out.line(ecs !== undefined ? ecs(a, { sensor }) : JSON.stringify(a, jsonReplacer));
  } else {
    out.line(formatAlertSummary(alerts));
    out.line('');
    out.line(formatSummary(r.counts, r.inputs));
  }
  if (stored) process.stderr.write(`iotwatch: ${stored}\n`);
  await out.end();
  return 0;
}

async function forwardToSyslog(alerts: readonly Alert[], url: string, caFile: string | undefined, sensor: string): Promise<void> {
  let sink;
  try {
    sink = siem().createSyslogSink({ url, ca: caFile ? readFileSync(caFile) : undefined, sensor });
  } catch (err) {
    throw new CliError(`--syslog: ${(err as Error).message}`, 2);
  }
  for (const a of alerts) sink.send(a);
  const delivered = await sink.flush(10_000);
  await sink.close();
  const st = sink.stats();
  if (!delivered) process.stderr.write(`iotwatch: syslog ${url}: not every alert was delivered (${JSON.stringify(st)})\n`);
  else process.stderr.write(`iotwatch: ${alerts.length} alerts sent to syslog ${url}\n`);
}

export async function learnCommand(argv: string[]): Promise<number> {
  // -o is checked before any input is read: a long learn run must not end in a usage error.
  const args = parseAnalyzeArgs(argv);
  const values = args.values;
  if (values.help) {
    process.stdout.write(LEARN_HELP);
    return 0;
  }
  if (typeof values.output !== 'string') throw new CliError('learn: -o FILE is required (where to write the baseline)', 2);
  const r = await runEngine(args, 'learn');
  const out = values.output;
  const baseline = r.engine.exportBaseline();
  // Write then rename: a crash never leaves half a baseline behind.
  const tmp = `${out}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(baseline, null, 1) + '\n');
  renameSync(tmp, out);
  const st = r.engine.stats();
  const packets = r.inputs.reduce((n, i) => n + i.capture.packets, 0);
  process.stderr.write(`iotwatch: learned from ${r.inputs.length} capture(s), ${packets} packets, ${st.events} events; baseline written to ${out}\n`);
  return 0;
}

const SEV_ORDER = new Map<Severity, number>(SEVERITIES.map((s, i) => [s, i]));

export function formatAlertSummary(alerts: readonly Alert[]): string {
  const lines: string[] = [];
  const bySev = new Map<string, number>();
  const byDet = new Map<string, { n: number; sev: Severity; cat: string }>();
  const byEntity = new Map<string, number>();
  for (const a of alerts) {
    bySev.set(a.severity, (bySev.get(a.severity) ?? 0) + 1);
    const d = byDet.get(a.detector);
    if (d) {
      d.n++;
      if ((SEV_ORDER.get(a.severity) ?? 0) > (SEV_ORDER.get(d.sev) ?? 0)) d.sev = a.severity;
    } else byDet.set(a.detector, { n: 1, sev: a.severity, cat: a.category });
    const ek = `${a.entity.kind} ${a.entity.value}`;
    byEntity.set(ek, (byEntity.get(ek) ?? 0) + 1);
  }
  lines.push(`alerts: ${alerts.length}` + (alerts.length
    ? ` (${[...SEVERITIES].reverse().filter((s) => bySev.has(s)).map((s) => `${s} ${bySev.get(s)}`).join(', ')})`
    : ''));
  if (alerts.length === 0) return lines.join('\n');
  lines.push('', 'by detector:');
  const dets = [...byDet].sort((x, y) => (SEV_ORDER.get(y[1].sev)! - SEV_ORDER.get(x[1].sev)!) || y[1].n - x[1].n || (x[0] < y[0] ? -1 : 1));
  for (const [id, d] of dets) lines.push(`  ${id.padEnd(30)} ${String(d.n).padStart(5)}  ${d.sev.padEnd(8)} ${d.cat}`);
  lines.push('', 'top entities:');
  for (const [e, n] of [...byEntity].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, 10)) lines.push(`  ${e.padEnd(50)} ${n}`);
  lines.push('', 'alerts (most severe first):');
  const sorted = [...alerts].sort((x, y) => (SEV_ORDER.get(y.severity)! - SEV_ORDER.get(x.severity)!) || x.firstTs - y.firstTs);
  for (const a of sorted.slice(0, 50)) {
    lines.push(`  [${a.severity}] ${a.detector} ${a.entity.kind}=${a.entity.value}: ${a.summary}`);
    lines.push(`      frames ${a.frames.slice(0, 8).join(',')}${a.frames.length > 8 ? ',...' : ''}; fix: ${a.recommendation}`);
  }
  if (sorted.length > 50) lines.push(`  ... ${sorted.length - 50} more (--json lists every alert)`);
  return lines.join('\n');
}
