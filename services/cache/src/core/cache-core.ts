import type { cacheV1 } from "@prescient/contracts";
import {
  classifyFreshness,
  InvalidArgumentError,
  parseKey,
  ResourceExhaustedError,
  type TaskTypeRegistry,
  xfetchRefreshDue,
} from "@prescient/core";
import { type ResolvedKey, resolveEntityIds, resolveKey, resolveKeys } from "@prescient/kit";
import type { CachedResult, CacheStore } from "../store/cache-store.js";
import { expiresAtMsOf } from "../store/encoded-result.js";
import { type CacheCoreOptions, cacheCoreDefaults } from "./cache-core-options.js";
import { CacheMetrics } from "./cache-metrics.js";
import { CacheStats, type StatsCell } from "./cache-stats.js";
import { CacheWrites } from "./cache-writes.js";
import { answerExpiry, answerValue, hit, miss, peekAnswer, wireExpiry } from "./lookup-responses.js";
import { checkOnMiss, MissCoalescer, onMissMode } from "./miss-coalescer.js";
import type { MissFeatures } from "./miss-handler.js";
import { reportLookup } from "./observed-lookup.js";
import { RefreshDueSet } from "./refresh-due-set.js";
import { statsResponse } from "./stats-response.js";
import { StoreFailures } from "./store-failures.js";

type LookupResponse = cacheV1.LookupResponse;
const noFeatures: MissFeatures = Object.freeze({});

/**
 * Metric increments of one lookup call, per outcome. Hit and miss counters
 * (prom-client children) take them once per call and stats cell, not once
 * per key: a LookupMany of 100 keys costs a handful of increments, not 100.
 */
interface Tally {
  hit: number;
  stale: number;
  miss: number;
  degraded: number;
  refreshDue: number;
}

const newTally = (): Tally => ({ hit: 0, stale: 0, miss: 0, degraded: 0, refreshDue: 0 });

