import { commonV1 } from "@prescient/contracts";
import {
  type Clock,
  ExpiryIndex,
  type NearExpiryEntry,
  parseKey,
  ResourceExhaustedError,
  systemClock,
} from "@prescient/core";
import { LRUCache } from "lru-cache";
import {
  type CachedResult,
  type CacheStore,
  type InvalidationSelector,
  numericModelVersion,
  type StoreCount,
  type StoreWrite,
} from "./cache-store.js";
import { EncodedResult } from "./encoded-result.js";

export interface MemoryStoreOptions {
  /** Most entries held; the least recently used go first. Default 100,000. */
  maxEntries: number;
  /** Most bytes held (encoded result plus key and bookkeeping). Default 256 MiB. */
  maxBytes: number;
  /** Decides physical expiry. Default: the system clock. */
  clock: Clock;
}

export const memoryStoreDefaults: Readonly<Omit<MemoryStoreOptions, "clock">> = {
  maxEntries: 100_000,
  maxBytes: 256 * 1024 * 1024,
};

/**
 * The result is kept encoded (see EncodedResult): a hit's bytes go straight
 * into the response, and the object is made once per Put, not per hit. The
 * indexed fields are kept apart so that indexing never decodes it.
 */
interface Entry {
  result: EncodedResult;
  tenant: string;
  taskType: string;
  tags: readonly string[];
  modelName: string;
  modelVersion: string;
  physicalExpiryMs: number;
  size: number;
}

/** Secondary indexes of one tenant, so invalidation never walks other tenants. */
interface TenantIndex {
  keys: Set<string>;
  types: Map<string, Set<string>>;
  tags: Map<string, Set<string>>;
  models: Map<string, Set<string>>;
}

/** Rough per-entry overhead of the LRU node, the entry object and index slots. */
const entryOverheadBytes = 200;

/**
 * The embedded store: an LRU bounded by entries and bytes, plus per-tenant
 * index maps (keys, types, tags, models) kept in step through lru-cache's
 * dispose hook, so evictions and replacements unindex themselves.
 */
export class MemoryCacheStore implements CacheStore {
  readonly name = "memory";
  readonly options: MemoryStoreOptions;
  readonly #lru: LRUCache<string, Entry>;
  readonly #tenants = new Map<string, TenantIndex>();
  /** Which results are near expiry, for refresh-ahead; kept in step through the dispose hook. */
  readonly #expiries = new ExpiryIndex();

