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
