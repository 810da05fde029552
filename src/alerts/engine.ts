// The detector engine: routes each event to the detectors subscribed to its type, advances the
// event-time clock (capture time, never the wall clock), and folds what they raise into alerts.
// Hot path: the route of the event's type (the frequent types resolved once, the others by a short
// scan) and then its detectors, each event at once, or (offline input) held in batches that each
// detector runs over in turn; nothing is allocated per event here.
import type { Alert, AlertSink, AlertSpec } from './types';
import { AlertBook, type AlertSource, type BookStats } from './suppression';
import { validateConfig, type ResolvedConfig } from './config';
import { BASELINE_FORMAT, BASELINE_VERSION, parseBaseline, type BaselineFile } from './baseline-file';
import { DETECTORS } from '../../detectors';
import {
  BaselineError, SECOND,
  type AnyDetector, type DetectorContext, type DetectorInstance, type InputEvent, type TunableValue,
} from '../../detectors/lib/detector';
import { BoundedMap, LruTable, type LruEntry, type TableStats } from '../../detectors/lib/tables';
import { FlowMemoTable } from '../../detectors/lib/flow-memo';
import { COAP_CLASSES, coapClass, coapClasses } from '../../detectors/lib/coap';
import { EVENT_TYPES, type CoapMessage, type FlowSide, type MqttPublish } from '../events/types';

export type EngineMode = 'detect' | 'learn';

export interface EngineOptions {
  /** 'learn' accumulates baselines and raises nothing. Default 'detect'. */
  readonly mode?: EngineMode;
  /** A raw config object (validated here) or the result of loadConfig/validateConfig. */
  readonly config?: unknown;
  /** A baseline from a learn run (parsed object, as JSON.parse gives it). */
  readonly baseline?: unknown;
  readonly onAlert?: AlertSink;
  /** Detectors to run; default: the registry in detectors/index.ts. */
  readonly detectors?: readonly AnyDetector[];
  /**
   * Events handed to the detectors in batches of this many (0, the default: each event at once).
   * Each detector then runs over a batch in turn, so its state and code stay in the CPU caches
   * (and the decoder's between batches); alerts, counts and ids are exactly those of unbatched
   * dispatch. For offline input only: a live sensor must not hold events back.
   */
  readonly batch?: number;
}

export interface DetectorStats {
  readonly alerts: number;
  readonly updates: number;
  readonly droppedLearning: number;
  readonly errors: number;
  readonly lastError?: string;
  readonly counters: Record<string, number>;
  readonly tables: Record<string, TableStats>;
}

export interface EngineStats {
  readonly mode: EngineMode;
  readonly events: number;
  /** Events no detector subscribes to. */
  readonly unrouted: number;
  readonly firstTs: number;
  readonly lastTs: number;
  readonly learningEnd: number | null;
  readonly baselineLoaded: boolean;
  readonly baselineWarnings: readonly string[];
  readonly alerts: BookStats;
  readonly detectors: Record<string, DetectorStats>;
}

export interface Engine {
  onEvent(e: InputEvent): void;
  /** End of input at capture time endTs (µs; default the last event's): closes open windows. */
  flush(endTs?: number): void;
  /** Alerts raised so far, in order of creation, with their latest state. */
  alerts(): Alert[];
  exportBaseline(): BaselineFile;
  /** Load a baseline (as createEngine's `baseline` option does); only before the first event. */
  importBaseline(baseline: unknown): void;
  stats(): EngineStats;
  /** Events seen per type (routed to a detector or not), for summaries. */
  eventCounts(): Map<string, number>;
  /** Ids of the detectors running, in routing order. */
  readonly detectors: readonly string[];
}

const TICK = SECOND;
/** Event types told apart in eventCounts() (the decoder's are a few dozen). */
const MAX_TYPES = 256;
const SWEEP = 60 * SECOND;
/**
 * One tick more than the clock needs, at this event: the path of a tick (drain the batch, tick
 * the detectors) then runs, and gets V8's type feedback, before onEvent is optimised. Otherwise
 * the first real tick, a second of capture time in, throws the optimised onEvent and the
 * pipeline code it is inlined into back to the interpreter. Detectors take ticks at any rate.
 */
