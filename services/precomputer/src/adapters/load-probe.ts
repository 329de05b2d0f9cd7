import type { Clock } from "@prescient/core";
import type { Registry } from "prom-client";
import type { LoadProbe, LoadSample } from "../core/ports.js";
import type { CachePeer, ExecutorPeer } from "./peers.js";

/**
 * Reads the mesh's load for the budget: the executor's queue depth, the
 * cache's lookup rate and hit rate since the previous sample, and, where the
 * predictor shares this process's metrics registry, its mean queue wait
 * since the previous sample. A signal that cannot be read is left out.
 */
export class MeshLoadProbe implements LoadProbe {
  readonly #executor: ExecutorPeer | undefined;
  readonly #cache: CachePeer | undefined;
  readonly #registry: Registry | undefined;
  readonly #clock: Clock;
  #lastCache: { at: number; lookups: number; hits: number } | undefined;
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
        if (lookups > 0) out.hitRate = (counters.hits - last.hits) / lookups;
      }
      this.#lastCache = { at: now, ...counters };
    }
    if (queue !== undefined) out.predictorQueueMs = queue;
    return out;
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
