// The detector catalogue: what each detector does, its tunables with defaults and bounds, what
// to fix and the ATT&CK for ICS technique. Feeds the README and the API.
import type { AnyDetector, TunableSchema, TunableValue } from '../../detectors/lib/detector';
import { DETECTORS } from '../../detectors';
import type { Category, Severity } from './types';

export interface CatalogueTunable extends TunableSchema {
  readonly name: string;
  readonly default: TunableValue;
}

export interface CatalogueEntry {
  readonly id: string;
  readonly category: Category;
  readonly severity: Severity;
  readonly description: string;
  readonly usesBaseline: boolean;
  readonly events: readonly string[];
  readonly tunables: readonly CatalogueTunable[];
  readonly recommendation: string;
  readonly mitre: string | null;
}

export function detectorCatalogue(detectors: readonly AnyDetector[] = DETECTORS): CatalogueEntry[] {
  return [...detectors]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((d) => ({
      id: d.id,
      category: d.category,
      severity: d.severity,
      description: d.description,
      usesBaseline: d.usesBaseline,
      events: [...(d.subscribes as readonly string[])],
      tunables: Object.entries(d.schema as Record<string, TunableSchema>).map(([name, s]) => ({
        name, default: (d.tunables as Record<string, TunableValue>)[name], ...s,
      })),
      recommendation: d.recommendation,
      mitre: d.mitre,
    }));
}
