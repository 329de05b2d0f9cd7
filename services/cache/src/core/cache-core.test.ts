import { cacheV1 } from "@prescient/contracts";
import {
  inputDigest,
  isInvalidArgument,
  isResourceExhausted,
  isUnavailable,
  ManualClock,
} from "@prescient/core";
import { describe, expect, it } from "vitest";
import type { CachedResult } from "../store/cache-store.js";
import { MemoryCacheStore } from "../store/memory-store.js";
import { CacheCore } from "./cache-core.js";
import type { CacheCoreOptions } from "./cache-core-options.js";
import { deferred, entry, FlakyStore, key, lookupRequest, testTypes } from "./core.test-util.js";
import { onMissMode } from "./miss-coalescer.js";
import type { MissHandler } from "./miss-handler.js";

const t0 = 1_700_000_000_000;

function setup(options: Partial<CacheCoreOptions> = {}) {
  const clock = new ManualClock(t0);
  const store = new FlakyStore(clock);
  const core = new CacheCore(store, testTypes, { clock, ...options });
  return { clock, store, core };
}

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

describe("cache core: freshness", () => {
  it("pins OnMiss values to cache.proto", () => {
    expect(onMissMode).toEqual({
      none: cacheV1.OnMiss.ON_MISS_NONE,
      enqueue: cacheV1.OnMiss.ON_MISS_ENQUEUE,
      compute: cacheV1.OnMiss.ON_MISS_COMPUTE,
    });
  });

  it("computes expires_at from the type's TTL or the entry's own, and serves fresh hits", async () => {
    const { core } = setup();
    const put = await core.put({ entry: entry(key("a")) });
    expect(put.key).toBe("acme/ctr_prediction/a");
    expect(put.expiresAt?.getTime()).toBe(t0 + 100_000);
    const own = await core.put({
      entry: entry(key("b"), { ttlSeconds: 5, computedAt: new Date(t0 - 1000) }),
    });
    expect(own.expiresAt?.getTime()).toBe(t0 + 4000);
    const hit = await core.lookup(lookupRequest(key("a")));
    expect(hit).toMatchObject({ key: "acme/ctr_prediction/a", hit: true, stale: false, degraded: false });
    expect(hit.result?.computedAt?.getTime()).toBe(t0);
    expect(hit.result?.value?.tensors?.tensors[0]?.data).toEqual([0.25]);
  });

  it("serves stale inside the grace window, flagged and due for refresh, unless reject_stale", async () => {
    const { core, clock } = setup();
    await core.put({ entry: entry(key("a")) });
    clock.advance(100_000); // exactly at expiry: stale
    const stale = await core.lookup(lookupRequest(key("a")));
    expect(stale).toMatchObject({ hit: true, stale: true, refreshDue: true });
    expect((await core.lookup(lookupRequest(key("a"), { rejectStale: true }))).hit).toBe(false);
    expect(core.takeRefreshDue({ limit: 0 }).keys).toEqual(["acme/ctr_prediction/a"]);
    clock.advance(10_000); // past the grace window: gone
    expect(await core.lookup(lookupRequest(key("a")))).toMatchObject({ hit: false, stale: false });
  });

  it("treats a type without grace as a miss right at expiry", async () => {
    const { core, clock } = setup();
    await core.put({ entry: entry(key("d", "acme", "dashboard_data")) });
    clock.advance(9_999);
    expect((await core.lookup(lookupRequest(key("d", "acme", "dashboard_data")))).hit).toBe(true);
    clock.advance(1);
    expect((await core.lookup(lookupRequest(key("d", "acme", "dashboard_data")))).hit).toBe(false);
  });
});

