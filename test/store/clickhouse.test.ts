// The ClickHouse store against a real server (Debian's clickhouse-server, started here): the
// contract suite, then escaping, schema and migrations, retention, several writers and the
// cluster layout. Outages and the spool are in clickhouse-outage.test.ts (they kill the server).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouseStore } from '../../src/store/clickhouse/clickhouse-store';
import type { ClickHouseStore, ClickHouseStoreOptions } from '../../src/store/clickhouse/clickhouse-store';
import { clusterSchemaSql } from '../../src/store/clickhouse/cluster-sql';
import { Connection } from '../../src/store/clickhouse/connection';
import { sqlIdent, sqlInt, sqlString, sqlStringList, sqlUint } from '../../src/store/clickhouse/escape';
import { expiredPartitions } from '../../src/store/clickhouse/retention';
import { createTableSql, SCHEMA_VERSION, TABLES } from '../../src/store/clickhouse/schema';
import { HOSTILE_STRINGS, makeAlert, T0 } from './alert-fixtures';
import { TestClickHouse } from './clickhouse-server';
import { storeContract } from './contract';

let server: TestClickHouse;
const spoolRoot = mkdtempSync(join(tmpdir(), 'iotwatch-chspool-'));
let n = 0;

beforeAll(async () => {
  server = await TestClickHouse.start();
});
afterAll(async () => {
  await server?.stop();
  rmSync(spoolRoot, { recursive: true, force: true });
});

async function openStore(over: Partial<ClickHouseStoreOptions> = {}): Promise<ClickHouseStore> {
  const i = n++;
  const s = createClickHouseStore({
    url: server.url,
    database: `t${i}`,
    spoolDir: join(spoolRoot, `s${i}`),
    lingerMs: 2,
    feedLagMs: 0, // one writing process per store in these tests; see the multi-writer test
    retentionCheckMs: 0,
    ...over,
  });
  await s.init();
  return s;
}

storeContract('clickhouse', () => openStore());

// The same contract through the cluster layout: Distributed tables over local tables on a
// one-node cluster that points at this server. Plain MergeTree locals and no ON CLUSTER, because
// 18.16's Replicated engines and distributed DDL need ZooKeeper, which the tests do not run.
storeContract('clickhouse (Distributed over a one-node cluster)', () =>
  openStore({ cluster: { cluster: 'iotwatch_test', replicated: false, onCluster: false } }));

