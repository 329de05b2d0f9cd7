import { escapeEntityId } from "@prescient/core";
import { watchRedisErrors } from "@prescient/kit";
import { Redis } from "ioredis";
import type { EntityRecord, EntityRef, EntityStore, Features } from "./entity-store.js";

export interface RedisEntityStoreOptions {
  /** Prefix of every key. Default "prescient:entity:". */
  keyPrefix: string;
  /** Entities untouched this long are forgotten; 0 keeps them. Default 30 days. */
  ttlMs: number;
}

/**
 * One hash per entity, `{prefix}{tenant}/<escaped id>`, one field per feature.
 * Values are typed by a one-letter tag ("n:" number, "s:" text) because Redis
 * hashes hold only strings. HSET merges field by field, so an upsert is one
 * command per entity and the whole batch one pipelined round trip. The
 * `{tenant}` hash tag keeps a tenant's entities on one Redis Cluster slot.
 */
export class RedisEntityStore implements EntityStore {
  readonly name = "redis";
  readonly #redis: Redis;
  readonly #options: RedisEntityStoreOptions;

  constructor(redis: Redis | string, options?: Partial<RedisEntityStoreOptions>) {
    this.#redis =
      typeof redis === "string" ? new Redis(redis, { lazyConnect: true, maxRetriesPerRequest: 2 }) : redis;
    if (typeof redis === "string") watchRedisErrors(this.#redis, "executor-entities");
    this.#options = { keyPrefix: "prescient:entity:", ttlMs: 30 * 24 * 3600 * 1000, ...options };
  }

  async ready(): Promise<void> {
    if (this.#redis.status === "wait") await this.#redis.connect();
    await this.#redis.ping();
  }

  #key(ref: EntityRef): string {
    return `${this.#options.keyPrefix}{${ref.tenant}}/${escapeEntityId(ref.entityId)}`;
  }

  async upsertMany(records: readonly EntityRecord[]): Promise<void> {
    if (records.length === 0) return;
    const pipeline = this.#redis.pipeline();
    for (const record of records) {
      const key = this.#key(record);
      const fields: string[] = [];
      for (const [name, value] of Object.entries(record.features)) {
        fields.push(name, typeof value === "number" ? `n:${value}` : `s:${value}`);
      }
      if (fields.length > 0) pipeline.hset(key, ...fields);
      if (this.#options.ttlMs > 0) pipeline.pexpire(key, this.#options.ttlMs);
    }
    await execOrThrow(pipeline.exec());
  }

  async getMany(refs: readonly EntityRef[]): Promise<(Features | undefined)[]> {
    if (refs.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const ref of refs) pipeline.hgetall(this.#key(ref));
    const replies = await execOrThrow(pipeline.exec());
    return replies.map((hash) => decode(hash as Record<string, string>));
  }

  async delete(refs: readonly EntityRef[]): Promise<number> {
    if (refs.length === 0) return 0;
    const pipeline = this.#redis.pipeline();
    for (const ref of refs) pipeline.unlink(this.#key(ref));
    const replies = await execOrThrow(pipeline.exec());
    return replies.reduce<number>((n, r) => n + Number(r), 0);
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}

function decode(hash: Record<string, string>): Features | undefined {
  const names = Object.keys(hash);
  if (names.length === 0) return undefined;
  const features: Features = {};
  for (const name of names) {
    const raw = hash[name] as string;
    features[name] = raw.startsWith("n:") ? Number(raw.slice(2)) : raw.slice(2);
  }
  return features;
}

async function execOrThrow(pending: Promise<[Error | null, unknown][] | null>): Promise<unknown[]> {
  const replies = await pending;
  if (replies === null) throw new Error("redis pipeline was discarded");
  return replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