describe("cache core: XFetch early refresh", () => {
  it("marks a hit due exactly when now - computeMs * beta * ln(1 - random) >= expiry", async () => {
    let r = 0;
    const { core, clock } = setup({ random: () => r });
    await core.put({ entry: entry(key("a"), { computeMs: 1000 }) });
    clock.set(t0 + 100_000 - 500); // 500 ms before expiry, delta 1000 ms, beta 1
    // Due iff -ln(1 - r) >= 0.5, i.e. r >= 1 - e^-0.5 = 0.3935.
    r = 0.39;
    expect((await core.lookup(lookupRequest(key("a")))).refreshDue).toBe(false);
    r = 0.4;
    expect((await core.lookup(lookupRequest(key("a")))).refreshDue).toBe(true);
    expect(core.takeRefreshDue({ limit: 10 }).keys).toEqual(["acme/ctr_prediction/a"]);
    expect(core.takeRefreshDue({ limit: 10 }).keys).toEqual([]);
  });

  it("refreshes with probability e^(-(expiry - now) / (computeMs * beta))", async () => {
    let i = 0;
    const n = 2000;
    const { core, clock } = setup({ random: () => ((i++ % n) + 0.5) / n });
    await core.put({ entry: entry(key("a"), { computeMs: 1000 }) });
    for (const [before, expected] of [
      [10_000, Math.exp(-10)],
      [1000, Math.exp(-1)],
      [200, Math.exp(-0.2)],
    ] as const) {
      clock.set(t0 + 100_000 - before);
      let due = 0;
      for (let j = 0; j < n; j++) if ((await core.lookup(lookupRequest(key("a")))).refreshDue) due++;
      expect(due / n).toBeCloseTo(expected, 2);
    }
  });

  it("never marks early when beta is 0 or the compute time unknown", async () => {
    const { core, clock } = setup({ random: () => 0.999999 });
    await core.put({ entry: entry(key("a")) }); // computeMs 0
    await core.put({ entry: entry(key("d", "acme", "dashboard_data"), { computeMs: 5000 }) });
    clock.advance(9_000);
    expect((await core.lookup(lookupRequest(key("a")))).refreshDue).toBe(false);
    expect((await core.lookup(lookupRequest(key("d", "acme", "dashboard_data")))).refreshDue).toBe(false);
  });

  it("bounds the refresh-due set, dropping the oldest marks", async () => {
    const { core, clock } = setup({ refreshDueCapacity: 2 });
    await core.putMany({ entries: ["a", "b", "c"].map((e) => entry(key(e))) });
    clock.advance(100_000);
    for (const e of ["a", "b", "c", "a"]) await core.lookup(lookupRequest(key(e)));
    // a, b, c: a goes to make room; then a again: b goes.
    expect(core.takeRefreshDue({ limit: 0 }).keys).toEqual([
      "acme/ctr_prediction/c",
      "acme/ctr_prediction/a",
    ]);
  });
});

