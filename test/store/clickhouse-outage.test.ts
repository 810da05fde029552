// The bad day: ClickHouse dies, stalls, or is down when the sensor starts. Alerts must spool
// locally without holding up capture, and arrive exactly once and in order when it returns.
// This file has its own server because it kills it.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/types';
import { createClickHouseStore } from '../../src/store/clickhouse/clickhouse-store';
import type { ClickHouseStore, ClickHouseStoreOptions } from '../../src/store/clickhouse/clickhouse-store';
import { Spool } from '../../src/store/clickhouse/spool';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { makeAlert } from './alert-fixtures';
import { freePort, TestClickHouse } from './clickhouse-server';

let server: TestClickHouse;
const root = mkdtempSync(join(tmpdir(), 'iotwatch-outage-'));
let n = 0;

beforeAll(async () => {
  server = await TestClickHouse.start();
});
afterAll(async () => {
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

function options(over: Partial<ClickHouseStoreOptions> = {}): ClickHouseStoreOptions {
  const i = n++;
  return {
    url: server.url, database: `o${i}`, spoolDir: join(root, `spool${i}`),
    lingerMs: 5, batchRows: 20, insertTimeoutMs: 1500, retryMs: 200, feedLagMs: 0, retentionCheckMs: 0,
    ...over,
  };
}

/** Alerts as ClickHouse holds them: one row per id after FINAL, in seq order. Bypasses the store. */
async function stored(db: string): Promise<{ id: string; seq: number }[]> {
  const text = await server.sql(`SELECT id, seq FROM ${db}.alerts FINAL ORDER BY seq FORMAT JSONEachRow`);
  return text.trim().split('\n').filter(Boolean).map((l) => {
    const r = JSON.parse(l) as { id: string; seq: string };
    return { id: r.id, seq: Number(r.seq) };
  });
}

async function until(what: string, cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A TCP proxy in front of the server that can be made to swallow traffic (a stuck server). */
class StallProxy {
  stalled = false;
  private sockets = new Set<Socket>();
  private constructor(private readonly srv: Server, readonly port: number) {}
  static async start(target: number): Promise<StallProxy> {
    const port = await freePort();
    let self: StallProxy | null = null;
    const srv = createServer((c) => {
      self!.sockets.add(c);
      c.on('close', () => self!.sockets.delete(c));
      c.on('error', () => undefined);
      if (self!.stalled) return; // accept, read nothing, answer nothing
      const up = connect(target, '127.0.0.1');
      up.on('error', () => c.destroy());
      c.on('error', () => up.destroy());
      c.pipe(up).pipe(c);
      self!.sockets.add(up);
      up.on('close', () => self!.sockets.delete(up));
    });
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
    self = new StallProxy(srv, port);
    return self;
  }
  /** Stall: drop live connections (so pooled keep-alive sockets stall too) and swallow new ones. */
  stall(): void {
    this.stalled = true;
    for (const s of this.sockets) s.destroy();
  }
  resume(): void {
    this.stalled = false;
    for (const s of this.sockets) s.destroy();
  }
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.srv.close(() => r()));
  }
}

describe('ClickHouse outages', () => {
  it('spools while the server is killed, replays after it restarts: every alert once, in put order', async () => {
    const store = await createClickHouseStore(options());
    await store.init();
    const put: Alert[] = [];
    let slowest = 0;
    const putBatch = async (i: number): Promise<void> => {
      const batch = [makeAlert(i * 3), makeAlert(i * 3 + 1), makeAlert(i * 3 + 2)];
      put.push(...batch);
      const t = Date.now();
      await store.putAlerts(batch, 'sensor-1');
      slowest = Math.max(slowest, Date.now() - t);
    };
    for (let i = 0; i < 60; i++) await putBatch(i);
    expect((await store.health()).spoolRecords).toBe(0);

    // SIGKILL while puts keep going: not awaited, so it lands wherever the writer happens to be.
    const killed = server.kill();
    let duringOutage = 0;
    for (let i = 60; i < 130; i++) {
      const t = Date.now();
      await putBatch(i);
      if (i > 65) duringOutage = Math.max(duringOutage, Date.now() - t);
    }
    await killed;
    const h = await store.health();
    expect(h.ok).toBe(false);
    expect(h.spoolRecords).toBeGreaterThan(0);
    expect(h.spoolBytes).toBeGreaterThan(0);
    expect(h.detail).toMatch(/unreachable/);
    // A dead server refuses connections at once: puts resolve as soon as they are spooled.
    expect(duringOutage).toBeLessThan(1500);

    // Same data directory, same ports; puts go on while it starts.
    const restarted = server.restart();
    for (let i = 130; i < 170; i++) await putBatch(i);
    await restarted;
    for (let i = 170; i < 200; i++) await putBatch(i);
    await until('the spool to drain', async () => (await store.health()).spoolRecords === 0);
    await store.flush();

    const rows = await stored(store.database);
    expect(rows.map((r) => r.id)).toEqual(put.map((a) => a.id));
    expect(new Set(rows.map((r) => r.seq)).size).toBe(rows.length);
    const counters = (await store.health()).counters!;
    expect(counters.alerts_spooled).toBeGreaterThan(0);
    expect(counters.alerts_replayed).toBeGreaterThan(0);
    // And the store's own reads agree.
    const all: string[] = [];
    let c = '';
    for (;;) {
      const p = await store.feed(c, 1000);
      if (p.alerts.length === 0) break;
      all.push(...p.alerts.map((a) => a.id));
      c = p.cursor;
    }
    expect(all).toEqual(put.map((a) => a.id));
    await store.close();
  });

  it('spools when the server stalls (insert timeout) without holding up puts for longer than the timeout', async () => {
    const proxy = await StallProxy.start(server.httpPort);
    const store = createClickHouseStore(options({ url: `http://127.0.0.1:${proxy.port}`, insertTimeoutMs: 800 }));
    await store.init();
    const put: Alert[] = [];
    for (let i = 0; i < 5; i++) {
      const a = makeAlert(i);
      put.push(a);
      await store.putAlerts([a], 's');
    }
    proxy.stall();
    let slowest = 0;
    for (let i = 5; i < 25; i++) {
      const a = makeAlert(i);
      put.push(a);
      const t = Date.now();
      await store.putAlerts([a], 's');
      slowest = Math.max(slowest, Date.now() - t);
    }
    expect(slowest).toBeLessThan(800 + 1000);
    expect((await store.health()).spoolRecords).toBeGreaterThan(0);
    proxy.resume();
    await until('the spool to drain', async () => (await store.health()).spoolRecords === 0);
    expect((await stored(store.database)).map((r) => r.id)).toEqual(put.map((a) => a.id));
    await store.close();
    await proxy.close();
  });

  it('starts with the server down, spools, and a later run replays the spool', async () => {
    const opts = options();
    // First run: no server at all at this URL.
    const deadPort = await freePort();
    const first = createClickHouseStore({ ...opts, url: `http://127.0.0.1:${deadPort}` });
    await first.init(); // an unreachable server is an outage, not a configuration error
    const put = Array.from({ length: 30 }, (_, i) => makeAlert(500 + i));
    await first.putAlerts(put.slice(0, 10), 's');
    await first.putAlerts(put.slice(10), 's');
    const h = await first.health();
    expect(h.spoolRecords).toBe(30);
    expect(h.ok).toBe(false);
    await first.close();

    // Second run, same spool directory, server reachable: the schema is created and the spool replayed.
    const second = createClickHouseStore(opts);
    await second.init();
    await until('the spool to drain', async () => (await second.health()).spoolRecords === 0);
    expect((await stored(second.database)).map((r) => r.id)).toEqual(put.map((a) => a.id));
    expect((await second.getAlert(put[29].id))?.sensor).toBe('s');
    await second.close();
  });

  it('sets aside spooled rows the server refuses as data, and replays the rest', async () => {
    const opts = options({ retryMs: 50 });
    mkdirSync(opts.spoolDir, { recursive: true });
    const spool = await Spool.open(join(opts.spoolDir, 'clickhouse.spool'), {});
    const good = [makeAlert(900), makeAlert(901)];
    // A record that validation would never let in (a spool edited by hand, or from a buggy version).
    const bad = { ...makeAlert(902), firstTs: 'not a number' } as unknown as Alert;
    await spool.append([{ k: 'a', s: 's', a: [good[0]], t: Date.now() }, { k: 'a', s: 's', a: [bad], t: Date.now() }, { k: 'a', s: 's', a: [good[1]], t: Date.now() }]);
    await spool.close();
    const store = createClickHouseStore({ ...opts, batchRows: 1 });
    await store.init();
    await until('the spool to drain', async () => (await store.health()).spoolRecords === 0);
    expect((await stored(store.database)).map((r) => r.id)).toEqual(good.map((a) => a.id));
    const dead = join(opts.spoolDir, 'clickhouse.dead.jsonl');
    expect(existsSync(dead)).toBe(true);
    expect(readFileSync(dead, 'utf8')).toContain(makeAlert(902).id);
    expect((await store.health()).counters!.dead_lettered_rows).toBe(1);
    await store.close();
  });

  it('refuses a server that answers with errors at init (configuration, not outage)', async () => {
    const bad = createClickHouseStore(options({ url: `http://nobody:wrong@127.0.0.1:${server.httpPort}` }));
    await expect(bad.init()).rejects.toThrow(/Code: \d+/);
    await bad.close();
  });
});