const EARLY_TICK = 64;

/**
 * The capture time and flow of an event of a type other than the two frequent ones. Each event
 * type has a hidden class of its own, and rare types (a DISCONNECT, a flow's end, an anomaly)
 * first turn up anywhere in a capture: read at a site that knows only the shapes seen so far,
 * each new one throws the optimised engine, and the pipeline code it is inlined into, back to
 * the interpreter to be compiled again (four times over on the bench capture, about 6 ms each).
 * These sites, and the type read every event goes through, are made megamorphic at load (below),
 * so they never deoptimise: a read costs a stub-cache probe instead.
 */
function typeOf(e: { readonly type: string }): string {
  return e.type;
}

function rareTs(e: { readonly ts: number }): number {
  return e.ts;
}

function rareFlow(e: object): FlowSide | undefined {
  return (e as { flow?: FlowSide }).flow;
}

{
  // V8 keeps no feedback for a function's first few hundred calls (lazy feedback allocation).
  const shapes = ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => ({ [k]: 0, type: '', ts: 0 }));
  for (let i = 0; i < 2000; i++) {
    typeOf(shapes[i % shapes.length]);
    rareTs(shapes[i % shapes.length]);
    rareFlow(shapes[i % shapes.length]);
  }
}

interface Slot {
  /** Position in registration order (the order in which detectors see one event). */
  readonly index: number;
  /** The lanes that lead to this detector. */
  readonly lanes: Lane[];
  readonly mod: AnyDetector;
  readonly tunables: Readonly<Record<string, TunableValue>>;
  readonly src: AlertSource;
  /**
   * Per event class (see coapClass), 1 when the detector takes events of that class; null when it
   * takes every event it subscribes to. Only coap.message events have classes (0 for the others).
   */
  readonly accepts: Uint8Array | null;
  inst: DetectorInstance<InputEvent>;
  /**
   * inst.onEvent, read once: every detector's instance has a shape of its own, so reading the
   * method at the dispatch site for each event is a megamorphic lookup; a Slot field is not.
   */
  onEvent: (this: DetectorInstance<InputEvent>, e: InputEvent) => void;
  readonly tables: Map<string, { stats(): TableStats }>;
  readonly counters: Record<string, number>;
  alerts: number;
  updates: number;
  droppedLearning: number;
  errors: number;
  lastError?: string;
}

/** A raise made while a batch was handed out, applied once the batch is done. */
interface DeferredRaise {
  /** Event position * detector count + detector index: the order of unbatched dispatch. */
  readonly order: number;
  readonly slot: Slot;
  readonly spec: AlertSpec;
  readonly now: number;
}

/**
 * The detectors an event goes to, in registration order, and (batched dispatch) the positions of
 * the held events that go to them: one store per event, whatever the number of detectors.
 */
interface Lane {
  readonly slots: Slot[];
  idx: Int32Array;
  n: number;
}

/** The detectors of one event type; per direction when one of them is directional. */
interface Route {
  /** Events of this type seen. */
  n: number;
  readonly all: Lane;
  split: boolean;
  readonly toServer: Lane;
  readonly toClient: Lane;
}

function newRoute(): Route {
  const lane = (): Lane => ({ slots: [], idx: new Int32Array(0), n: 0 });
  return { n: 0, all: lane(), split: false, toServer: lane(), toClient: lane() };
}

class Ctx implements DetectorContext {
  constructor(private readonly eng: EngineImpl, private readonly slot: Slot) {}

