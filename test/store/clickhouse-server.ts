// A real ClickHouse server for tests and the bench: Debian's clickhouse-server started from a
// temporary directory with a minimal config, on free loopback ports, waited for on /ping.
// A missing binary is a failure with instructions, never a skip.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MISSING_SERVER = 'clickhouse-server not installed: apt-get install clickhouse-server; .ci/run installs it';

/** The server binary: $IOTWATCH_CLICKHOUSE_SERVER, Debian's paths, or the single `clickhouse` binary of newer packages. */
export function findServerBinary(): { cmd: string; args: string[] } {
  const env = process.env.IOTWATCH_CLICKHOUSE_SERVER;
  if (env) {
    if (!existsSync(env)) throw new Error(`${MISSING_SERVER} (IOTWATCH_CLICKHOUSE_SERVER=${env} does not exist)`);
    return { cmd: env, args: [] };
  }
  // Debian's 18.16 package puts it in /usr/sbin; upstream packages in /usr/bin.
  for (const p of ['/usr/bin/clickhouse-server', '/usr/sbin/clickhouse-server']) if (existsSync(p)) return { cmd: p, args: [] };
  const which = spawnSync('sh', ['-c', 'command -v clickhouse-server || command -v clickhouse'], { encoding: 'utf8' });
  const found = which.stdout.trim().split('\n')[0];
  if (which.status === 0 && found) return found.endsWith('/clickhouse') ? { cmd: found, args: ['server'] } : { cmd: found, args: [] };
  throw new Error(MISSING_SERVER);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export interface TestServerOptions {
  /** Name of a one-shard cluster whose only replica is this server (remote_servers). */
  cluster?: string;
}

export class TestClickHouse {
  private proc: ChildProcess | null = null;
  readonly url: string;

  private constructor(readonly dir: string, readonly httpPort: number, readonly tcpPort: number, readonly interserverPort: number, readonly cluster: string) {
    this.url = `http://127.0.0.1:${httpPort}`;
  }

  static async start(opts: TestServerOptions = {}): Promise<TestClickHouse> {
    const bin = findServerBinary(); // throws MISSING_SERVER first, before any temp dir
    const dir = mkdtempSync(join(tmpdir(), 'iotwatch-ch-'));
    const s = new TestClickHouse(dir, await freePort(), await freePort(), await freePort(), opts.cluster ?? 'iotwatch_test');
    s.writeConfig();
    await s.launch(bin);
    return s;
  }

  private writeConfig(): void {
    const d = this.dir;
    mkdirSync(join(d, 'data'), { recursive: true });
    // <yandex> is the root 18.16 knows; 24+ still accepts it.
    writeFileSync(join(d, 'config.xml'), `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${d}/server.log</log><errorlog>${d}/server.err.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${this.httpPort}</http_port>
  <tcp_port>${this.tcpPort}</tcp_port>
  <interserver_http_port>${this.interserverPort}</interserver_http_port>
  <path>${d}/data/</path>
  <tmp_path>${d}/data/tmp/</tmp_path>
  <user_files_path>${d}/data/user_files/</user_files_path>
  <format_schema_path>${d}/data/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <remote_servers>
    <${this.cluster}>
      <shard><replica><host>127.0.0.1</host><port>${this.tcpPort}</port></replica></shard>
    </${this.cluster}>
  </remote_servers>
  <macros><shard>01</shard><replica>r1</replica></macros>
</yandex>
`);
    writeFileSync(join(d, 'users.xml'), `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`);
  }

  private async launch(bin = findServerBinary()): Promise<void> {
    const out = openSync(join(this.dir, 'stdout.log'), 'a');
    const proc = spawn(bin.cmd, [...bin.args, `--config-file=${join(this.dir, 'config.xml')}`], { cwd: this.dir, stdio: ['ignore', out, out] });
    this.proc = proc;
    let exited: string | null = null;
    proc.once('exit', (code, sig) => { exited = `exited with ${code ?? sig}`; });
    proc.once('error', (e) => { exited = `could not start: ${e.message}`; });
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (exited !== null) throw new Error(`clickhouse-server ${exited}: ${this.logTail()}`);
      if (await this.ping()) return;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`clickhouse-server did not answer /ping within 60 s: ${this.logTail()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private logTail(): string {
    const read = (f: string): string => (existsSync(join(this.dir, f)) ? readFileSync(join(this.dir, f), 'utf8').slice(-2000) : '');
    return `${read('stdout.log')}\n${read('server.err.log')}`;
  }

  async ping(): Promise<boolean> {
    try {
      const r = await fetch(`${this.url}/ping`, { signal: AbortSignal.timeout(1000) });
      return r.ok;
    } catch {
      return false;
    }
  }

  /** Runs SQL over HTTP without the store's code (for checks that must not trust it). */
  async sql(query: string): Promise<string> {
    const r = await fetch(`${this.url}/`, { method: 'POST', body: query });
    const text = await r.text();
    if (!r.ok) throw new Error(text);
    return text;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** SIGKILL: the crash a store must survive. */
  async kill(): Promise<void> {
    await this.stopWith('SIGKILL');
  }

  /** Starts again on the same data directory and ports. */
  async restart(): Promise<void> {
    if (this.proc) await this.stopWith('SIGTERM');
    // The old listener's port can linger briefly; launch retries until /ping answers.
    for (let i = 0; ; i++) {
      try {
        await this.launch();
        return;
      } catch (e) {
        if (i >= 5) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private async stopWith(sig: NodeJS.Signals): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) {
      this.proc = null;
      return;
    }
    const done = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(sig);
    const t = setTimeout(() => p.kill('SIGKILL'), 20_000);
    await done;
    clearTimeout(t);
    this.proc = null;
  }

  /** Stops the server and deletes its directory (no graceful shutdown: nothing is kept). */
  async stop(): Promise<void> {
    await this.stopWith('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
