// The README is part of the product: its quick start must work on a clean copy of the
// repository, and its detector catalogue must be the one the code has.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogueMarkdown } from '../src/cli/detectors';

const root = join(__dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The commands of the first fenced block under the "Quick start" heading. */
function quickStart(): string[] {
  const section = readme.slice(readme.search(/^#+ Quick start/im));
  const block = /```[a-z]*\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README: no fenced code block under "Quick start"');
  return block[1].split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

describe('README', () => {
  it('has a quick start of exactly two commands: the main job, then the tests', () => {
    const cmds = quickStart();
    expect(cmds).toHaveLength(2);
    expect(cmds[0]).toMatch(/analyze .*pcaps\//);
    expect(cmds[1]).toBe('npm test');
  });

  it('embeds the detector catalogue the code has (iotwatch detectors --markdown)', () => {
    const m = /<!-- catalogue:[^\n]*-->\n([\s\S]*?)\n<!-- end of catalogue -->/.exec(readme);
    expect(m, 'catalogue markers').not.toBeNull();
    expect(m![1]).toBe(catalogueMarkdown());
  });

  it('runs the first quick-start command on a clean copy of the repository', () => {
    const copy = mkdtempSync(join(tmpdir(), 'iotwatch-readme-'));
    const home = mkdtempSync(join(tmpdir(), 'iotwatch-home-'));
    try {
      // Only what git tracks: no node_modules, no dist, no local state.
      const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
      for (const f of files) {
        mkdirSync(dirname(join(copy, f)), { recursive: true });
        cpSync(join(root, f), join(copy, f));
      }
      const r = spawnSync('bash', ['-c', quickStart()[0]], {
        cwd: copy,
        env: { ...process.env, HOME: home, npm_config_cache: process.env.npm_config_cache ?? join(homedir(), '.npm'), IOTWATCH_HOME: join(home, '.iotwatch'), npm_config_audit: 'false', npm_config_fund: 'false' },
        encoding: 'utf8',
        timeout: 540_000,
        maxBuffer: 1 << 26,
      });
      expect(r.status, `${r.stdout.slice(-2000)}\n${r.stderr.slice(-4000)}`).toBe(0);
      // It shows the attacks' alerts and stored them in the embedded store.
      expect(r.stdout).toMatch(/^alerts: \d+/m);
      for (const d of ['mqtt.auth_bruteforce', 'mqtt.connect_flood', 'coap.request_flood', 'mqtt.plaintext_credentials']) {
        expect(r.stdout).toContain(d);
      }
      expect(r.stderr).toMatch(/alerts written to the embedded store/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    }
  }, 600_000);
});