  get id(): string {
    return this.slot.mod.id;
  }
  get now(): number {
    return this.eng.clock();
  }
  get startTs(): number {
    return this.eng.startTs;
  }
  get learningEnd(): number {
    return this.eng.learningEnd;
  }
  get learning(): boolean {
    return this.eng.clock() < this.eng.learningEnd;
  }
  get baselineLoaded(): boolean {
    return this.eng.baselineLoaded;
  }
  get flowMemo(): FlowMemoTable {
    return this.eng.flowMemoOf(this.slot.mod);
  }
  alert(spec: AlertSpec): void {
    this.eng.raise(this.slot, spec);
  }
  lru<V extends LruEntry>(name: string, max: number): LruTable<V> {
    const t = new LruTable<V>(max);
    this.slot.tables.set(uniqueName(this.slot.tables, name), t);
    return t;
  }
  bounded<K, V>(name: string, max: number): BoundedMap<K, V> {
    const t = new BoundedMap<K, V>(max);
    this.slot.tables.set(uniqueName(this.slot.tables, name), t);
    return t;
  }
  count(name: string, n = 1): void {
    this.slot.counters[name] = (this.slot.counters[name] ?? 0) + n;
  }
}

/** Slot.accepts of a detector: its coapMessages filter asked once per class, or null without one. */
function acceptsOf(mod: AnyDetector, t: Readonly<Record<string, TunableValue>>): Uint8Array | null {
  const filter = mod.coapMessages;
  if (filter === undefined) return null;
  const a = new Uint8Array(COAP_CLASSES);
  a[0] = 1; // events of other types than coap.message
  for (const { n, c } of coapClasses()) a[n] = filter(c, t) ? 1 : 0;
  return a;
}

function uniqueName(m: Map<string, unknown>, name: string): string {
  let n = name;
  for (let i = 2; m.has(n); i++) n = `${name}#${i}`;
  return n;
}

class EngineImpl implements Engine {
  now = 0;
  startTs = 0;
  learningEnd = Infinity;
  baselineLoaded = false;
  /**
   * Flow memo tables, one per protocol family (the prefix of a detector's first subscribed type):
   * a flow is MQTT or CoAP, never both, so each row holds only the columns of the detectors that
   * can use it (the bench's MQTT rows 72 bytes instead of 184: fewer cache lines an event).
   */
  private readonly flowMemos = new Map<string, FlowMemoTable>();
  readonly detectors: readonly string[];
  private started = false;
  private nextTick = 0;
  private nextSweep = 0;
  private events = 0;
  private readonly slots: Slot[] = [];
  private readonly ticking: Slot[] = [];
  private readonly routes = new Map<string, Route>();
  /** The routes' types and routes, side by side, frequent types first (a scan replaces the Map lookup). */
  private readonly routeTypes: string[] = [];
  private readonly routeList: Route[] = [];
  private lastType = '';
  /** Events of types beyond MAX_TYPES (counted, not told apart). */
  private readonly otherTypes: Route = newRoute();
  private lastRoute: Route = this.otherTypes;
  /** Routes of the two frequent types, resolved once. */
  private readonly publishRoute: Route;
  private readonly coapRoute: Route;
  // Batched dispatch (EngineOptions.batch): the events held, the clock at each, and per detector
  // the positions of the events routed to it.
  private readonly batchSize: number;
  private held: (InputEvent | undefined)[] = [];
  private heldNow = new Float64Array(0);
  /** The class of each held event (see Slot.accepts). */
  private heldClass = new Uint8Array(0);
  private heldCount = 0;
  /** Lanes holding events of the current batch. */
  private readonly busy: Lane[] = [];
  private mergeBuf = new Int32Array(0);
  /** While a batch is handed out: the event being run, and the raises held back. */
  private draining = false;
  private drainEvent = 0;
  private deferred: DeferredRaise[] = [];
  private readonly book: AlertBook;
  private readonly cfg: ResolvedConfig;
  private readonly warnings: string[] = [];

