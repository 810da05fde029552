// The embedded store: the contract suite, then what only a file-backed store must prove:
// torn writes, a killed writer, compaction, bounds and the directory lock.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppendLog, crc32, LOG_MAGIC } from '../../src/store/append-log';
import { createEmbeddedStore } from '../../src/store/embedded/embedded-store';
import type { EmbeddedStore, EmbeddedStoreOptions } from '../../src/store/embedded/embedded-store';
import { StoreLockedError } from '../../src/store/errors';
import { makeAlert, topicRow, T0, MIN } from './alert-fixtures';
import { storeContract } from './contract';

const root = mkdtempSync(join(tmpdir(), 'iotwatch-embedded-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const newDir = (): string => join(root, `d${n++}`);

storeContract('embedded', async () => {
  const s = createEmbeddedStore({ dir: newDir() });
  await s.init();
  return s;
});

async function open(dir: string, over: Partial<EmbeddedStoreOptions> = {}): Promise<EmbeddedStore> {
  const s = createEmbeddedStore({ dir, ...over });
  await s.init();
  return s;
}

async function ids(s: EmbeddedStore): Promise<string[]> {
  const out: string[] = [];
  let c = '';
  for (;;) {
    const p = await s.feed(c, 1000);
    if (p.alerts.length === 0) return out;
    out.push(...p.alerts.map((a) => a.id));
    c = p.cursor;
  }
}

describe('append log framing', () => {
  it('CRC-32 is the IEEE one zlib uses', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });

  it('refuses a file that is not a log rather than truncating it', async () => {
    const f = join(newDir() + '.txt');
    writeFileSync(f, 'precious data that is not a log');
    await expect(AppendLog.open(f, () => undefined)).rejects.toThrow(/not an iotwatch log/);
    expect(readFileSync(f, 'utf8')).toBe('precious data that is not a log');
  });
});

describe('embedded store crash safety', () => {
  it('ignores a record torn mid-write and keeps every complete one', async () => {
    const dir = newDir();
    const s = await open(dir);
    for (let i = 0; i < 20; i++) await s.putAlerts([makeAlert(i)], 's1');
    await s.close();
    const log = join(dir, 'alerts.log');
    const size = statSync(log).size;
    truncateSync(log, size - 7); // the last record loses its tail

    const r = await open(dir);
    expect(await ids(r)).toEqual(Array.from({ length: 19 }, (_, i) => makeAlert(i).id));
    const rec = r.recovery().alerts!;
    expect(rec.records).toBe(19);
    expect(rec.tornBytes).toBeGreaterThan(0);
    expect(rec.tornFile && existsSync(rec.tornFile)).toBe(true);
    expect((await r.health()).detail).toMatch(/torn bytes/);
    // Appends after recovery land after the last good record and survive another reopen.
    await r.putAlerts([makeAlert(100)], 's1');
    await r.close();
    const again = await open(dir);
    expect(await ids(again)).toEqual([...Array.from({ length: 19 }, (_, i) => makeAlert(i).id), makeAlert(100).id]);
    expect(again.recovery().alerts!.tornBytes).toBe(0);
    await again.close();
  });

  it('ignores garbage after the last record, a bad CRC in it, and a torn header', async () => {
    const dir = newDir();
    const s = await open(dir);
    for (let i = 0; i < 5; i++) await s.putAlerts([makeAlert(i)], 's1');
    await s.close();
    const log = join(dir, 'alerts.log');
    appendFileSync(log, Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3])); // absurd length
    let r = await open(dir);
    expect(await ids(r)).toHaveLength(5);
    await r.close();
    // Flip one payload byte of the last record: its CRC no longer matches.
    const buf = readFileSync(log);
    buf[buf.length - 3] ^= 0x55;
    writeFileSync(log, buf);
    r = await open(dir);
    expect(await ids(r)).toEqual([0, 1, 2, 3].map((i) => makeAlert(i).id));
    await r.close();
    // A header of three bytes (crash right after creating the file) is a valid empty log.
    const d2 = newDir();
    await (await open(d2)).close();
    writeFileSync(join(d2, 'alerts.log'), LOG_MAGIC.subarray(0, 3));
    r = await open(d2);
    expect(await ids(r)).toEqual([]);
    await r.close();
  });

  it('loses nothing that was acknowledged when the writer is SIGKILLed mid-append', async () => {
    const dir = newDir();
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, [join(__dirname, 'helpers', 'embedded-writer.cjs'), dir, String(round * 100_000)], { stdio: ['ignore', 'pipe', 'pipe'] });
      const acked: number[] = [];
      let err = '';
      child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      let partial = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          const lines = (partial + d.toString()).split('\n');
          partial = lines.pop() ?? '';
          for (const l of lines) acked.push(Number(l));
          if (acked.length >= 300 + round * 57) child.kill('SIGKILL');
        });
        child.on('exit', (code, sig) => (sig === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code}: ${err}`))));
      });
      const s = await open(dir); // the dead child's LOCK is stale and taken over
      const have = new Set(await ids(s));
      const missing = acked.filter((i) => !have.has(makeAlert(i).id));
      expect(missing).toEqual([]);
      // Whatever is there came from complete records: every stored alert is intact.
      for (const id of [...have].slice(-5)) expect((await s.getAlert(id))?.summary).toMatch(/^Brute force/);
      await s.close();
    }
  }, 60_000);
});

describe('embedded store compaction and bounds', () => {
  it('compacts superseded versions and keeps alerts, statuses, seqs and feed cursors', async () => {
    const dir = newDir();
    const s = await open(dir, { compactMinRecords: 20, compactRatio: 2 });
    await s.putAlerts(Array.from({ length: 10 }, (_, i) => makeAlert(i)), 's1');
    await s.setStatus(makeAlert(3).id, 'closed', 'alice', 'fp');
    const mid = await s.feed('', 5);
    for (let round = 0; round < 30; round++) await s.putAlerts([{ ...makeAlert(round % 10), count: round }], 's1');
    await new Promise((r) => setTimeout(r, 50)); // compaction runs in the background
    const before = await ids(s);
    const afterMid = (await s.feed(mid.cursor, 1000)).alerts.map((a) => a.id);
    const size = statSync(join(dir, 'alerts.log')).size;
    await s.close();
    // 10 + 1 + 30 records were written; after compaction the log holds the 10 live ones (+ meta, + a few).
    expect(size).toBeLessThan(25 * 1200);

    const r = await open(dir);
    expect(r.recovery().alerts!.records).toBeLessThan(41);
    expect(await ids(r)).toEqual(before);
    expect((await r.feed(mid.cursor, 1000)).alerts.map((a) => a.id)).toEqual(afterMid);
    expect(await r.getAlert(makeAlert(3).id)).toMatchObject({ status: 'closed', statusBy: 'alice', statusNote: 'fp' });
    // seq keeps growing after a reopen of a compacted log.
    const maxSeq = Math.max(...(await r.feed('', 1000)).alerts.map((a) => a.seq));
    await r.putAlerts([makeAlert(50)], 's1');
    expect((await r.getAlert(makeAlert(50).id))!.seq).toBeGreaterThan(maxSeq);
    await r.compact();
    await r.close();
    const again = await open(dir);
    expect((await again.getAlert(makeAlert(50).id))!.seq).toBeGreaterThan(maxSeq);
    await again.close();
  });

  it('evicts the least recently written alerts past maxAlerts, counts them (15 of 25), and stays bounded after reopen', async () => {
    const dir = newDir();
    const s = await open(dir, { maxAlerts: 10 });
    for (let i = 0; i < 25; i++) await s.putAlerts([makeAlert(i)], 's1');
    await s.putAlerts([{ ...makeAlert(15), count: 9 }], 's1'); // rewritten: now the newest
    expect((await s.queryAlerts({ limit: 100 })).alerts).toHaveLength(10);
    expect(await ids(s)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 15].map((i) => makeAlert(i).id));
    expect((await s.health()).counters!.alerts_evicted).toBe(15);
    await s.close();
    const r = await open(dir, { maxAlerts: 10 });
    expect(await ids(r)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 15].map((i) => makeAlert(i).id));
    expect((await r.health()).counters!.alerts_evicted).toBe(15);
    await r.compact();
    await r.close();
    const c = await open(dir, { maxAlerts: 10 });
    expect((await c.health()).counters!.alerts_evicted).toBe(15);
    await c.close();
  });

  it('bounds every forensic table and counts what it evicts', async () => {
    const dir = newDir();
    const s = await open(dir, { maxRecordRows: 5 });
    await s.putRecords({ topics: Array.from({ length: 12 }, (_, i) => topicRow({ minute: T0 + i * MIN, topic: `t/${i}` })) });
    const page = await s.inventoryTopics({ limit: 100 });
    expect(page.rows.map((r) => r.topic)).toEqual(['t/11', 't/10', 't/9', 't/8', 't/7']);
    expect((await s.health()).counters!.topics_rows_evicted).toBe(7);
    await s.close();
    const r = await open(dir, { maxRecordRows: 5 });
    expect((await r.inventoryTopics({ limit: 100 })).rows).toHaveLength(5);
    await r.close();
  });
});

describe('embedded store directory lock', () => {
  it('refuses a second open of the same directory, and takes over a stale lock', async () => {
    const dir = newDir();
    const s = await open(dir);
    await expect(open(dir)).rejects.toBeInstanceOf(StoreLockedError);
    await s.close();
    const again = await open(dir);
    await again.close();
    writeFileSync(join(dir, 'LOCK'), '999999999\n'); // a pid that does not exist
    const stale = await open(dir);
    await stale.close();
    expect(readdirSync(dir)).not.toContain('LOCK');
  });
});
