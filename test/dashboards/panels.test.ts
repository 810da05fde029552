// Every Grafana panel's SQL runs against a real ClickHouse (Debian's 18.16, the oldest server
// the store supports) with the schema the store's migrations create and data written through
// the store: the alerts of a known capture and forensic records around them. A panel whose SQL
// fails, returns nothing, or disagrees with the store's own answer fails here, not in Grafana.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/types';
import { createClickHouseStore, type ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store';
import { createRecorder, type RecorderRows } from '../../src/store/records';
import { coapRow, MIN, session, tlsRow, topicRow } from '../store/alert-fixtures';
import { TestClickHouse } from '../store/clickhouse-server';
import { plantAttackAlerts } from '../console/plant-alerts';
import { panelSql, type Dashboard, type QueryContext, type Selection } from './grafana-sql';

const ROOT = join(__dirname, '..', '..', 'dashboards');
const DATASOURCE_TYPE = 'grafana-clickhouse-datasource';
const SENSOR = 'plant-1';
const LAB = 'lab-2';
const DAY_US = 86_400_000_000;

const dashboards: Dashboard[] = readdirSync(ROOT)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(ROOT, f), 'utf8')) as Dashboard);

const panels = dashboards.flatMap((d) => d.panels.map((p) => ({ d, p })));

interface Result {
  meta: { name: string; type: string }[];
  data: Record<string, unknown>[];
}

let server: TestClickHouse;
let store: ClickHouseStore;
let alerts: Alert[];
let captured: RecorderRows;
let ctx: QueryContext;
const spool = mkdtempSync(join(tmpdir(), 'iotwatch-dash-spool-'));
const nowUs = Date.now() * 1000;

async function run(sql: string): Promise<Result> {
  return JSON.parse(await server.sql(`${sql}\nFORMAT JSON`)) as Result;
}

beforeAll(async () => {
  server = await TestClickHouse.start();
  // The database name the dashboards' $db constant defaults to, as in docker-compose.
  store = createClickHouseStore({ url: server.url, database: 'iotwatch', spoolDir: spool, lingerMs: 2, feedLagMs: 0, retentionCheckMs: 0 });
  await store.init();

  // The capture's alerts and its forensic records (what `iotwatch analyze` writes).
  const recorder = createRecorder(SENSOR);
  alerts = await plantAttackAlerts((e) => recorder.onEvent(e));
  captured = recorder.flush();
  await store.putAlerts(alerts, SENSOR);
  await store.putRecords(captured);
  await store.setStatus(alerts[0].id, 'acknowledged', 'analyst', 'seen');

  // A second sensor with hand-made records in the capture's time: a client seen from two
  // addresses, a quoted topic, CoAP with and without a round trip, and certificates on both
  // sides of every days-to-expiry bucket (relative to now).
  const t0 = Math.min(...alerts.map((a) => a.firstTs));
  const minute = Math.floor(t0 / MIN) * MIN;
  const sensor = LAB;
  await store.putRecords({
    sessions: [
      session({ sensor, flowId: 1, communityId: '1:a=', clientId: 'lab-meter', username: 'lab-meter', client: '127.0.1.1:40001', firstTs: t0, lastTs: t0 + 5 * MIN }),
      session({ sensor, flowId: 2, communityId: '1:b=', clientId: 'lab-meter', username: 'lab-meter', client: '127.0.1.9:40002', firstTs: t0 + MIN, lastTs: t0 + 6 * MIN }),
      session({ sensor, flowId: 3, communityId: '1:c=', clientId: 'lab-dashboard', username: null, client: '[::1]:40003', protocolVersion: 5, tls: true, server: '127.0.0.1:8883', connackCode: null, firstTs: t0, lastTs: t0 + 2 * MIN }),
    ],
    topics: [0, 1, 2, 3].flatMap((i) => [
      topicRow({ sensor, minute: minute + i * MIN, topic: 'lab/meter/telemetry', publishes: 10 + i }),
      topicRow({ sensor, minute: minute + i * MIN, topic: "lab/it's/quoted", publishes: 1, retained: 0 }),
    ]),
    coap: [
      coapRow({ sensor, minute, method: 'GET', path: '/sensors/temp' }),
      coapRow({ sensor, minute: minute + MIN, method: 'PUT', path: '/time', responseCode: '4.05', rttUsP50: null }),
    ],
    tls: [
      ['expired', -3], ['soon', 3], ['month', 20], ['quarter', 60], ['later', 400],
    ].map(([name, days], i) => tlsRow({
      sensor, server: `127.0.0.${i + 1}:8883`, sni: `${name}.lab`, sha256: String(i).repeat(64),
      notAfter: nowUs + Number(days) * DAY_US + DAY_US / 2, firstTs: t0, lastTs: t0 + MIN,
    })).concat([
      // Past DateTime's range (2106; its date tables end sooner): the panels clamp to 2099-12-31.
      // (RFC 5280's 9999-12-31 is past what the store keeps as a safe integer of µs.)
      tlsRow({ sensor, server: '127.0.0.9:8883', sni: 'forever.lab', sha256: 'f'.repeat(64), notAfter: Date.UTC(2200, 0, 1) * 1000, firstTs: t0, lastTs: t0 + MIN }),
    ]),
  });

  const last = Math.max(...alerts.map((a) => a.lastTs));
  ctx = {
    fromS: Math.floor(t0 / 1e6) - 3600,
    toS: Math.ceil(last / 1e6) + 3600,
    intervalS: 60,
    selections: { sensor: 'all', detector: 'all' },
  };
}, 120_000);

