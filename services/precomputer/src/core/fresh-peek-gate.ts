import { LRUCache } from "lru-cache";

/**
 * Skip-count reason for keys enqueued without a freshness lookup, because
 * their kind's lookups almost never find a fresh result (sampled instead).
 */
export const freshnessSampled = "freshness_sampled";

export interface FreshPeekGateOptions {
  /**
   * Keys of one kind (tenant, event type, task type) stop being looked up
   * one by one once fewer than this share of them are found fresh, with
   * three fresh finds' margin: only every `sampleEvery`th is then looked up,
   * which keeps the share measured and brings the lookups back when it
   * rises. 0 looks up every key. Default 0.02.
   *
   * Why: a lookup costs about 4 µs of CPU per key (Node and Redis, measured
   * by the precomputer bench), and a result computed again needlessly costs
   * the executor 60 µs and more before any model runs. Below 2% the lookups
   * cost more than the computing they save; the margin leaves the gate
   * looking while it is unsure.
   */
  minFreshRate: number;
  /** When a kind's keys are sampled, one in this many is looked up. Default 16. */
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
interface KindStats {
  looked: number;
  fresh: number;
  /** Keys of this kind the gate passed over since the last sampled one. */
  unsampled: number;
}

/**
 * Decides which of a trigger's skip-fresh keys are worth a freshness lookup.
 * The events that find nothing fresh (a new video's analyses, a new
 * campaign's first prediction) are most of them, and each lookup costs
 * CPU in the precomputer, the cache and Redis; for a kind of key whose
 * lookups almost never find anything, the gate looks up a sample instead.
 * Kinds are per tenant, so one tenant's traffic never decides another's.
 */
export class FreshPeekGate {
  readonly options: Readonly<FreshPeekGateOptions>;
  readonly #kinds: LRUCache<string, Map<string, KindStats>>;

  constructor(options?: Partial<FreshPeekGateOptions>) {
    this.options = { ...freshPeekGateDefaults, ...options };
    const { minFreshRate, sampleEvery, window, maxKinds } = this.options;
    if (!(minFreshRate >= 0 && minFreshRate <= 1)) throw new RangeError("minFreshRate must be within 0..1");
    for (const [name, v] of Object.entries({ sampleEvery, window, maxKinds }))
      if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer`);
    this.#kinds = new LRUCache({ max: maxKinds });
  }

  /** Whether to look up this key of an event of `eventType`'s; false counts it toward the next sample. */
  shouldLook(tenant: string, eventType: string, taskType: string): boolean {
    if (this.options.minFreshRate === 0) return true;
    const s = this.#stats(tenant, eventType, taskType, false);
    if (s === undefined || !this.#rarelyFresh(s)) return true;
    if (++s.unsampled < this.options.sampleEvery) return false;
    s.unsampled = 0;
    return true;
  }

  /** What a lookup found for a key of this kind. Not called when the cache could not answer. */
  looked(tenant: string, eventType: string, taskType: string, fresh: boolean): void {
    if (this.options.minFreshRate === 0) return;
    const s = this.#stats(tenant, eventType, taskType, true) as KindStats;
    s.looked++;
    if (fresh) s.fresh++;
    if (s.looked >= this.options.window) {
      s.looked /= 2;
      s.fresh /= 2;
    }
  }

  /** Whether the kind's measured fresh share, plus three finds' margin, is below minFreshRate. */
  #rarelyFresh(s: KindStats): boolean {
    return s.fresh + 3 < this.options.minFreshRate * s.looked;
  }

  #stats(tenant: string, eventType: string, taskType: string, create: boolean): KindStats | undefined {
    const kind = `${tenant}\u0000${eventType}`;
    let byType = this.#kinds.get(kind);
    if (byType === undefined) {
      if (!create) return undefined;
      byType = new Map();
      this.#kinds.set(kind, byType);
    }
    let s = byType.get(taskType);
    if (s === undefined && create) {
      s = { looked: 0, fresh: 0, unsampled: 0 };
      byType.set(taskType, s);
    }
    return s;
  }
}
