import { escapeEntityId } from "@prescient/core";
import { connectRedis, LuaCommand, type RedisClient, watchRedisErrors } from "@prescient/kit";
import type { EntityRecord, EntityRef, EntityStore, Features } from "./entity-store.js";

export interface RedisEntityStoreOptions {
  /** Prefix of every key. Default "prescient:entity:". */
  keyPrefix: string;
  /** Entities untouched this long are forgotten; 0 keeps them. Default 30 days. */
  ttlMs: number;
}

/** getMany's and upsertMany's scripts: as many keys as entities asked for. */
const getFeatures = new LuaCommand("prescientEntityFeatures", new URL("./get-features.lua", import.meta.url));
const upsertFeatures = new LuaCommand(
  "prescientEntityUpsert",
  new URL("./upsert-features.lua", import.meta.url),
);

/**
 * One hash per entity, `{prefix}{tenant}/<escaped id>`, one field per feature.
 * Values are typed by a one-letter tag ("n:" number, "s:" text) because Redis
 * hashes hold only strings. HSET merges field by field, so an upsert is one
 * command per entity and a tenant's share of a batch one script call. The
 * `{tenant}` hash tag keeps a tenant's entities on one Redis Cluster slot,
 * which is what lets getMany read a tenant's entities with one script call.
 */
export class RedisEntityStore implements EntityStore {
  readonly name = "redis";
  readonly #redis: RedisClient;
  readonly #options: RedisEntityStoreOptions;

  constructor(redis: RedisClient | string, options?: Partial<RedisEntityStoreOptions>) {
    const client =
      typeof redis === "string" ? connectRedis(redis, { connectionName: "prescient-executor" }) : redis;
    if (typeof redis === "string") watchRedisErrors(client, "executor-entities");
    getFeatures.define(client);
    upsertFeatures.define(client);
    this.#redis = client;
    this.#options = { keyPrefix: "prescient:entity:", ttlMs: 30 * 24 * 3600 * 1000, ...options };
  }

  async ready(): Promise<void> {
    if (this.#redis.status === "wait") await this.#redis.connect();
    await this.#redis.ping();
  }

  #key(ref: EntityRef): string {
    return `${this.#options.keyPrefix}{${ref.tenant}}/${escapeEntityId(ref.entityId)}`;
  }

  /** One script call per tenant (upsert-features.lua), rather than two commands per entity. */
  async upsertMany(records: readonly EntityRecord[]): Promise<void> {
    if (records.length === 0) return;
    const ttl = String(this.#options.ttlMs > 0 ? this.#options.ttlMs : 0);
    await Promise.all(
      [...byTenant(records)].map(async ([, group]) => {
        const keys: string[] = [];
        const args: string[] = [ttl];
        for (const record of group) {
          keys.push(this.#key(record));
          const at = args.length;
          args.push("");
          let n = 0;
          for (const name in record.features) {
            const value = record.features[name];
            args.push(name, typeof value === "number" ? `n:${value}` : `s:${value}`);
            n++;
          }
          args[at] = String(n);
        }
        await upsertFeatures.run(this.#redis, keys, args);
      }),
    );
  }

  /** One script call per tenant (a claimed batch is nearly always one), rather than a command per entity. */
  async getMany(refs: readonly EntityRef[]): Promise<(Features | undefined)[]> {
    const out = new Array<Features | undefined>(refs.length);
    if (refs.length === 0) return out;
    const byTenant = new Map<string, number[]>();
    for (let i = 0; i < refs.length; i++) {
      const tenant = (refs[i] as EntityRef).tenant;
      const positions = byTenant.get(tenant);
      if (positions === undefined) byTenant.set(tenant, [i]);
      else positions.push(i);
    }
    await Promise.all(
      [...byTenant.values()].map(async (positions) => {
        const keys = positions.map((i) => this.#key(refs[i] as EntityRef));
        const hashes: unknown = JSON.parse(await getFeatures.run<string>(this.#redis, keys));
        for (let j = 0; j < positions.length; j++)
          out[positions[j] as number] = decode(Array.isArray(hashes) ? hashes[j] : undefined);
      }),
    );
    return out;
  }

  async delete(refs: readonly EntityRef[]): Promise<number> {
    if (refs.length === 0) return 0;
    const counts = await Promise.all(
      [...byTenant(refs)].map(async ([, group]) => {
        const pipeline = this.#redis.pipeline();
        for (const ref of group) pipeline.unlink(this.#key(ref));
        const replies = await execOrThrow(pipeline.exec());
        return replies.reduce<number>((n, r) => n + Number(r), 0);
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}

/** Items grouped by tenant, in first-seen order. */
function byTenant<T extends { tenant: string }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.tenant);
    if (group === undefined) groups.set(item.tenant, [item]);
    else group.push(item);
  }
  return groups;
}

/** One entity's [field, value, ...] list from the script; cjson writes an empty one as {}. */
function decode(fields: unknown): Features | undefined {
  if (!Array.isArray(fields) || fields.length === 0) return undefined;
  const features: Features = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const raw = String(fields[i + 1]);
    features[String(fields[i])] = raw.startsWith("n:") ? Number(raw.slice(2)) : raw.slice(2);
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
