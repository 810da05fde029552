// The alert model: what a detector concluded, why, and what to fix.
// Alerts are judgements about events; their ids are deterministic so the same capture
// analysed twice gives the same alerts, ids included.
import type { FlowSide } from '../events/types';

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';
export type Category = 'anomaly' | 'posture';

export const SEVERITIES: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

export type EntityKind =
  | 'client_id' | 'username' | 'address' | 'server' | 'topic' | 'topic_subtree'
  | 'coap_resource' | 'psk_identity' | 'password' | 'certificate' | 'flow';

export interface Entity {
  readonly kind: EntityKind;
  readonly value: string;
}

export type EvidenceValue = number | string | boolean | null | readonly (string | number)[];

/** Why the alert fired. observed/baseline/threshold are in the unit the detector names in `metric`. */
export interface Evidence {
  readonly observed: EvidenceValue;
  /** Typical value for the entity (median of its baseline), null when it has none. */
  readonly baseline: EvidenceValue;
  readonly threshold: EvidenceValue;
  /** Length of the counting window in seconds (0 for a single fact). */
  readonly window: number;
  readonly [field: string]: EvidenceValue | undefined;
}

export interface Alert {
  /** sha256(detector, suppression key, window start), hex, first 32 characters. */
  readonly id: string;
  readonly detector: string;
  readonly category: Category;
  severity: Severity;
  /** Capture time, microseconds since the epoch. */
  firstTs: number;
  lastTs: number;
  readonly entity: Entity;
  /** "client:port -> server:port", one per flow, capped. */
  readonly endpoints: string[];
  readonly communityIds: string[];
  /** Packet numbers that prove it, capped. */
  readonly frames: number[];
  /** Events folded into this alert. */
  count: number;
  summary: string;
  evidence: Evidence;
  readonly recommendation: string;
  /** MITRE ATT&CK for ICS technique id, when one fits. */
  readonly mitre: string | null;
}

/** What proves a firing: the events a detector counted (bounded samples of them). */
export interface ProofLike {
  readonly frames: readonly number[];
  readonly flows: readonly FlowSide[];
  /** ts of the first and last event counted (µs). */
  readonly first: number;
  readonly last: number;
  /** Events counted. */
  readonly n: number;
}

/** What a detector hands to ctx.alert(). */
export interface AlertSpec {
  /** Suppression key, unique within the detector (usually the entity value). */
  readonly key: string;
  /** Start of the window that produced the firing (µs); 0 for posture findings (whole run). */
  readonly windowStart: number;
  readonly entity: Entity;
  readonly summary: string;
  readonly evidence: Evidence;
  readonly proof: ProofLike;
  /** Events folded in this window; defaults to proof.n. A later firing in the same window replaces it. */
  readonly count?: number;
  /** Defaults to the detector's severity. */
  readonly severity?: Severity;
  /** Override the detector's default where one firing fits a different technique. */
  readonly mitre?: string | null;
  readonly recommendation?: string;
}

export type AlertKind = 'new' | 'update';
export type AlertSink = (alert: Alert, kind: AlertKind) => void;
