import {
  type Clock,
  ExpiryIndex,
  type NearExpiryEntry,
  parseKey,
  ResourceExhaustedError,
  systemClock,
  TimeSlicer,
} from "@prescient/core";
import { LRUCache } from "lru-cache";
import {
  type CachedResult,
  type CacheStore,
  type GetManyOptions,
  type InvalidationSelector,
  numericModelVersion,
  type StoreCount,
  type StoreWrite,
} from "./cache-store.js";
import { EncodedResult } from "./encoded-result.js";
import { encodeResult, encodeSmallResult } from "./result-bytes.js";

export interface MemoryStoreOptions {
  /** Most entries held; the least recently used go first. Default 100,000. */
  maxEntries: number;
  /**
   * Most bytes held: the encoded result, the key, the tag and model strings
   * and their index slots, and a measured per-entry overhead (see entrySize),
   * so that the figure tracks the heap the store really uses. Default 256 MiB.
   */
  maxBytes: number;
  /** Decides physical expiry. Default: the system clock. */
  clock: Clock;
  /** Told of each entry evicted to stay within maxEntries or maxBytes (the evictions metric). Default: nothing. */
  onEvicted: (count: number) => void;
}

export const memoryStoreDefaults: Readonly<Omit<MemoryStoreOptions, "clock" | "onEvicted">> = {
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

/**
 * Heap an entry costs beyond its strings and encoded bytes: the LRU slot, the
 * entry and EncodedResult objects, the Uint8Array and its backing store, the
 * key's slots in the tenant indexes and the expiry index's record (stale
 * heap slots included, see ExpiryIndex). Measured on Node 20 at about 900
 * bytes (heapUsed + arrayBuffers over 20,000 small entries); the old figure
 * of 200 let a 256 MiB store hold about 1 GB.
 */
const entryOverheadBytes = 1000;
/** Heap one tag costs beyond its characters: its slot in the tag index (a Set, often a new one) and in the entry. */
const tagOverheadBytes = 220;

/** Bytes V8 keeps for a string: one per character when all are Latin-1, else two. */
function stringBytes(s: string): number {
  return /[\u0100-\uffff]/.test(s) ? s.length * 2 : s.length;
}

/** What an entry costs on the heap, as counted against maxBytes. */
function entrySize(encodedLength: number, key: string, result: CachedResult): number {
  let size = encodedLength + entryOverheadBytes + stringBytes(key) + stringBytes(result.modelName);
  size += stringBytes(result.modelVersion);
  for (const tag of result.tags) size += stringBytes(tag) + tagOverheadBytes;
  return size;
}

/** The bytes in an ArrayBuffer of their own, copied only when they are a view into a bigger one. */
function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

/** How big the store's structures are: entries, index slots, expiry index. For tests of its bounds. */
export interface MemoryStoreSizes {
  entries: number;
  tenants: number;
  /** Members of all the tenants' key, type, tag and model sets. */
  indexedKeys: number;
  typeMembers: number;
  tagNames: number;
  tagMembers: number;
  modelMembers: number;
  expiry: { current: number; heapSlots: number; due: number };
}

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
    this.options = { ...memoryStoreDefaults, clock: systemClock, onEvicted: () => {}, ...options };
    this.#lru = new LRUCache<string, Entry>({
      max: this.options.maxEntries,
      maxSize: this.options.maxBytes,
      sizeCalculation: (entry) => entry.size,
      // Synchronous, also for replacement ('set'), so the old entry's index
      // slots are gone before the new entry's are added.
      dispose: (entry, key, reason) => {
        this.#unindex(key, entry);
        this.#expiries.removed(key);
        if (reason === "evict") this.options.onEvicted(1);
      },
    });
  }

  async ready(): Promise<void> {}

  async get(key: string): Promise<CachedResult | undefined> {
    return this.#read(key);
  }

  async getMany(keys: readonly string[], options?: GetManyOptions): Promise<(CachedResult | undefined)[]> {
    const peek = options?.peek === true;
    const out = new Array<CachedResult | undefined>(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = this.#read(keys[i] as string, peek);
    return out;
  }

  async expiries(keys: readonly string[]): Promise<(number | undefined)[]> {
    const now = this.options.clock.now();
    return keys.map((key) => {
      const entry = this.#lru.peek(key);
      return entry !== undefined && entry.physicalExpiryMs > now ? entry.result.expiresAtMs : undefined;
    });
  }

  async putMany(entries: readonly StoreWrite[]): Promise<void> {
    const now = this.options.clock.now();
    const slicer = new TimeSlicer();
    for (const write of entries) {
      if (slicer.due()) await slicer.pause();
      if (write.physicalExpiryMs <= now) {
        // Already past its grace window: storing it would only serve misses.
        this.#lru.delete(write.key);
        continue;
      }
      // A result read from elsewhere is held as fresh bytes of its own: a view
      // into a bigger buffer would keep all of it alive, and a decoded copy
      // (EncodedResult caches one once read) would double it, uncounted.
      const encoded =
        write.result instanceof EncodedResult
          ? ownBytes(write.result.encoded)
          : (encodeSmallResult(write.result) ?? (await encodeResult(write.result, slicer)));
      const size = entrySize(encoded.length, write.key, write.result);
      if (size > this.options.maxBytes)
        throw new ResourceExhaustedError(
          `entry ${write.key} takes ${size} bytes; the memory store holds at most ${this.options.maxBytes}`,
        );
      const entry: Entry = {
        result: new EncodedResult(encoded),
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

  /** Sizes of the LRU and every side structure; they must stay in step with the entries held. */
  sizes(): MemoryStoreSizes {
    const out: MemoryStoreSizes = {
      entries: this.#lru.size,
      tenants: this.#tenants.size,
      indexedKeys: 0,
      typeMembers: 0,
      tagNames: 0,
      tagMembers: 0,
      modelMembers: 0,
      expiry: this.#expiries.sizes,
    };
    const members = (m: Map<string, Set<string>>): number => {
      let n = 0;
      for (const set of m.values()) n += set.size;
      return n;
    };
    for (const index of this.#tenants.values()) {
      out.indexedKeys += index.keys.size;
      out.typeMembers += members(index.types);
      out.tagNames += index.tags.size;
      out.tagMembers += members(index.tags);
      out.modelMembers += members(index.models);
    }
    return out;
  }

  /** A peek leaves the entry's place in the LRU as it was: a freshness check is not a use. */
  #read(key: string, peek = false): CachedResult | undefined {
    const entry = peek ? this.#lru.peek(key) : this.#lru.get(key);
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
