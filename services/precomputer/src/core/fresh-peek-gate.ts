import { LRUCache } from "lru-cache";

export interface FreshPeekGateOptions {
  /**
   * Keys of one kind (tenant, event type, task type) stop being looked up
   * one by one once fewer than this share of them are found fresh, with
   * three fresh finds' margin: its keys are then looked up in one call in
   * `sampleEvery`, which keeps the share measured and brings the lookups
   * back when it rises. 0 looks up every key. Default 0.02.
   *
   * Why: a lookup costs about 4 µs of CPU per key (Node and Redis, measured
   * by the precomputer bench), and a result computed again needlessly costs
   * the executor 60 µs and more before any model runs. Below 2% the lookups
   * cost more than the computing they save; the margin leaves the gate
   * looking while it is unsure.
   */
  minFreshRate: number;
  /** When a kind's keys are sampled, they are looked up in one call in this many that have any. Default 16. */
  sampleEvery: number;
  /** Looked-up keys per kind that the share is measured over (older ones weigh half, and so on). Default 1024. */
  window: number;
  /** Kinds remembered; the least recently seen is forgotten (and looked up in full again). Default 10,000. */
  maxKinds: number;
}

export const freshPeekGateDefaults: Readonly<FreshPeekGateOptions> = {
  minFreshRate: 0.02,
  sampleEvery: 16,
  window: 1024,
  maxKinds: 10_000,
};

/** One kind's looked-up keys and how many were fresh, both halved whenever the window fills. */
export interface KindStats {
  looked: number;
  fresh: number;
  /** Calls with keys of this kind that the gate passed over since the last sampled one. */
  passed: number;
  /** The last call that asked about this kind, and what it was told. */
  lastCall: number;
  lookThisCall: boolean;
}

/** An event's kinds, one per task type (the tenant's and event type's). */
export type EventKinds = Map<string, KindStats>;

/**
 * Decides which of a trigger's skip-fresh keys are worth a freshness lookup.
 * The events that find nothing fresh (a new video's analyses, a new
 * campaign's first prediction) are most of them, and each lookup costs
 * CPU in the precomputer, the cache and Redis; for a kind of key whose
 * lookups almost never find anything, the gate looks up its keys in one
 * call in `sampleEvery` (all of them in that call: a call with no lookup
 * saves the round trip as well). Kinds are per tenant, so one tenant's
 * traffic never decides another's.
 */
export class FreshPeekGate {
  readonly options: Readonly<FreshPeekGateOptions>;
  readonly #kinds: LRUCache<string, EventKinds>;
  #calls = 0;

  constructor(options?: Partial<FreshPeekGateOptions>) {
    this.options = { ...freshPeekGateDefaults, ...options };
    const { minFreshRate, sampleEvery, window, maxKinds } = this.options;
    if (!(minFreshRate >= 0 && minFreshRate <= 1)) throw new RangeError("minFreshRate must be within 0..1");
    for (const [name, v] of Object.entries({ sampleEvery, window, maxKinds }))
      if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer`);
    this.#kinds = new LRUCache({ max: maxKinds });
  }

  /** A new call's number, for shouldLook: a sampled kind is looked up in whole calls. */
  beginCall(): number {
    return ++this.#calls;
  }

  /** The kinds of an event of this tenant and type, created when `create`. Undefined: all unknown (look everything up). */
  kindsOf(tenant: string, eventType: string, create: boolean): EventKinds | undefined {
    if (this.options.minFreshRate === 0) return undefined;
    const key = `${tenant}\u0000${eventType}`;
    let kinds = this.#kinds.get(key);
    if (kinds === undefined && create) {
      kinds = new Map();
      this.#kinds.set(key, kinds);
    }
    return kinds;
  }

  /**
   * Whether to look up, in call `call`, a key of this task type of an event
   * whose kinds are `kinds`, as the weight its finding carries: 0 not looked
   * up, 1 looked up in full, `sampleEvery` looked up by sample (the finding
   * stands for the keys passed over too, so a change is followed as soon
   * as the samples show it, not once as many samples as full lookups did).
   */
  shouldLook(kinds: EventKinds | undefined, taskType: string, call: number): number {
    const s = kinds?.get(taskType);
    if (s === undefined || !this.#rarelyFresh(s)) return 1;
    if (s.lastCall !== call) {
      s.lastCall = call;
      s.lookThisCall = ++s.passed >= this.options.sampleEvery;
      if (s.lookThisCall) s.passed = 0;
    }
    return s.lookThisCall ? this.options.sampleEvery : 0;
  }

  /** What a lookup found for a key of this kind, with shouldLook's weight. Not called when the cache could not answer. */
  looked(kinds: EventKinds | undefined, taskType: string, fresh: boolean, weight: number): void {
    if (kinds === undefined) return;
    let s = kinds.get(taskType);
    if (s === undefined) {
      s = { looked: 0, fresh: 0, passed: 0, lastCall: 0, lookThisCall: true };
      kinds.set(taskType, s);
    }
    s.looked += weight;
    if (fresh) s.fresh += weight;
    while (s.looked >= this.options.window) {
      s.looked /= 2;
      s.fresh /= 2;
    }
  }

  /** Whether the kind's measured fresh share, plus three finds' margin, is below minFreshRate. */
  #rarelyFresh(s: KindStats): boolean {
    return s.fresh + 3 < this.options.minFreshRate * s.looked;
  }
}
