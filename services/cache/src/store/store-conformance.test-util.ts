import { commonV1 } from "@prescient/contracts";
import { compileKeyPattern, formatKey, inputDigest } from "@prescient/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CacheStore, StoreWrite } from "./cache-store.js";

/** Builds a store write the way the cache core would, with real-time expiry. */
export function write(
  tenant: string,
  taskType: string,
  entityId: string,
  extra: Partial<{
    tags: string[];
    modelName: string;
    modelVersion: string;
    ttlMs: number;
    value: number;
  }> = {},
): StoreWrite {
  const now = Date.now();
  const ttlMs = extra.ttlMs ?? 60_000;
  const result: commonV1.Result = {
    value: {
      tensors: {
        tensors: [{ name: "probability", datatype: "FP32", shape: [1n], data: [extra.value ?? 0.5] }],
      },
      contentType: "",
    },
    modelName: extra.modelName ?? "",
    modelVersion: extra.modelVersion ?? "",
    computedAt: new Date(now),
    expiresAt: new Date(now + ttlMs),
    computeMs: 12.5,
    inputDigest: "",
    tags: extra.tags ?? [],
  };
  return {
    key: formatKey({ tenant, taskType, entityId }),
    tenant,
    taskType,
    result,
    physicalExpiryMs: now + ttlMs,
  };
}

/** A plain Result, whatever class the store answered with (Redis answers lazily decoded ones). */
export const plain = (r: commonV1.Result | undefined): commonV1.Result | undefined =>
  r === undefined ? undefined : commonV1.Result.decode(commonV1.Result.encode(r).finish());

const key = (tenant: string, taskType: string, entityId: string): string =>
  formatKey({ tenant, taskType, entityId });

/**
 * The behaviour every CacheStore must have. `create` gives a fresh, empty
 * store per test; `dispose` removes what it wrote.
 */
/** A store's entry and byte budget, with the eviction callback both stores take. */
export interface StoreBudget {
  maxEntries: number;
  maxBytes: number;
  onEvicted: (count: number) => void;
}

