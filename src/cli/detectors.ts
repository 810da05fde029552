// iotwatch detectors: the detector catalogue (ids, what an alert means, what to do, tunables).
import { parseArgs } from 'node:util';
import { detectorCatalogue, type CatalogueEntry } from '../alerts/catalogue';

export const DETECTORS_HELP = `usage: iotwatch detectors [--json | --markdown]

Lists every detector: its id (as in alerts and --config), category, default severity, what an
alert means, what to do about it, the MITRE ATT&CK for ICS technique, and its tunables.
`;

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The catalogue as the README's Markdown tables (the README embeds exactly this). */
export function catalogueMarkdown(entries: readonly CatalogueEntry[] = detectorCatalogue()): string {
  const lines: string[] = [];
  for (const cat of ['anomaly', 'posture'] as const) {
    lines.push(`| ${cat} detector | severity | what it means | what to do | ATT&CK for ICS |`, '|---|---|---|---|---|');
    for (const d of entries.filter((e) => e.category === cat)) {
      lines.push(`| \`${d.id}\` | ${d.severity} | ${cell(d.description)} | ${cell(d.recommendation)} | ${d.mitre ?? ''} |`);
    }
    lines.push('');
  }
  lines.push('Tunables (defaults; override per detector in the `--config` file):', '');
  for (const d of entries) {
    const t = d.tunables.map((x) => `\`${x.name}\`=${JSON.stringify(x.default)}`).join(', ');
    lines.push(`- \`${d.id}\`: ${t}`);
  }
  return lines.join('\n');
}

export async function detectorsCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, markdown: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(DETECTORS_HELP);
    return 0;
  }
  const entries = detectorCatalogue();
  if (values.json) process.stdout.write(JSON.stringify(entries, null, 1) + '\n');
  else if (values.markdown) process.stdout.write(catalogueMarkdown(entries) + '\n');
  else {
    for (const d of entries) {
      process.stdout.write(`${d.id.padEnd(28)} ${d.category.padEnd(8)} ${d.severity.padEnd(8)} ${d.description}\n`);
    }
  }
  return 0;
}
