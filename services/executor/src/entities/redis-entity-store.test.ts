import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { describe, expect, inject, it } from "vitest";
import { entityStoreConformance } from "./entity-store-conformance.test-util.js";
import { RedisEntityStore } from "./redis-entity-store.js";

entityStoreConformance(
  "redis",
  async () => new RedisEntityStore(inject("redisUrl"), { keyPrefix: `test:${randomUUID()}:entity:` }),
);

// The same suite on a real Redis Cluster (3 masters, 3 replicas): one script call per tenant needs the tenant's slot.
entityStoreConformance(
  "redis cluster",
  async () => new RedisEntityStore(inject("redisClusterUrl"), { keyPrefix: `test:${randomUUID()}:entity:` }),
);

describe("RedisEntityStore's ttl", () => {
  it("forgets an entity untouched for the ttl, and an upsert starts the ttl again", async () => {
    const keyPrefix = `test:${randomUUID()}:entity:`;
    const redis = new Redis(inject("redisUrl"));
    const store = new RedisEntityStore(redis, { keyPrefix, ttlMs: 60_000 });
    const forever = new RedisEntityStore(redis, { keyPrefix: `${keyPrefix}kept:`, ttlMs: 0 });
    try {
      const record = (entityId: string, bid: number) => ({ tenant: "acme", entityId, features: { bid } });
      await store.upsertMany([record("ad-1", 1), record("ad-2", 2)]);
      await forever.upsertMany([record("ad-1", 1)]);
      const ttlOf = (prefix: string, id: string) => redis.pttl(`${prefix}{acme}/${id}`);
      for (const id of ["ad-1", "ad-2"]) {
        const ttl = await ttlOf(keyPrefix, id);
        expect(ttl).toBeGreaterThan(59_000);
        expect(ttl).toBeLessThanOrEqual(60_000);
      }
      expect(await ttlOf(`${keyPrefix}kept:`, "ad-1")).toBe(-1);
      await redis.pexpire(`${keyPrefix}{acme}/ad-1`, 5_000);
      await store.upsertMany([record("ad-1", 3)]);
      expect(await ttlOf(keyPrefix, "ad-1")).toBeGreaterThan(59_000);
      expect(await store.getMany([{ tenant: "acme", entityId: "ad-1" }])).toEqual([{ bid: 3 }]);
    } finally {
      await redis.del(`${keyPrefix}{acme}/ad-1`, `${keyPrefix}{acme}/ad-2`, `${keyPrefix}kept:{acme}/ad-1`);
      await redis.quit();
    }
  });
});