export function describeStoreConformance(
  name: string,
  create: () => Promise<CacheStore>,
  dispose: (store: CacheStore) => Promise<void>,
  createBounded?: (budget: StoreBudget) => Promise<CacheStore>,
): void {
  describe(`${name} store conformance`, () => {
    let store: CacheStore;
    beforeEach(async () => {
      store = await create();
      await store.ready();
    });
    afterEach(async () => dispose(store));

    it("stores a long tensor and a large payload (written in slices) exactly", async () => {
      const tensor = write("t1", "ctr_prediction", "long");
      const data = Array.from({ length: 300_000 }, (_, i) => i / 3);
      tensor.result = {
        ...tensor.result,
        value: {
          tensors: { tensors: [{ name: "p", datatype: "FP64", shape: [300_000n], data }] },
          contentType: "",
        },
      };
      const payload = write("t1", "ctr_prediction", "payload");
      payload.result = {
        ...payload.result,
        value: { payload: Buffer.alloc(2 * 1024 * 1024, 7), contentType: "application/octet-stream" },
      };
      await store.putMany([tensor, payload]);
      const [a, b] = await store.getMany([tensor.key, payload.key]);
      expect(plain(a)).toEqual(plain(tensor.result));
      expect(plain(b)).toEqual(plain(payload.result));
    });

    it("answers undefined for absent keys, alone and in batches", async () => {
      expect(await store.get(key("t1", "ctr_prediction", "nope"))).toBeUndefined();
      expect(
        await store.getMany([key("t1", "ctr_prediction", "a"), key("t2", "ctr_prediction", "b")]),
      ).toEqual([undefined, undefined]);
      expect(await store.getMany([])).toEqual([]);
    });

    it("answers a peek as it answers a read, across tenants", async () => {
      const a = write("t1", "ctr_prediction", "peeked-a");
      const b = write("t2", "dashboard_data", "peeked-b");
      await store.putMany([a, b]);
      const keys = [a.key, key("t1", "ctr_prediction", "absent"), b.key];
      const peeked = await store.getMany(keys, { peek: true });
      expect(peeked.map(plain)).toEqual([plain(a.result), undefined, plain(b.result)]);
      expect((await store.getMany(keys)).map(plain)).toEqual(peeked.map(plain));
    });

    it("answers expiries in the order asked, across tenants, less each type's stale grace", async () => {
      const graces = [5_000, 0, 60_000, 5_000];
      const a = write("t1", "ctr_prediction", "expiry-a", { ttlMs: 60_000 });
      const b = write("t2", "dashboard_data", "expiry-b", { ttlMs: 3_600_000 });
      a.physicalExpiryMs += 5_000;
      b.physicalExpiryMs += 60_000;
      const written = Date.now();
      await store.putMany([a, b]);
      const wrote = Date.now() - written;
      const keys = [a.key, key("t1", "ctr_prediction", "absent"), b.key, a.key];
      const asked = Date.now();
      const got = await store.expiries(keys, (i) => graces[i] as number);
      const took = Date.now() - asked;
      expect(got[1]).toBeUndefined();
      // Exact where read from the value; from a TTL, early by at most the call and late by at most
      // the write (each to the millisecond), never more.
      for (const [i, w] of [
        [0, a],
        [2, b],
        [3, a],
      ] as const) {
        const expiresAt = w.result.expiresAt?.getTime() ?? Number.NaN;
        expect(got[i]).toBeGreaterThanOrEqual(expiresAt - took - 1);
        expect(got[i]).toBeLessThanOrEqual(expiresAt + wrote + 1);
      }
      expect(await store.expiries([], () => 0)).toEqual([]);
    });

    it("answers no expiry for an entry past its physical expiry", async () => {
      const short = write("t1", "ctr_prediction", "expiry-short", { ttlMs: 40 });
      await store.putMany([short]);
      await new Promise((r) => setTimeout(r, Math.max(0, short.physicalExpiryMs - Date.now()) + 60));
      expect(await store.expiries([short.key], () => 0)).toEqual([undefined]);
    });

    it("round-trips every Result field", async () => {
      const tensor = write("t1", "ctr_prediction", "ad/1 é", {
        tags: ["a", "b"],
        modelName: "ctr",
        modelVersion: "3",
      });
      const payload = write("t1", "dashboard_data", "u1");
      payload.result.value = { payload: Buffer.from('{"x":1}'), contentType: "application/json" };
      payload.result.inputDigest = inputDigest({ x: 1 });
      await store.putMany([tensor, payload]);
      expect(plain(await store.get(tensor.key))).toEqual(tensor.result);
      const [p] = await store.getMany([payload.key]);
      expect(p?.value?.contentType).toBe("application/json");
      expect(Buffer.from(p?.value?.payload ?? []).toString()).toBe('{"x":1}');
      expect(p?.inputDigest).toBe(payload.result.inputDigest);
      expect(p?.computedAt).toEqual(payload.result.computedAt);
    });

    it("keeps request order across tenants in getMany", async () => {
      const writes = [
        write("t1", "ctr_prediction", "a", { value: 1 }),
        write("t2", "ctr_prediction", "a", { value: 2 }),
        write("t1", "ctr_prediction", "b", { value: 3 }),
      ];
      await store.putMany(writes);
      const keys = [writes[2], writes[1], writes[0]].map((w) => w?.key ?? "");
      keys.splice(1, 0, key("t3", "ctr_prediction", "missing"));
      const got = await store.getMany(keys);
      expect(got.map((r) => r?.value?.tensors?.tensors[0]?.data[0])).toEqual([3, undefined, 2, 1]);
    });

    it("replaces an entry, and its old tags no longer select it", async () => {
      await store.putMany([write("t1", "ctr_prediction", "a", { tags: ["old"], value: 1 })]);
      await store.putMany([write("t1", "ctr_prediction", "a", { tags: ["new"], value: 2 })]);
      const k = key("t1", "ctr_prediction", "a");
      expect((await store.get(k))?.value?.tensors?.tensors[0]?.data).toEqual([2]);
      expect(await store.invalidate({ kind: "tag", tenant: "t1", tag: "old" })).toBe(0);
      expect(await store.get(k)).toBeDefined();
      expect(await store.invalidate({ kind: "tag", tenant: "t1", tag: "new" })).toBe(1);
      expect(await store.get(k)).toBeUndefined();
    });

    it("deletes exact keys and counts only those that existed", async () => {
      await store.putMany([write("t1", "ctr_prediction", "a"), write("t2", "ctr_prediction", "a")]);
      const removed = await store.delete([
        key("t1", "ctr_prediction", "a"),
        key("t1", "ctr_prediction", "ghost"),
        key("t2", "ctr_prediction", "a"),
      ]);
      expect(removed).toBe(2);
      expect(await store.get(key("t1", "ctr_prediction", "a"))).toBeUndefined();
      expect(await store.delete([key("t1", "ctr_prediction", "a")])).toBe(0);
    });

    it("forgets entries at their physical expiry and never stores expired ones", async () => {
      // A second of life: a loaded CI machine once took more than 150 ms between the write and the read.
      const short = write("t1", "ctr_prediction", "short", { ttlMs: 1_000 });
      const gone = write("t1", "ctr_prediction", "gone", { ttlMs: -1 });
      const long = write("t1", "ctr_prediction", "long");
      await store.putMany([short, gone, long]);
      expect(await store.get(gone.key)).toBeUndefined();
      expect(await store.get(short.key)).toBeDefined();
      await new Promise((r) => setTimeout(r, Math.max(0, short.physicalExpiryMs - Date.now()) + 250));
      expect((await store.getMany([short.key, long.key])).map(plain)).toEqual([undefined, long.result]);
    });

    it("invalidates by pattern within one tenant only, '*' not crossing '/'", async () => {
      await store.putMany([
        write("t1", "ctr_prediction", "ad1"),
        write("t1", "ctr_prediction", "ad2"),
        write("t1", "ctr_prediction", "bd1"),
        write("t1", "roas_prediction", "ad1"),
        write("t1", "ctr_prediction", "ad/x"),
        write("t2", "ctr_prediction", "ad1"),
      ]);
      expect(
        await store.invalidate({ kind: "pattern", pattern: compileKeyPattern("t1", "ctr_prediction/ad?") }),
      ).toBe(2);
      expect(await store.get(key("t1", "ctr_prediction", "bd1"))).toBeDefined();
      expect(await store.get(key("t1", "roas_prediction", "ad1"))).toBeDefined();
      expect(await store.get(key("t2", "ctr_prediction", "ad1"))).toBeDefined();
      // The '/' inside an id is escaped, so the literal "ad/x" still matches a pattern naming it.
      expect(await store.invalidate({ kind: "pattern", pattern: compileKeyPattern("t1", "*/ad/x") })).toBe(1);
      expect(await store.invalidate({ kind: "pattern", pattern: compileKeyPattern("t1", "*") })).toBe(2);
      expect(await store.get(key("t2", "ctr_prediction", "ad1"))).toBeDefined();
    });

    it("invalidates by tag within one tenant", async () => {
      await store.putMany([
        write("t1", "ctr_prediction", "a", { tags: ["campaign:7", "x"] }),
        write("t1", "roas_prediction", "b", { tags: ["campaign:7"] }),
        write("t1", "ctr_prediction", "c", { tags: ["campaign:8"] }),
        write("t2", "ctr_prediction", "a", { tags: ["campaign:7"] }),
      ]);
      expect(await store.invalidate({ kind: "tag", tenant: "t1", tag: "campaign:7" })).toBe(2);
      expect(await store.get(key("t1", "ctr_prediction", "c"))).toBeDefined();
      expect(await store.get(key("t2", "ctr_prediction", "a"))).toBeDefined();
      expect(await store.invalidate({ kind: "tag", tenant: "t1", tag: "campaign:7" })).toBe(0);
    });

    it("invalidates by task type in one tenant or in all", async () => {
      const writes = ["t1", "t2", "t3"].flatMap((t) =>
        Array.from({ length: 20 }, (_, i) => write(t, "ctr_prediction", `e${i}`)),
      );
      // Types whose names start alike: each is a type of its own.
      writes.push(
        write("t1", "roas_prediction", "e0"),
        write("t1", "ctr", "e0"),
        write("t1", "ctr_prediction_v2", "e0"),
      );
      await store.putMany(writes);
      expect(await store.invalidate({ kind: "task_type", tenant: "t1", taskType: "ctr_prediction" })).toBe(
        20,
      );
      expect(await store.get(key("t2", "ctr_prediction", "e0"))).toBeDefined();
      expect(
        await store.invalidate({ kind: "task_type", tenant: undefined, taskType: "ctr_prediction" }),
      ).toBe(40);
      expect(await store.get(key("t1", "roas_prediction", "e0"))).toBeDefined();
      expect(await store.get(key("t1", "ctr_prediction_v2", "e0"))).toBeDefined();
      expect(await store.invalidate({ kind: "task_type", tenant: "t1", taskType: "ctr" })).toBe(1);
      expect(await store.get(key("t1", "ctr_prediction_v2", "e0"))).toBeDefined();
    });

    it("invalidates by model version, numerically, in one tenant or in all", async () => {
      await store.putMany([
        write("t1", "ctr_prediction", "v1", { modelName: "ctr", modelVersion: "1" }),
        write("t1", "ctr_prediction", "v2", { modelName: "ctr", modelVersion: "2" }),
        write("t1", "ctr_prediction", "v10", { modelName: "ctr", modelVersion: "10" }),
        write("t1", "ctr_prediction", "vx", { modelName: "ctr", modelVersion: "experimental" }),
        write("t1", "roas_prediction", "other", { modelName: "roas", modelVersion: "1" }),
        write("t2", "ctr_prediction", "v1", { modelName: "ctr", modelVersion: "1" }),
      ]);
      const sel = { kind: "model_older_than", modelName: "ctr", olderThan: 3 } as const;
      expect(await store.invalidate({ ...sel, tenant: "t1" })).toBe(2);
      expect(await store.get(key("t1", "ctr_prediction", "v10"))).toBeDefined();
      expect(await store.get(key("t1", "ctr_prediction", "vx"))).toBeDefined();
      expect(await store.get(key("t1", "roas_prediction", "other"))).toBeDefined();
      expect(await store.get(key("t2", "ctr_prediction", "v1"))).toBeDefined();
      expect(await store.invalidate({ ...sel, tenant: undefined, olderThan: 11 })).toBe(2);
    });

    it("does not remove an entry that moved to another model", async () => {
      await store.putMany([write("t1", "ctr_prediction", "a", { modelName: "ctr", modelVersion: "1" })]);
      await store.putMany([write("t1", "ctr_prediction", "a", { modelName: "ctr_v2", modelVersion: "1" })]);
      const sel = { kind: "model_older_than", tenant: "t1", modelName: "ctr", olderThan: 5 } as const;
      expect(await store.invalidate(sel)).toBe(0);
      expect(await store.get(key("t1", "ctr_prediction", "a"))).toBeDefined();
    });

    it("counts entries", async () => {
      await store.putMany(
        Array.from({ length: 30 }, (_, i) => write(`t${i % 3}`, "ctr_prediction", `e${i}`)),
      );
      const count = await store.count();
      expect(count.entries).toBe(30);
      if (count.bytes !== undefined) expect(count.bytes).toBeGreaterThan(0);
      await store.invalidate({ kind: "task_type", tenant: undefined, taskType: "ctr_prediction" });
      expect((await store.count()).entries).toBe(0);
    });
  });

  if (createBounded === undefined) return;
  describe(`${name} store budget conformance`, () => {
    const opened: CacheStore[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map(dispose));
    });
    const bounded = async (budget: Omit<StoreBudget, "onEvicted">) => {
      const evicted = { n: 0 };
      const s = await createBounded({ ...budget, onEvicted: (n) => (evicted.n += n) });
      opened.push(s);
      await s.ready();
      return { store: s, evicted };
    };
    const readable = async (s: CacheStore, keys: string[]): Promise<number> =>
      (await s.getMany(keys)).filter((r) => r !== undefined).length;

    it("holds at most maxEntries, counting each eviction, through overwrites", async () => {
      const { store: s, evicted } = await bounded({ maxEntries: 10, maxBytes: 100_000_000 });
      const keys: string[] = [];
      for (let round = 0; round < 5; round++) {
        // Later rounds live longer, so LRU (memory) and soonest-expiry-first (Redis) both keep the newest.
        const batch = Array.from({ length: 10 }, (_, i) =>
          write(`t${i % 3}`, "ctr_prediction", `r${round}-${i}`, { ttlMs: 60_000 + round * 1_000 }),
        );
        keys.push(...batch.map((w) => w.key));
        await s.putMany(batch);
        // Overwrites of held keys take no room of their own.
        await s.putMany(batch.slice(0, 3).map((w) => ({ ...w })));
      }
      expect(await readable(s, keys)).toBe(10);
      expect(evicted.n).toBe(40);
      expect((await s.count()).entries).toBe(10);
    });

    it("holds at most maxBytes, and what is invalidated or deleted frees its share", async () => {
      const big = (tenant: string, id: string, ttlMs = 60_000): StoreWrite => {
        const w = write(tenant, "dashboard_data", id, { tags: ["big"], ttlMs });
        w.result.value = { payload: Buffer.alloc(4_000, 7), contentType: "application/octet-stream" };
        return w;
      };
      const { store: s, evicted } = await bounded({ maxEntries: 1_000, maxBytes: 30_000 });
      const keys = Array.from({ length: 20 }, (_, i) => big(`t${i % 2}`, `b${i}`).key);
      for (let i = 0; i < 20; i++) await s.putMany([big(`t${i % 2}`, `b${i}`, 60_000 + i * 1_000)]);
      const held = await readable(s, keys);
      expect(held).toBeGreaterThanOrEqual(4);
      expect(held).toBeLessThanOrEqual(7);
      expect(evicted.n).toBe(20 - held);
      const { bytes } = await s.count();
      if (bytes !== undefined) expect(bytes).toBeLessThanOrEqual(30_000);

      await s.invalidate({ kind: "tag", tenant: "t0", tag: "big" });
      await s.invalidate({ kind: "tag", tenant: "t1", tag: "big" });
      await s.delete(keys);
      const before = evicted.n;
      for (let i = 0; i < held; i++) await s.putMany([big("t2", `c${i}`)]);
      expect(evicted.n).toBe(before);
      expect(
        await readable(
          s,
          Array.from({ length: held }, (_, i) => big("t2", `c${i}`).key),
        ),
      ).toBe(held);
    });
  });
}
