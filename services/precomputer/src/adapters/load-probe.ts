import type { Clock } from "@prescient/core";
import type { Registry } from "prom-client";
import type { LoadProbe, LoadSample } from "../core/ports.js";
import type { CachePeer, ExecutorPeer } from "./peers.js";

/** How far back the hit rate looks. */
export const hitRateWindowMs = 60_000;

/** The cache's lookup counters at one sample. */
interface CacheCounts {
  at: number;
  lookups: number;
  hits: number;
}

/**
 * Reads the mesh's load for the budget: the executor's queue depth, the
 * cache's lookup rate since the previous sample, its hit rate over the last
 * minute, and, where the predictor shares this process's metrics registry,
 * its mean queue wait since the previous sample. A signal that cannot be
 * read is left out.
 *
 * The hit rate is not taken since the previous sample: samples come at any
 * moment (every background enqueue asks, at most once a second, besides the
 * alert timer), so that window would often hold a handful of lookups, or
 * none, and one hit then two misses would read 100% then 0%. Nor does the
 * first sample only set a baseline: the counters run from the cache's start,
 * so the lookups before it count too.
 */
export class MeshLoadProbe implements LoadProbe {
  readonly #executor: ExecutorPeer | undefined;
  readonly #cache: CachePeer | undefined;
  readonly #registry: Registry | undefined;
  readonly #clock: Clock;
  #lastCache: CacheCounts | undefined;
  /** Samples over the last hit-rate window, oldest first; the first is the window's base. */
  #history: CacheCounts[] = [];
  #lastQueue: { sum: number; count: number } | undefined;

  constructor(deps: { executor?: ExecutorPeer; cache?: CachePeer; registry?: Registry; clock: Clock }) {
    this.#executor = deps.executor;
    this.#cache = deps.cache;
    this.#registry = deps.registry;
    this.#clock = deps.clock;
  }

  async sample(): Promise<LoadSample> {
    const out: LoadSample = {};
    const [depth, counters, queue] = await Promise.all([
      this.#executor?.queueDepth().catch(() => undefined),
      this.#cache?.counters().catch(() => undefined),
      this.#predictorQueue(),
    ]);
    if (depth !== undefined) out.queueDepth = depth;
    if (counters !== undefined) {
      const now = this.#clock.now();
      const last = this.#lastCache;
      if (last !== undefined && now > last.at) {
        const lookups = counters.lookups - last.lookups;
        out.liveQps = (Math.max(0, lookups) * 1000) / (now - last.at);
      }
      const current = { at: now, ...counters };
      this.#lastCache = current;
      const hitRate = this.#hitRate(current);
      if (hitRate !== undefined) out.hitRate = hitRate;
    }
    if (queue !== undefined) out.predictorQueueMs = queue;
    return out;
  }

  /** Hits over lookups since the window's base: the newest sample at least a window old, else the cache's start. */
  #hitRate(current: CacheCounts): number | undefined {
    const history = this.#history;
    // Counters that went back mean the cache restarted: its start is the base again.
    if (history.length > 0 && current.lookups < history.at(-1)!.lookups) history.length = 0;
    history.push(current);
    const from = current.at - hitRateWindowMs;
    while (history.length > 1 && history[1]!.at <= from) history.shift();
    const base = history[0]!.at <= from ? history[0]! : { lookups: 0, hits: 0 };
    const lookups = current.lookups - base.lookups;
    return lookups > 0 ? (current.hits - base.hits) / lookups : undefined;
  }

  async #predictorQueue(): Promise<number | undefined> {
    const metric = this.#registry?.getSingleMetric("prescient_inference_queue_duration_seconds");
    if (metric === undefined) return undefined;
    const { values } = await metric.get();
    let sum = 0;
    let count = 0;
    for (const v of values as Array<{ value: number; metricName?: string }>) {
      if (v.metricName?.endsWith("_sum")) sum += v.value;
      else if (v.metricName?.endsWith("_count")) count += v.value;
    }
    const last = this.#lastQueue;
    this.#lastQueue = { sum, count };
    if (last === undefined || count <= last.count) return undefined;
    return ((sum - last.sum) / (count - last.count)) * 1000;
  }
}
