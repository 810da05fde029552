// API benchmark: requests/s and p99 latency of GET /api/v1/alerts over 100,000 stored alerts.
// The store is filled through the AlertStore interface: the embedded store (or, with
// IOTWATCH_BENCH_API_STORE=memory, the API tests' memory double); the output names which one.
// Load comes from autocannon when it can be required, else wrk when on PATH, else a plain
// node:http keep-alive client in a worker thread (so it does not share the server's event loop).
//   node dist/bench/api-bench.js          (after tsc; env IOTWATCH_BENCH_API_* to change sizes)
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { build } from '../src/api/app';
import type { Alert, Severity } from '../src/alerts/types';
import { createEmbeddedStore } from '../src/store/embedded/embedded-store';
import type { AlertStore } from '../src/store/types';
import { MemoryStore } from '../test/api/memory-store';

const ALERTS = Number(process.env.IOTWATCH_BENCH_API_ALERTS ?? 100_000);
const SECONDS = Number(process.env.IOTWATCH_BENCH_API_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.IOTWATCH_BENCH_API_CONNECTIONS ?? 10);
const TOKEN = 'bench-token-0123456789abcdef';

export interface LoadResult {
  tool: string;
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
}

interface StoreChoice {
  store: AlertStore;
  name: string;
}

/** The embedded store (fsync on, as deployed); IOTWATCH_BENCH_API_STORE=memory measures the test double. */
async function chooseStore(): Promise<StoreChoice> {
  if (process.env.IOTWATCH_BENCH_API_STORE === 'memory') {
    return { store: new MemoryStore(), name: 'memory test double (test/api/memory-store.ts)' };
  }
  const dir = mkdtempSync(join(tmpdir(), 'iotwatch-api-bench-'));
  return { store: createEmbeddedStore({ dir }), name: `embedded store in ${dir}` };
}

const DETECTORS = ['mqtt.auth_bruteforce', 'mqtt.connect_flood', 'mqtt.wildcard_subscription', 'mqtt.retained_flood', 'coap.amplification'];
const SEVERITIES: Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