describe('escape: hostile strings round-trip through the real server', () => {
  let conn: Connection;
  beforeAll(async () => {
    conn = new Connection({ url: server.url });
    await conn.command('CREATE DATABASE IF NOT EXISTS esc');
    await conn.command('CREATE TABLE IF NOT EXISTS esc.t (k UInt32, v String) ENGINE = MergeTree ORDER BY k');
  });
  afterAll(async () => {
    await conn.close();
  });

  it('as literals: SELECT <literal> gives the string back', async () => {
    for (const h of HOSTILE_STRINGS) {
      const rows = await conn.query<{ s: string }>(`SELECT ${sqlString(h)} AS s`);
      expect(rows, JSON.stringify(h)).toEqual([{ s: h }]);
    }
  });

  it('inserted as data and found again with a WHERE on the literal', async () => {
    await conn.insert('esc.t', ['k', 'v'], HOSTILE_STRINGS.map((v, k) => ({ k, v })));
    for (const [k, h] of HOSTILE_STRINGS.entries()) {
      const rows = await conn.query<{ k: number; v: string }>(`SELECT k, v FROM esc.t WHERE v = ${sqlString(h)}`);
      expect(rows, JSON.stringify(h)).toEqual([{ k, v: h }]);
    }
    const all = await conn.query<{ c: string }>(`SELECT count() AS c FROM esc.t WHERE v IN (${sqlStringList(HOSTILE_STRINGS)})`);
    expect(Number(all[0].c)).toBe(HOSTILE_STRINGS.length);
  });

  it('any unicode string round-trips (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 20 }), async (a, b) => {
      const s = a + b;
      const rows = await conn.query<{ s: string }>(`SELECT ${sqlString(s)} AS s`);
      expect(rows[0].s).toBe(s);
    }), { numRuns: 200 });
  });

  it('multi-statement and comment attempts stay inside the literal', async () => {
    for (const h of ["x'; DROP TABLE esc.t; --", "x' ; DROP TABLE esc.t", "x\\'; DROP TABLE esc.t; --", "*/ DROP TABLE esc.t /*"]) {
      expect(await conn.query<{ s: string }>(`SELECT ${sqlString(h)} AS s`)).toEqual([{ s: h }]);
    }
    expect(await conn.query<{ c: string }>('SELECT count() AS c FROM system.tables WHERE database = \'esc\' AND name = \'t\'')).toEqual([{ c: '1' }]);
  });

  it('numbers must be finite safe integers, identifiers whitelisted, strings encodable', () => {
    expect(sqlUint(0)).toBe('0');
    expect(sqlInt(-5)).toBe('-5');
    expect(sqlUint(Number.MAX_SAFE_INTEGER)).toBe('9007199254740991');
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 1.5, 2 ** 53, '1' as unknown as number, -1]) expect(() => sqlUint(bad)).toThrow();
    for (const bad of [Number.NaN, Number.NEGATIVE_INFINITY, 0.1, '1; DROP' as unknown as number]) expect(() => sqlInt(bad)).toThrow();
    const allowed = new Set(['alerts', 'alerts; DROP']);
    expect(sqlIdent('alerts', allowed)).toBe('alerts');
    expect(() => sqlIdent('users', allowed)).toThrow();
    expect(() => sqlIdent('alerts; DROP', allowed)).toThrow(); // whitelisted by mistake, still not an identifier
    expect(() => sqlString('\ud800')).toThrow();
    expect(() => sqlString(5 as unknown as string)).toThrow();
    expect(sqlString("a'b\\c\u0000\u0001")).toBe("'a\\'b\\\\c\\0\\x01'");
  });
});