  constructor(options?: Partial<MemoryStoreOptions>) {
    this.options = { ...memoryStoreDefaults, clock: systemClock, ...options };
    this.#lru = new LRUCache<string, Entry>({
      max: this.options.maxEntries,
      maxSize: this.options.maxBytes,
      sizeCalculation: (entry) => entry.size,
      // Synchronous, also for replacement ('set'), so the old entry's index
      // slots are gone before the new entry's are added.
      dispose: (entry, key) => {
        this.#unindex(key, entry);
        this.#expiries.removed(key);
      },
    });
  }

  async ready(): Promise<void> {}

  async get(key: string): Promise<CachedResult | undefined> {
    return this.#read(key);
  }

  async getMany(keys: readonly string[]): Promise<(CachedResult | undefined)[]> {
    const out = new Array<CachedResult | undefined>(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = this.#read(keys[i] as string);
    return out;
  }

  async putMany(entries: readonly StoreWrite[]): Promise<void> {
    const now = this.options.clock.now();
    for (const write of entries) {
      if (write.physicalExpiryMs <= now) {
        // Already past its grace window: storing it would only serve misses.
        this.#lru.delete(write.key);
        continue;
      }
      const encoded =
        write.result instanceof EncodedResult
          ? write.result.encoded
          : commonV1.Result.encode(write.result).finish();
      const size = encoded.length + write.key.length * 2 + entryOverheadBytes;
      if (size > this.options.maxBytes)
        throw new ResourceExhaustedError(
          `entry ${write.key} takes ${size} bytes; the memory store holds at most ${this.options.maxBytes}`,
        );
      const entry: Entry = {
        result: write.result instanceof EncodedResult ? write.result : new EncodedResult(encoded),
        tenant: write.tenant,
        taskType: write.taskType,
        tags: write.result.tags,
        modelName: write.result.modelName,
        modelVersion: write.result.modelVersion,
        physicalExpiryMs: write.physicalExpiryMs,
        size,
      };
      this.#lru.set(write.key, entry);
      this.#index(write.key, entry);
      const expiresAt = entry.result.expiresAt?.getTime();
      const parts = parseKey(write.key);
      if (expiresAt !== undefined && parts.entityId !== undefined)
        this.#expiries.stored({
          key: write.key,
          tenant: write.tenant,
          taskType: write.taskType,
          entityId: parts.entityId,
          expiresAt,
        });
    }
  }

  async delete(keys: readonly string[]): Promise<number> {
    let removed = 0;
    const now = this.options.clock.now();
    for (const key of keys) removed += this.#remove(key, now);
    return removed;
  }

  async invalidate(selector: InvalidationSelector): Promise<number> {
    const now = this.options.clock.now();
    let removed = 0;
    for (const key of this.#candidates(selector)) {
      if (selector.kind === "model_older_than") {
        const entry = this.#lru.peek(key);
        const version = entry && numericModelVersion(entry.modelVersion);
        if (version === undefined || version >= selector.olderThan) continue;
      }
      removed += this.#remove(key, now);
    }
    return removed;
  }

  async count(): Promise<StoreCount> {
    return { entries: this.#lru.size, bytes: this.#lru.calculatedSize };
  }

  nearExpiry(
    now: number,
    horizonOf: (taskType: string) => number,
    filter: { taskType?: string | undefined; tenant?: string | undefined },
  ): NearExpiryEntry[] {
    return this.#expiries.nearExpiry(now, horizonOf, filter);
  }

  async close(): Promise<void> {
    this.#lru.clear();
  }

  #read(key: string): CachedResult | undefined {
    const entry = this.#lru.get(key);
    if (entry === undefined) return undefined;
    if (entry.physicalExpiryMs <= this.options.clock.now()) {
      this.#lru.delete(key);
      return undefined;
    }
    return entry.result;
  }

  /** Deletes a key; counts it only if it was still live, as Redis would. */
  #remove(key: string, now: number): number {
    const entry = this.#lru.peek(key);
    if (entry === undefined) return 0;
    this.#lru.delete(key);
    return entry.physicalExpiryMs > now ? 1 : 0;
  }

  /** A snapshot of candidate keys, so deleting while iterating is safe. */
  #candidates(selector: InvalidationSelector): string[] {
    switch (selector.kind) {
      case "pattern": {
        const index = this.#tenants.get(selector.pattern.tenant);
        if (index === undefined) return [];
        const { regex, literalPrefix } = selector.pattern;
        return [...index.keys].filter((k) => k.startsWith(literalPrefix) && regex.test(k));
      }
      case "tag":
        return [...(this.#tenants.get(selector.tenant)?.tags.get(selector.tag) ?? [])];
      case "task_type":
        return this.#acrossTenants(selector.tenant, (index) => index.types.get(selector.taskType));
      case "model_older_than":
        return this.#acrossTenants(selector.tenant, (index) => index.models.get(selector.modelName));
    }
  }

  #acrossTenants(
    tenant: string | undefined,
    pick: (index: TenantIndex) => Set<string> | undefined,
  ): string[] {
    const one = tenant === undefined ? undefined : this.#tenants.get(tenant);
    const indexes = tenant === undefined ? [...this.#tenants.values()] : one ? [one] : [];
    return indexes.flatMap((index) => [...(pick(index) ?? [])]);
  }

  #index(key: string, entry: Entry): void {
    let index = this.#tenants.get(entry.tenant);
    if (index === undefined) {
      index = { keys: new Set(), types: new Map(), tags: new Map(), models: new Map() };
      this.#tenants.set(entry.tenant, index);
    }
    index.keys.add(key);
    addTo(index.types, entry.taskType, key);
    for (const tag of entry.tags) addTo(index.tags, tag, key);
    if (entry.modelName !== "") addTo(index.models, entry.modelName, key);
  }

  #unindex(key: string, entry: Entry): void {
    const index = this.#tenants.get(entry.tenant);
    if (index === undefined) return;
    index.keys.delete(key);
    removeFrom(index.types, entry.taskType, key);
    for (const tag of entry.tags) removeFrom(index.tags, tag, key);
    if (entry.modelName !== "") removeFrom(index.models, entry.modelName, key);
    if (index.keys.size === 0) this.#tenants.delete(entry.tenant);
  }
}

function addTo(map: Map<string, Set<string>>, name: string, key: string): void {
  const set = map.get(name);
  if (set === undefined) map.set(name, new Set([key]));
  else set.add(key);
}

function removeFrom(map: Map<string, Set<string>>, name: string, key: string): void {
  const set = map.get(name);
  if (set === undefined) return;
  set.delete(key);
  if (set.size === 0) map.delete(name);
}