afterAll(async () => {
  await store?.close();
  await server?.stop();
  rmSync(spool, { recursive: true, force: true });
});

describe('dashboard files', () => {
  it('cover what the sensor shows: alerts by detector and severity, entities, clients, topics, CoAP, certificates', () => {
    const titles = panels.map(({ p }) => p.title);
    for (const want of [/over time by detector/, /over time by severity/, /top entities/i, /MQTT clients and their endpoints/,
      /topic activity/i, /CoAP resources/, /certificates by days to expiry/i]) {
      expect(titles.some((t) => want.test(t)), String(want)).toBe(true);
    }
  });

  it('query the provisioned ClickHouse data source, in SQL, with unique ids', () => {
    const yaml = readFileSync(join(ROOT, 'provisioning', 'datasources', 'clickhouse.yaml'), 'utf8');
    expect(yaml).toMatch(new RegExp(`^\\s+type: ${DATASOURCE_TYPE}$`, 'm'));
    const uid = /^\s+uid: (\S+)$/m.exec(yaml)?.[1];
    expect(uid).toBeDefined();
    expect(new Set(dashboards.map((d) => d.uid)).size).toBe(dashboards.length);
    for (const { d, p } of panels) {
      const where = `${d.uid} panel ${p.id} ${p.title}`;
      expect(d.panels.filter((q) => q.id === p.id), where).toHaveLength(1);
      expect(p.targets?.length, where).toBeGreaterThan(0);
      for (const t of p.targets ?? []) {
        expect(t.datasource, where).toEqual({ type: DATASOURCE_TYPE, uid });
        expect(t.editorType, where).toBe('sql');
        // The plugin's formats: 0 time series, 1 table.
        expect([t.queryType, t.format], where).toEqual(p.type === 'timeseries' ? ['timeseries', 0] : ['table', 1]);
        expect(t.rawSql, where).not.toMatch(/;\s*$/);
      }
    }
    for (const d of dashboards) {
      for (const v of d.templating.list.filter((x) => x.type === 'query')) expect(v.datasource?.uid, `${d.uid} $${v.name}`).toBe(uid);
    }
  });

  it('are loaded by the provisioning provider from the path docker-compose mounts', () => {
    const yaml = readFileSync(join(ROOT, 'provisioning', 'dashboards', 'iotwatch.yaml'), 'utf8');
    expect(yaml).toMatch(/^\s+type: file$/m);
    expect(yaml).toMatch(/^\s+path: \/etc\/iotwatch\/dashboards$/m);
  });
});

