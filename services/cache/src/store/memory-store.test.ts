import { ManualClock } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { MemoryCacheStore } from "./memory-store.js";
import { describeStoreConformance, write } from "./store-conformance.test-util.js";

describeStoreConformance(
  "memory",
  async () => new MemoryCacheStore(),
  (store) => store.close(),
);

describe("memory store bounds", () => {
  it("evicts the least recently used past maxEntries, and unindexes what it evicts", async () => {
    const store = new MemoryCacheStore({ maxEntries: 3 });
    await store.putMany([write("t", "ctr_prediction", "a", { tags: ["x"] })]);
    await store.putMany(["b", "c"].map((e) => write("t", "ctr_prediction", e, { tags: ["x"] })));
    await store.get(write("t", "ctr_prediction", "a").key); // a is now the most recent
    await store.putMany([write("t", "ctr_prediction", "d", { tags: ["x"] })]);
    expect(await store.get(write("t", "ctr_prediction", "b").key)).toBeUndefined();
    expect((await store.count()).entries).toBe(3);
    expect(await store.invalidate({ kind: "tag", tenant: "t", tag: "x" })).toBe(3);
  });

  it("stays within maxBytes and refuses an entry larger than the whole store", async () => {
    const big = (id: string) => {
      const w = write("t", "dashboard_data", id);
      w.result.value = { payload: Buffer.alloc(4000), contentType: "application/octet-stream" };
      return w;
    };
    const store = new MemoryCacheStore({ maxBytes: 10_000 });
    await store.putMany([big("1"), big("2"), big("3")]);
    const { entries, bytes } = await store.count();
    expect(entries).toBe(2);
    expect(bytes).toBeLessThanOrEqual(10_000);
    const tiny = new MemoryCacheStore({ maxBytes: 1000 });
    await expect(tiny.putMany([big("x")])).rejects.toThrow(/holds at most 1000/);
  });

  it("expires by its injected clock", async () => {
    const w = write("t", "ctr_prediction", "a", { ttlMs: 1000 });
    const clock = new ManualClock(w.physicalExpiryMs - 1000);
    const store = new MemoryCacheStore({ clock });
    await store.putMany([w]);
    clock.advance(999);
    expect(await store.get(w.key)).toBeDefined();
    clock.advance(1);
    expect(await store.get(w.key)).toBeUndefined();
  });
});

describe("memory store expiry index", () => {
  it("lists the results near expiry with their raw entity ids, and forgets what it evicts or invalidates", async () => {
    const store = new MemoryCacheStore({ maxEntries: 3 });
    const now = Date.now();
    await store.putMany([
      write("t", "ctr_prediction", "soon/1", { ttlMs: 60_000 }),
      write("t", "ctr_prediction", "later", { ttlMs: 3_600_000 }),
      write("t", "dashboard_data", "u1", { ttlMs: 60_000 }),
    ]);
    const horizon = () => 5 * 60_000;
    const near = store.nearExpiry(now, horizon, {});
    expect(near.map((e) => [e.key, e.entityId]).sort()).toEqual([
      ["t/ctr_prediction/soon%2F1", "soon/1"],
      ["t/dashboard_data/u1", "u1"],
    ]);
    expect(store.nearExpiry(now, horizon, { taskType: "dashboard_data" }).map((e) => e.entityId)).toEqual([
      "u1",
    ]);
    await store.invalidate({ kind: "task_type", tenant: "t", taskType: "dashboard_data" });
    // Two more entries fill the store past maxEntries and evict the least recently used (soon/1).
    await store.putMany(["d", "e"].map((id) => write("t", "ctr_prediction", id, { ttlMs: 3_600_000 })));
    expect(await store.get("t/ctr_prediction/soon%2F1")).toBeUndefined();
    expect(store.nearExpiry(now, horizon, {})).toEqual([]);
  });
});
