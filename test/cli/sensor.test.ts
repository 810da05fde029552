// The whole service on a live interface: `iotwatch sensor` captures on lo while a real mosquitto
// and mosquitto_pub talk, alerts reach the store and the API while it runs, and SIGINT stops it
// cleanly (exit 0, store flushed, baseline saved).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store';
import { freePort, mosquittoClient, startMosquitto, type Broker } from '../helpers/mosquitto';

const root = join(__dirname, '..', '..');

describe('iotwatch sensor on lo', () => {
  let broker: Broker;
  let home: string;
  beforeAll(async () => {
    if (process.getuid && process.getuid() !== 0) throw new Error('live capture on lo needs root (CI runs as root)');
    broker = await startMosquitto();
    home = mkdtempSync(join(tmpdir(), 'iotwatch-sensor-'));
  });
  afterAll(async () => {
    await broker?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('captures, detects, stores and serves while running, and flushes on SIGINT', async () => {
    const api = await freePort();
    const store = join(home, 'store');
    const proc = spawn(process.execPath, [
      join(root, 'bin', 'iotwatch.js'), 'sensor', '--interface', 'lo', '--bpf', `tcp port ${broker.port}`,
      '--store', store, '--listen', `127.0.0.1:${api}`, '--sensor-id', 'sensor-test',
    ], { env: { ...process.env, IOTWATCH_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    const until = async (cond: () => boolean | Promise<boolean>, what: string): Promise<void> => {
      const end = Date.now() + 20_000;
      while (!(await cond())) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}; sensor said:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      await until(() => /API listening/.test(stderr) && /capturing on lo/.test(stderr), 'the sensor to start');
      // Credentials in clear on a broker that accepts them: a posture finding at once.
      const r = mosquittoClient('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-i', 'meter-7', '-u', 'meter-7', '-P', 'hunter2-secret', '-t', 'plant/meter-7/telemetry', '-m', '{"kwh":1}', '-q', '1']);
      expect(r.status, r.stderr).toBe(0);
      let alerts: { detector: string; sensor: string }[] = [];
      await until(async () => {
        const res = await fetch(`http://127.0.0.1:${api}/api/v1/alerts`);
        alerts = ((await res.json()) as { alerts: { detector: string; sensor: string }[] }).alerts;
        return alerts.length > 0;
      }, 'an alert in the API');
      expect(alerts.map((a) => a.detector)).toContain('mqtt.plaintext_credentials');
      expect(alerts[0].sensor).toBe('sensor-test');
      const metrics = await (await fetch(`http://127.0.0.1:${api}/metrics`)).text();
      expect(metrics).toMatch(/packets/);
    } finally {
      proc.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/SIGINT: stopping capture and flushing/);
    expect(stderr).not.toContain('hunter2-secret');
    expect(existsSync(join(home, 'baseline.json'))).toBe(true);
    // What the sensor stored survives it: the same store reopened holds the alert and the session.
    const s = await openStore({ dir: store });
    try {
      const page = await s.queryAlerts({ limit: 10 });
      expect(page.alerts.map((a) => a.detector)).toContain('mqtt.plaintext_credentials');
      const clients = await s.inventoryClients({ limit: 10 });
      expect(clients.rows.map((c) => c.clientId)).toContain('meter-7');
    } finally {
      await s.close();
    }
  }, 60_000);
});