function alert(i: number): Alert {
  const t0 = Date.UTC(2024, 4, 1) * 1000;
  return {
    id: i.toString(16).padStart(32, '0'),
    detector: DETECTORS[i % DETECTORS.length],
    category: i % 11 === 0 ? 'posture' : 'anomaly',
    severity: SEVERITIES[(i * 7) % 5],
    firstTs: t0 + i * 10_000_000,
    lastTs: t0 + i * 10_000_000 + 2_000_000,
    entity: { kind: 'client_id', value: `device-${i % 5000}` },
    endpoints: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:${40000 + (i % 20000)} -> 10.0.0.1:1883`],
    communityIds: [`1:${Buffer.from(String(i)).toString('base64')}`],
    frames: [i * 4 + 1, i * 4 + 2, i * 4 + 3],
    count: 1 + (i % 17),
    summary: `device-${i % 5000} did something unusual (${i})`,
    evidence: { observed: 10 + (i % 90), baseline: 5, threshold: 10, window: 60 },
    recommendation: 'Check the device and its credentials.',
    mitre: i % 3 === 0 ? 'T0859' : null,
  };
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

async function withAutocannon(url: string): Promise<LoadResult | null> {
  let autocannon: ((o: Record<string, unknown>) => Promise<Record<string, any>>) | null = null;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    autocannon = require('autocannon');
  } catch {
    return null;
  }
  const r = await autocannon!({ url, connections: CONNECTIONS, duration: SECONDS, headers: { authorization: `Bearer ${TOKEN}` } });
  return {
    tool: 'autocannon', requests: r.requests.total, rps: r.requests.average, p50Ms: r.latency.p50, p99Ms: r.latency.p99,
    non2xx: r.non2xx,
  };
}

function withWrk(url: string): LoadResult | null {
  if (!has('wrk')) return null;
  const r = spawnSync('wrk', ['-t2', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency', '-H', `Authorization: Bearer ${TOKEN}`, url], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const ms = (label: string): number => {
    const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(r.stdout);
    if (!m) return NaN;
    return Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[m[2]];
  };
  const total = Number(/(\d+) requests in/.exec(r.stdout)?.[1] ?? NaN);
  return {
    tool: 'wrk', requests: total, rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? NaN),
    p50Ms: ms('50%'), p99Ms: ms('99%'), non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(r.stdout)?.[1] ?? 0),
  };
}

// Runs in a worker: CONNECTIONS keep-alive loops for SECONDS, latencies in µs.
const WORKER = `
const http = require('node:http');
const { parentPort, workerData: w } = require('node:worker_threads');
const agent = new http.Agent({ keepAlive: true, maxSockets: w.connections });
const lat = []; let non2xx = 0; const end = Date.now() + w.seconds * 1000;
function one() {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    http.get(w.url, { agent, headers: { authorization: 'Bearer ' + w.token } }, (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode !== 200) non2xx++; lat.push(Number(process.hrtime.bigint() - t) / 1000); resolve(); });
    }).on('error', reject);
  });
}
async function loop() { while (Date.now() < end) await one(); }
Promise.all(Array.from({ length: w.connections }, loop)).then(() => { agent.destroy(); parentPort.postMessage({ lat, non2xx }); });
`;

function withNodeClient(url: string): Promise<LoadResult> {
  return new Promise((resolvePromise, reject) => {
    const w = new Worker(WORKER, { eval: true, workerData: { url, seconds: SECONDS, connections: CONNECTIONS, token: TOKEN } });
    w.once('error', reject);
    w.once('message', (m: { lat: number[]; non2xx: number }) => {
      const lat = Float64Array.from(m.lat).sort();
      const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] / 1000;
      resolvePromise({ tool: 'node:http keep-alive client in a worker (no autocannon or wrk)', requests: lat.length, rps: lat.length / SECONDS, p50Ms: q(0.5), p99Ms: q(0.99), non2xx: m.non2xx });
    });
  });
}

async function load(url: string): Promise<LoadResult> {
  return (await withAutocannon(url)) ?? withWrk(url) ?? withNodeClient(url);
}

function line(label: string, value: string): void {
  process.stdout.write(`${label.padEnd(44)} ${value}\n`);
}

export async function runApiBench(): Promise<void> {
  const { store, name } = await chooseStore();
  await store.init();
  if (ALERTS > 1_000_000) throw new Error('the embedded store keeps 1,000,000 alerts by default');
  const t0 = process.hrtime.bigint();
  const BATCH = 1000;
  for (let i = 0; i < ALERTS; i += BATCH) {
    await store.putAlerts(Array.from({ length: Math.min(BATCH, ALERTS - i) }, (_, k) => alert(i + k)), `sensor-${(i / BATCH) % 4}`);
  }
  const fillSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const app = build({ store, tokens: { token: TOKEN }, rateLimit: false, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  line('api bench: store', name);
  line('api bench: alerts stored', ALERTS.toLocaleString('en'));
  line('api bench: store fill (putAlerts) alerts/s', Math.round(ALERTS / fillSeconds).toLocaleString('en'));
  line('api bench: connections, seconds per run', `${CONNECTIONS}, ${SECONDS}`);
  const runs: [string, string][] = [
    ['GET /api/v1/alerts (newest 100)', '/api/v1/alerts'],
    ['GET /api/v1/alerts?detector&minSeverity&limit=50', '/api/v1/alerts?detector=mqtt.connect_flood,coap.amplification&minSeverity=high&limit=50'],
    ['GET /api/v1/alerts?q=device-42 (text search)', '/api/v1/alerts?q=device-42&limit=20'],
  ];
  // The store's own share of a request: the same query without HTTP, JSON or the API.
  const direct: number[] = [];
  for (let i = 0; i < 21; i++) {
    const t = process.hrtime.bigint();
    await store.queryAlerts({ limit: 100, sort: 'lastTs', order: 'desc' });
    direct.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  direct.sort((x, y) => x - y);
  line('store.queryAlerts(newest 100) direct: median ms', direct[10].toFixed(2));
  try {
    for (const [label, path] of runs) {
      const r = await load(base + path);
      line(`${label}: tool`, r.tool);
      line(`${label}: requests/s`, Math.round(r.rps).toLocaleString('en'));
      line(`${label}: p50 / p99 ms`, `${r.p50Ms.toFixed(2)} / ${r.p99Ms.toFixed(2)}`);
      if (r.non2xx > 0) line(`${label}: non-2xx responses`, String(r.non2xx));
    }
  } finally {
    await app.close();
    await store.close();
  }
}

if (require.main === module) {
  runApiBench().catch((err) => {
    process.stderr.write(`api bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
