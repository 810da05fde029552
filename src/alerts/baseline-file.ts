// The baseline file written by `iotwatch learn` and read by `iotwatch analyze --baseline`:
// per-detector state learned from known-good traffic, so a sensor restart does not relearn.
import { readFileSync } from 'node:fs';
import type { TunableValue } from '../../detectors/lib/detector';
import { BaselineError } from '../../detectors/lib/detector';

export const BASELINE_FORMAT = 'iotwatch-baseline';
export const BASELINE_VERSION = 1;

export interface BaselineFile {
  readonly format: typeof BASELINE_FORMAT;
  readonly version: number;
  /** Capture time covered by the learn run (µs) and events seen. */
  readonly capture: { readonly firstTs: number; readonly lastTs: number; readonly events: number };
  readonly detectors: Readonly<Record<string, { readonly tunables: Readonly<Record<string, TunableValue>>; readonly state: unknown }>>;
}

/** Check the envelope of a parsed baseline file; detector states are checked by each detector. */
export function parseBaseline(json: unknown, source = 'baseline'): BaselineFile {
  const b = json as Partial<BaselineFile> | null;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) throw new BaselineError(`${source}: expected a JSON object`);
  if (b.format !== BASELINE_FORMAT) throw new BaselineError(`${source}: not an iotwatch baseline (format ${JSON.stringify(b.format)}, expected "${BASELINE_FORMAT}")`);
  if (b.version !== BASELINE_VERSION) {
    throw new BaselineError(`${source}: baseline format version ${String(b.version)} is not supported (this build reads version ${BASELINE_VERSION}); run iotwatch learn again`);
  }
  if (b.detectors === null || typeof b.detectors !== 'object' || Array.isArray(b.detectors)) throw new BaselineError(`${source}: "detectors" must be an object`);
  const c = b.capture;
  if (c === undefined || typeof c.firstTs !== 'number' || typeof c.lastTs !== 'number' || typeof c.events !== 'number') {
    throw new BaselineError(`${source}: "capture" must have numeric firstTs, lastTs and events`);
  }
  return b as BaselineFile;
}

export function loadBaseline(path: string): BaselineFile {
  let obj: unknown;
  try {
    obj = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new BaselineError(`${path}: ${(err as Error).message}`);
  }
  return parseBaseline(obj, path);
}