describe('schema and migrations', () => {
  it('creates every table, records the migration once, and is idempotent', async () => {
    const a = await openStore();
    const db = a.database;
    const b = createClickHouseStore({ url: `${server.url}/${db}`, spoolDir: join(spoolRoot, `again${n++}`), retentionCheckMs: 0 });
    await b.init();
    const tables = (await server.sql(`SELECT name FROM system.tables WHERE database = '${db}' ORDER BY name`)).trim().split('\n');
    expect(tables).toEqual([...TABLES, 'schema_migrations'].sort());
    expect((await server.sql(`SELECT version, count() FROM ${db}.schema_migrations GROUP BY version`)).trim()).toBe(`${SCHEMA_VERSION}\t1`);
    expect(a.serverVersion()).toMatch(/^\d+\.\d+/);
    await a.close();
    await b.close();
  });

  it('keeps one alert per id in storage terms too: ReplacingMergeTree read with FINAL', async () => {
    const s = await openStore();
    const alert = makeAlert(1);
    for (let i = 0; i < 3; i++) await s.putAlerts([{ ...alert, count: i }], 's1');
    const raw = Number((await server.sql(`SELECT count() FROM ${s.database}.alerts`)).trim());
    const final = (await server.sql(`SELECT count(), any(seq) FROM ${s.database}.alerts FINAL`)).trim().split('\t');
    expect(raw).toBeGreaterThanOrEqual(1);
    expect(final[0]).toBe('1');
    expect((await s.getAlert(alert.id))?.count).toBe(2);
    await s.close();
  });

  it('puts the TTL clause only where the server has it (19.6+), partitions by month everywhere', () => {
    const ctx = { database: 'db', alertsRetentionDays: 90, recordsRetentionDays: 30 };
    const old = createTableSql('alerts', { ...ctx, ttl: false });
    const modern = createTableSql('tls_endpoints', { ...ctx, ttl: true });
    expect(old).not.toMatch(/\bTTL\b/);
    expect(old).toMatch(/ENGINE = ReplacingMergeTree\(seq\)\nPARTITION BY toYYYYMM\(written\)\nORDER BY id/);
    expect(modern).toMatch(/TTL written \+ INTERVAL 30 DAY/);
    expect(createTableSql('alerts', { ...ctx, ttl: true })).toMatch(/TTL written \+ INTERVAL 90 DAY/);
    expect(old).not.toMatch(/DateTime64|LowCardinality|Nullable/);
  });

  it('drops partitions older than the retention and keeps the rest', async () => {
    const s = await openStore({ alertsRetentionDays: 90, recordsRetentionDays: 30 });
    await s.putAlerts([makeAlert(1)], 's1');
    // Rows written "in 2020" (seq is the write time in µs).
    const cols = "id, sensor, seq, detector, category, severity, severity_rank, first_ts, last_ts, entity_kind, entity_value, addresses, summary_lc, entity_lc, detector_lc, body";
    await server.sql(`INSERT INTO ${s.database}.alerts (${cols}) VALUES ('old1', 's1', 1600000000000000, 'd', 'anomaly', 'low', 1, 1, 2, 'flow', 'x', [], '', '', '', '{}')`);
    await server.sql(`INSERT INTO ${s.database}.topic_minutes (sensor, minute, topic, publishes, retained, bytes, publishers, version) VALUES ('s1', 1, 'old/topic', 1, 0, 1, 1, 1600000000000000)`);
    const parts = async (t: string): Promise<string[]> => (await server.sql(`SELECT DISTINCT partition FROM system.parts WHERE database = '${s.database}' AND table = '${t}' AND active ORDER BY partition`)).trim().split('\n').filter(Boolean);
    expect(await parts('alerts')).toContain('202009');
    const dropped = await s.enforceRetention();
    expect(dropped).toEqual([{ table: 'alerts', partition: '202009' }, { table: 'topic_minutes', partition: '202009' }]);
    expect(await parts('alerts')).not.toContain('202009');
    expect(await parts('alerts')).toHaveLength(1);
    expect(await s.getAlert(makeAlert(1).id)).not.toBeNull();
    await s.close();
    // Month arithmetic: a month is dropped once its end is older than the retention.
    const now = Date.UTC(2024, 4, 15); // 2024-05-15
    expect(expiredPartitions(['202401', '202402', '202403', '202404', 'x', '2024'], 30, now)).toEqual(['202401', '202402', '202403']);
    expect(expiredPartitions(['202401', '202402'], 90, now)).toEqual(['202401']);
  });
});

