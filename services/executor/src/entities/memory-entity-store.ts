import { TimeSlicer } from "@prescient/core";
import { LRUCache } from "lru-cache";
import type { EntityRecord, EntityRef, EntityStore, Features } from "./entity-store.js";

export interface MemoryEntityStoreOptions {
  /** Entities kept; the least recently used go first. Default 1,000,000. */
  maxEntities: number;
}

const refKey = (ref: EntityRef): string => `${ref.tenant}\u0000${ref.entityId}`;

/** The embedded default: an LRU-bounded map in this process. */
export class MemoryEntityStore implements EntityStore {
  readonly name = "memory";
  readonly #entities: LRUCache<string, Features>;

  constructor(options?: Partial<MemoryEntityStoreOptions>) {
    this.#entities = new LRUCache({ max: options?.maxEntities ?? 1_000_000 });
  }

  async ready(): Promise<void> {}

  async upsertMany(records: readonly EntityRecord[]): Promise<void> {
    const slicer = new TimeSlicer();
    for (const record of records) {
      if (slicer.due()) await slicer.pause();
      const key = refKey(record);
      this.#entities.set(key, { ...this.#entities.get(key), ...record.features });
    }
  }

  async getMany(refs: readonly EntityRef[]): Promise<(Features | undefined)[]> {
    return refs.map((ref) => {
      const features = this.#entities.get(refKey(ref));
      return features === undefined ? undefined : { ...features };
    });
  }

  async delete(refs: readonly EntityRef[]): Promise<number> {
    let removed = 0;
    for (const ref of refs) if (this.#entities.delete(refKey(ref))) removed++;
    return removed;
  }

  async close(): Promise<void> {
    this.#entities.clear();
  }
}
