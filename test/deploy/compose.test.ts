// The deployment: docker-compose.yml as Compose itself resolves it (`docker compose config`;
// no Docker engine is needed for that, and none runs here), checked against what the sensor,
// Grafana and the dashboards need; the Dockerfile checked against the repository it builds
// from. Nothing is built or started: there is no engine to do it.
//
// Compose: the docker CLI's compose plugin (v2) when present. Debian bookworm does not package
// that plugin; its docker-compose package (1.29, a full Compose implementation with the same
// file validation and interpolation) is used then. Neither present is a failure, never a skip.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickhouseUrl } from '../../src/cli/store-options';

const ROOT = resolve(__dirname, '..', '..');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
export const MISSING_COMPOSE =
  'neither `docker compose` (the compose plugin) nor `docker-compose` works: apt-get install docker-compose ' +
  '(Debian bookworm packages Compose 1.29 as docker-compose, not the plugin); .ci/run installs it';

type Json = Record<string, any>;

interface ComposeTool {
  name: string;
  cmd: string;
  args: string[];
  json: boolean;
}

function findCompose(): ComposeTool {
  const plugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  if (plugin.status === 0) return { name: `docker compose (${plugin.stdout.trim()})`, cmd: 'docker', args: ['compose'], json: true };
  const v1 = spawnSync('docker-compose', ['version', '--short'], { encoding: 'utf8' });
  if (v1.status === 0) return { name: `docker-compose ${v1.stdout.trim()}`, cmd: 'docker-compose', args: [], json: false };
  throw new Error(MISSING_COMPOSE);
}

const tmp = mkdtempSync(join(tmpdir(), 'iotwatch-compose-'));
const emptyEnvFile = join(tmp, 'empty.env');
writeFileSync(emptyEnvFile, '');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const BASE_ENV = { CLICKHOUSE_PASSWORD: 'ch-secret-1', GRAFANA_ADMIN_PASSWORD: 'gf-secret-1' };

let tool: ComposeTool;

/** `config` with only the given variables (and no .env), as JSON. */
function composeConfig(vars: Record<string, string>): { status: number | null; config: Json | null; stderr: string } {
  // Only PATH and HOME (docker finds user-installed CLI plugins under ~/.docker) pass through.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME ?? tmp, ...vars };
  const args = [...tool.args, '--env-file', emptyEnvFile, '--project-directory', ROOT, '-f', COMPOSE_FILE, 'config', ...(tool.json ? ['--format', 'json'] : [])];
  const r = spawnSync(tool.cmd, args, { encoding: 'utf8', env, cwd: tmp });
  if (r.status !== 0) return { status: r.status, config: null, stderr: r.stderr };
  let text = r.stdout;
  if (!tool.json) {
    // Compose 1.x prints YAML only; Debian's docker-compose depends on python3-yaml.
    const y = spawnSync('/usr/bin/python3', ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], { input: text, encoding: 'utf8' });
    if (y.status !== 0) throw new Error(`could not read docker-compose's YAML: ${y.stderr}`);
    text = y.stdout;
  }
  return { status: 0, config: JSON.parse(text) as Json, stderr: r.stderr };
}

interface Mount { type: string; source: string; target: string; readOnly: boolean }

/** Long and short volume syntax, as the two Compose generations print them, in one shape. */
function mounts(service: Json): Mount[] {
  return (service.volumes ?? []).map((v: Json | string) => {
    if (typeof v === 'string') {
      const [source, target, mode = 'rw'] = v.split(':');
      return { type: source.startsWith('/') || source.startsWith('.') ? 'bind' : 'volume', source, target, readOnly: mode.split(',').includes('ro') };
    }
    return { type: v.type, source: v.source, target: v.target, readOnly: v.read_only === true };
  });
}

interface Port { hostIp: string; published: string; target: string }

function ports(service: Json): Port[] {
  return (service.ports ?? []).map((p: Json | string) => {
    if (typeof p === 'string') {
      const parts = p.replace(/\/\w+$/, '').split(':');
      const [hostIp, published, target] = parts.length === 3 ? parts : ['', parts[0], parts[1]];
      return { hostIp, published, target };
    }
    return { hostIp: p.host_ip ?? '', published: String(p.published), target: String(p.target) };
  });
}

function env(service: Json): Record<string, string | null> {
  const e = service.environment ?? {};
  if (!Array.isArray(e)) return e;
  return Object.fromEntries(e.map((x: string) => (x.includes('=') ? [x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1)] : [x, null])));
}