describe('panel SQL on a real ClickHouse', () => {
  const specific = (): Record<string, Selection> => {
    // The two detectors with the most alerts: a multi-value selection.
    const n = new Map<string, number>();
    for (const a of alerts) n.set(a.detector, (n.get(a.detector) ?? 0) + 1);
    const top = [...n].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, 2).map(([d]) => d);
    return { sensor: [SENSOR], detector: top };
  };

  it('the variable queries list the sensors and the detectors', async () => {
    for (const d of dashboards) {
      for (const v of d.templating.list.filter((x) => x.type === 'query')) {
        const res = await run(panelSql(v.query, d.templating.list, ctx));
        const values = res.data.map((r) => String(Object.values(r)[0]));
        if (v.name === 'sensor') expect(values).toEqual([LAB, SENSOR]);
        if (v.name === 'detector') expect(values).toEqual([...new Set(alerts.map((a) => a.detector))].sort());
      }
    }
  });

  for (const { d, p } of panels) {
    it(`${d.uid}: ${p.title}`, async () => {
      // [name, context, must return rows]: the capture has no certificate (its DTLS server uses
      // a PSK); the second sensor has records but no alerts.
      const sql = p.targets?.map((t) => t.rawSql).join('\n') ?? '';
      const variations: [string, QueryContext, boolean][] = [
        ['All', ctx, true],
        ['the capture\'s sensor, two detectors', { ...ctx, selections: specific() }, !sql.includes('.tls_endpoints')],
        ['an hour per interval', { ...ctx, intervalS: 3600 }, true],
        ['the second sensor', { ...ctx, selections: { sensor: [LAB], detector: 'all' } }, !sql.includes('.alerts')],
      ];
      for (const [name, c, rowsExpected] of variations) {
        for (const t of p.targets ?? []) {
          const sql = panelSql(t.rawSql, d.templating.list, c);
          let res: Result;
          try {
            res = await run(sql);
          } catch (err) {
            throw new Error(`${name}: ${(err as Error).message.slice(0, 500)}\n--- SQL ---\n${sql}`);
          }
          if (rowsExpected) expect(res.data.length, `${name}: no rows\n${sql}`).toBeGreaterThan(0);
          if (p.type === 'timeseries') {
            // The plugin needs a DateTime column to draw a time series.
            expect(res.meta.find((m) => m.name === 'time')?.type, name).toBe('DateTime');
          }
        }
      }
    });
  }
});