/** Hands a cell's tally to its metric children and zeroes it. */
function flushTally(cell: StatsCell, t: Tally): void {
  const m = cell.metrics;
  if (m !== undefined) {
    if (t.hit > 0) m.hit.inc(t.hit);
    if (t.stale > 0) m.stale.inc(t.stale);
    if (t.miss > 0) m.miss.inc(t.miss);
    if (t.degraded > 0) m.degraded.inc(t.degraded);
    if (t.refreshDue > 0) m.refreshDue.inc(t.refreshDue);
  }
  t.hit = t.stale = t.miss = t.degraded = t.refreshDue = 0;
}

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
  /** Shared by every call: a lookup fills and flushes it within one synchronous stretch. */
  readonly #tally = newTally();

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
    const cell = this.#stats.cell(k.parts.tenant, k.parts.taskType);
    const tally = this.#tally;
    const now = this.options.clock.now();
    const answer = this.#answer(
      k,
      result,
      degraded,
      request.onMiss,
      request.rejectStale,
      request.features,
      now,
      cell,
      tally,
    );
    flushTally(cell, tally);
    if (this.options.lookupObserver) reportLookup(this.options, k, answer, result, request.userId);
    return answer;
  }

  /**
   * Each canonical key's stored expires_at in ms, undefined where nothing is
   * stored or the result is past its stale grace: what a LookupMany peek
   * with expiries_only answers, for a precomputer in this process. Counts
   * nothing, and reads large results' TTLs rather than their values
   * (CacheStore.expiries); throws when the store cannot be read.
   */
  peekExpiries(keys: readonly string[]): Promise<(number | undefined)[]> {
    return this.#store.expiries(
      keys,
      (i) => this.#types.get(parseKey(keys[i] as string).taskType).staleGraceMs,
    );
  }

  /** peekExpiries for a LookupMany's resolved keys, as expires_at_ms: 0 where none, or where the store failed. */
  async #peekExpiries(resolved: readonly ResolvedKey[]): Promise<bigint[]> {
    let expiries: (number | undefined)[];
    try {
      expiries = await this.#store.expiries(
        resolved.map((k) => k.key),
        (i) => (resolved[i] as ResolvedKey).type.staleGraceMs,
      );
    } catch (err) {
      this.#failures.record("get_many", err);
      return resolved.map(() => 0n);
    }
    return expiries.map((e) => (e === undefined ? 0n : wireExpiry(e)));
  }

  async lookupMany(request: cacheV1.LookupManyRequest): Promise<cacheV1.LookupManyResponse> {
    const compact =
      request.entityIds.length > 0 || request.tenant !== undefined || request.taskType !== undefined;
    if (compact && request.keys.length > 0)
      throw new InvalidArgumentError("set either keys, or tenant, task_type and entity_ids; not both");
    const n = compact ? request.entityIds.length : request.keys.length;
    if (n > this.options.maxLookupMany)
      throw new ResourceExhaustedError(
        `LookupMany asked for ${n} keys; the limit is ${this.options.maxLookupMany} per call`,
      );
    checkOnMiss(request.onMiss);
    const expiriesOnly = request.expiriesOnly === true;
    if (expiriesOnly && request.valuesOnly === true)
      throw new InvalidArgumentError("set expiries_only or values_only, not both");
    if (expiriesOnly && (request.onMiss === onMissMode.enqueue || request.onMiss === onMissMode.compute))
      throw new InvalidArgumentError("expiries_only answers what is stored: on_miss must be ON_MISS_NONE");
    const resolved = compact
      ? resolveEntityIds(
          this.#types,
          request.tenant ?? "",
          request.taskType ?? "",
          request.entityIds,
          "entity_ids",
        )
      : resolveKeys(this.#types, request.keys, "keys");
    // A freshness check of expiries alone builds no answer per key (CacheStore.expiries).
    if (request.peek && expiriesOnly)
      return { results: [], values: [], expiresAtMs: await this.#peekExpiries(resolved) };
    let results: (CachedResult | undefined)[] = [];
    let degraded = false;
    try {
      results = await this.#store.getMany(
        resolved.map((k) => k.key),
        request.peek ? { peek: true } : undefined,
      );
    } catch (err) {
      degraded = true;
      this.#failures.record("get_many", err);
    }
    const now = this.options.clock.now();
    let answers: (LookupResponse | Promise<LookupResponse>)[];
    if (request.peek) {
      // A freshness check, not demand: answer from the store and count nothing.
      answers = resolved.map((k, i) => peekAnswer(k, results[i], now, degraded));
    } else {
      answers = new Array<LookupResponse | Promise<LookupResponse>>(n);
      const observe = this.options.lookupObserver !== undefined;
      const tally = this.#tally;
      // Keys of a batch mostly share a tenant and type: one stats cell per run of them.
      let cell: StatsCell | undefined;
      let tenant = "";
      let taskType = "";
      // An observer that throws must not leave this call's counts to the next one's cell.
      try {
        for (let i = 0; i < n; i++) {
          const k = resolved[i] as ResolvedKey;
          if (cell === undefined || k.parts.tenant !== tenant || k.parts.taskType !== taskType) {
            if (cell !== undefined) flushTally(cell, tally);
            tenant = k.parts.tenant;
            taskType = k.parts.taskType;
            cell = this.#stats.cell(tenant, taskType);
          }
          const answer = this.#answer(
            k,
            results[i],
            degraded,
            request.onMiss,
            request.rejectStale,
            noFeatures,
            now,
            cell,
            tally,
          );
          if (observe) reportLookup(this.options, k, answer, results[i], request.userId);
          answers[i] = answer;
        }
      } finally {
        if (cell !== undefined) flushTally(cell, tally);
      }
    }
    if (expiriesOnly)
      return { results: [], values: [], expiresAtMs: (await Promise.all(answers)).map(answerExpiry) };
    if (request.valuesOnly === true) {
      // Most answers are ready (hits, plain misses); only misses being computed or enqueued wait.
      const values = answers.some((a) => a instanceof Promise)
        ? (await Promise.all(answers)).map(answerValue)
        : (answers as LookupResponse[]).map(answerValue);
      return { results: [], values, expiresAtMs: [] };
    }
    return { results: await Promise.all(answers), values: [], expiresAtMs: [] };
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
    now: number,
    cell: StatsCell,
    tally: Tally,
  ): LookupResponse | Promise<LookupResponse> {
    if (result !== undefined) {
      const expiresAtMs = expiresAtMsOf(result);
      const freshness = classifyFreshness(now, expiresAtMs, k.type.staleGraceMs);
      if (freshness === "fresh") {
        const due = xfetchRefreshDue(
          now,
          expiresAtMs,
          result.computeMs,
          k.type.xfetchBeta,
          this.options.random,
        );
        if (due) this.#markRefreshDue(k.key, tally);
        cell.hits++;
        tally.hit++;
        return hit(k.key, result, false, due);
      }
      if (freshness === "stale" && !rejectStale) {
        // Serve stale while revalidating: every stale hit asks for a refresh.
        this.#markRefreshDue(k.key, tally);
        cell.hits++;
        cell.staleHits++;
        tally.stale++;
        return hit(k.key, result, true, true);
      }
    }
    cell.misses++;
    if (degraded) {
      cell.errors++;
      tally.degraded++;
    } else tally.miss++;
    if (onMiss === onMissMode.enqueue) return this.#misses.enqueue(k, degraded, features);
    if (onMiss === onMissMode.compute) return this.#misses.compute(k, degraded, features);
    return miss(k.key, degraded);
  }

  #markRefreshDue(key: string, tally: Tally): void {
    if (this.#refreshDue.add(key)) tally.refreshDue++;
  }
}
