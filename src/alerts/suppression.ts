// Suppression: one alert per (detector, key) while it is open. A firing of an open key updates
// that alert (count, last time, frames, evidence) and the sink sees an 'update' with the same id;
// never a stream of duplicates. Anomaly alerts stay open for the detector's suppression interval
// from when they were raised; posture alerts stay open for the whole run. A firing whose id was
// already given (a long window refreshed after its key closed) updates that alert: ids are unique.
import type { Alert, AlertKind, AlertSink, AlertSpec, Category, Severity } from './types';
import { SEVERITIES } from './types';
import { alertId } from './ids';
import { flowLabel } from '../../detectors/lib/endpoints';

export const MAX_FRAMES = 20;
export const MAX_ENDPOINTS = 10;
export const MAX_COMMUNITY_IDS = 10;
/** Open suppression entries kept; beyond, the oldest is forgotten (counted). */
export const MAX_OPEN = 100_000;

export interface AlertSource {
  readonly id: string;
  readonly category: Category;
  readonly severity: Severity;
  readonly recommendation: string;
  readonly mitre: string | null;
  /** Suppression interval, µs (Infinity for posture). */
  readonly suppressUs: number;
}

interface Open {
  readonly alert: Alert;
  readonly expires: number;
  /** Window of the latest firing, and the count accumulated before it. */
  window: number;
  base: number;
}

export interface BookStats {
  created: number;
  updated: number;
  notRetained: number;
  openEvictions: number;
  open: number;
}

export class AlertBook {
  private readonly open = new Map<string, Open>();
  /** Every alert raised, by id (bounded like the retained list). */
  private readonly byId = new Map<string, Open>();
  private readonly retained: Alert[] = [];
  private readonly st: BookStats = { created: 0, updated: 0, notRetained: 0, openEvictions: 0, open: 0 };

  constructor(private readonly sink: AlertSink | undefined, private readonly maxAlerts: number) {}

  /** Fold a firing in; 'new' when it opened an alert, 'update' when it refreshed one. */
  raise(src: AlertSource, spec: AlertSpec, now: number): AlertKind {
    const k = `${src.id}\0${spec.key}`;
    let o = this.open.get(k);
    if (o !== undefined && now >= o.expires && spec.windowStart !== o.window) {
      this.open.delete(k);
      o = undefined;
    }
    if (o === undefined) {
      const id = alertId(src.id, spec.key, spec.windowStart);
      const old = this.byId.get(id);
      if (old === undefined) {
        this.create(src, spec, k, id, now);
        return 'new';
      }
      o = old;
      this.open.set(k, o);
    }
    this.update(o, spec);
    return 'update';
  }

  /** Forget suppression entries that expired before `now`. */
  sweep(now: number): void {
    for (const [k, o] of this.open) if (now >= o.expires) this.open.delete(k);
  }

  alerts(): Alert[] {
    return this.retained.slice();
  }

  stats(): BookStats {
    return { ...this.st, open: this.open.size };
  }

  private create(src: AlertSource, spec: AlertSpec, k: string, id: string, now: number): void {
    const p = spec.proof;
    const a: Alert = {
      id,
      detector: src.id,
      category: src.category,
      severity: spec.severity ?? src.severity,
      firstTs: p.first,
      lastTs: p.last,
      entity: { kind: spec.entity.kind, value: spec.entity.value },
      endpoints: [],
      communityIds: [],
      frames: [],
      count: spec.count ?? p.n,
      summary: spec.summary,
      evidence: spec.evidence,
      recommendation: spec.recommendation ?? src.recommendation,
      mitre: spec.mitre !== undefined ? spec.mitre : src.mitre,
    };
    mergeProof(a, spec);
    if (this.open.size >= MAX_OPEN) {
      const first = this.open.keys().next();
      if (first.done !== true) this.open.delete(first.value);
      this.st.openEvictions++;
    }
    const o: Open = { alert: a, expires: Math.max(spec.windowStart, now) + src.suppressUs, window: spec.windowStart, base: 0 };
    this.open.set(k, o);
    this.st.created++;
    if (this.retained.length < this.maxAlerts) {
      this.retained.push(a);
      this.byId.set(id, o);
    } else this.st.notRetained++;
    this.sink?.(snapshot(a), 'new');
  }

  private update(o: Open, spec: AlertSpec): void {
    const a = o.alert;
    // Counts are per window: a later firing in the same window replaces, a new window adds.
    if (spec.windowStart !== o.window) {
      o.base = a.count;
      o.window = spec.windowStart;
    }
    a.count = o.base + (spec.count ?? spec.proof.n);
    const sev = spec.severity;
    if (sev !== undefined && SEVERITIES.indexOf(sev) > SEVERITIES.indexOf(a.severity)) a.severity = sev;
    if (spec.proof.first !== 0 && spec.proof.first < a.firstTs) a.firstTs = spec.proof.first;
    if (spec.proof.last > a.lastTs) a.lastTs = spec.proof.last;
    a.summary = spec.summary;
    a.evidence = spec.evidence;
    mergeProof(a, spec);
    this.st.updated++;
    this.sink?.(snapshot(a), 'update');
  }
}

function mergeProof(a: Alert, spec: AlertSpec): void {
  for (const f of spec.proof.frames) {
    if (a.frames.length >= MAX_FRAMES) break;
    if (!a.frames.includes(f)) a.frames.push(f);
  }
  for (const fl of spec.proof.flows) {
    if (a.endpoints.length < MAX_ENDPOINTS) {
      const label = flowLabel(fl);
      if (!a.endpoints.includes(label)) a.endpoints.push(label);
    }
    if (a.communityIds.length < MAX_COMMUNITY_IDS && fl.communityId !== '' && !a.communityIds.includes(fl.communityId)) {
      a.communityIds.push(fl.communityId);
    }
  }
}

/** A copy for the sink, so it may keep what it is given while the alert is refreshed. */
export function snapshot(a: Alert): Alert {
  return {
    ...a,
    entity: { ...a.entity },
    endpoints: a.endpoints.slice(),
    communityIds: a.communityIds.slice(),
    frames: a.frames.slice(),
    evidence: { ...a.evidence },
  };
}