describe("cache core: misses", () => {
  const computed = (v: number): CachedResult => ({
    value: { tensors: { tensors: [{ name: "p", datatype: "FP32", shape: [], data: [v] }] }, contentType: "" },
    modelName: "ctr",
    modelVersion: "2",
    computeMs: 40,
    inputDigest: "",
    tags: [],
  });

  it("answers ENQUEUE and COMPUTE with UNAVAILABLE when no executor is configured", async () => {
    const { core } = setup();
    for (const onMiss of [onMissMode.enqueue, onMissMode.compute]) {
      const e = await rejection(core.lookup(lookupRequest(key("a"), { onMiss })));
      expect(isUnavailable(e)).toBe(true);
      expect((e as Error).message).toBe(
        "no executor is configured: ENQUEUE and COMPUTE need the executor service",
      );
    }
    expect((await core.lookup(lookupRequest(key("a")))).hit).toBe(false);
  });

  it("coalesces concurrent COMPUTE misses of one key into one call, then serves the stored result", async () => {
    const gate = deferred<CachedResult>();
    const calls: string[] = [];
    const missHandler: MissHandler = {
      enqueue: async () => ({ taskId: "t" }),
      compute: (k, features) => {
        calls.push(`${k.key} ${JSON.stringify(features)}`);
        return gate.promise;
      },
    };
    const { core, clock } = setup({ missHandler });
    const features = { bid: { number: 1.5 } };
    const answers = Array.from({ length: 5 }, () =>
      core.lookup(lookupRequest(key("a"), { onMiss: onMissMode.compute, features })),
    );
    const other = core.lookup(lookupRequest(key("b"), { onMiss: onMissMode.compute }));
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toEqual(['acme/ctr_prediction/a {"bid":{"number":1.5}}', "acme/ctr_prediction/b {}"]);
    gate.resolve(computed(0.75));
    for (const a of [...(await Promise.all(answers)), await other]) {
      expect(a).toMatchObject({ hit: false, computed: true, degraded: false });
      expect(a.result?.value?.tensors?.tensors[0]?.data).toEqual([0.75]);
      expect(a.result?.expiresAt?.getTime()).toBe(t0 + 100_000);
    }
    clock.advance(1);
    expect(await core.lookup(lookupRequest(key("a"), { onMiss: onMissMode.compute }))).toMatchObject({
      hit: true,
      computed: false,
    });
    expect(calls).toHaveLength(2);
  });

  it("coalesces ENQUEUE misses and shares a failure with every waiter", async () => {
    const gate = deferred<{ taskId: string }>();
    let calls = 0;
    const missHandler: MissHandler = {
      enqueue: () => {
        calls++;
        return gate.promise;
      },
      compute: () => Promise.reject(new Error("unused")),
    };
    const { core } = setup({ missHandler });
    const answers = [1, 2, 3].map(() => core.lookup(lookupRequest(key("a"), { onMiss: onMissMode.enqueue })));
    gate.resolve({ taskId: "task-1" });
    for (const a of await Promise.all(answers)) expect(a).toMatchObject({ hit: false, taskId: "task-1" });
    expect(calls).toBe(1);

    const failing = deferred<{ taskId: string }>();
    missHandler.enqueue = () => {
      calls++;
      return failing.promise;
    };
    const waiting = [1, 2].map(() =>
      rejection(core.lookup(lookupRequest(key("a"), { onMiss: onMissMode.enqueue }))),
    );
    failing.reject(new Error("queue full"));
    for (const e of await Promise.all(waiting)) expect((e as Error).message).toBe("queue full");
    expect(calls).toBe(2);
  });
});

describe("cache core: a failing store", () => {
  it("answers lookups as degraded misses, computes when asked, and counts the errors", async () => {
    const missHandler: MissHandler = {
      enqueue: async () => ({ taskId: "t9" }),
      compute: async () => ({ modelName: "m", modelVersion: "1", computeMs: 1, inputDigest: "", tags: [] }),
    };
    const { core, store } = setup({ missHandler });
    await core.put({ entry: entry(key("a")) });
    store.failing = true;
    expect(await core.lookup(lookupRequest(key("a")))).toMatchObject({ hit: false, degraded: true });
    expect(await core.lookup(lookupRequest(key("a"), { onMiss: onMissMode.compute }))).toMatchObject({
      hit: false,
      degraded: true,
      computed: true,
      result: { modelName: "m" },
    });
    expect(await core.lookup(lookupRequest(key("a"), { onMiss: onMissMode.enqueue }))).toMatchObject({
      degraded: true,
      taskId: "t9",
    });
    const many = await core.lookupMany({
      keys: [key("a"), key("b")],
      entityIds: [],
      onMiss: 0,
      userId: "",
      rejectStale: false,
      peek: false,
    });
    expect(many.results.map((r) => r.degraded)).toEqual([true, true]);
    expect(isUnavailable(await rejection(core.put({ entry: entry(key("b")) })))).toBe(true);
    expect(isUnavailable(await rejection(core.invalidate({ tenant: "acme", tag: "x" })))).toBe(true);
    const stats = await core.stats({ tenant: "", taskType: "" });
    expect(stats.total).toMatchObject({ misses: 5n, errors: 5n });
    expect(core.storeErrors).toBeGreaterThanOrEqual(8);
    store.failing = false;
    expect((await core.lookup(lookupRequest(key("a")))).hit).toBe(true);
  });
});

