// Starts a real mosquitto broker on a free loopback port for a test, and runs the
// mosquitto clients. A missing binary is a clear failure, never a skip.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './tshark';

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => { c.destroy(); resolve(true); });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Broker {
  port: number;
  stop(): Promise<void>;
}

export async function startMosquitto(extraConfig = ''): Promise<Broker> {
  requireTool('mosquitto', 'mosquitto');
  const dir = mkdtempSync(join(tmpdir(), 'iotwatch-mosq-'));
  chmodSync(dir, 0o755); // mosquitto drops root privileges
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n${extraConfig}`);
  chmodSync(conf, 0o644);
  const proc: ChildProcess = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  await waitForPort(port, 5000);
  return {
    port,
    stop: async () => {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a mosquitto client (mosquitto_pub / mosquitto_sub) to completion. */
export function mosquittoClient(cmd: 'mosquitto_pub' | 'mosquitto_sub', args: string[]): { status: number | null; stdout: string; stderr: string } {
  requireTool(cmd, 'mosquitto-clients');
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