  constructor(readonly mode: EngineMode, opts: EngineOptions) {
    const mods = opts.detectors ?? DETECTORS;
    this.cfg = validateConfig(opts.config, mods);
    this.book = new AlertBook(opts.onAlert, this.cfg.engine.maxAlerts);
    for (const mod of mods) {
      const ds = this.cfg.detectors.get(mod.id);
      if (ds === undefined || !ds.enabled) continue;
      const slot: Slot = {
        index: this.slots.length,
        lanes: [],
        mod,
        tunables: ds.tunables,
        accepts: acceptsOf(mod, ds.tunables),
        src: {
          id: mod.id, category: mod.category, severity: mod.severity, recommendation: mod.recommendation, mitre: mod.mitre,
          suppressUs: mod.category === 'posture' ? Infinity : ds.suppress * SECOND,
        },
        inst: undefined as unknown as DetectorInstance<InputEvent>,
        onEvent: undefined as unknown as Slot['onEvent'],
        tables: new Map(),
        counters: {},
        alerts: 0, updates: 0, droppedLearning: 0, errors: 0,
      };
      slot.inst = mod.create(new Ctx(this, slot), ds.tunables);
      slot.onEvent = slot.inst.onEvent;
      this.slots.push(slot);
      if (slot.inst.tick !== undefined) this.ticking.push(slot);
      for (const type of mod.subscribes as readonly string[]) {
        let r = this.routes.get(type);
        if (r === undefined) this.routes.set(type, (r = newRoute()));
        r.all.slots.push(slot);
        if (mod.direction !== undefined) r.split = true;
        if (mod.direction !== 'to_client') r.toServer.slots.push(slot);
        if (mod.direction !== 'to_server') r.toClient.slots.push(slot);
      }
    }
    for (const [type, r] of this.routes) {
      this.routeTypes.push(type);
      this.routeList.push(r);
    }
    // Every type the decoder emits has its route from the start: a type first met in a capture
    // (after the engine is optimised) then takes the scan, not a path never run before.
    for (const type of EVENT_TYPES) if (!this.routes.has(type)) this.addType(type);
    this.detectors = this.slots.map((s) => s.mod.id);
    // Both are in EVENT_TYPES, so routed above.
    this.publishRoute = this.routes.get('mqtt.publish')!;
    this.coapRoute = this.routes.get('coap.message')!;
    const batch = opts.batch ?? 0;
    if (!Number.isInteger(batch) || batch < 0 || batch > 1 << 20) throw new RangeError(`engine batch: expected an integer 0..${1 << 20}, got ${batch}`);
    this.batchSize = batch > 1 ? batch : 0;
    if (this.batchSize > 0) {
      this.held = new Array<InputEvent | undefined>(this.batchSize);
      this.heldNow = new Float64Array(this.batchSize);
      this.heldClass = new Uint8Array(this.batchSize);
      this.mergeBuf = new Int32Array(this.batchSize);
      for (const r of this.routes.values()) {
        for (const lane of [r.all, r.toServer, r.toClient]) {
          if (lane.slots.length === 0) continue;
          lane.idx = new Int32Array(this.batchSize);
          for (const slot of lane.slots) slot.lanes.push(lane);
        }
      }
    }
    if (opts.baseline !== undefined && opts.baseline !== null) this.load(parseBaseline(opts.baseline));
  }

  flowMemoOf(mod: AnyDetector): FlowMemoTable {
    const first = (mod.subscribes as readonly string[])[0] ?? '';
    const family = first.slice(0, first.indexOf('.') + 1);
    let t = this.flowMemos.get(family);
    if (t === undefined) this.flowMemos.set(family, (t = new FlowMemoTable()));
    return t;
  }

  /** Capture time as the detectors see it: while a batch is handed out, that of the event being run. */
  clock(): number {
    // `now` is read on both paths, so the read has type feedback before this is optimised (a
    // detector asks for the clock outside a batch only at a tick, after that).
    const now = this.now;
    return this.draining ? this.heldNow[this.drainEvent] : now;
  }

