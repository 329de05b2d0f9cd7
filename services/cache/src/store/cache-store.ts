import type { commonV1 } from "@prescient/contracts";
import type { CompiledPattern, NearExpiryEntry } from "@prescient/core";

/** A stored prediction: the Result message as served (computed_at/expires_at included). */
export type CachedResult = commonV1.Result;

/** One entry to write. */
export interface StoreWrite {
  /** Canonical key, `{tenant}/{task_type}/{subject}` (see @prescient/core formatKey). */
  key: string;
  tenant: string;
  taskType: string;
  result: CachedResult;
  /**
   * When the store may forget the entry, ms since the epoch on the store's
   * clock: expires_at plus the type's stale grace, so that stale results
   * stay servable through the grace window.
   */
  physicalExpiryMs: number;
}

/** What to remove. Keys, patterns and tags are always within one tenant. */
export type InvalidationSelector =
  | { kind: "pattern"; pattern: CompiledPattern }
  | { kind: "tag"; tenant: string; tag: string }
  /** `tenant` undefined: every tenant. */
  | { kind: "task_type"; tenant: string | undefined; taskType: string }
  /** Entries of `modelName` whose numeric model version is below `olderThan`. */
  | { kind: "model_older_than"; tenant: string | undefined; modelName: string; olderThan: number };

export interface StoreCount {
  /** Entries held, expired-but-unevicted ones included. */
  entries: number;
  /** Bytes held, where the store can tell; undefined otherwise. */
  bytes: number | undefined;
}

export interface GetManyOptions {
  /** A freshness check: see CacheStore.getMany. Default false. */
  peek?: boolean;
}

/**
 * Where the cache keeps results. Two implementations (memory, Redis) pass one
 * conformance suite (store-conformance.test-util.ts). Every method may throw
 * when the backing store is down; the cache core turns that into degraded
 * answers, never a crash.
 */
export interface CacheStore {
  /** "memory" or "redis", reported by Stats. */
  readonly name: string;
  /** Resolves once the store can serve (Redis: connected). */
  ready(): Promise<void>;
  /** One entry, or undefined when absent or physically expired. */
  get(key: string): Promise<CachedResult | undefined>;
  /**
   * Entries in the order of `keys`; one round trip per tenant at most. A
   * `peek` (a freshness check, not a read to serve again) leaves no trace: the
   * Redis store neither keeps what it reads in its near cache nor lets Redis
   * track the keys for invalidation, which would fill Redis's tracking table
   * with every key a trigger checks before it is first computed.
   */
  getMany(keys: readonly string[], options?: GetManyOptions): Promise<(CachedResult | undefined)[]>;
  /**
   * Each entry's expires_at (ms since the epoch), in the order of `keys`;
   * undefined where absent or past its physical expiry. A freshness check:
   * like a `peek`, it leaves no trace. `staleGraceMs(i)` is the stale grace
   * of keys[i]'s type, for a store that reads when an entry may be forgotten
   * (StoreWrite.physicalExpiryMs, expires_at plus the grace) rather than its
   * value: the Redis store does for types whose results are large, where a
   * value costs Redis more than a TTL (expiriesFromTtlMinBytes), and such an
   * expiry is early by at most the round trip, never late.
   */
  expiries(keys: readonly string[], staleGraceMs: (index: number) => number): Promise<(number | undefined)[]>;
  /** Writes entries (replacing any with the same key) with their tags, type and model indexed. */
  putMany(entries: readonly StoreWrite[]): Promise<void>;
  /** Removes exact keys; answers how many existed. */
  delete(keys: readonly string[]): Promise<number>;
  /** Removes what the selector names, in bounded chunks; answers how many entries were removed. */
  invalidate(selector: InvalidationSelector): Promise<number>;
  count(): Promise<StoreCount>;
  /**
   * Where the store keeps an expiry index (the memory store): the results
   * within their type's refresh horizon, and those expired since the last
   * call, for the precomputer's refresh-ahead (see ExpiryIndex).
   */
  nearExpiry?(
    now: number,
    horizonOf: (taskType: string) => number,
    filter: { taskType?: string | undefined; tenant?: string | undefined },
  ): NearExpiryEntry[];
  close(): Promise<void>;
}

/**
 * Model versions are compared numerically ("2" < "10"); a version that is not
 * a plain non-negative decimal number (empty, "v2", "1.2.3") is never older
 * than anything, so it is never removed by version.
 */
export function numericModelVersion(version: string): number | undefined {
  if (!/^\d+(\.\d+)?$/.test(version)) return undefined;
  const n = Number(version);
  return Number.isFinite(n) ? n : undefined;
}
