// Store insert rate: alerts/s into the embedded store (fsync on, as deployed) and into a real
// ClickHouse server started the way the tests start one. Run after `npm run build`:
//   node dist/bench/store-bench.js            (IOTWATCH_BENCH_STORE_ALERTS=N, default 100,000)
// bench/run.ts may call runStoreBench() to add these lines to `npm run bench`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert } from '../src/alerts/types';
import { createClickHouseStore } from '../src/store/clickhouse/clickhouse-store';
import { createEmbeddedStore } from '../src/store/embedded/embedded-store';
import type { AlertStore } from '../src/store/types';
import { TestClickHouse } from '../test/store/clickhouse-server';

const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;

function alert(i: number): Alert {
  const t = 1_700_000_000_000_000 + i * 1000;
  return {
    id: i.toString(16).padStart(32, '0'),
    detector: `detector-${i % 12}`,
    category: i % 7 === 0 ? 'posture' : 'anomaly',
    severity: SEVERITIES[i % 5],
    firstTs: t,
    lastTs: t + 5_000_000,
    entity: { kind: 'client_id', value: `client-${i % 5000}` },
    endpoints: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:${1024 + (i % 60000)} -> 192.168.1.10:1883`],
    communityIds: [`1:${Buffer.from(String(i)).toString('base64')}`],
    frames: [i, i + 1, i + 2],
    count: 1 + (i % 50),
    summary: `Client client-${i % 5000} failed to authenticate ${10 + (i % 50)} times in 60 s`,
    evidence: { observed: 10 + (i % 50), baseline: 1, threshold: 10, window: 60, metric: 'failures' },
    recommendation: 'Check the client credentials; block the source if it is not a known device.',
    mitre: 'T0806',
  };
}

function line(label: string, value: string): void {
  process.stdout.write(`${label.padEnd(44)} ${value}\n`);
}

/** Puts n alerts in batches, `inFlight` batches at a time; returns alerts/s. */
async function insertRate(store: AlertStore, n: number, batch: number, inFlight: number): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    for (;;) {
      const start = next;
      if (start >= n) return;
      next += batch;
      const alerts: Alert[] = [];
      for (let i = start; i < Math.min(n, start + batch); i++) alerts.push(alert(i));
      await store.putAlerts(alerts, 'bench-sensor');
    }
  }));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return n / s;
}

export async function runStoreBench(n = Number(process.env.IOTWATCH_BENCH_STORE_ALERTS ?? 100_000)): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'iotwatch-store-bench-'));
  try {
    const emb = createEmbeddedStore({ dir: join(dir, 'embedded') });
    await emb.init();
    line('embedded store: alerts', n.toLocaleString('en'));
    line('embedded store: alerts/s (batches of 1000)', Math.round(await insertRate(emb, n, 1000, 1)).toLocaleString('en'));
    await emb.close();
    const emb2 = createEmbeddedStore({ dir: join(dir, 'embedded2') });
    await emb2.init();
    const small = Math.min(n, 20_000);
    line('embedded store: alerts/s (1 per put, 16 at once)', Math.round(await insertRate(emb2, small, 1, 16)).toLocaleString('en'));
    await emb2.close();
    line('embedded store: peak RSS MB', (process.memoryUsage().rss / 1e6).toFixed(0));

    let server: TestClickHouse;
    try {
      server = await TestClickHouse.start();
    } catch (e) {
      line('clickhouse store', `not measured: ${(e as Error).message}`);
      return;
    }
    try {
      const ch = createClickHouseStore({ url: server.url, spoolDir: join(dir, 'spool'), retentionCheckMs: 0 });
      await ch.init();
      const version = ch.serverVersion() ?? '?';
      line(`clickhouse ${version}: alerts/s (batches of 1000, 4 at once)`, Math.round(await insertRate(ch, n, 1000, 4)).toLocaleString('en'));
      const stored = Number((await server.sql(`SELECT count() FROM ${ch.database}.alerts FINAL`)).trim());
      line(`clickhouse ${version}: alerts stored (FINAL)`, stored.toLocaleString('en'));
      const h = await ch.health();
      line(`clickhouse ${version}: spooled during bench`, String(h.counters?.alerts_spooled ?? 0));
      await ch.close();
      const ch2 = createClickHouseStore({ url: server.url, database: 'bench_small', spoolDir: join(dir, 'spool2'), retentionCheckMs: 0 });
      await ch2.init();
      line(`clickhouse ${version}: alerts/s (10 per put, 64 at once)`, Math.round(await insertRate(ch2, Math.min(n, 20_000), 10, 64)).toLocaleString('en'));
      await ch2.close();
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runStoreBench().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
