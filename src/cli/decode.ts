// iotwatch decode FILE...: one JSON event per line, or --summary counts.
import { parseArgs } from 'node:util';
import type { CaptureStats } from '../capture/types';
import { stringifyEvent } from '../events/serialize';
import type { IotEvent } from '../events/types';
import { Pipeline, type PipelineStats } from '../pipeline';
import { CAPTURE_OPTIONS, CliError, pipelineOptions } from './common';
import { runInput } from './inputs';
import { LineWriter } from './output';

export const DECODE_HELP = `usage: iotwatch decode [options] FILE...

Decodes pcap/pcapng captures (gzip allowed, - for standard input) into typed events,
one JSON object per line on standard output.

options:
  --summary                 print only event counts per type and capture statistics
  --json                    with --summary: the summary as one JSON object
  --sensor-id ID            sensor id carried by every event (default: $IOTWATCH_SENSOR_ID or host name)
  --secret-file FILE        installation secret keying password hashes (default: $IOTWATCH_HOME/secret)
  --max-mqtt-message SIZE   MQTT packets above SIZE are reported oversized (default 1m)
  --mqtt-port PORT          also recognise midstream MQTT on PORT (repeatable; 1883 always)
  --coap-port PORT          also decode CoAP on UDP PORT after a strict header check (repeatable)
  --no-flow-events          leave out flow.start / flow.end events
`;

export interface InputSummary {
  file: string;
  capture: CaptureStats;
  pipeline: PipelineStats;
  seconds: number;
}

export async function decodeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...CAPTURE_OPTIONS, summary: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(DECODE_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new CliError('decode: no capture file given (see iotwatch decode --help)', 2);
  const base = pipelineOptions(values);
  const out = new LineWriter();
  const counts = new EventCounts();
  const summaries: InputSummary[] = [];
  const summaryOnly = values.summary === true;
  const emit = summaryOnly
    ? (e: IotEvent): void => counts.add(e)
    : (e: IotEvent): void => out.line(stringifyEvent(e));
  for (const file of positionals) {
    const pipeline = new Pipeline({ ...base, emit });
    const t0 = performance.now();
    const capture = await runInput(file, pipeline.packet, { between: summaryOnly ? undefined : () => out.drained() });
    const stats = pipeline.finish();
    for (const w of capture.warnings) process.stderr.write(`iotwatch: warning: ${w}\n`);
    summaries.push({ file, capture, pipeline: stats, seconds: (performance.now() - t0) / 1000 });
  }
  if (summaryOnly) {
    if (values.json) {
      const proc = { maxRssKb: process.resourceUsage().maxRSS };
      out.line(JSON.stringify({ events: Object.fromEntries([...counts.toMap()].sort()), inputs: summaries, process: proc }));
    }
    else out.line(formatSummary(counts.toMap(), summaries));
  }
  await out.end();
  return 0;
}

/**
 * Events per type, anomalies per code ("anomaly:CODE"). Types are a handful of interned constants
 * met on every event, so a scan of identity comparisons, kept in order of frequency, costs less
 * than hashing the type into a Map each time.
 */
export class EventCounts {
  private readonly types: string[] = [];
  private readonly ns: number[] = [];
  private readonly anomalies = new Map<string, number>();

  add(e: IotEvent): void {
    const t = e.type;
    if (t === 'anomaly') {
      const k = `anomaly:${e.code}`;
      this.anomalies.set(k, (this.anomalies.get(k) ?? 0) + 1);
      return;
    }
    const types = this.types;
    const ns = this.ns;
    for (let i = 0; i < types.length; i++) {
      if (types[i] !== t) continue;
      const n = ++ns[i];
      if (i > 0 && n > ns[i - 1]) {
        // Move ahead of a less frequent type.
        types[i] = types[i - 1];
        ns[i] = ns[i - 1];
        types[i - 1] = t;
        ns[i - 1] = n;
      }
      return;
    }
    types.push(t);
    ns.push(1);
  }

  toMap(): Map<string, number> {
    const m = new Map<string, number>();
    for (let i = 0; i < this.types.length; i++) m.set(this.types[i], this.ns[i]);
    for (const [k, n] of this.anomalies) m.set(k, n);
    return m;
  }
}

export function formatSummary(counts: Map<string, number>, inputs: InputSummary[]): string {
  const lines: string[] = [];
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  lines.push(`events: ${total}`);
  for (const [k, n] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) lines.push(`  ${k.padEnd(36)} ${n}`);
  for (const s of inputs) {
    const c = s.capture;
    const d = s.pipeline.decode;
    const f = s.pipeline.flows;
    lines.push('');
    lines.push(`capture ${s.file}: ${c.format}, ${c.packets} packets, ${c.bytes} bytes, ${s.seconds.toFixed(2)} s` +
      (s.seconds > 0 ? `, ${Math.round(c.packets / s.seconds)} packets/s` : ''));
    if (c.drops) lines.push(`  drops: ${c.drops}`);
    for (const w of c.warnings) lines.push(`  warning: ${w}`);
    lines.push(`  decoded ${d.decoded}; not used: non-IP ${d.nonIp}, unsupported link ${d.unsupportedLink}, ` +
      `truncated ${d.truncated}, bad header ${d.badHeader}, other transport ${d.otherTransport}; ` +
      `fragments ${d.fragments}, reassembled ${d.reassembled}`);
    lines.push(`  flows: ${flatten(f as unknown as Record<string, unknown>)}`);
  }
  return lines.join('\n');
}

/** "a 1, b.c 2" for a nested counter object, zero values left out. */
function flatten(o: Record<string, unknown>, prefix = ''): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'number') {
      if (v !== 0) parts.push(`${prefix}${k} ${v}`);
    } else if (v && typeof v === 'object') {
      const inner = flatten(v as Record<string, unknown>, `${prefix}${k}.`);
      if (inner) parts.push(inner);
    }
  }
  return parts.join(', ');
}