let config: Json;

function loadConfig(): Json {
  tool = findCompose();
  const r = composeConfig({ ...BASE_ENV, IOTWATCH_INTERFACE: 'span0' });
  if (!r.config) throw new Error(`${tool.name} config failed (${r.status}): ${r.stderr}`);
  return r.config;
}

describe(`docker-compose.yml (as \`config\` resolves it)`, () => {
  beforeAll(() => {
    config = loadConfig();
  });

  it('validates and defines clickhouse, grafana and the sensor', () => {
    expect(Object.keys(config.services).sort()).toEqual(['clickhouse', 'grafana', 'sensor']);
  });

  it('runs the sensor on the host network with NET_RAW and NET_ADMIN only, built from the repo', () => {
    const s = config.services.sensor;
    expect(s.network_mode).toBe('host');
    expect([...s.cap_add].sort()).toEqual(['NET_ADMIN', 'NET_RAW']);
    expect(s.privileged ?? false).toBe(false);
    expect(resolve(s.build.context)).toBe(ROOT);
    expect(s.build.dockerfile ?? 'Dockerfile').toBe('Dockerfile');
    expect(s.ports ?? []).toEqual([]); // host network: nothing to publish
    expect(s.depends_on.clickhouse.condition).toBe('service_healthy');
  });

  it('starts `iotwatch sensor` on $IOTWATCH_INTERFACE (default eth0), storing into the compose ClickHouse', () => {
    const s = config.services.sensor;
    expect(s.command).toEqual(['sensor', '--interface', 'span0', '--listen', '127.0.0.1:8087']);
    const defaults = composeConfig(BASE_ENV).config!;
    expect(defaults.services.sensor.command.slice(0, 3)).toEqual(['sensor', '--interface', 'eth0']);

    const url = new URL(env(s).IOTWATCH_CLICKHOUSE_URL!);
    expect(url.username).toBe('iotwatch');
    expect(url.password).toBe(BASE_ENV.CLICKHOUSE_PASSWORD);
    expect(url.pathname).toBe('/iotwatch');
    // The sensor shares the host's network: it reaches ClickHouse where compose publishes it.
    const published = ports(config.services.clickhouse).find((p) => p.target === '8123');
    expect(published).toEqual({ hostIp: '127.0.0.1', published: url.port, target: '8123' });
    expect(url.hostname).toBe(published?.hostIp);
    expect(env(config.services.clickhouse)).toMatchObject({ CLICKHOUSE_USER: url.username, CLICKHOUSE_PASSWORD: url.password, CLICKHOUSE_DB: 'iotwatch' });
    expect(mounts(s)).toContainEqual({ type: 'volume', source: 'iotwatch-home', target: env(s).IOTWATCH_HOME, readOnly: false });
    expect(s.command.join(' ')).not.toContain(BASE_ENV.CLICKHOUSE_PASSWORD);
  });

  it('refuses to resolve without the passwords, naming the variable', () => {
    const r = composeConfig({ GRAFANA_ADMIN_PASSWORD: 'x' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('CLICKHOUSE_PASSWORD');
    const g = composeConfig({ CLICKHOUSE_PASSWORD: 'x' });
    expect(g.status).not.toBe(0);
    expect(g.stderr).toContain('GRAFANA_ADMIN_PASSWORD');
  });

  it('runs ClickHouse 24 with a health check', () => {
    const c = config.services.clickhouse;
    expect(c.image).toMatch(/^clickhouse\/clickhouse-server:24\.\d+/);
    expect(c.healthcheck.test.join(' ')).toContain('/ping');
    expect(mounts(c).map((m) => m.target)).toContain('/var/lib/clickhouse');
  });

  it('gives Grafana the ClickHouse plugin and mounts the provisioning and the dashboards read-only', () => {
    const g = config.services.grafana;
    expect(g.image).toMatch(/^grafana\/grafana:/);
    expect(env(g).GF_INSTALL_PLUGINS).toMatch(/(^|,)grafana-clickhouse-datasource( [\d.]+)?(,|$)/);
    const m = mounts(g);
    const bind = (source: string, target: string) => ({ type: 'bind', source: join(ROOT, source), target, readOnly: true });
    expect(m).toContainEqual(bind('dashboards/provisioning/datasources', '/etc/grafana/provisioning/datasources'));
    expect(m).toContainEqual(bind('dashboards/provisioning/dashboards', '/etc/grafana/provisioning/dashboards'));
    // The dashboards land where the provisioning provider looks for them.
    const provider = readFileSync(join(ROOT, 'dashboards/provisioning/dashboards/iotwatch.yaml'), 'utf8');
    const path = /^\s+path: (\S+)$/m.exec(provider)?.[1];
    expect(m).toContainEqual(bind('dashboards', path!));
    for (const x of m.filter((y) => y.type === 'bind')) expect(existsSync(x.source), x.source).toBe(true);
    // The data source file points at the compose ClickHouse service with the compose credentials.
    const ds = readFileSync(join(ROOT, 'dashboards/provisioning/datasources/clickhouse.yaml'), 'utf8');
    expect(/^\s+host: (\S+)$/m.exec(ds)?.[1]).toBe('clickhouse');
    expect(/^\s+port: (\d+)$/m.exec(ds)?.[1]).toBe('8123');
    for (const v of ['CLICKHOUSE_USER', 'CLICKHOUSE_PASSWORD', 'CLICKHOUSE_DB']) {
      expect(ds).toContain(`$${v}`);
      expect(env(g)[v], v).toBe(env(config.services.clickhouse)[v]);
    }
    expect(env(g).GF_SECURITY_ADMIN_PASSWORD).toBe(BASE_ENV.GRAFANA_ADMIN_PASSWORD);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

  it('builds on node:20-bookworm-slim with libpcap, and runs bin/iotwatch.js', () => {
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms.length).toBeGreaterThan(0);
    for (const f of froms) expect(f).toBe('node:20-bookworm-slim');
    expect(dockerfile).toMatch(/apt-get install[^\n]*libpcap-dev[^\n]*python3[^\n]*make[^\n]*g\+\+/);
    expect(dockerfile).toMatch(/apt-get install[^\n]*libpcap0\.8/);
    expect(dockerfile).toMatch(/npm ci\b/);
    expect(dockerfile).toMatch(/npx tsc -p /);
    expect(dockerfile).toMatch(/node -e "require\('cap'\)"/);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "\/app\/bin\/iotwatch\.js"\]$/m);
  });

  it('sends the builder every file it copies, and nothing else', () => {
    expect(ignore[0]).toBe('*');
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/));
    expect(sources.length).toBeGreaterThan(0);
    for (const s of sources) {
      expect(existsSync(join(ROOT, s)), s).toBe(true);
      const name = s.replace(/\/$/, '');
      expect(ignore.includes(`!${name}`) || ignore.includes(`!${name}/`), `${s} is excluded by .dockerignore`).toBe(true);
    }
  });

  it('compiles the service alone (src and detectors, without benches and tests)', () => {
    // The image compiles with this include list; an import from test/ would break only there.
    const cfg = join(tmp, 'tsconfig.image.json');
    // (typeRoots: from this temporary folder, "types": ["node"] would not find node_modules.)
    writeFileSync(cfg, JSON.stringify({
      extends: join(ROOT, 'tsconfig.json'),
      compilerOptions: { typeRoots: [join(ROOT, 'node_modules', '@types')] },
      include: [join(ROOT, 'src/**/*.ts'), join(ROOT, 'detectors/**/*.ts')],
    }));
    expect(dockerfile).toContain('"include": ["src/**/*.ts", "detectors/**/*.ts"]');
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', cfg, '--noEmit', '--listFiles'], { encoding: 'utf8' });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
    const files = tsc.stdout.split('\n').filter((f) => f.startsWith(ROOT) && !f.includes('/node_modules/'));
    expect(files.filter((f) => !f.startsWith(join(ROOT, 'src')) && !f.startsWith(join(ROOT, 'detectors')))).toEqual([]);
  }, 120_000);

  it('the sensor command compose runs exists with the options compose passes, and reads the URL compose sets', () => {
    const bin = join(ROOT, 'bin', 'iotwatch.js');
    const r = spawnSync(process.execPath, [bin, 'sensor', '--help'], { encoding: 'utf8' });
    expect(r.status, `${r.stderr} (dist/ is built by tsc; npm test runs it first)`).toBe(0);
    const resolved = config ?? loadConfig();
    for (const opt of resolved.services.sensor.command.filter((a: string) => a.startsWith('--'))) expect(r.stdout).toContain(opt);
    const url = env(resolved.services.sensor).IOTWATCH_CLICKHOUSE_URL!;
    expect(clickhouseUrl({}, { IOTWATCH_CLICKHOUSE_URL: url })).toBe(url);
  });
});
