import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { cacheV1 } from "@prescient/contracts";
import { compileKeyPattern, inputDigest } from "@prescient/core";
import { checkHealth } from "@prescient/kit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { entry, key, lookupRequest, testTypes } from "../core/core.test-util.js";
import { RedisCacheStore } from "../store/redis-store.js";
import { cacheServiceName } from "./cache-service.js";
import { grpcError, startTestCache } from "./grpc.test-util.js";

const { ON_MISS_ENQUEUE, ON_MISS_COMPUTE } = cacheV1.OnMiss;

const redisPrefix = `test:${randomUUID().slice(0, 8)}:`;
const stores = [
  ["memory", () => "memory" as const],
  ["redis", () => ({ redisUrl: inject("redisUrl"), keyPrefix: redisPrefix })],
] as const;

describe.each(stores)("cache service over gRPC (%s store)", (storeName, store) => {
  let cache: Awaited<ReturnType<typeof startTestCache>>;
  const healthy = async (): Promise<void> => {
    expect(await checkHealth(cache.host.address, cacheServiceName)).toBe("SERVING");
    expect(await checkHealth(cache.host.address, "")).toBe("SERVING");
  };

  beforeAll(async () => {
    // XFetch always fires (random near 1), so refresh-due marking is observable.
    cache = await startTestCache({
      taskTypes: testTypes,
      store: store(),
      maxLookupMany: 5,
      maxPutMany: 3,
      random: () => 0.999,
    });
  });
  afterAll(async () => {
    if (cache.runtime.store instanceof RedisCacheStore) {
      // Drop this file's keys through the store itself: every selector it supports is chunked.
      for (const tenant of ["acme", "other"])
        await cache.runtime.store.invalidate({ kind: "pattern", pattern: compileKeyPattern(tenant, "*") });
      await cache.runtime.store.client.unlink(cache.runtime.store.layout.tenants());
    }
    await cache.stop();
  });

  it("reports SERVING once the store is ready", healthy);

  it("puts and looks up, with computed_at/expires_at as times", async () => {
    const put = await cache.rpc.put({ entry: entry(key("ad 1"), { tags: ["c7"], computeMs: 3_600_000 }) });
    expect(put.key).toBe("acme/ctr_prediction/ad%201");
    expect(put.expiresAt).toBeInstanceOf(Date);
    const hit = await cache.rpc.lookup(lookupRequest(key("ad 1")));
    expect(hit).toMatchObject({
      key: "acme/ctr_prediction/ad%201",
      hit: true,
      stale: false,
      refreshDue: true,
    });
    expect(hit.result?.expiresAt?.getTime()).toBe(put.expiresAt?.getTime());
    expect(hit.result?.tags).toEqual(["c7"]);
    expect(await cache.rpc.takeRefreshDue({ limit: 10 })).toEqual({ keys: ["acme/ctr_prediction/ad%201"] });
    expect(await cache.rpc.takeRefreshDue({ limit: 10 })).toEqual({ keys: [] });
    const miss = await cache.rpc.lookup(lookupRequest(key("nope")));
    expect(miss).toMatchObject({ hit: false, degraded: false });
    expect(miss.result).toBeUndefined();
  });

  it("looks up many in request order, semantic keys included", async () => {
    const inputs = { b: 2, a: 1 };
    const put = await cache.rpc.putMany({
      entries: [entry(key("m1")), entry({ tenant: "acme", taskType: "ctr_prediction", inputs })],
    });
    expect(put.keys).toEqual(["acme/ctr_prediction/m1", `acme/ctr_prediction/#${inputDigest(inputs)}`]);
    const many = await cache.rpc.lookupMany({
      entityIds: [],
      keys: [
        key("m1"),
        key("absent"),
        { tenant: "acme", taskType: "ctr_prediction", inputDigest: inputDigest({ a: 1, b: 2 }) },
      ],
      onMiss: 0,
      userId: "u",
      rejectStale: false,
      peek: false,
    });
    expect(many.results.map((r) => [r.key, r.hit])).toEqual([
      ["acme/ctr_prediction/m1", true],
      ["acme/ctr_prediction/absent", false],
      [`acme/ctr_prediction/#${inputDigest(inputs)}`, true],
    ]);
  });

  it("answers values only when asked: each stored value as it was put, an empty Value for a miss", async () => {
    const json = { payload: Buffer.from('{"p":0.5}'), contentType: "application/json" };
    await cache.rpc.putMany({ entries: [entry(key("v1")), entry(key("v2"), { value: json })] });
    const request = {
      keys: [key("v2"), key("v-absent"), key("v1")],
      entityIds: [],
      onMiss: 0,
      userId: "u",
      rejectStale: false,
      peek: false,
    };
    const lean = await cache.rpc.lookupMany({ ...request, valuesOnly: true });
    expect(lean.results).toEqual([]);
    expect(lean.values).toEqual([json, { contentType: "" }, entry(key("v1")).value]);
    const full = await cache.rpc.lookupMany(request);
    expect(full.values).toEqual([]);
    expect(full.results.map((r) => r.result?.value)).toEqual([json, undefined, entry(key("v1")).value]);
  });

  it("invalidates by every selector", async () => {
    await cache.rpc.putMany({
      entries: [
        entry(key("k1"), { tags: ["t1"] }),
        entry(key("k2")),
        entry(key("p/1"), { modelName: "scorer", modelVersion: "2" }),
      ],
    });
    await cache.rpc.putMany({
      entries: [
        entry(key("p/2"), { modelName: "scorer", modelVersion: "9" }),
        entry(key("d1", "acme", "dashboard_data")),
        entry(key("d1", "other", "dashboard_data")),
      ],
    });
    const removed = async (r: Partial<cacheV1.InvalidateRequest>) =>
      (await cache.rpc.invalidate({ tenant: "", ...r })).removed;
    expect(await removed({ key: key("k2") })).toBe(1n);
    expect(await removed({ tenant: "acme", tag: "t1" })).toBe(1n);
    expect(
      await removed({ tenant: "acme", modelOlderThan: { modelName: "scorer", olderThanVersion: "3" } }),
    ).toBe(1n);
    expect(await removed({ tenant: "acme", prefix: "ctr_prediction/p/" })).toBe(1n);
    expect(await removed({ taskType: "dashboard_data" })).toBe(2n);
    await cache.rpc.put({ entry: entry(key("z9")) });
    expect(await removed({ tenant: "acme", pattern: "ctr_*/z?" })).toBe(1n);
    expect((await cache.rpc.lookup(lookupRequest(key("z9")))).hit).toBe(false);
  });

  it("reports stats per task type and tenant", async () => {
    const stats = await cache.rpc.stats({ tenant: "", taskType: "" });
    expect(stats.store).toBe(storeName);
    expect(stats.total?.hits).toBeGreaterThan(0n);
    expect(stats.total?.misses).toBeGreaterThan(0n);
    expect(stats.total?.hitRate).toBeGreaterThan(0);
    expect(stats.byTaskType.map((g) => g.name)).toContain("ctr_prediction");
    expect(stats.byTenant.map((g) => g.name)).toEqual(["acme"]);
    expect(stats.entries).toBeGreaterThan(0n);
    const filtered = await cache.rpc.stats({ tenant: "nobody", taskType: "" });
    expect(filtered.total?.hits).toBe(0n);
  });

  it("answers UNAVAILABLE for ENQUEUE and COMPUTE without an executor", async () => {
    for (const onMiss of [ON_MISS_ENQUEUE, ON_MISS_COMPUTE]) {
      const e = await grpcError(cache.rpc.lookup(lookupRequest(key("x"), { onMiss })));
      expect(e.code).toBe(status.UNAVAILABLE);
      expect(e.details).toMatch(/no executor is configured/);
    }
    await healthy();
  });

  const lm = (keys: cacheV1.LookupManyRequest["keys"]): cacheV1.LookupManyRequest => ({
    keys,
    entityIds: [],
    onMiss: 0,
    userId: "",
    rejectStale: false,
    peek: false,
  });
  const badInputs: [string, () => Promise<unknown>, status, RegExp][] = [
    [
      "an empty key",
      () => cache.rpc.lookup(lookupRequest({ tenant: "", taskType: "" })),
      status.INVALID_ARGUMENT,
      /exactly one of entity_id/,
    ],
    [
      "a missing key",
      () => cache.rpc.lookup({ ...lookupRequest(key("a")), key: undefined }),
      status.INVALID_ARGUMENT,
      /key: is required/,
    ],
    [
      "an empty entity id",
      () => cache.rpc.lookup(lookupRequest(key(""))),
      status.INVALID_ARGUMENT,
      /entity_id is empty/,
    ],
    [
      "an oversized key",
      () => cache.rpc.lookup(lookupRequest(key("é".repeat(300)))),
      status.INVALID_ARGUMENT,
      /600 bytes; the limit is 512/,
    ],
    [
      "a non-UTF-8 key",
      () => cache.rpc.lookup(lookupRequest(key("a\uD800b"))),
      status.INVALID_ARGUMENT,
      /not valid UTF-8/,
    ],
    [
      "a tenant with '/'",
      () => cache.rpc.lookup(lookupRequest(key("a", "ac/me"))),
      status.INVALID_ARGUMENT,
      /no '\/'/,
    ],
    [
      "an unknown task type",
      () => cache.rpc.lookup(lookupRequest(key("a", "acme", "nope"))),
      status.INVALID_ARGUMENT,
      /unknown task type/,
    ],
    [
      "an over-long LookupMany",
      () => cache.rpc.lookupMany(lm(Array.from({ length: 6 }, (_, i) => key(`k${i}`)))),
      status.RESOURCE_EXHAUSTED,
      /6 keys; the limit is 5/,
    ],
    [
      "a bad key inside LookupMany",
      () => cache.rpc.lookupMany(lm([key("a"), key("")])),
      status.INVALID_ARGUMENT,
      /keys\[1\]/,
    ],
    [
      "an over-long PutMany",
      () => cache.rpc.putMany({ entries: Array.from({ length: 4 }, (_, i) => entry(key(`k${i}`))) }),
      status.RESOURCE_EXHAUSTED,
      /4 entries; the limit is 3/,
    ],
    [
      "a negative TTL",
      () => cache.rpc.put({ entry: entry(key("a"), { ttlSeconds: -1 }) }),
      status.INVALID_ARGUMENT,
      /ttl_seconds must be positive/,
    ],
    [
      "a put without value",
      () => cache.rpc.put({ entry: entry(key("a"), { value: undefined }) }),
      status.INVALID_ARGUMENT,
      /value is required/,
    ],
    [
      "a put of an unknown type",
      () => cache.rpc.put({ entry: entry(key("a", "acme", "nope")) }),
      status.INVALID_ARGUMENT,
      /unknown task type/,
    ],
    [
      "a pattern escaping its tenant",
      () => cache.rpc.invalidate({ tenant: "acme", pattern: "../other/*" }),
      status.INVALID_ARGUMENT,
      /task type part/,
    ],
    [
      "a pattern without tenant",
      () => cache.rpc.invalidate({ tenant: "", pattern: "*" }),
      status.INVALID_ARGUMENT,
      /tenant is required/,
    ],
    [
      "an invalidate without selector",
      () => cache.rpc.invalidate({ tenant: "acme" }),
      status.INVALID_ARGUMENT,
      /exactly one of/,
    ],
    [
      "a stats filter of an unknown type",
      () => cache.rpc.stats({ tenant: "", taskType: "nope" }),
      status.INVALID_ARGUMENT,
      /unknown task type/,
    ],
  ];
  it.each(badInputs)("answers %s with its status code and stays healthy", async (_, call, code, message) => {
    const e = await grpcError(call());
    expect(e.code).toBe(code);
    expect(e.details).toMatch(message);
    await healthy();
  });

  it("rejects invalid UTF-8 bytes on the wire (decoded as U+FFFD)", async () => {
    // Hand-encode a LookupRequest whose entity id holds the byte 0xFF.
    const good = cacheV1.LookupRequest.encode(lookupRequest(key("aXb"))).finish();
    const raw = Buffer.from(good);
    raw[raw.indexOf(Buffer.from("aXb")) + 1] = 0xff;
    const decoded = cacheV1.LookupRequest.decode(raw);
    const e = await grpcError(cache.rpc.lookup(decoded));
    expect(e.code).toBe(status.INVALID_ARGUMENT);
    expect(e.details).toMatch(/not valid UTF-8/);
    await healthy();
  });
});
