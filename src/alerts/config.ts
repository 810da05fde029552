// Detector configuration: engine settings plus per-detector overrides of tunables, validated
// against each detector's schema. Unknown keys and out-of-range values are errors, all listed.
import { readFileSync } from 'node:fs';
import type { AnyDetector, TunableSchema, TunableValue } from '../../detectors/lib/detector';
import { DETECTORS } from '../../detectors';

export interface EngineSettings {
  /** Seconds of capture time, from the first event, during which detectors only learn. */
  readonly learningPeriod: number;
  /** Whether learningPeriod was set explicitly (otherwise a loaded baseline replaces learning). */
  readonly learningPeriodSet: boolean;
  /** Default suppression interval of anomaly alerts, seconds. */
  readonly suppress: number;
  /** Alerts kept for alerts(); the sink still sees the ones beyond. */
  readonly maxAlerts: number;
}

export interface DetectorSettings {
  readonly enabled: boolean;
  readonly suppress: number;
  readonly tunables: Readonly<Record<string, TunableValue>>;
}

export interface ResolvedConfig {
  readonly engine: EngineSettings;
  readonly detectors: ReadonlyMap<string, DetectorSettings>;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly problems: readonly string[], source = 'config') {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n  ${problems.join('\n  ')}`);
  }
}

export const ENGINE_SCHEMA: Readonly<Record<keyof Omit<EngineSettings, 'learningPeriodSet'>, TunableSchema>> = {
  learningPeriod: { type: 'integer', min: 0, max: 30 * 86_400, description: 'seconds of capture time, from the first event, during which anomaly detectors only learn (default 600; 0 with a loaded baseline)' },
  suppress: { type: 'integer', min: 1, max: 30 * 86_400, description: 'seconds an anomaly alert stays open: firings of the same key within it update it' },
  maxAlerts: { type: 'integer', min: 1, max: 100_000_000, description: 'alerts kept in memory for alerts() (the sink sees all)' },
};

export const ENGINE_DEFAULTS = { learningPeriod: 600, suppress: 3600, maxAlerts: 100_000 } as const;

/** Keys every detector accepts besides its tunables. */
export const COMMON_SCHEMA: Readonly<Record<'enabled' | 'suppress', TunableSchema>> = {
  enabled: { type: 'boolean', description: 'run this detector (default true)' },
  suppress: { type: 'integer', min: 1, max: 30 * 86_400, description: 'suppression interval of this detector, seconds (anomaly detectors; posture alerts last the whole run)' },
};

const resolved = new WeakSet<object>();

export function isResolvedConfig(c: unknown): c is ResolvedConfig {
  return typeof c === 'object' && c !== null && resolved.has(c);
}

/** Check one value against its schema; a problem sentence, or null. */
export function checkValue(path: string, v: unknown, s: TunableSchema): string | null {
  const num = (x: unknown, integer: boolean, where: string): string | null => {
    if (typeof x !== 'number' || !Number.isFinite(x)) return `${where}: expected ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(x)}`;
    if (integer && !Number.isInteger(x)) return `${where}: expected an integer, got ${x}`;
    if (s.min !== undefined && x < s.min) return `${where}: ${x} is below the minimum ${s.min}`;
    if (s.max !== undefined && x > s.max) return `${where}: ${x} is above the maximum ${s.max}`;
    return null;
  };
  switch (s.type) {
    case 'integer': return num(v, true, path);
    case 'number': return num(v, false, path);
    case 'boolean': return typeof v === 'boolean' ? null : `${path}: expected true or false, got ${JSON.stringify(v)}`;
    case 'string':
      if (typeof v !== 'string') return `${path}: expected a string, got ${JSON.stringify(v)}`;
      return s.enum !== undefined && !s.enum.includes(v) ? `${path}: ${JSON.stringify(v)} is not one of ${s.enum.join(', ')}` : null;
    case 'string[]':
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return `${path}: expected a list of strings`;
      return null;
    case 'integer[]':
      if (!Array.isArray(v)) return `${path}: expected a list of integers`;
      for (let i = 0; i < v.length; i++) {
        const p = num(v[i], true, `${path}[${i}]`);
        if (p !== null) return p;
      }
      return null;
  }
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Validate a config object:
 *   { "learningPeriod": 600, "suppress": 3600, "maxAlerts": 100000,
 *     "detectors": { "mqtt.auth_bruteforce": { "maxGuesses": 20 }, "mqtt.rate_anomaly": { "enabled": false } } }
 * Throws ConfigError listing every problem.
 */
export function validateConfig(obj: unknown, detectors: readonly AnyDetector[] = DETECTORS, source = 'config'): ResolvedConfig {
  if (isResolvedConfig(obj)) return obj;
  const problems: string[] = [];
  const cfg = obj === undefined || obj === null ? {} : obj;
  if (!isPlainObject(cfg)) throw new ConfigError(['expected a JSON object'], source);

  const engine: Record<string, number> = { ...ENGINE_DEFAULTS };
  for (const [k, v] of Object.entries(cfg)) {
    if (k === 'detectors') continue;
    const s = (ENGINE_SCHEMA as Record<string, TunableSchema>)[k];
    if (s === undefined) {
      problems.push(`unknown key "${k}" (expected ${[...Object.keys(ENGINE_SCHEMA), 'detectors'].join(', ')})`);
      continue;
    }
    const p = checkValue(k, v, s);
    if (p !== null) problems.push(p);
    else engine[k] = v as number;
  }

  const byId = new Map(detectors.map((d) => [d.id as string, d]));
  const overrides = cfg.detectors ?? {};
  if (!isPlainObject(overrides)) problems.push('detectors: expected an object keyed by detector id');
  const given = isPlainObject(overrides) ? overrides : {};
  for (const id of Object.keys(given)) {
    if (!byId.has(id)) problems.push(`detectors: unknown detector "${id}"${suggest(id, [...byId.keys()])}`);
  }

  const out = new Map<string, DetectorSettings>();
  for (const d of detectors) {
    const o = given[d.id];
    const tunables: Record<string, TunableValue> = { ...(d.tunables as Record<string, TunableValue>) };
    let enabled = true;
    let suppress: number = engine.suppress;
    if (o !== undefined && !isPlainObject(o)) problems.push(`detectors["${d.id}"]: expected an object`);
    else if (o !== undefined) {
      for (const [k, v] of Object.entries(o)) {
        const path = `detectors["${d.id}"].${k}`;
        const s = (d.schema as Record<string, TunableSchema>)[k] ?? (COMMON_SCHEMA as Record<string, TunableSchema>)[k];
        if (s === undefined) {
          problems.push(`${path}: unknown tunable${suggest(k, [...Object.keys(d.schema), ...Object.keys(COMMON_SCHEMA)])}`);
          continue;
        }
        const p = checkValue(path, v, s);
        if (p !== null) problems.push(p);
        else if (k === 'enabled') enabled = v as boolean;
        else if (k === 'suppress' && !(k in d.schema)) suppress = v as number;
        else tunables[k] = v as TunableValue;
      }
    }
    out.set(d.id, { enabled, suppress, tunables });
  }
  if (problems.length > 0) throw new ConfigError(problems, source);

  const r: ResolvedConfig = {
    engine: {
      learningPeriod: engine.learningPeriod,
      learningPeriodSet: 'learningPeriod' in cfg,
      suppress: engine.suppress,
      maxAlerts: engine.maxAlerts,
    },
    detectors: out,
  };
  resolved.add(r);
  return r;
}

/** Read and validate a JSON config file. */
export function loadConfig(path: string, detectors: readonly AnyDetector[] = DETECTORS): ResolvedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read: ${(err as Error).message}`], path);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`not valid JSON: ${(err as Error).message}`], path);
  }
  return validateConfig(obj, detectors, path);
}

function suggest(word: string, options: readonly string[]): string {
  let best = '';
  let bestD = Infinity;
  for (const o of options) {
    const d = editDistance(word.toLowerCase(), o.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}
