// tshark as the reference decoder. Tests that use it fail with a clear message when it is
// missing (.ci/run installs it): they never skip.
import { execFileSync, spawnSync } from 'node:child_process';

export function requireTool(cmd: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) {
    throw new Error(`${cmd} is not installed: this test needs it (apt-get install ${pkg}; .ci/run installs it)`);
  }
}

/** tshark -T fields rows (tab-separated columns; multi-valued fields joined by ','). */
export function tsharkFields(path: string, fields: string[], filter: string, decodeAs: string[] = []): string[][] {
  requireTool('tshark', 'tshark');
  const args = ['-n', '-r', path, '-Y', filter, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const d of decodeAs) args.push('-d', d);
  for (const f of fields) args.push('-e', f);
  const out = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
  return out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}
