import { ManualClock } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { MemoryCacheStore } from "./memory-store.js";
import { describeStoreConformance, write } from "./store-conformance.test-util.js";

describeStoreConformance(
  "memory",
  async () => new MemoryCacheStore(),
  (store) => store.close(),
  async (budget) => new MemoryCacheStore(budget),
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

  it("a peek answers without making an entry more recent: a freshness check is not a use", async () => {
    const store = new MemoryCacheStore({ maxEntries: 3 });
    const key = (e: string) => write("t", "ctr_prediction", e).key;
    await store.putMany(["a", "b", "c"].map((e) => write("t", "ctr_prediction", e)));
    expect((await store.getMany([key("a")], { peek: true }))[0]).toBeDefined();
    await store.putMany([write("t", "ctr_prediction", "d")]);
    // a was the least recently used and still is: it goes, where a read would have kept it.
    expect(await store.get(key("a"))).toBeUndefined();
    await store.getMany([key("b")]);
    await store.putMany([write("t", "ctr_prediction", "e")]);
    expect(await store.get(key("b"))).toBeDefined();
    expect(await store.get(key("c"))).toBeUndefined();
  });

  it("stays within maxBytes and refuses an entry larger than the whole store", async () => {
    const big = (id: string) => {
      const w = write("t", "dashboard_data", id);
      w.result.value = { payload: Buffer.alloc(4000), contentType: "application/octet-stream" };
      return w;
    };
    // About 5 kB each: the 4 kB payload plus the counted per-entry overhead.
    const store = new MemoryCacheStore({ maxBytes: 12_000 });
    await store.putMany([big("1"), big("2"), big("3")]);
    const { entries, bytes } = await store.count();
    expect(entries).toBe(2);
    expect(bytes).toBeLessThanOrEqual(12_000);
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

describe("memory store side structures", () => {
  it("stay bounded by what the store holds, through overwrites, evictions and invalidations far past the budget", async () => {
    const store = new MemoryCacheStore({ maxEntries: 2_000, maxBytes: 1_000_000 });
    const horizon = () => 30_000;
    let written = 0;
    for (let round = 0; round < 40; round++) {
      const batch = [];
      for (let i = 0; i < 500; i++) {
        const n = round * 500 + i;
        // Keys repeat (overwrites), tags are mostly new (a fresh tag set each time), tenants churn.
        const w = write(
          `tenant${n % 37}`,
          n % 3 === 0 ? "dashboard_data" : "ctr_prediction",
          `e${n % 4_000}`,
          {
            tags: [`run-${n}`, `group-${n % 50}`, `x${"y".repeat(n % 200)}`],
            modelName: `m${n % 5}`,
            modelVersion: String(n % 7),
            ttlMs: 20_000 + (n % 40_000),
          },
        );
        batch.push(w);
      }
      await store.putMany(batch);
      written += batch.length;
      if (round % 4 === 1)
        await store.invalidate({ kind: "tag", tenant: `tenant${round % 37}`, tag: `group-${round}` });
      if (round % 4 === 2)
        await store.invalidate({ kind: "task_type", tenant: undefined, taskType: "dashboard_data" });
      if (round % 4 === 3)
        await store.invalidate({
          kind: "model_older_than",
          tenant: undefined,
          modelName: "m1",
          olderThan: 4,
        });
      if (round % 10 === 9) store.nearExpiry(Date.now(), horizon, {});
    }
    expect(written).toBe(20_000);
    const { entries, bytes } = await store.count();
    expect(bytes).toBeLessThanOrEqual(1_000_000);
    const sizes = store.sizes();
    expect(sizes.entries).toBe(entries);
    expect(entries).toBeLessThanOrEqual(2_000);
    // Every side structure holds the live entries and nothing else.
    expect(sizes.indexedKeys).toBe(entries);
    expect(sizes.typeMembers).toBe(entries);
    expect(sizes.modelMembers).toBe(entries);
    expect(sizes.tagMembers).toBe(3 * entries);
    expect(sizes.tagNames).toBeLessThanOrEqual(3 * entries);
    expect(sizes.tenants).toBeLessThanOrEqual(37);
    expect(sizes.expiry.current).toBeLessThanOrEqual(entries);
    expect(sizes.expiry.due).toBeLessThanOrEqual(sizes.expiry.current);
    expect(sizes.expiry.heapSlots).toBeLessThanOrEqual(2 * sizes.expiry.current + 1024);

    await store.invalidate({ kind: "task_type", tenant: undefined, taskType: "ctr_prediction" });
    await store.invalidate({ kind: "task_type", tenant: undefined, taskType: "dashboard_data" });
    expect(store.sizes()).toMatchObject({ entries: 0, tenants: 0, indexedKeys: 0, tagNames: 0 });
    expect(store.sizes().expiry).toMatchObject({ current: 0, due: 0 });
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
