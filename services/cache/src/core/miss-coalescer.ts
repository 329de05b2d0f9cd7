import type { cacheV1 } from "@prescient/contracts";
import { InvalidArgumentError } from "@prescient/core";
import type { ResolvedKey } from "@prescient/kit";
import type { CachedResult, CacheStore, StoreWrite } from "../store/cache-store.js";
import type { CacheCoreOptions } from "./cache-core-options.js";
import type { CacheMetrics } from "./cache-metrics.js";
import { miss } from "./lookup-responses.js";
import type { MissFeatures, MissKey } from "./miss-handler.js";
import { SingleFlight } from "./single-flight.js";
import type { StoreFailures } from "./store-failures.js";

/** cache.proto's OnMiss values; the core imports no generated runtime code (see the test that pins them). */
export const onMissMode = { none: 1, enqueue: 2, compute: 3 } as const;

export function checkOnMiss(onMiss: number): void {
  if (!Number.isInteger(onMiss) || onMiss < 0 || onMiss > 3)
    throw new InvalidArgumentError(`on_miss ${onMiss} is not a known mode (NONE, ENQUEUE or COMPUTE)`);
}

/**
 * ON_MISS_ENQUEUE and ON_MISS_COMPUTE: hands a miss to the miss handler,
 * coalescing concurrent misses of one key into one call (a hot key that
 * expires must not start a task per waiting reader). A computed result is
 * stored before it is answered, completed with the type's TTL if need be.
 */
export class MissCoalescer {
  readonly #enqueues = new SingleFlight<string>();
  readonly #computes = new SingleFlight<CachedResult>();

  constructor(
    private readonly options: Pick<CacheCoreOptions, "missHandler" | "clock">,
    private readonly store: CacheStore,
    private readonly metrics: CacheMetrics | undefined,
    private readonly failures: StoreFailures,
  ) {}

  async enqueue(k: ResolvedKey, degraded: boolean, features: MissFeatures): Promise<cacheV1.LookupResponse> {
    const { promise, shared } = this.#enqueues.run(k.key, async () => {
      const { taskId } = await this.options.missHandler.enqueue(missKey(k), features);
      return taskId;
    });
    const taskId = await this.#observeMiss("enqueue", promise, shared);
    const answer = miss(k.key, degraded);
    answer.taskId = taskId;
    return answer;
  }

  async compute(k: ResolvedKey, degraded: boolean, features: MissFeatures): Promise<cacheV1.LookupResponse> {
    const { promise, shared } = this.#computes.run(k.key, async () => {
      const computed = await this.options.missHandler.compute(missKey(k), features);
      const write = this.#completeComputed(k, computed);
      try {
        await this.store.putMany([write]);
      } catch (err) {
        // Answering the computed result matters more than caching it.
        this.failures.record("put", err);
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
      this.metrics?.missHandlerCalls.labels(mode, shared ? "coalesced" : "ok").inc();
      return value;
    } catch (err) {
      if (!shared) this.metrics?.missHandlerCalls.labels(mode, "error").inc();
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
}

function missKey(k: ResolvedKey): MissKey {
  return { ...k.parts, key: k.key };
}
