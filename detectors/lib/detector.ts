// The contract between the engine and a detector: a Zeek-style policy with tunables (defaults
// plus a schema), fed events and an event-time clock, raising alerts through its context.
// No wall clock, no timers, no I/O: time comes from the packets.
import type { IotEvent } from '../../src/events/types';
import type { AlertSpec, Category, Severity } from '../../src/alerts/types';
import type { BoundedMap, LruEntry, LruTable } from './tables';
import type { FlowMemoTable } from './flow-memo';
import type { CoapClass } from './coap';

/** Every event the engine routes (the decoder's IotEvent union, TLS/DTLS included). */
export type InputEvent = IotEvent;
export type InputType = InputEvent['type'];
export type EventOf<K extends InputType> = Extract<InputEvent, { type: K }>;

export type TunableValue = number | boolean | string | readonly string[] | readonly number[];
export type Tunables = { readonly [name: string]: TunableValue };

export interface TunableSchema {
  readonly type: 'integer' | 'number' | 'boolean' | 'string' | 'string[]' | 'integer[]';
  /** Inclusive bounds for numbers (and for each item of an integer[]). */
  readonly min?: number;
  readonly max?: number;
  readonly enum?: readonly string[];
  readonly description: string;
}

export type Schema<T extends Tunables> = { readonly [K in keyof T]: TunableSchema };

export interface DetectorContext {
  readonly id: string;
  /** Capture time of the newest event, µs (never goes backwards). */
  readonly now: number;
  /** Capture time of the first event of the run, µs (0 before any). */
  readonly startTs: number;
  /** End of the learning period, µs: Infinity in learn mode, startTs when a baseline was loaded. */
  readonly learningEnd: number;
  /** In learn mode, or inside the learning period: build baselines, raise no anomaly alerts. */
  readonly learning: boolean;
  /** Whether a baseline file was loaded (imported entities count as mature). */
  readonly baselineLoaded: boolean;
  alert(spec: AlertSpec): void;
  /** A per-entity LRU table; its size and evictions show in engine stats. */
  lru<V extends LruEntry>(name: string, max: number): LruTable<V>;
  /** A FIFO-bounded map for short-lived pairings; counted like lru tables. */
  bounded<K, V>(name: string, max: number): BoundedMap<K, V>;
  /** A named counter visible in engine stats (e.g. events skipped for a reason). */
  count(name: string, n?: number): void;
  /** The engine's per-flow memo table, shared by every detector's FlowMemo (see flow-memo.ts). */
  readonly flowMemo: FlowMemoTable;
}

export interface DetectorInstance<E> {
  onEvent(e: E): void;
  /** Called at least once per second of capture time, before the event that crossed it. */
  tick?(now: number): void;
  /** End of input: close open windows. */
  flush?(endTs: number): void;
  exportBaseline?(): unknown;
  /** Throws BaselineError when the data does not fit (e.g. another window length). */
  importBaseline?(data: unknown): void;
}

export interface DetectorModule<T extends Tunables = Tunables, K extends InputType = InputType> {
  readonly id: string;
  readonly category: Category;
  /** Default severity; a firing may raise it. */
  readonly severity: Severity;
  readonly description: string;
  /** Judges against learned baselines: its alerts wait for the end of the learning period. */
  readonly usesBaseline: boolean;
  readonly recommendation: string;
  readonly mitre: string | null;
  readonly subscribes: readonly K[];
  /**
   * The only flow direction the detector looks at (it ignores every event of the other one): the
   * engine then does not call it for events of the other direction. Events without a flow go to it.
   */
  readonly direction?: 'to_server' | 'to_client';
  /**
   * The CoAP messages the detector looks at, by kind and method (a response by its request's
   * method): the engine does not call it for coap.message events of other classes. Asked once per
   * class with the run's tunables when the engine is built, never per event. It must accept every
   * message onEvent acts on (onEvent keeps its own checks). Default: every message.
   */
  readonly coapMessages?: (c: CoapClass, t: T) => boolean;
  readonly tunables: T;
  readonly schema: Schema<T>;
  create(ctx: DetectorContext, t: T): DetectorInstance<EventOf<K>>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDetector = DetectorModule<any, any>;

export function defineDetector<T extends Tunables, K extends InputType>(m: DetectorModule<T, K>): DetectorModule<T, K> {
  return m;
}

export class BaselineError extends Error {
  override readonly name = 'BaselineError';
}

export const SECOND = 1_000_000;
