import type { cacheV1 } from "@prescient/contracts";
import {
  classifyFreshness,
  ResourceExhaustedError,
  type TaskTypeRegistry,
  xfetchRefreshDue,
} from "@prescient/core";
import { type ResolvedKey, resolveKey } from "@prescient/kit";
import type { CachedResult, CacheStore } from "../store/cache-store.js";
import { type CacheCoreOptions, cacheCoreDefaults } from "./cache-core-options.js";
import { CacheMetrics } from "./cache-metrics.js";
import { CacheStats, type StatsCell } from "./cache-stats.js";
import { CacheWrites } from "./cache-writes.js";
import { hit, miss, peekAnswer } from "./lookup-responses.js";
import { checkOnMiss, MissCoalescer, onMissMode } from "./miss-coalescer.js";
import type { MissFeatures } from "./miss-handler.js";
import { reportLookup } from "./observed-lookup.js";
import { RefreshDueSet } from "./refresh-due-set.js";
import { statsResponse } from "./stats-response.js";
import { StoreFailures } from "./store-failures.js";

type LookupResponse = cacheV1.LookupResponse;
const noFeatures: MissFeatures = Object.freeze({});

/**
 * The cache's policy, free of gRPC and Redis: freshness (fresh, stale within
 * the type's grace, expired), XFetch early-refresh marks, coalesced miss
 * handling, degraded answers when the store fails, TTLs and stats. The gRPC
 * service decodes a request, calls one method here and encodes the answer.
 *
 * The lookup path (lookup, lookupMany, answering and marking refresh-due)
 * lives here, on the core itself, because it is the hot path: a hit is
 * answered without a call into another object. Misses, writes and stats
 * are handed to their own parts.
 */
export class CacheCore {
  readonly options: CacheCoreOptions;
  readonly #store: CacheStore;
  readonly #types: TaskTypeRegistry;
  readonly #stats: CacheStats;
  readonly #refreshDue: RefreshDueSet;
  readonly #failures: StoreFailures;
  readonly #misses: MissCoalescer;
  readonly #writes: CacheWrites;

  constructor(store: CacheStore, taskTypes: TaskTypeRegistry, options?: Partial<CacheCoreOptions>) {
    this.options = { ...cacheCoreDefaults, ...options };
    this.#store = store;
    this.#types = taskTypes;
    const metrics = this.options.registry ? CacheMetrics.for(this.options.registry) : undefined;
    if (metrics) metrics.countSource = () => store.count();
    this.#stats = new CacheStats(this.options.maxStatsTenants, (t) => metrics?.forType(t));
    this.#refreshDue = new RefreshDueSet(this.options.refreshDueCapacity);
    this.#failures = new StoreFailures(store, metrics, this.options.logger, this.options.clock);
    this.#misses = new MissCoalescer(this.options, store, metrics, this.#failures);
    this.#writes = new CacheWrites(taskTypes, store, this.options, metrics, this.#failures);
  }

  get store(): CacheStore {
    return this.#store;
  }

