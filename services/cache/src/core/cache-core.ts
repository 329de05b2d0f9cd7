import type { cacheV1 } from "@prescient/contracts";
import {
  type Clock,
  classifyFreshness,
  errorMessage,
  InvalidArgumentError,
  isDomainError,
  ResourceExhaustedError,
  systemClock,
  type TaskTypeRegistry,
  UnavailableError,
  validateTenant,
  xfetchRefreshDue,
} from "@prescient/core";
import { type ResolvedKey, resolveKey, withField } from "@prescient/kit";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { CachedResult, CacheStore, StoreWrite } from "../store/cache-store.js";
import { CacheMetrics } from "./cache-metrics.js";
import { CacheStats, type CounterValues, hitRate, type StatsCell } from "./cache-stats.js";
import { toInvalidation } from "./invalidate-validation.js";
import {
  type MissFeatures,
  type MissHandler,
  type MissKey,
  unconfiguredMissHandler,
} from "./miss-handler.js";
import { validatePutEntry } from "./put-validation.js";
import { RateLimitedLog } from "./rate-limited-log.js";
import { RefreshDueSet } from "./refresh-due-set.js";
import { SingleFlight } from "./single-flight.js";

export interface CacheCoreOptions {
  /** Most keys in one LookupMany; more is RESOURCE_EXHAUSTED. Default 1000. */
  maxLookupMany: number;
  /** Most entries in one PutMany; more is RESOURCE_EXHAUSTED. Default 1000. */
  maxPutMany: number;
  /** Refresh-due keys kept until TakeRefreshDue drains them; the oldest go first. Default 10,000. */
  refreshDueCapacity: number;
  /** Tenants counted apart in Stats; later ones count as "(other)". Default 10,000. */
  maxStatsTenants: number;
  /** Handles ENQUEUE and COMPUTE misses. Default: answers UNAVAILABLE (no executor). */
  missHandler: MissHandler;
  /** Default: the system clock. */
  clock: Clock;
  /** Uniform on [0, 1), for XFetch. Default Math.random. */
  random: () => number;
  /** Where lookup, put and error metrics go. Default: none. */
  registry: Registry | undefined;
  /** Store failures are logged here, rate-limited. Default: none. */
  logger: Logger | undefined;
  /**
   * Told of every answered lookup, synchronously, for the analyzer's query
   * log. It must not block or throw (the QueryReporter buffers and drops).
   * Default: none.
   */
  lookupObserver: ((lookup: ObservedLookup) => void) | undefined;
}

/** One answered lookup, as the demand model wants it. */
export interface ObservedLookup {
  /** ms since the epoch, on the core's clock. */
  time: number;
  key: string;
  tenant: string;
  taskType: string;
  /** Raw entity id, or `#<digest>` for input-addressed keys. */
  entityId: string;
  userId: string;
  outcome: "hit" | "stale" | "miss";
  /** The stored result's compute time on a hit; 0 when unknown. */
  computeMs: number;
}

export const cacheCoreDefaults: Readonly<CacheCoreOptions> = {
  maxLookupMany: 1000,
  maxPutMany: 1000,
  refreshDueCapacity: 10_000,
  maxStatsTenants: 10_000,
  missHandler: unconfiguredMissHandler,
  clock: systemClock,
  random: Math.random,
  registry: undefined,
  logger: undefined,
  lookupObserver: undefined,
};

type LookupResponse = cacheV1.LookupResponse;
/** cache.proto's OnMiss values; the core imports no generated runtime code (see the test that pins them). */
export const onMissMode = { none: 1, enqueue: 2, compute: 3 } as const;
const noFeatures: MissFeatures = Object.freeze({});

/**
 * The cache's policy, free of gRPC and Redis: freshness (fresh, stale within
 * the type's grace, expired), XFetch early-refresh marks, coalesced miss
 * handling, degraded answers when the store fails, TTLs and stats. The gRPC
 * service decodes a request, calls one method here and encodes the answer.
 */
export class CacheCore {
  readonly options: CacheCoreOptions;
  readonly #store: CacheStore;
  readonly #types: TaskTypeRegistry;
  readonly #stats: CacheStats;
  readonly #metrics: CacheMetrics | undefined;
  readonly #refreshDue: RefreshDueSet;
  readonly #enqueues = new SingleFlight<string>();
  readonly #computes = new SingleFlight<CachedResult>();
  readonly #storeLog: RateLimitedLog;
  #storeErrors = 0;