  onEvent(e: InputEvent): void {
    // Every event shape passes here, so a field read at one site is a megamorphic lookup. The
    // frequent types read theirs at sites of their own (one shape each) and skip the type scan.
    // Each reads through a variable of its own: V8 gives reads of one name from one variable a
    // single feedback slot (and so one shared, megamorphic, state) wherever they are written.
    const type = typeOf(e);
    let ts: number;
    let flow: FlowSide | undefined;
    let r: Route;
    let cls = 0;
    if (type === 'mqtt.publish') {
      const p = e as MqttPublish;
      ts = p.ts;
      flow = p.flow;
      r = this.publishRoute;
    } else if (type === 'coap.message') {
      const c = e as CoapMessage;
      ts = c.ts;
      flow = c.flow;
      r = this.coapRoute;
      const kind = c.kind;
      cls = coapClass(kind, kind === 'request' ? c.method : kind === 'response' ? c.requestMethod : undefined);
    } else {
      // A number for certain (a call's result is any value to the compiler): ts stays an unboxed
      // double on every path, where a merge with an unknown value would box it, one allocation an event.
      ts = +rareTs(e);
      flow = rareFlow(e);
      r = this.routeOf(type);
    }
    // Booleans compared with true: a bare test is a generic truthiness check to the compiler.
    if (this.started !== true) this.start(ts);
    if (ts > this.now) {
      if (ts >= this.nextTick || this.events === EARLY_TICK) {
        // Detectors see every earlier event before the tick, as without batching.
        if (this.heldCount > 0) this.drain();
        this.now = ts;
        this.tick(ts);
      } else this.now = ts;
    }
    this.events++;
    r.n++;
    // No detector takes it (counted in its route: stats() sums them; a counter of its own here
    // would be a field written on a path that may first run after onEvent is optimised).
    if (r.all.slots.length === 0) return;
    // Detectors of one direction only are not called for the other's events.
    let lane = r.all;
    if (r.split === true && flow !== undefined) lane = flow.dir === 'to_server' ? r.toServer : flow.dir === 'to_client' ? r.toClient : lane;
    if (this.batchSize > 0) {
      this.hold(e, lane, cls);
      return;
    }
    const list = lane.slots;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      if (s.accepts !== null && s.accepts[cls] === 0) continue;
      try {
        s.onEvent.call(s.inst, e);
      } catch (err) {
        this.failed(s, err);
      }
    }
  }

  /** The route of a type other than the two frequent ones. */
  private routeOf(type: string): Route {
    // Events come in runs of one type: the last type's route is kept, so a run skips the scan.
    // (Read before the test, so the read has run, and has type feedback, before the first run.)
    const last = this.lastRoute;
    if (type === this.lastType) return last;
    // Types are a handful of interned constants: a scan of identity comparisons beats hashing.
    let found: Route | undefined;
    const types = this.routeTypes;
    for (let i = 0; i < types.length; i++) {
      if (types[i] === type) {
        found = this.routeList[i];
        // Transposition: a frequent type moves toward the front of the scan.
        if (i > 0) {
          types[i] = types[i - 1];
          types[i - 1] = type;
          this.routeList[i] = this.routeList[i - 1];
          this.routeList[i - 1] = found;
        }
        break;
      }
    }
    // routeTypes holds every route's type: a type the scan misses has none yet.
    const r = found ?? this.addType(type);
    this.lastType = type;
    this.lastRoute = r;
    return r;
  }

  /** A route without detectors for a type first seen, joining the scan (at most MAX_TYPES). */
  private addType(type: string): Route {
    if (this.routes.size >= MAX_TYPES) return this.otherTypes;
    const r = newRoute();
    this.routes.set(type, r);
    this.routeTypes.push(type);
    this.routeList.push(r);
    return r;
  }

  /** Events of types no detector subscribes to (otherTypes, past MAX_TYPES, never has a detector). */
  private unroutedEvents(): number {
    let n = this.otherTypes.n;
    for (const r of this.routes.values()) if (r.all.slots.length === 0) n += r.n;
    return n;
  }

  eventCounts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [type, r] of this.routes) if (r.n > 0) out.set(type, r.n);
    if (this.otherTypes.n > 0) out.set('other', this.otherTypes.n);
    return out;
  }

  private hold(e: InputEvent, lane: Lane, cls: number): void {
    if (lane.slots.length === 0) return;
    const i = this.heldCount++;
    this.held[i] = e;
    this.heldNow[i] = this.now;
    this.heldClass[i] = cls;
    if (lane.n === 0) this.busy.push(lane);
    lane.idx[lane.n++] = i;
    if (this.heldCount === this.batchSize) this.drain();
  }

  /**
   * Hands the held events to their detectors, one detector at a time, each event with the clock
   * it came with. Raises are held back and then applied in the order unbatched dispatch makes
   * them (by event, then by detector), so the alert book sees the same sequence.
   */
  private drain(): void {
    const n = this.heldCount;
    if (n === 0) return;
    this.draining = true;
    for (const s of this.slots) {
      // Most detectors take one type in one direction: one lane, already in event order.
      let only: Lane | null = null;
      let lanes = 0;
      for (const lane of s.lanes) {
        if (lane.n > 0) {
          only = lane;
          lanes++;
        }
      }
      if (only === null) continue;
      if (lanes === 1) this.run(s, only.idx, only.n);
      else this.run(s, this.mergeBuf, this.merge(s));
    }
    this.draining = false;
    for (const lane of this.busy) lane.n = 0;
    this.busy.length = 0;
    // A fresh array for the next batch (dropping this one lets the events go): a young array
    // takes young events without the write barrier's slow path, which storing them into an old
    // array costs on every event.
    this.held = new Array<InputEvent | undefined>(this.batchSize);
    this.heldCount = 0;
    if (this.deferred.length > 0) {
      const d = this.deferred;
      this.deferred = [];
      d.sort((a, b) => a.order - b.order); // stable: one detector's raises on one event keep their order
      for (const r of d) this.apply(r.slot, r.spec, r.now);
    }
  }

  /**
   * Runs a detector over the held events at positions idx[0, len). The event's clock is not
   * copied to `now` for each call: clock() reads it from heldNow through drainEvent. The try
   * block spans the loop, which resumes after the event that threw.
   */
  private run(s: Slot, idx: Int32Array, len: number): void {
    const inst = s.inst;
    const onEvent = s.onEvent;
    const held = this.held;
    const accepts = s.accepts;
    const classes = this.heldClass;
    let j = 0;
    while (j < len) {
      try {
        // Two loops, so that detectors taking every event pay no class test per event (one loop
        // with the test: +8 M instructions on the 600K bench capture).
        if (accepts === null) {
          for (; j < len; j++) {
            const i = idx[j];
            this.drainEvent = i;
            onEvent.call(inst, held[i]!);
          }
        } else {
          for (; j < len; j++) {
            const i = idx[j];
            if (accepts[classes[i]] === 0) continue;
            this.drainEvent = i;
            onEvent.call(inst, held[i]!);
          }
        }
      } catch (err) {
        this.failed(s, err);
        j++;
      }
    }
  }

  /** Puts the positions of a detector's events from all its busy lanes in mergeBuf, in event order; returns how many. */
  private merge(s: Slot): number {
    const out = this.mergeBuf;
    let k = 0;
    for (const lane of s.lanes) for (let j = 0; j < lane.n; j++) out[k++] = lane.idx[j];
    out.subarray(0, k).sort();
    return k;
  }

  flush(endTs?: number): void {
    if (!this.started) return;
    this.drain();
    if (endTs !== undefined && endTs > this.now) this.now = endTs;
    this.tick(this.now);
    for (const s of this.slots) {
      try {
        s.inst.flush?.(this.now);
      } catch (err) {
        this.failed(s, err);
      }
    }
    this.book.sweep(this.now);
  }

  alerts(): Alert[] {
    this.drain();
    return this.book.alerts();
  }

  raise(slot: Slot, spec: AlertSpec): void {
    if (this.draining) {
      // The proof is the detector's own and changes with later events: the raise keeps a copy.
      const p = spec.proof;
      this.deferred.push({
        order: this.drainEvent * this.slots.length + slot.index,
        slot,
        spec: { ...spec, proof: { frames: p.frames.slice(), flows: p.flows.slice(), first: p.first, last: p.last, n: p.n } },
        now: this.clock(),
      });
      return;
    }
    this.apply(slot, spec, this.now);
  }

  private apply(slot: Slot, spec: AlertSpec, now: number): void {
    // Detectors that judge against baselines stay quiet until the baselines are built.
    if (this.mode === 'learn' || (slot.mod.usesBaseline && now < this.learningEnd)) {
      slot.droppedLearning++;
      return;
    }
    if (this.book.raise(slot.src, spec, now) === 'new') slot.alerts++;
    else slot.updates++;
  }

  exportBaseline(): BaselineFile {
    this.drain();
    const detectors: Record<string, { tunables: Readonly<Record<string, TunableValue>>; state: unknown }> = {};
    for (const s of this.slots) {
      if (s.inst.exportBaseline === undefined) continue;
      detectors[s.mod.id] = { tunables: s.tunables, state: s.inst.exportBaseline() };
    }
    return {
      format: BASELINE_FORMAT,
      version: BASELINE_VERSION,
      capture: { firstTs: this.startTs, lastTs: this.now, events: this.events },
      detectors,
    };
  }

  stats(): EngineStats {
    this.drain();
    const detectors: Record<string, DetectorStats> = {};
    for (const s of this.slots) {
      const tables: Record<string, TableStats> = {};
      for (const [name, t] of s.tables) tables[name] = t.stats();
      detectors[s.mod.id] = {
        alerts: s.alerts, updates: s.updates, droppedLearning: s.droppedLearning, errors: s.errors,
        ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
        counters: { ...s.counters }, tables,
      };
    }
    return {
      mode: this.mode,
      events: this.events,
      unrouted: this.unroutedEvents(),
      firstTs: this.startTs,
      lastTs: this.now,
      learningEnd: Number.isFinite(this.learningEnd) ? this.learningEnd : null,
      baselineLoaded: this.baselineLoaded,
      baselineWarnings: this.warnings.slice(),
      alerts: this.book.stats(),
      detectors,
    };
  }

  private start(ts: number): void {
    this.started = true;
    this.startTs = ts;
    this.now = ts;
    const e = this.cfg.engine;
    const period = this.baselineLoaded && !e.learningPeriodSet ? 0 : e.learningPeriod;
    this.learningEnd = this.mode === 'learn' ? Infinity : ts + period * SECOND;
    this.tick(ts);
  }

  private tick(now: number): void {
    this.nextTick = (Math.floor(now / TICK) + 1) * TICK;
    for (const s of this.ticking) {
      try {
        s.inst.tick!(now);
      } catch (err) {
        this.failed(s, err);
      }
    }
    if (now >= this.nextSweep) {
      this.book.sweep(now);
      this.nextSweep = now + SWEEP;
    }
  }

  importBaseline(baseline: unknown): void {
    if (this.started) throw new BaselineError('a baseline can only be loaded before the first event');
    this.load(parseBaseline(baseline));
  }

  private load(b: BaselineFile): void {
    this.baselineLoaded = true;
    for (const [id, entry] of Object.entries(b.detectors)) {
      const s = this.slots.find((x) => x.mod.id === id);
      if (s === undefined) {
        this.warnings.push(`${id}: in the baseline but not running; ignored`);
        continue;
      }
      if (s.inst.importBaseline === undefined) continue;
      try {
        s.inst.importBaseline(entry.state);
      } catch (err) {
        if (!(err instanceof BaselineError)) throw err;
        this.warnings.push(`${id}: baseline not loaded: ${err.message}`);
      }
    }
  }

  private failed(s: Slot, err: unknown): void {
    // A detector bug must not take the pipeline down; it is counted and shown in stats.
    s.errors++;
    s.lastError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
}

export function createEngine(opts: EngineOptions = {}): Engine {
  return new EngineImpl(opts.mode ?? 'detect', opts);
}