  async lookup(request: cacheV1.LookupRequest): Promise<LookupResponse> {
    checkOnMiss(request.onMiss);
    const k = resolveKey(this.#types, request.key, "key");
    let result: CachedResult | undefined;
    let degraded = false;
    try {
      result = await this.#store.get(k.key);
    } catch (err) {
      degraded = true;
      this.#failures.record("get", err);
    }
    const answer = this.#answer(k, result, degraded, request.onMiss, request.rejectStale, request.features);
    if (this.options.lookupObserver) reportLookup(this.options, k, answer, result, request.userId);
    return answer;
  }

  async lookupMany(request: cacheV1.LookupManyRequest): Promise<cacheV1.LookupManyResponse> {
    const n = request.keys.length;
    if (n > this.options.maxLookupMany)
      throw new ResourceExhaustedError(
        `LookupMany asked for ${n} keys; the limit is ${this.options.maxLookupMany} per call`,
      );
    checkOnMiss(request.onMiss);
    const resolved = request.keys.map((key, i) => resolveKey(this.#types, key, `keys[${i}]`));
    let results: (CachedResult | undefined)[] = [];
    let degraded = false;
    try {
      results = await this.#store.getMany(resolved.map((k) => k.key));
    } catch (err) {
      degraded = true;
      this.#failures.record("get_many", err);
    }
    if (request.peek) {
      // A freshness check, not demand: answer from the store and count nothing.
      const now = this.options.clock.now();
      return { results: resolved.map((k, i) => peekAnswer(k, results[i], now, degraded)) };
    }
    const observe = this.options.lookupObserver !== undefined;
    const answers = resolved.map((k, i) => {
      const answer = this.#answer(k, results[i], degraded, request.onMiss, request.rejectStale, noFeatures);
      if (observe) reportLookup(this.options, k, answer, results[i], request.userId);
      return answer;
    });
    return { results: await Promise.all(answers) };
  }

  put(request: cacheV1.PutRequest): Promise<cacheV1.PutResponse> {
    return this.#writes.put(request);
  }

  putMany(request: cacheV1.PutManyRequest): Promise<cacheV1.PutManyResponse> {
    return this.#writes.putMany(request);
  }

  invalidate(request: cacheV1.InvalidateRequest): Promise<cacheV1.InvalidateResponse> {
    return this.#writes.invalidate(request);
  }

  stats(request: cacheV1.StatsRequest): Promise<cacheV1.StatsResponse> {
    return statsResponse(request, this.#types, this.#stats, this.#store, this.#failures);
  }

  takeRefreshDue(request: cacheV1.TakeRefreshDueRequest): cacheV1.TakeRefreshDueResponse {
    const limit = request.limit === 0 ? this.#refreshDue.capacity : request.limit;
    return { keys: this.#refreshDue.take(limit) };
  }

  /** Store failures since start (lookups answered degraded, failed writes, ...). */
  get storeErrors(): number {
    return this.#failures.count;
  }

  #answer(
    k: ResolvedKey,
    result: CachedResult | undefined,
    degraded: boolean,
    onMiss: number,
    rejectStale: boolean,
    features: MissFeatures,
  ): LookupResponse | Promise<LookupResponse> {
    const cell = this.#stats.cell(k.parts.tenant, k.parts.taskType);
    if (result !== undefined) {
      const now = this.options.clock.now();
      const expiresAtMs = result.expiresAt === undefined ? 0 : result.expiresAt.getTime();
      const freshness = classifyFreshness(now, expiresAtMs, k.type.staleGraceMs);
      if (freshness === "fresh") {
        const due = xfetchRefreshDue(
          now,
          expiresAtMs,
          result.computeMs,
          k.type.xfetchBeta,
          this.options.random,
        );
        if (due) this.#markRefreshDue(k.key, cell);
        cell.hits++;
        cell.metrics?.hit.inc();
        return hit(k.key, result, false, due);
      }
      if (freshness === "stale" && !rejectStale) {
        // Serve stale while revalidating: every stale hit asks for a refresh.
        this.#markRefreshDue(k.key, cell);
        cell.hits++;
        cell.staleHits++;
        cell.metrics?.stale.inc();
        return hit(k.key, result, true, true);
      }
    }
    cell.misses++;
    if (degraded) {
      cell.errors++;
      cell.metrics?.degraded.inc();
    } else cell.metrics?.miss.inc();
    if (onMiss === onMissMode.enqueue) return this.#misses.enqueue(k, degraded, features);
    if (onMiss === onMissMode.compute) return this.#misses.compute(k, degraded, features);
    return miss(k.key, degraded);
  }

  #markRefreshDue(key: string, cell: StatsCell): void {
    if (this.#refreshDue.add(key)) cell.metrics?.refreshDue.inc();
  }
}