  constructor(store: CacheStore, taskTypes: TaskTypeRegistry, options?: Partial<CacheCoreOptions>) {
    this.options = { ...cacheCoreDefaults, ...options };
    this.#store = store;
    this.#types = taskTypes;
    this.#metrics = this.options.registry ? CacheMetrics.for(this.options.registry) : undefined;
    if (this.#metrics) this.#metrics.countSource = () => store.count();
    this.#stats = new CacheStats(this.options.maxStatsTenants, (t) => this.#metrics?.forType(t));
    this.#refreshDue = new RefreshDueSet(this.options.refreshDueCapacity);
    this.#storeLog = new RateLimitedLog(this.options.logger, this.options.clock);
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
      this.#storeFailed("get", err);
    }
    const answer = this.#answer(k, result, degraded, request.onMiss, request.rejectStale, request.features);
    if (this.options.lookupObserver) this.#observe(k, answer, result, request.userId);
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
      this.#storeFailed("get_many", err);
    }
    if (request.peek) {
      // A freshness check, not demand: answer from the store and count nothing.
      const now = this.options.clock.now();
      return { results: resolved.map((k, i) => peekAnswer(k, results[i], now, degraded)) };
    }
    const observe = this.options.lookupObserver !== undefined;
    const answers = resolved.map((k, i) => {
      const answer = this.#answer(k, results[i], degraded, request.onMiss, request.rejectStale, noFeatures);
      if (observe) this.#observe(k, answer, results[i], request.userId);
      return answer;
    });
    return { results: await Promise.all(answers) };
  }

  async put(request: cacheV1.PutRequest): Promise<cacheV1.PutResponse> {
    const write = validatePutEntry(this.#types, request.entry, this.options.clock.now(), "entry");
    await this.#write([write]);
    return { key: write.key, expiresAt: write.result.expiresAt };
  }

  async putMany(request: cacheV1.PutManyRequest): Promise<cacheV1.PutManyResponse> {
    const n = request.entries.length;
    if (n > this.options.maxPutMany)
      throw new ResourceExhaustedError(
        `PutMany sent ${n} entries; the limit is ${this.options.maxPutMany} per call`,
      );
    const now = this.options.clock.now();
    const writes = request.entries.map((e, i) => validatePutEntry(this.#types, e, now, `entries[${i}]`));
    await this.#write(writes);
    return { keys: writes.map((w) => w.key) };
  }

  async invalidate(request: cacheV1.InvalidateRequest): Promise<cacheV1.InvalidateResponse> {
    const selector = toInvalidation(this.#types, request);
    let removed: number;
    try {
      removed =
        selector.kind === "key"
          ? await this.#store.delete([selector.key])
          : await this.#store.invalidate(selector);
    } catch (err) {
      throw this.#storeFailed("invalidate", err);
    }
    this.#metrics?.invalidated.labels(selector.kind).inc(removed);
    return { removed: BigInt(removed) };
  }

  async stats(request: cacheV1.StatsRequest): Promise<cacheV1.StatsResponse> {
    const tenant =
      request.tenant === "" ? undefined : withField("tenant", () => validateTenant(request.tenant));
    const taskType =
      request.taskType === ""
        ? undefined
        : withField("task_type", () => this.#types.get(request.taskType)).name;
    const snapshot = this.#stats.snapshot(tenant, taskType);
    let entries = 0;
    let bytes = 0;
    try {
      const count = await this.#store.count();
      entries = count.entries;
      bytes = count.bytes ?? 0;
    } catch (err) {
      // Stats should still report the counters (and the errors) while the store is down.
      this.#storeFailed("count", err);
    }
    const groups = (m: Map<string, CounterValues>): cacheV1.GroupStats[] =>
      [...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, c]) => ({ name, counters: counters(c) }));
    return {
      total: counters(snapshot.total),
      byTaskType: groups(snapshot.byTaskType),
      byTenant: groups(snapshot.byTenant),
      entries: BigInt(entries),
      bytes: BigInt(bytes),
      store: this.#store.name,
    };
  }

  takeRefreshDue(request: cacheV1.TakeRefreshDueRequest): cacheV1.TakeRefreshDueResponse {
    const limit = request.limit === 0 ? this.#refreshDue.capacity : request.limit;
    return { keys: this.#refreshDue.take(limit) };
  }

  /** Store failures since start (lookups answered degraded, failed writes, ...). */
  get storeErrors(): number {
    return this.#storeErrors;
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
    if (onMiss === onMissMode.enqueue) return this.#enqueue(k, degraded, features);
    if (onMiss === onMissMode.compute) return this.#compute(k, degraded, features);
    return miss(k.key, degraded);
  }

  #observe(
    k: ResolvedKey,
    answer: LookupResponse | Promise<LookupResponse>,
    result: CachedResult | undefined,
    userId: string,
  ): void {
    const served = !(answer instanceof Promise) && answer.hit;
    this.options.lookupObserver?.({
      time: this.options.clock.now(),
      key: k.key,
      tenant: k.parts.tenant,
      taskType: k.parts.taskType,
      entityId: k.parts.entityId ?? `#${k.parts.digest ?? ""}`,
      userId,
      outcome: !served ? "miss" : (answer as LookupResponse).stale ? "stale" : "hit",
      computeMs: result?.computeMs ?? 0,
    });
  }

  #markRefreshDue(key: string, cell: StatsCell): void {
    if (this.#refreshDue.add(key)) cell.metrics?.refreshDue.inc();
  }

  async #enqueue(k: ResolvedKey, degraded: boolean, features: MissFeatures): Promise<LookupResponse> {
    const { promise, shared } = this.#enqueues.run(k.key, async () => {
      const { taskId } = await this.options.missHandler.enqueue(missKey(k), features);
      return taskId;
    });
    const taskId = await this.#observeMiss("enqueue", promise, shared);
    const answer = miss(k.key, degraded);
    answer.taskId = taskId;
    return answer;
  }

  async #compute(k: ResolvedKey, degraded: boolean, features: MissFeatures): Promise<LookupResponse> {
    const { promise, shared } = this.#computes.run(k.key, async () => {
      const computed = await this.options.missHandler.compute(missKey(k), features);
      const write = this.#completeComputed(k, computed);
      try {
        await this.#store.putMany([write]);
      } catch (err) {
        // Answering the computed result matters more than caching it.
        this.#storeFailed("put", err);
      }
      return write.result;
    });
    const result = await this.#observeMiss("compute", promise, shared);
    const answer = miss(k.key, degraded);
    answer.result = result;
    answer.computed = true;
    return answer;
  }

  async #observeMiss<T>(mode: "enqueue" | "compute", promise: Promise<T>, shared: boolean): Promise<T> {
    try {
      const value = await promise;
      this.#metrics?.missHandlerCalls.labels(mode, shared ? "coalesced" : "ok").inc();
      return value;
    } catch (err) {
      if (!shared) this.#metrics?.missHandlerCalls.labels(mode, "error").inc();
      throw err;
    }
  }

  /** Fills what a computed result may leave out: computed_at (now) and expires_at (type's TTL). */
  #completeComputed(k: ResolvedKey, computed: CachedResult): StoreWrite {
    const computedAt = computed.computedAt ?? new Date(this.options.clock.now());
    const expiresAt = computed.expiresAt ?? new Date(computedAt.getTime() + k.type.ttlMs);
    const result: CachedResult = {
      ...computed,
      computedAt,
      expiresAt,
      inputDigest: computed.inputDigest !== "" ? computed.inputDigest : (k.parts.digest ?? ""),
    };
    return {
      key: k.key,
      tenant: k.parts.tenant,
      taskType: k.parts.taskType,
      result,
      physicalExpiryMs: expiresAt.getTime() + k.type.staleGraceMs,
    };
  }

  async #write(writes: StoreWrite[]): Promise<void> {
    try {
      await this.#store.putMany(writes);
    } catch (err) {
      throw this.#storeFailed("put", err);
    }
    if (this.#metrics) for (const w of writes) this.#metrics.puts.labels(w.taskType).inc();
  }

  /**
   * Counts and logs (rate-limited) a store failure, and answers the error a
   * caller should see: a domain error as it is, anything else as UNAVAILABLE.
   */
  #storeFailed(operation: string, err: unknown): Error {
    this.#storeErrors++;
    this.#metrics?.storeErrors.labels(operation).inc();
    this.#storeLog.warn(err, "cache store failed", { operation, store: this.#store.name });
    if (isDomainError(err)) return err;
    return new UnavailableError(`cache store (${this.#store.name}) is unavailable: ${errorMessage(err)}`);
  }
}

