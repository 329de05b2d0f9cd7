import { status } from "@grpc/grpc-js";
import { cacheV1 } from "@prescient/contracts";
import { formatKey } from "@prescient/core";
import { checkHealth, type HealthStatus, livenessServiceName } from "@prescient/kit";
import { type RedisServerProcess, startRedisServer } from "@prescient/kit/testing";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entry, key, lookupRequest, testTypes } from "../core/core.test-util.js";
import type { MissHandler } from "../core/miss-handler.js";
import { RedisCacheStore } from "../store/redis-store.js";
import { cacheServiceName } from "./cache-service.js";
import { grpcError, startTestCache } from "./grpc.test-util.js";

/**
 * The store-down case with a real Redis: this test owns its redis-server,
 * kills it mid-test, and checks that the cache keeps answering (degraded)
 * while its readiness says NOT_SERVING (liveness stays SERVING, so nothing
 * restarts it), then recovers, health included, when Redis returns.
 */

async function healthWithin(address: string, service: string, want: HealthStatus, ms: number) {
  const end = Date.now() + ms;
  let last = await checkHealth(address, service);
  while (last !== want && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    last = await checkHealth(address, service);
  }
  return last;
}
describe("cache service when its Redis dies", () => {
  let redis: RedisServerProcess;
  let cache: Awaited<ReturnType<typeof startTestCache>>;
  let computes = 0;
  const registry = new Registry();
  const missHandler: MissHandler = {
    enqueue: async () => ({ taskId: "task-1" }),
    compute: async () => {
      computes++;
      return { modelName: "fallback", modelVersion: "1", computeMs: 2, inputDigest: "", tags: [] };
    },
  };

  beforeAll(async () => {
    redis = await startRedisServer();
    cache = await startTestCache({
      taskTypes: testTypes,
      store: { redisUrl: redis.url, keyPrefix: "test:degraded:" },
      missHandler,
      registry,
    });
  });
  afterAll(async () => {
    await cache.stop();
    await redis.stop();
  });

  it("answers degraded misses instead of failing, and recovers", async () => {
    expect(await checkHealth(cache.host.address, cacheServiceName)).toBe("SERVING");
    await cache.rpc.put({ entry: entry(key("a")) });
    expect((await cache.rpc.lookup(lookupRequest(key("a")))).hit).toBe(true);

    const exited = new Promise((r) => redis.process.once("exit", r));
    redis.process.kill("SIGKILL");
    await exited;
    await redis.stop();
    expect(await healthWithin(cache.host.address, cacheServiceName, "NOT_SERVING", 3000)).toBe("NOT_SERVING");
    expect(await checkHealth(cache.host.address, "")).toBe("NOT_SERVING");
    expect(await checkHealth(cache.host.address, livenessServiceName)).toBe("SERVING");
    const started = Date.now();
    expect(await cache.rpc.lookup(lookupRequest(key("a")))).toMatchObject({ hit: false, degraded: true });
    expect(Date.now() - started).toBeLessThan(1500);
    const many = await cache.rpc.lookupMany({
      keys: [key("a"), key("b")],
      entityIds: [],
      onMiss: 0,
      userId: "",
      rejectStale: false,
      peek: false,
    });
    expect(many.results.map((r) => r.degraded)).toEqual([true, true]);
    const computed = await cache.rpc.lookup(
      lookupRequest(key("a"), { onMiss: cacheV1.OnMiss.ON_MISS_COMPUTE }),
    );
    expect(computed).toMatchObject({
      hit: false,
      degraded: true,
      computed: true,
      result: { modelName: "fallback" },
    });
    expect(computes).toBe(1);
    expect((await grpcError(cache.rpc.put({ entry: entry(key("b")) }))).code).toBe(status.UNAVAILABLE);
    const stats = await cache.rpc.stats({ tenant: "", taskType: "" });
    expect(stats.total?.errors).toBe(4n);
    expect(await checkHealth(cache.host.address, cacheServiceName)).toBe("NOT_SERVING");

    redis = await startRedisServer({ port: redis.port });
    const deadline = Date.now() + 15_000;
    let answer = await cache.rpc.lookup(lookupRequest(key("a")));
    while (answer.degraded && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await cache.rpc.lookup(lookupRequest(key("a")));
    }
    // The new Redis is empty: what the near cache held before the loss is gone with it.
    expect(answer).toMatchObject({ degraded: false, hit: false });
    expect(await healthWithin(cache.host.address, cacheServiceName, "SERVING", 5000)).toBe("SERVING");
    expect(await checkHealth(cache.host.address, "")).toBe("SERVING");
    await cache.rpc.put({ entry: entry(key("a")) });
    expect((await cache.rpc.lookup(lookupRequest(key("a")))).hit).toBe(true);
    // The near cache tracks again on the new connections, and its hits are counted.
    const nearHits = async (): Promise<number> =>
      (await registry.getSingleMetric("prescient_cache_redis_near_hits_total")?.get())?.values[0]?.value ?? 0;
    const before = await nearHits();
    const deadline2 = Date.now() + 5000;
    while ((await nearHits()) === before && Date.now() < deadline2) {
      expect((await cache.rpc.lookup(lookupRequest(key("a")))).hit).toBe(true);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await nearHits()).toBeGreaterThan(before);
  });

  it("counts the sweeps its timer runs, and what they prune", async () => {
    const store = cache.runtime.store;
    if (!(store instanceof RedisCacheStore)) throw new Error("the test cache is not on Redis");
    await cache.rpc.put({ entry: entry(key("gone")) });
    // Gone without the ledger hearing of it (unlinked by hand), as after a prune that failed,
    // which the store counts for the sweeper: its keys-set and model-index members are the sweep's.
    await store.client.unlink(
      store.layout.entry(formatKey({ tenant: "acme", taskType: "ctr_prediction", entityId: "gone" })),
    );
    await store.client.incrby(store.layout.budgetGone(), 100);
    await store.client.del(store.layout.sweepLease());
    expect(await store.periodicSweep()).toBe(2);
    const text = await registry.metrics();
    expect(text).toMatch(/^prescient_cache_redis_sweep_pruned_total 2$/m);
    expect(text).toMatch(/^prescient_cache_redis_sweep_seconds_count 1$/m);
  });
});
