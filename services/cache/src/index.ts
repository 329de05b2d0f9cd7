import { errorMessage } from "@prescient/core";
import { type ServiceHost, watchRedisHealth } from "@prescient/kit";
import { CacheCore } from "./core/cache-core.js";
import { CacheMetrics } from "./core/cache-metrics.js";
import { type CacheOptions, resolveCacheOptions } from "./options.js";
import { cacheServiceImplementation, cacheServiceName } from "./service/cache-service.js";
import { cacheServiceDefinition } from "./service/response-encoding.js";
import type { CacheStore } from "./store/cache-store.js";
import { MemoryCacheStore } from "./store/memory-store.js";
import { RedisCacheStore } from "./store/redis-store.js";

export { CacheCore } from "./core/cache-core.js";
export { type CacheCoreOptions, cacheCoreDefaults } from "./core/cache-core-options.js";
export {
  type MissFeatures,
  type MissHandler,
  type MissKey,
  unconfiguredMissHandler,
} from "./core/miss-handler.js";
export type { ObservedLookup } from "./core/observed-lookup.js";
export {
  type CacheEnv,
  type CacheOptions,
  type CacheStoreChoice,
  cacheEnvShape,
  cacheOptionsFromEnv,
  resolveCacheOptions,
} from "./options.js";
export { cacheServiceImplementation, cacheServiceName } from "./service/cache-service.js";
export { cacheServiceDefinition } from "./service/response-encoding.js";
export type {
  CachedResult,
  CacheStore,
  InvalidationSelector,
  StoreCount,
  StoreWrite,
} from "./store/cache-store.js";
export { MemoryCacheStore, type MemoryStoreOptions, memoryStoreDefaults } from "./store/memory-store.js";
export { type BudgetLimits, type BudgetTally, type BudgetWrite, RedisBudget } from "./store/redis-budget.js";
export { RedisLayout } from "./store/redis-layout.js";
export { RedisCacheStore, type RedisStoreOptions, redisStoreDefaults } from "./store/redis-store.js";

export interface CacheRuntime {
  core: CacheCore;
  store: CacheStore;
  /** Marks the service NOT_SERVING and closes the store; also runs on host shutdown. Idempotent. */
  close(): Promise<void>;
}

/**
 * Registers prescient.cache.v1.CacheService on the host at once (before the
 * first await, so `host.start()` may follow without waiting), and resolves
 * when its store is ready (Redis: connected) and the service reports
 * SERVING; until then it reports NOT_SERVING. The host's shutdown closes the
 * store after in-flight calls have drained.
 */
export async function startCache(host: ServiceHost, options?: Partial<CacheOptions>): Promise<CacheRuntime> {
  const o = resolveCacheOptions(options);
  const store = createStore(o);
  const core = new CacheCore(store, o.taskTypes, o);
  host.addService(cacheServiceName, cacheServiceDefinition, cacheServiceImplementation(core));
  // Lookups still answer (degraded) while Redis is down, but readiness says
  // NOT_SERVING so traffic moves to replicas that have their store.
  if (store instanceof RedisCacheStore)
    watchRedisHealth(host, [cacheServiceName], store.client, { logger: o.logger });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      host.setServing(cacheServiceName, false);
      await store.close();
    })();
    return closing;
  };
  host.onShutdown(close);
  try {
    await store.ready();
  } catch (err) {
    o.logger?.error({ err: errorMessage(err), store: store.name }, "cache store never became ready");
    throw err;
  }
  if (closing === undefined) host.setServing(cacheServiceName, true);
  o.logger?.info({ store: store.name, taskTypes: o.taskTypes.list().length }, "cache serving");
  return { core, store, close };
}

function createStore(o: CacheOptions): CacheStore {
  const evictions = o.registry ? CacheMetrics.for(o.registry).evictions : undefined;
  if (o.store === "memory") {
    const evicted = evictions?.labels("memory");
    return new MemoryCacheStore({
      maxEntries: o.maxEntries,
      maxBytes: o.maxBytes,
      clock: o.clock,
      onEvicted: (n) => evicted?.inc(n),
    });
  }
  if ("redisUrl" in o.store) {
    const evicted = evictions?.labels("redis");
    const metrics = o.registry ? CacheMetrics.for(o.registry) : undefined;
    return new RedisCacheStore({
      url: o.store.redisUrl,
      keyPrefix: o.store.keyPrefix ?? o.redisKeyPrefix,
      maxEntries: o.redisMaxEntries,
      maxBytes: o.redisMaxBytes,
      onEvicted: (n) => evicted?.inc(n),
      nearCacheMaxEntries: o.redisNearEntries,
      nearCacheMaxBytes: o.redisNearBytes,
      onNearHits: (n) => metrics?.nearHits.inc(n),
      onSwept: ({ pruned, seconds }) => {
        metrics?.redisSweepSeconds.observe(seconds);
        metrics?.redisSweepPruned.inc(pruned);
      },
      clock: o.clock,
      logger: o.logger,
    });
  }
  return o.store;
}