describe('panels agree with the store', () => {
  const byTitle = (re: RegExp) => {
    const found = panels.find(({ p }) => re.test(p.title));
    if (!found) throw new Error(`no panel ${re}`);
    return { sql: (c: QueryContext) => panelSql(found.p.targets![0].rawSql, found.d.templating.list, c) };
  };

  it('alerts over time count every alert once, by detector and by severity', async () => {
    for (const [re, key] of [[/over time by detector/, 'detector'], [/over time by severity/, 'severity']] as const) {
      const rows = (await run(byTitle(re).sql(ctx))).data;
      const got = new Map<string, number>();
      for (const r of rows) got.set(String(r[key]), (got.get(String(r[key])) ?? 0) + Number(r.alerts));
      const want = new Map<string, number>();
      for (const a of alerts) want.set(a[key], (want.get(a[key]) ?? 0) + 1);
      expect(got).toEqual(want);
    }
  });

  it('the stat panel counts the acknowledged alert as not open', async () => {
    const [row] = (await run(byTitle(/Alerts in range/).sql(ctx))).data;
    expect(Number(row.alerts)).toBe(alerts.length);
    expect(Number(row.open_alerts)).toBe(alerts.length - 1);
  });

  it('latest alerts show each alert\'s summary and status as the store does', async () => {
    const rows = (await run(byTitle(/Latest alerts/).sql(ctx))).data;
    expect(rows).toHaveLength(Math.min(alerts.length, 100));
    for (const r of rows) {
      const a = await store.getAlert(String(r.id));
      expect(r.summary).toBe(a?.summary);
      expect(r.status).toBe(a?.status);
    }
  });

  const only = (sensor: string): QueryContext => ({ ...ctx, selections: { sensor: [sensor], detector: 'all' } });

  it('days to expiry match the API\'s inventory (floor of days from now), each bucket counted once', async () => {
    const api = (await store.inventoryTls({ limit: 100, sensor: LAB })).rows;
    const rows = (await run(byTitle(/^Certificates$/).sql(only(LAB)))).data;
    expect(rows).toHaveLength(api.length);
    for (const r of rows) {
      const a = api.find((x) => x.sha256 === r.sha256);
      expect(Number(r.days_to_expiry), String(r.sni)).toBe(a?.daysToExpiry);
    }
    expect(rows.map((r) => r.sni)).toEqual(['expired.lab', 'soon.lab', 'month.lab', 'quarter.lab', 'later.lab', 'forever.lab']);
    expect(rows.find((r) => r.sni === 'forever.lab')?.not_after_utc).toBe('2099-12-31 23:59:59');

    const buckets = (await run(byTitle(/by days to expiry/).sql(ctx))).data;
    expect(buckets.map((b) => [b.expiry, Number(b.certificates)])).toEqual([
      ['expired', 1], ['within 7 days', 1], ['within 30 days', 1], ['within 90 days', 1], ['later', 2],
    ]);
  });

  it('endpoints without a certificate (the capture\'s DTLS PSK server) are not certificates', async () => {
    expect(captured.tls.length).toBeGreaterThan(0);
    expect(captured.tls.every((t) => t.sha256 === '')).toBe(true);
    expect((await run(byTitle(/^Certificates$/).sql(only(SENSOR)))).data).toEqual([]);
    expect((await run(byTitle(/^Certificates$/).sql(ctx))).data).toHaveLength(6);
  });

  it('MQTT clients list each client with every endpoint it connected from', async () => {
    const rows = (await run(byTitle(/MQTT clients/).sql(only(LAB)))).data;
    const meter = rows.find((r) => r.client_id === 'lab-meter');
    expect(meter).toMatchObject({ mqtt_username: 'lab-meter', client_endpoints: '127.0.1.1:40001, 127.0.1.9:40002' });
    expect(Number(meter?.sessions)).toBe(2);
    expect(rows.find((r) => r.client_id === 'lab-dashboard')).toMatchObject({ mqtt_username: '', mqtt_version: '5.0', over_tls: 1 });
  });

  it('the capture\'s clients, topics and CoAP resources add up as in the recorded rows', async () => {
    // One row per client id, username and broker (the panel shows the 500 latest), with the
    // sessions and messages of every recorded session under that key.
    const clients = (await run(byTitle(/MQTT clients/).sql(only(SENSOR)))).data;
    const key = (c: string, u: string | null, s: string) => JSON.stringify([c, u ?? '', s]);
    const want = new Map<string, { sessions: number; publishes: number }>();
    for (const r of captured.sessions) {
      const w = want.get(key(r.clientId, r.username, r.server)) ?? { sessions: 0, publishes: 0 };
      w.sessions++;
      w.publishes += r.publishes;
      want.set(key(r.clientId, r.username, r.server), w);
    }
    expect(clients).toHaveLength(Math.min(500, want.size));
    for (const r of clients) {
      const k = key(String(r.client_id), String(r.mqtt_username), String(r.server));
      expect({ sessions: Number(r.sessions), publishes: Number(r.publishes_sent) }, k).toEqual(want.get(k));
    }

    const topics = (await run(byTitle(/^Topics$/).sql(only(SENSOR)))).data;
    const perTopic = new Map<string, number>();
    for (const t of captured.topics) perTopic.set(t.topic, (perTopic.get(t.topic) ?? 0) + t.publishes);
    expect(new Map(topics.map((r) => [String(r.topic), Number(r.messages)]))).toEqual(
      new Map([...perTopic].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 200)));

    const coap = (await run(byTitle(/CoAP resources/).sql(only(SENSOR)))).data;
    expect(coap.reduce((n, r) => n + Number(r.requests_n), 0)).toBe(captured.coap.reduce((n, r) => n + r.requests, 0));
    expect(new Set(coap.map((r) => `${r.server} ${r.method} ${r.path}`))).toEqual(new Set(captured.coap.map((r) => `${r.server} ${r.method} ${r.path}`)));
  });
});
