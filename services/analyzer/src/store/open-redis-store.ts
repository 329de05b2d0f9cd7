import { connectRedis, type RedisClient, watchRedisErrors } from "@prescient/kit";
import type { DecayRates } from "../core/forward-decay.js";
import type { AnalyzerStore } from "./analyzer-store.js";
import { closeRedis, RedisAnalyzerStore } from "./redis-store.js";
import { shardPrefixes } from "./shard-routing.js";
import { ShardedAnalyzerStore } from "./sharded-store.js";

/** Where the analyzer's keys live when no prefix is given: one hash tag, `{analyzer}`. */
export const defaultKeyPrefix = "prescient:{analyzer}:";

export interface OpenRedisStoreOptions {
  redisUrl: string;
  /** Prefix of every key, with a hash tag. Default "prescient:{analyzer}:". */
  keyPrefix: string;
  /** Shards (see ShardedAnalyzerStore); 1 is today's single store and key layout. Default 1. */
  shards: number;
  /** Decay rates, for a sharded store's reads across landmarks. Default: learned from the first write. */
  rates: DecayRates | undefined;
}

/**
 * The analyzer's Redis store: one RedisAnalyzerStore under the prefix, or
 * with more shards, a ShardedAnalyzerStore over one store per shard prefix
 * (shard-routing.ts), all on one client: a Cluster client routes each
 * shard's commands to its master itself, so more clients would only add
 * connections. Returns the client too, for health checks.
 */
export function openRedisAnalyzerStore(options: Partial<OpenRedisStoreOptions> & { redisUrl: string }): {
  store: AnalyzerStore;
  redis: RedisClient;
} {
  const o: OpenRedisStoreOptions = {
    keyPrefix: defaultKeyPrefix,
    shards: 1,
    rates: undefined,
    ...options,
  };
  if (o.shards === 1) {
    const store = new RedisAnalyzerStore({ redisUrl: o.redisUrl, keyPrefix: o.keyPrefix });
    return { store, redis: store.redis };
  }
  const prefixes = shardPrefixes(o.keyPrefix, o.shards);
  const redis = connectRedis(o.redisUrl, { connectionName: "prescient-analyzer" });
  watchRedisErrors(redis, "analyzer");
  const shards = prefixes.map((keyPrefix) => new RedisAnalyzerStore({ redis, keyPrefix }));
  return {
    store: new ShardedAnalyzerStore(shards, { rates: o.rates, onClose: () => closeRedis(redis) }),
    redis,
  };
}