describe("cache core: stats", () => {
  it("counts hits, stale hits and misses per task type and tenant, with filters", async () => {
    const { core, clock } = setup();
    await core.putMany({
      entries: [entry(key("a")), entry(key("a", "beta")), entry(key("d", "acme", "dashboard_data"))],
    });
    await core.lookup(lookupRequest(key("a")));
    await core.lookup(lookupRequest(key("x")));
    await core.lookup(lookupRequest(key("a", "beta")));
    await core.lookup(lookupRequest(key("d", "acme", "dashboard_data")));
    clock.advance(100_000);
    await core.lookup(lookupRequest(key("a")));
    const all = await core.stats({ tenant: "", taskType: "" });
    expect(all.total).toEqual({ hits: 4n, staleHits: 1n, misses: 1n, errors: 0n, hitRate: 0.8 });
    expect(all.byTenant.map((g) => [g.name, g.counters?.hits])).toEqual([
      ["acme", 3n],
      ["beta", 1n],
    ]);
    expect(all.byTaskType.map((g) => [g.name, g.counters?.misses])).toEqual([
      ["ctr_prediction", 1n],
      ["dashboard_data", 0n],
    ]);
    expect(all).toMatchObject({ entries: 3n, store: "flaky" });
    expect(all.bytes).toBeGreaterThan(0n);
    const filtered = await core.stats({ tenant: "acme", taskType: "ctr_prediction" });
    expect(filtered.total).toMatchObject({ hits: 2n, misses: 1n });
    expect(isInvalidArgument(await rejection(core.stats({ tenant: "", taskType: "nope" })))).toBe(true);
  });

  it("counts tenants past the cap as (other)", async () => {
    const { core } = setup({ maxStatsTenants: 2 });
    for (const t of ["a", "b", "c", "d"]) await core.lookup(lookupRequest(key("x", t)));
    const stats = await core.stats({ tenant: "", taskType: "" });
    expect(stats.byTenant.map((g) => [g.name, g.counters?.misses])).toEqual([
      ["(other)", 2n],
      ["a", 1n],
      ["b", 1n],
    ]);
  });
});

