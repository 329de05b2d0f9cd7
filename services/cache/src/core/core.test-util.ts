import type { cacheV1, commonV1 } from "@prescient/contracts";
import { type Clock, parseTaskTypes, type TaskTypeRegistry } from "@prescient/core";
import type { CacheStore, GetManyOptions } from "../store/cache-store.js";
import { MemoryCacheStore } from "../store/memory-store.js";

/** ctr: TTL 100 s, grace 10 s, beta 1. dash: TTL 10 s, no grace, XFetch off. */
export const testTypes: TaskTypeRegistry = parseTaskTypes(`
task_types:
  ctr_prediction: { kind: external, ttl_seconds: 100, stale_grace_seconds: 10, xfetch_beta: 1 }
  dashboard_data: { kind: external, ttl_seconds: 10, xfetch_beta: 0 }
`);

export const key = (entityId: string, tenant = "acme", taskType = "ctr_prediction"): commonV1.Key => ({
  tenant,
  taskType,
  entityId,
});

export function entry(k: commonV1.Key, extra: Partial<cacheV1.PutEntry> = {}): cacheV1.PutEntry {
  return {
    key: k,
    value: {
      tensors: { tensors: [{ name: "p", datatype: "FP32", shape: [1n], data: [0.25] }] },
      contentType: "",
    },
    modelName: "ctr",
    modelVersion: "1",
    computeMs: 0,
    inputDigest: "",
    tags: [],
    ...extra,
  };
}

export function lookupRequest(
  k: commonV1.Key,
  extra: Partial<cacheV1.LookupRequest> = {},
): cacheV1.LookupRequest {
  return { key: k, onMiss: 0, features: {}, userId: "", rejectStale: false, ...extra };
}

/** A store whose every call fails while `failing` is set: the store-down case without a real store. */
export class FlakyStore implements CacheStore {
  readonly name = "flaky";
  failing = false;
  readonly inner: MemoryCacheStore;

  constructor(clock: Clock) {
    this.inner = new MemoryCacheStore({ clock });
  }

  #gate(): void {
    if (this.failing) throw new Error("connection refused");
  }
  async ready(): Promise<void> {}
  async get(k: string) {
    this.#gate();
    return this.inner.get(k);
  }
  async getMany(keys: readonly string[], options?: GetManyOptions) {
    this.#gate();
    return this.inner.getMany(keys, options);
  }
  async expiries(keys: readonly string[]) {
    this.#gate();
    return this.inner.expiries(keys);
  }
  async putMany(entries: Parameters<CacheStore["putMany"]>[0]) {
    this.#gate();
    return this.inner.putMany(entries);
  }
  async delete(keys: readonly string[]) {
    this.#gate();
    return this.inner.delete(keys);
  }
  async invalidate(selector: Parameters<CacheStore["invalidate"]>[0]) {
    this.#gate();
    return this.inner.invalidate(selector);
  }
  async count() {
    this.#gate();
    return this.inner.count();
  }
  async close(): Promise<void> {}
}

/** A promise with its resolve and reject exposed. */
export function deferred<T>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
