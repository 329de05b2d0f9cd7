import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { describe, expect, inject, it } from "vitest";
import { RedisRunStore } from "./redis-run-store.js";
import { runStoreConformance } from "./run-store-conformance.test-util.js";

let prefix = 0;
runStoreConformance(
  "redis",
  async () => new RedisRunStore(inject("redisUrl"), { keyPrefix: `test:runs:${process.pid}:${++prefix}:` }),
  async (clock, ms) => {
    // Redis measures leases on its own clock.
    await sleep(ms);
    clock.advance(ms);
  },
);

// The same suite on a real Redis Cluster (3 masters, 3 replicas).
runStoreConformance(
  "redis cluster",
  async () =>
    new RedisRunStore(inject("redisClusterUrl"), { keyPrefix: `test:runs:${process.pid}:${++prefix}:` }),
  async (clock, ms) => {
    await sleep(ms);
    clock.advance(ms);
  },
);

describe("RedisRunStore record retention", () => {
  it("keeps a record for keepMs when that is shorter than the retention, else for the retention", async () => {
    const keyPrefix = `test:runs:${process.pid}:keep:`;
    const store = new RedisRunStore(inject("redisUrl"), { keyPrefix });
    const redis = new Redis(inject("redisUrl"));
    try {
      const request = (key: string, keepMs?: number) => ({
        key,
        schedule: "readahead",
        windowStart: 0,
        owner: "a",
        now: Date.now(),
        leaseMs: 1000,
        maxAttempts: 3,
        ...(keepMs !== undefined ? { keepMs } : {}),
      });
      expect((await store.claim(request("short", 3_600_000))).claimed).toBe(true);
      expect((await store.claim(request("long"))).claimed).toBe(true);
      // The run record's own key (the lease expires with its lease).
      const ttls = await Promise.all(["short", "long"].map((k) => redis.pttl(`${keyPrefix}run:{${k}}`)));
      expect(ttls[0]).toBeGreaterThan(3_500_000);
      expect(ttls[0]).toBeLessThanOrEqual(3_600_000);
      expect(ttls[1]).toBeGreaterThan(29 * 86_400_000);
    } finally {
      redis.disconnect();
      await store.close();
    }
  });
});
