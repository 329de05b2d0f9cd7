import type { cacheV1 } from "@prescient/contracts";
import { mapInSlices, ResourceExhaustedError, type TaskTypeRegistry } from "@prescient/core";
import type { CacheStore, StoreWrite } from "../store/cache-store.js";
import type { CacheCoreOptions } from "./cache-core-options.js";
import type { CacheMetrics } from "./cache-metrics.js";
import { toInvalidation } from "./invalidate-validation.js";
import { validatePutEntry } from "./put-validation.js";
import type { StoreFailures } from "./store-failures.js";

/**
 * Put, PutMany and Invalidate: requests validated whole before the store is
 * touched, then one store call. Unlike a lookup, a write cannot degrade, so
 * a store failure fails the call.
 */
export class CacheWrites {
  constructor(
    private readonly types: TaskTypeRegistry,
    private readonly store: CacheStore,
    private readonly options: Pick<CacheCoreOptions, "maxPutMany" | "clock">,
    private readonly metrics: CacheMetrics | undefined,
    private readonly failures: StoreFailures,
  ) {}

  async put(request: cacheV1.PutRequest): Promise<cacheV1.PutResponse> {
    const write = validatePutEntry(this.types, request.entry, this.options.clock.now(), "entry");
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
    const writes = await mapInSlices(request.entries, (e, i) =>
      validatePutEntry(this.types, e, now, `entries[${i}]`),
    );
    await this.#write(writes);
    return { keys: writes.map((w) => w.key) };
  }

  async invalidate(request: cacheV1.InvalidateRequest): Promise<cacheV1.InvalidateResponse> {
    const selector = toInvalidation(this.types, request);
    let removed: number;
    try {
      removed =
        selector.kind === "key"
          ? await this.store.delete([selector.key])
          : await this.store.invalidate(selector);
    } catch (err) {
      throw this.failures.record("invalidate", err);
    }
    this.metrics?.invalidated.labels(selector.kind).inc(removed);
    return { removed: BigInt(removed) };
  }

  async #write(writes: StoreWrite[]): Promise<void> {
    try {
      await this.store.putMany(writes);
    } catch (err) {
      throw this.failures.record("put", err);
    }
    if (this.metrics) for (const w of writes) this.metrics.puts.labels(w.taskType).inc();
  }
}