describe('feed with several writing processes', () => {
  it('never skips while two stores write and a third reads behind the lag', async () => {
    const w1 = await openStore({ insertTimeoutMs: 1000, feedLagMs: 1500 });
    const w2 = createClickHouseStore({ url: server.url, database: w1.database, spoolDir: join(spoolRoot, `w2-${n++}`), lingerMs: 2, insertTimeoutMs: 1000, retentionCheckMs: 0 });
    const reader = createClickHouseStore({ url: server.url, database: w1.database, spoolDir: join(spoolRoot, `r-${n++}`), feedLagMs: 1500, retentionCheckMs: 0 });
    await w2.init();
    await reader.init();
    const expected = new Set<string>();
    const seen = new Set<string>();
    let cursor = '';
    let writing = true;
    const read = (async () => {
      const deadline = { t: Number.POSITIVE_INFINITY };
      for (;;) {
        const p = await reader.feed(cursor, 50);
        for (const a of p.alerts) seen.add(a.id);
        cursor = p.cursor;
        if (!writing && deadline.t === Number.POSITIVE_INFINITY) deadline.t = Date.now() + 8000;
        if (!writing && (seen.size >= expected.size || Date.now() > deadline.t)) return;
        if (p.alerts.length === 0) await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await Promise.all([w1, w2].map(async (w, k) => {
      for (let i = 0; i < 40; i++) {
        const batch = [makeAlert(k * 1000 + i * 2), makeAlert(k * 1000 + i * 2 + 1)];
        batch.forEach((a) => expected.add(a.id));
        await w.putAlerts(batch, `w${k}`);
      }
    }));
    writing = false;
    await read;
    expect([...expected].filter((id) => !seen.has(id))).toEqual([]);
    for (const s of [w1, w2, reader]) await s.close();
  });
});

describe('cluster layout SQL', () => {
  const ctx = { database: 'iot', ttl: true, alertsRetentionDays: 90, recordsRetentionDays: 30 };

  it('generates Replicated local tables with {shard}/{replica} macros and Distributed tables ON CLUSTER', () => {
    const sql = clusterSchemaSql(ctx, { cluster: 'sensors' });
    expect(sql[0]).toBe('CREATE DATABASE IF NOT EXISTS iot ON CLUSTER sensors');
    const alertsLocal = sql.find((s) => s.includes('iot.alerts_local'))!;
    expect(alertsLocal).toContain("ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/iot/alerts_local', '{replica}', seq)");
    expect(alertsLocal).toContain('ON CLUSTER sensors');
    expect(alertsLocal).toContain('TTL written + INTERVAL 90 DAY');
    const statusLocal = sql.find((s) => s.includes('iot.alert_status_local'))!;
    expect(statusLocal).toContain("ReplicatedMergeTree('/clickhouse/tables/{shard}/iot/alert_status_local', '{replica}')");
    const alertsDist = sql.find((s) => s.includes('CREATE TABLE IF NOT EXISTS iot.alerts ON CLUSTER'))!;
    expect(alertsDist).toContain('ENGINE = Distributed(sensors, iot, alerts_local, cityHash64(id))');
    expect(alertsDist).not.toContain('MATERIALIZED');
    expect(sql.find((s) => s.includes('iot.mqtt_sessions ON CLUSTER'))).toContain('cityHash64(sensor)');
    expect(sql).toHaveLength(2 + 2 * TABLES.length);
    expect(() => clusterSchemaSql({ ...ctx, database: 'x; DROP' }, { cluster: 'c' })).toThrow();
    expect(() => clusterSchemaSql(ctx, { cluster: "c'" })).toThrow();
  });

  it('every replicated statement is accepted by the real server up to the point where it needs ZooKeeper', async () => {
    // The parser runs before anything else, so "not a syntax error" means the text parses. Then,
    // without ON CLUSTER, 18.16 checks a Replicated engine's arguments (Code 42 when wrong) before
    // it looks for ZooKeeper (Code 225): failing on 225 means the engine definition was accepted.
    const zkCtx = { ...ctx, database: 'zkcheck', ttl: false };
    for (const s of clusterSchemaSql(zkCtx, { cluster: 'iotwatch_test' })) {
      const err = await server.sql(s).then(() => null, (e: Error) => e.message);
      expect(err, s).toMatch(/Code: (49|225)\b/); // distributed DDL (or ZooKeeper) not configured
    }
    for (const s of clusterSchemaSql(zkCtx, { cluster: 'iotwatch_test', onCluster: false })) {
      const err = await server.sql(s).then(() => null, (e: Error) => e.message);
      if (/Replicated/.test(s)) expect(err, s).toMatch(/Code: 225\b.*ZooKeeper/);
      else expect(err, s).toBeNull();
    }
    const wrong = "CREATE TABLE zkcheck.wrong (a UInt8) ENGINE = ReplicatedMergeTree('/p/{shard}', '{replica}', 'x', 'y') ORDER BY a";
    expect(await server.sql(wrong).then(() => null, (e: Error) => e.message)).toMatch(/Code: 42\b/);
  });
});

describe('test server helper', () => {
  it('fails with instructions, never skips, when the server binary is missing', async () => {
    const saved = process.env.IOTWATCH_CLICKHOUSE_SERVER;
    process.env.IOTWATCH_CLICKHOUSE_SERVER = '/nonexistent/clickhouse-server';
    try {
      await expect(TestClickHouse.start()).rejects.toThrow('clickhouse-server not installed: apt-get install clickhouse-server; .ci/run installs it');
    } finally {
      if (saved === undefined) delete process.env.IOTWATCH_CLICKHOUSE_SERVER;
      else process.env.IOTWATCH_CLICKHOUSE_SERVER = saved;
    }
  });
});
