import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { StoreCount } from "../store/cache-store.js";

/** The label children of one task type, resolved once so lookups only increment. */
export interface TypeCounters {
  hit: Counter.Internal;
  stale: Counter.Internal;
  miss: Counter.Internal;
  degraded: Counter.Internal;
  refreshDue: Counter.Internal;
}

/**
 * The cache's Prometheus metrics. Labels carry the task type (a bounded,
 * configured set) but never the tenant, whose count is unbounded; per-tenant
 * figures live in the Stats RPC instead. One instance per registry, so
 * several caches in one process (tests, `prescient up`) share the series.
 */
export class CacheMetrics {
  static #byRegistry = new WeakMap<Registry, CacheMetrics>();

  static for(registry: Registry): CacheMetrics {
    let metrics = CacheMetrics.#byRegistry.get(registry);
    if (metrics === undefined) {
      metrics = new CacheMetrics(registry);
      CacheMetrics.#byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  readonly lookups: Counter<"task_type" | "outcome">;
  readonly refreshDue: Counter<"task_type">;
  readonly puts: Counter<"task_type">;
  readonly invalidated: Counter<"selector">;
  readonly storeErrors: Counter<"operation">;
  readonly missHandlerCalls: Counter<"mode" | "outcome">;
  readonly evictions: Counter<"store">;
  readonly nearHits: Counter;
  readonly redisSweepSeconds: Histogram;
  readonly redisSweepPruned: Counter;
  /** Where the entries/bytes gauges read from: the most recently started cache. */
  countSource: (() => Promise<StoreCount>) | undefined;
  readonly #types = new Map<string, TypeCounters>();

  private constructor(registry: Registry) {
    const registers = [registry];
    this.lookups = new Counter({
      name: "prescient_cache_lookups_total",
      help: "Keys looked up, by task type and outcome (hit, stale, miss, degraded).",
      labelNames: ["task_type", "outcome"] as const,
      registers,
    });
    this.refreshDue = new Counter({
      name: "prescient_cache_refresh_due_total",
      help: "Hits marked due for early refresh (XFetch or stale).",
      labelNames: ["task_type"] as const,
      registers,
    });
    this.puts = new Counter({
      name: "prescient_cache_puts_total",
      help: "Entries written, by task type.",
      labelNames: ["task_type"] as const,
      registers,
    });
    this.invalidated = new Counter({
      name: "prescient_cache_invalidated_total",
      help: "Entries removed by Invalidate, by selector.",
      labelNames: ["selector"] as const,
      registers,
    });
    this.storeErrors = new Counter({
      name: "prescient_cache_store_errors_total",
      help: "Store operations that failed, by operation.",
      labelNames: ["operation"] as const,
      registers,
    });
    this.missHandlerCalls = new Counter({
      name: "prescient_cache_miss_handler_calls_total",
      help: "Misses handled, by mode (enqueue, compute) and outcome (ok, error, coalesced).",
      labelNames: ["mode", "outcome"] as const,
      registers,
    });
    this.evictions = new Counter({
      name: "prescient_cache_evictions_total",
      help: "Entries evicted to stay within the store's entry and byte budget, by store (memory, redis).",
      labelNames: ["store"] as const,
      registers,
    });
    this.nearHits = new Counter({
      name: "prescient_cache_redis_near_hits_total",
      help: "Reads the Redis store answered from the process's near cache, without a round trip (CLIENT TRACKING); freshness peeks are not reads.",
      registers,
    });
    this.redisSweepSeconds = new Histogram({
      name: "prescient_cache_redis_sweep_seconds",
      help: "Index sweeps of the Redis store by duration (one replica sweeps per interval; each looks at every index member).",
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers,
    });
    this.redisSweepPruned = new Counter({
      name: "prescient_cache_redis_sweep_pruned_total",
      help: "Index members the Redis store's sweeps pruned: members whose entries Redis had expired.",
      registers,
    });
    const gauge = (name: string, help: string, pick: (c: StoreCount) => number | undefined): void => {
      const source = (): (() => Promise<StoreCount>) | undefined => this.countSource;
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          const count = source();
          if (count === undefined) return;
          try {
            const value = pick(await count());
            if (value !== undefined) this.set(value);
          } catch {
            // The store is down; the error counters already say so.
          }
        },
      });
    };
    gauge("prescient_cache_entries", "Entries held by the cache store.", (c) => c.entries);
    gauge("prescient_cache_bytes", "Bytes held by the cache store, where it can tell.", (c) => c.bytes);
  }

  forType(taskType: string): TypeCounters {
    let counters = this.#types.get(taskType);
    if (counters === undefined) {
      counters = {
        hit: this.lookups.labels(taskType, "hit"),
        stale: this.lookups.labels(taskType, "stale"),
        miss: this.lookups.labels(taskType, "miss"),
        degraded: this.lookups.labels(taskType, "degraded"),
        refreshDue: this.refreshDue.labels(taskType),
      };
      this.#types.set(taskType, counters);
    }
    return counters;
  }
}