function checkOnMiss(onMiss: number): void {
  if (!Number.isInteger(onMiss) || onMiss < 0 || onMiss > 3)
    throw new InvalidArgumentError(`on_miss ${onMiss} is not a known mode (NONE, ENQUEUE or COMPUTE)`);
}

function hit(key: string, result: CachedResult, stale: boolean, refreshDue: boolean): LookupResponse {
  return { key, hit: true, result, stale, refreshDue, degraded: false, computed: false, taskId: "" };
}

function miss(key: string, degraded: boolean): LookupResponse {
  return {
    key,
    hit: false,
    result: undefined,
    stale: false,
    refreshDue: false,
    degraded,
    computed: false,
    taskId: "",
  };
}

function missKey(k: ResolvedKey): MissKey {
  return { ...k.parts, key: k.key };
}

function counters(c: CounterValues): cacheV1.Counters {
  return {
    hits: BigInt(c.hits),
    staleHits: BigInt(c.staleHits),
    misses: BigInt(c.misses),
    errors: BigInt(c.errors),
    hitRate: hitRate(c),
  };
}

/** A peek's answer: the stored result if fresh or stale, nothing else happens. */
function peekAnswer(
  k: ResolvedKey,
  result: CachedResult | undefined,
  now: number,
  degraded: boolean,
): LookupResponse {
  if (result === undefined) return miss(k.key, degraded);
  const freshness = classifyFreshness(now, result.expiresAt?.getTime() ?? 0, k.type.staleGraceMs);
  return freshness === "expired" ? miss(k.key, degraded) : hit(k.key, result, freshness === "stale", false);
}
