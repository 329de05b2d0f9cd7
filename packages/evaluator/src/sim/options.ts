import type { TaskTypeRegistry } from "@prescient/core";
import type { PrescientSettings } from "../policies/prescient/settings.js";

/**
 * Every replay setting, with its default, in one place. `resolveReplayOptions`
 * is the only code that applies defaults.
 */
export const policyNames = ["none", "reactive", "static-topn", "prescient", "oracle"] as const;
export type PolicyName = (typeof policyNames)[number];

export interface AbSettings {
  policies: [PolicyName, PolicyName];
  /** What is hashed to pick an arm: the key, or the user (keys of users without one). */
  split: "key" | "user";
}

export interface ReplayOptions {
  /** Policies compared. Default: all five. */
  policies: PolicyName[];
  /**
   * Ahead-of-time computes per second. Default: `budgetShare` of the trace's
   * mean read rate, so the default scales with the trace.
   */
  budgetPerSecond: number | undefined;
  /** Default 0.25: a quarter of the mean read rate. */
  budgetShare: number;
  /** Budget burst, in seconds of budget. Default: the longest TTL of the trace's types (see token-bucket.ts). */
  burstSeconds: number | undefined;
  /** TTL overrides in seconds by task type; the key "default" sets types the configuration does not know. */
  ttlSeconds: Record<string, number>;
  /** TTL of types neither configured nor overridden. Default 300 s. */
  defaultTtlSeconds: number;
  /** Simulated compute latency in ms by task type; "default" for the rest. */
  latencyMs: Record<string, number>;
  /** Compute latency of types not listed. Default 100 ms. */
  defaultLatencyMs: number;
  /** The task types (TTL, stale grace) of the mesh's configuration, if any. */
  taskTypes: TaskTypeRegistry | undefined;
  /** Points of the hit-rate-over-time series. Default 60. */
  bins: number;
  /** A/B mode: two policies on a deterministic hash split. */
  ab: AbSettings | undefined;
  /** Daily top-N size of static-topn and prescient's schedule. Default: what the budget buys in a 4 h window, at most 10,000. */
  topN: number | undefined;
  /** Settings of the prescient policy beyond its modules' own. */
  prescient: Partial<PrescientSettings>;
  /** Called as records are replayed (for a progress bar). */
  onProgress: ((done: number, total: number) => void) | undefined;
}

/**
 * Compute latencies of the shipped example task types (config/task-types.yaml),
 * from the ranges of the original design: model scores in tens of ms, video
 * analyses in seconds, aggregates in between.
 */
export const exampleLatencyMs: Readonly<Record<string, number>> = {
  ctr_prediction: 50,
  roas_prediction: 50,
  variant_scoring: 50,
  scene_detection: 3000,
  face_detection: 3000,
  hook_analysis: 2000,
  thumbnail_generation: 2000,
  caption_generation: 4000,
  variant_generation: 2000,
  dashboard_data: 500,
  campaign_analytics: 500,
};

export function resolveReplayOptions(o?: Partial<ReplayOptions>): ReplayOptions {
  return {
    policies: [...policyNames],
    budgetPerSecond: undefined,
    budgetShare: 0.25,
    burstSeconds: undefined,
    ttlSeconds: {},
    defaultTtlSeconds: 300,
    latencyMs: {},
    defaultLatencyMs: 100,
    taskTypes: undefined,
    bins: 60,
    ab: undefined,
    topN: undefined,
    prescient: {},
    onProgress: undefined,
    ...o,
  };
}

/** Per-type TTL, stale grace and latency, resolved once per type and cached. */
export class TypeTable {
  readonly #o: ReplayOptions;
  readonly #cache = new Map<string, { ttlMs: number; graceMs: number; latencyMs: number }>();

  constructor(o: ReplayOptions) {
    this.#o = o;
  }

  of(type: string): { ttlMs: number; graceMs: number; latencyMs: number } {
    let t = this.#cache.get(type);
    if (t === undefined) {
      const o = this.#o;
      const configured = o.taskTypes?.has(type) ? o.taskTypes.get(type) : undefined;
      const ttlS = o.ttlSeconds[type];
      const ttlMs =
        ttlS !== undefined
          ? ttlS * 1000
          : (configured?.ttlMs ?? (o.ttlSeconds.default ?? o.defaultTtlSeconds) * 1000);
      t = {
        ttlMs,
        // An overridden TTL drops the configured grace: the grace belongs to the configured TTL.
        graceMs: ttlS === undefined ? (configured?.staleGraceMs ?? 0) : 0,
        latencyMs: o.latencyMs[type] ?? exampleLatencyMs[type] ?? o.latencyMs.default ?? o.defaultLatencyMs,
      };
      this.#cache.set(type, t);
    }
    return t;
  }

  /** Types seen so far. */
  types(): string[] {
    return [...this.#cache.keys()];
  }
}
