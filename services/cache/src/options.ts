import { defaultTaskTypesPath, loadTaskTypes, type TaskTypeRegistry } from "@prescient/core";
import { createLogger, intFromEnv, kitRegistry, loadEnv } from "@prescient/kit";
import { z } from "zod";
import { type CacheCoreOptions, cacheCoreDefaults } from "./core/cache-core-options.js";
import type { CacheStore } from "./store/cache-store.js";
import { memoryStoreDefaults } from "./store/memory-store.js";
import { redisStoreDefaults } from "./store/redis-store.js";

/**
 * Which store the cache uses: the embedded LRU, Redis at a URL (with its own
 * key prefix, else `redisKeyPrefix`), or a store built by the caller.
 */
export type CacheStoreChoice = "memory" | { redisUrl: string; keyPrefix?: string } | CacheStore;

/**
 * Everything startCache takes. Defaults (applied only in resolveCacheOptions):
 * - taskTypes: config/task-types.yaml at the repository root
 * - store: "memory"
 * - maxEntries 100,000 and maxBytes 256 MiB (memory store)
 * - redisKeyPrefix "prescient:cache:", redisMaxEntries 1,000,000 and redisMaxBytes 1 GiB (Redis store)
 * - redisNearEntries 10,000 and redisNearBytes 32 MiB (the Redis store's near cache)
 * - maxLookupMany 1000, maxPutMany 1000, refreshDueCapacity 10,000, maxStatsTenants 10,000
 * - missHandler: answers UNAVAILABLE ("no executor is configured")
 * - clock: system clock; random: Math.random
 * - registry: kit's process registry (served on /metrics); logger: component "cache"
 * - env: none. When given, the PRESCIENT_CACHE_* variables in it (cacheEnvShape) are
 *   validated and applied; options given explicitly win over them.
 */
export interface CacheOptions extends CacheCoreOptions {
  taskTypes: TaskTypeRegistry;
  store: CacheStoreChoice;
  /** Memory store: most entries held. */
  maxEntries: number;
  /** Memory store: most bytes held. */
  maxBytes: number;
  /** Redis store: prefix of every key it writes. */
  redisKeyPrefix: string;
  /** Redis store: most entries held; the closest to expiry are evicted first. */
  redisMaxEntries: number;
  /** Redis store: most bytes held, as the store estimates them (keep it below Redis's maxmemory). */
  redisMaxBytes: number;
  /** Redis store: entries kept in the process while Redis says they are unchanged (CLIENT TRACKING); 0 turns it off. */
  redisNearEntries: number;
  /** Redis store: most value bytes its near cache holds. */
  redisNearBytes: number;
  env: NodeJS.ProcessEnv | undefined;
}

export function resolveCacheOptions(options: Partial<CacheOptions> = {}): CacheOptions {
  const fromEnv = options.env === undefined ? {} : cacheOptionsFromEnv(loadEnv(cacheEnvShape, options.env));
  return {
    ...cacheCoreDefaults,
    registry: kitRegistry,
    logger: createLogger("cache"),
    store: "memory",
    maxEntries: memoryStoreDefaults.maxEntries,
    maxBytes: memoryStoreDefaults.maxBytes,
    redisKeyPrefix: redisStoreDefaults.keyPrefix,
    redisMaxEntries: redisStoreDefaults.maxEntries,
    redisMaxBytes: redisStoreDefaults.maxBytes,
    redisNearEntries: redisStoreDefaults.nearCacheMaxEntries,
    redisNearBytes: redisStoreDefaults.nearCacheMaxBytes,
    env: undefined,
    ...fromEnv,
    ...options,
    // Loaded only when not given: reading the file is the one costly default.
    taskTypes: options.taskTypes ?? loadTaskTypes(defaultTaskTypesPath),
  };
}

/**
 * The cache's environment variables, for the CLI to validate with kit's
 * loadEnv. Unset means the option's default (see CacheOptions). The store
 * itself follows the common REDIS_URL.
 */
export const cacheEnvShape = {
  /** Memory store: most entries held. */
  PRESCIENT_CACHE_MAX_ENTRIES: intFromEnv(1, 1_000_000_000).optional(),
  /** Memory store: most bytes held. */
  PRESCIENT_CACHE_MAX_BYTES: intFromEnv(1024, Number.MAX_SAFE_INTEGER).optional(),
  /** Most keys in one LookupMany. */
  PRESCIENT_CACHE_MAX_LOOKUP_MANY: intFromEnv(1, 100_000).optional(),
  /** Most entries in one PutMany. */
  PRESCIENT_CACHE_MAX_PUT_MANY: intFromEnv(1, 100_000).optional(),
  /** Redis store: prefix of every key. */
  PRESCIENT_CACHE_REDIS_PREFIX: z.string().min(1).max(128).optional(),
  /** Redis store: most entries held. */
  PRESCIENT_CACHE_REDIS_MAX_ENTRIES: intFromEnv(1, 1_000_000_000).optional(),
  /** Redis store: most bytes held (estimated). */
  PRESCIENT_CACHE_REDIS_MAX_BYTES: intFromEnv(1024 * 1024, Number.MAX_SAFE_INTEGER).optional(),
  /** Redis store: entries its near cache holds; 0 turns it off. */
  PRESCIENT_CACHE_REDIS_NEAR_ENTRIES: intFromEnv(0, 10_000_000).optional(),
  /** Redis store: most value bytes its near cache holds. */
  PRESCIENT_CACHE_REDIS_NEAR_BYTES: intFromEnv(1024 * 1024, Number.MAX_SAFE_INTEGER).optional(),
};

export type CacheEnv = z.infer<z.ZodObject<typeof cacheEnvShape>>;

/** Turns validated cache env into options; unset variables stay unset, so defaults apply. */
export function cacheOptionsFromEnv(env: CacheEnv): Partial<CacheOptions> {
  const options: Partial<CacheOptions> = {};
  if (env.PRESCIENT_CACHE_MAX_ENTRIES !== undefined) options.maxEntries = env.PRESCIENT_CACHE_MAX_ENTRIES;
  if (env.PRESCIENT_CACHE_MAX_BYTES !== undefined) options.maxBytes = env.PRESCIENT_CACHE_MAX_BYTES;
  if (env.PRESCIENT_CACHE_MAX_LOOKUP_MANY !== undefined)
    options.maxLookupMany = env.PRESCIENT_CACHE_MAX_LOOKUP_MANY;
  if (env.PRESCIENT_CACHE_MAX_PUT_MANY !== undefined) options.maxPutMany = env.PRESCIENT_CACHE_MAX_PUT_MANY;
  if (env.PRESCIENT_CACHE_REDIS_PREFIX !== undefined)
    options.redisKeyPrefix = env.PRESCIENT_CACHE_REDIS_PREFIX;
  if (env.PRESCIENT_CACHE_REDIS_MAX_ENTRIES !== undefined)
    options.redisMaxEntries = env.PRESCIENT_CACHE_REDIS_MAX_ENTRIES;
  if (env.PRESCIENT_CACHE_REDIS_MAX_BYTES !== undefined)
    options.redisMaxBytes = env.PRESCIENT_CACHE_REDIS_MAX_BYTES;
  if (env.PRESCIENT_CACHE_REDIS_NEAR_ENTRIES !== undefined)
    options.redisNearEntries = env.PRESCIENT_CACHE_REDIS_NEAR_ENTRIES;
  if (env.PRESCIENT_CACHE_REDIS_NEAR_BYTES !== undefined)
    options.redisNearBytes = env.PRESCIENT_CACHE_REDIS_NEAR_BYTES;
  return options;
}