describe("cache core: keys and validation", () => {
  it("digests semantic inputs canonically: key order and number spelling do not matter", async () => {
    const { core } = setup();
    const put = await core.put({
      entry: entry({ tenant: "acme", taskType: "ctr_prediction", inputs: { b: 1, a: [2.0, "x"] } }),
    });
    const digest = inputDigest({ a: [2, "x"], b: 1.0 });
    expect(put.key).toBe(`acme/ctr_prediction/#${digest}`);
    const hit = await core.lookup(
      lookupRequest({ tenant: "acme", taskType: "ctr_prediction", inputDigest: digest }),
    );
    expect(hit.hit).toBe(true);
    expect(hit.result?.inputDigest).toBe(digest);
  });

  it.each([
    ["a missing key", { key: undefined }, /key: is required/],
    ["an empty entity id", { key: key("") }, /entity_id is empty/],
    ["an oversized entity id", { key: key("x".repeat(513)) }, /513 bytes; the limit is 512/],
    ["a replacement character", { key: key("bad\uFFFDid") }, /not valid UTF-8/],
    ["a lone surrogate", { key: key("bad\uD800id") }, /not valid UTF-8/],
    ["a tenant with '/'", { key: key("a", "ac/me") }, /no '\/'/],
    ["an empty tenant", { key: key("a", "") }, /tenant is empty/],
    ["an unknown task type", { key: key("a", "acme", "nope") }, /unknown task type "nope"/],
    ["two subjects", { key: { ...key("a"), inputDigest: "0".repeat(64) } }, /exactly one of entity_id/],
    [
      "a bad digest",
      { key: { tenant: "acme", taskType: "ctr_prediction", inputDigest: "xyz" } },
      /64 lowercase hex/,
    ],
    ["an unknown on_miss", { onMiss: 9 }, /on_miss 9 is not a known mode/],
  ])("rejects %s in Lookup", async (_, patch, message) => {
    const { core } = setup();
    const e = await rejection(core.lookup({ ...lookupRequest(key("a")), ...patch }));
    expect(isInvalidArgument(e)).toBe(true);
    expect((e as Error).message).toMatch(message);
  });

  it.each([
    ["a missing entry", undefined, /entry is required/],
    ["a missing value", entry(key("a"), { value: undefined }), /value is required/],
    ["an empty value", entry(key("a"), { value: { contentType: "" } }), /exactly one of tensors or payload/],
    ["a negative TTL", entry(key("a"), { ttlSeconds: -5 }), /ttl_seconds must be positive \(got -5\)/],
    ["a zero TTL", entry(key("a"), { ttlSeconds: 0 }), /ttl_seconds must be positive/],
    [
      "an infinite TTL",
      entry(key("a"), { ttlSeconds: Number.POSITIVE_INFINITY }),
      /ttl_seconds must be positive/,
    ],
    ["an unknown type", entry(key("a", "acme", "nope")), /entry.key: unknown task type/],
    ["an empty tag", entry(key("a"), { tags: [""] }), /tags may not be empty/],
    ["a future computed_at", entry(key("a"), { computedAt: new Date(t0 + 3_600_000) }), /in the future/],
    [
      "a tensor whose shape disagrees with its data",
      entry(key("a"), {
        value: {
          tensors: { tensors: [{ name: "p", datatype: "FP32", shape: [2n], data: [1] }] },
          contentType: "",
        },
      }),
      /shape \[2\] but 1 values/,
    ],
  ])("rejects %s in Put", async (_, e, message) => {
    const { core } = setup();
    const err = await rejection(core.put({ entry: e }));
    expect(isInvalidArgument(err)).toBe(true);
    expect((err as Error).message).toMatch(message);
  });

  it("enforces the LookupMany and PutMany limits with RESOURCE_EXHAUSTED", async () => {
    const { core } = setup({ maxLookupMany: 3, maxPutMany: 2 });
    const keys = ["a", "b", "c", "d"].map((e) => key(e));
    const many = await rejection(
      core.lookupMany({ keys, entityIds: [], onMiss: 0, userId: "", rejectStale: false, peek: false }),
    );
    expect(isResourceExhausted(many)).toBe(true);
    expect((many as Error).message).toBe("LookupMany asked for 4 keys; the limit is 3 per call");
    const puts = await rejection(core.putMany({ entries: keys.map((k) => entry(k)) }));
    expect(isResourceExhausted(puts)).toBe(true);
    const bad = await rejection(
      core.putMany({ entries: [entry(key("a")), entry(key("a"), { ttlSeconds: -1 })] }),
    );
    expect((bad as Error).message).toMatch(/^entries\[1\]: ttl_seconds/);
  });

  it.each([
    ["no selector", { tenant: "acme" }, /exactly one of key, prefix/],
    ["two selectors", { tenant: "acme", tag: "x", prefix: "y" }, /\(got 2\)/],
    ["a prefix without tenant", { tenant: "", prefix: "ctr" }, /tenant is required to invalidate by prefix/],
    ["a pattern escaping its tenant", { tenant: "acme", pattern: "../other/*" }, /pattern's task type part/],
    ["a tenant with '/'", { tenant: "acme/../x", pattern: "*" }, /no '\/'/],
    ["a key of another tenant", { tenant: "beta", key: key("a") }, /differs from the key's tenant/],
    ["an unknown task type", { taskType: "nope" }, /unknown task type/],
    [
      "a non-numeric version",
      { modelOlderThan: { modelName: "m", olderThanVersion: "v2" } },
      /must be a number/,
    ],
  ])("rejects %s in Invalidate", async (_, patch, message) => {
    const { core } = setup();
    const e = await rejection(core.invalidate({ tenant: "", ...patch }));
    expect(isInvalidArgument(e)).toBe(true);
    expect((e as Error).message).toMatch(message);
  });

  it("invalidates by key and by prefix, where a prefix is literal text", async () => {
    const { core } = setup();
    await core.putMany({ entries: ["ad*1", "ad-2", "bd"].map((e) => entry(key(e))) });
    expect((await core.invalidate({ tenant: "acme", prefix: "ctr_prediction/ad*" })).removed).toBe(1n);
    expect((await core.invalidate({ tenant: "", key: key("bd") })).removed).toBe(1n);
    expect((await core.invalidate({ tenant: "acme", prefix: "ctr" })).removed).toBe(1n);
  });
});

describe("cache core: stores", () => {
  it("reports the memory store's name and entries", async () => {
    const clock = new ManualClock(t0);
    const core = new CacheCore(new MemoryCacheStore({ clock }), testTypes, { clock });
    await core.put({ entry: entry(key("a")) });
    expect(await core.stats({ tenant: "", taskType: "" })).toMatchObject({ store: "memory", entries: 1n });
  });
});
