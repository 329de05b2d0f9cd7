import { type cacheV1, commonV1 } from "@prescient/contracts";
import { isInvalidArgument, isResourceExhausted, ManualClock } from "@prescient/core";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { CachedResult } from "../store/cache-store.js";
import { CacheCore } from "./cache-core.js";
import type { CacheCoreOptions } from "./cache-core-options.js";
import { entry, FlakyStore, key, lookupRequest, testTypes } from "./core.test-util.js";
import { onMissMode } from "./miss-coalescer.js";
import type { ObservedLookup } from "./observed-lookup.js";

const t0 = 1_700_000_000_000;

function setup(options: Partial<CacheCoreOptions> = {}) {
  const clock = new ManualClock(t0);
  const store = new FlakyStore(clock);
  const seen: ObservedLookup[] = [];
  const registry = new Registry();
  const core = new CacheCore(store, testTypes, {
    clock,
    registry,
    random: () => 0.5,
    lookupObserver: (l) => seen.push(l),
    ...options,
  });
  return { clock, store, core, seen, registry };
}

const many = (
  keys: commonV1.Key[],
  extra: Partial<cacheV1.LookupManyRequest> = {},
): cacheV1.LookupManyRequest => ({
  keys,
  entityIds: [],
  onMiss: 0,
  userId: "u",
  rejectStale: false,
  peek: false,
  ...extra,
});

/** The lookups counter as {"lookups_total type outcome": n}, the refresh-due one as {"refresh_due_total type": n}. */
async function counters(registry: Registry): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of ["prescient_cache_lookups_total", "prescient_cache_refresh_due_total"]) {
    const metric = registry.getSingleMetric(name);
    for (const v of (await metric?.get())?.values ?? [])
      out[`${name.slice(16)} ${v.labels.task_type} ${v.labels.outcome ?? ""}`.trim()] = v.value;
  }
  return out;
}

/** A fresh hit (a), a stale one (s), a miss (m), and a fresh hit of another type (d), in mixed order. */
async function mixed(core: CacheCore, clock: ManualClock): Promise<commonV1.Key[]> {
  await core.put({ entry: entry(key("s"), { ttlSeconds: 1 }) });
  clock.advance(1_000); // s: at expiry, inside its grace
  await core.put({ entry: entry(key("a")) });
  await core.put({ entry: entry(key("d", "acme", "dashboard_data")) });
  return [key("a"), key("s"), key("d", "acme", "dashboard_data"), key("m"), key("a")];
}

describe("LookupMany: values only", () => {
  it("answers each key's value in request order, an empty Value for a miss, and no results", async () => {
    const { core, clock } = setup();
    const keys = await mixed(core, clock);
    const full = await core.lookupMany(many(keys));
    const lean = await core.lookupMany(many(keys, { valuesOnly: true }));
    expect(lean.results).toEqual([]);
    expect(full.values).toEqual([]);
    // Compared as decoded from the wire: stored values are kept as bytes.
    const wire = (v: commonV1.Value | undefined) =>
      commonV1.Value.decode(commonV1.Value.encode(v ?? { contentType: "" }).finish());
    expect(lean.values.map(wire)).toEqual(full.results.map((r) => wire(r.result?.value)));
    expect(lean.values.map((v) => v.tensors?.tensors[0]?.data ?? null)).toEqual([
      [0.25],
      [0.25],
      [0.25],
      null,
      [0.25],
    ]);
    expect(lean.values[3]).toEqual({ contentType: "" });
    expect(commonV1.Value.encode(lean.values[3] as commonV1.Value).finish().length).toBe(0);
  });

  it("treats a stale result as a miss under reject_stale, and answers values on a peek", async () => {
    const { core, clock } = setup();
    const keys = await mixed(core, clock);
    const rejecting = await core.lookupMany(many(keys, { valuesOnly: true, rejectStale: true }));
    expect(rejecting.values.map((v) => v.tensors !== undefined)).toEqual([true, false, true, false, true]);
    const peek = await core.lookupMany(many(keys, { valuesOnly: true, peek: true }));
    expect(peek.values.map((v) => v.tensors !== undefined)).toEqual([true, true, true, false, true]);
  });

  it("counts, marks refresh and reports to the query log exactly as a full LookupMany", async () => {
    const a = setup();
    const b = setup();
    const keysA = await mixed(a.core, a.clock);
    const keysB = await mixed(b.core, b.clock);
    await a.core.lookupMany(many(keysA));
    await b.core.lookupMany(many(keysB, { valuesOnly: true }));
    expect(b.seen).toEqual(a.seen);
    expect(b.seen.map((l) => l.outcome)).toEqual(["hit", "stale", "hit", "miss", "hit"]);
    expect(await b.core.stats({ tenant: "", taskType: "" })).toEqual(
      await a.core.stats({ tenant: "", taskType: "" }),
    );
    expect(b.core.takeRefreshDue({ limit: 0 })).toEqual(a.core.takeRefreshDue({ limit: 0 }));
    expect(await counters(b.registry)).toEqual(await counters(a.registry));
  });

  it("answers a value computed for the call (ON_MISS_COMPUTE), and empty ones when the store fails", async () => {
    const computed: CachedResult = {
      value: { payload: Buffer.from("7"), contentType: "application/json" },
      modelName: "ctr",
      modelVersion: "2",
      computeMs: 1,
      inputDigest: "",
      tags: [],
    };
    const { core, store } = setup({
      missHandler: { enqueue: async () => ({ taskId: "t1" }), compute: async () => computed },
    });
    await core.put({ entry: entry(key("a")) });
    const answer = await core.lookupMany(
      many([key("a"), key("new")], { valuesOnly: true, onMiss: onMissMode.compute }),
    );
    expect(
      answer.values.map((v) => [v.payload?.toString() ?? null, v.tensors?.tensors[0]?.data ?? null]),
    ).toEqual([
      [null, [0.25]],
      ["7", null],
    ]);
    store.failing = true;
    const degraded = await core.lookupMany(many([key("a"), key("new")], { valuesOnly: true }));
    expect(degraded.values).toEqual([{ contentType: "" }, { contentType: "" }]);
  });
});

describe("LookupMany: expiries only", () => {
  it("answers each key's stored expiry in request order, 0 for a miss, and no results or values", async () => {
    const { core, clock } = setup();
    const keys = await mixed(core, clock);
    const full = await core.lookupMany(many(keys, { peek: true }));
    const lean = await core.lookupMany(many(keys, { peek: true, expiriesOnly: true }));
    expect(lean.results).toEqual([]);
    expect(lean.values).toEqual([]);
    expect(full.expiresAtMs).toEqual([]);
    expect(lean.expiresAtMs).toEqual(
      full.results.map((r) => BigInt(r.hit ? (r.result?.expiresAt?.getTime() ?? 0) : 0)),
    );
    // a and d fresh (TTLs 100 s and 10 s), s stale (its expiry now, inside the grace), m missing.
    const now = BigInt(clock.now());
    expect(lean.expiresAtMs).toEqual([now + 100_000n, now, now + 10_000n, 0n, now + 100_000n]);
    // Past its grace a result is a miss, as a peek's answer says.
    clock.advance(1_000_000);
    expect((await core.lookupMany(many(keys, { peek: true, expiriesOnly: true }))).expiresAtMs).toEqual([
      0n,
      0n,
      0n,
      0n,
      0n,
    ]);
  });

  it("counts nothing on a peek, and counts and reports as a full LookupMany without one", async () => {
    const a = setup();
    const b = setup();
    const keysA = await mixed(a.core, a.clock);
    const keysB = await mixed(b.core, b.clock);
    await b.core.lookupMany(many(keysB, { peek: true, expiriesOnly: true }));
    expect(b.seen).toEqual([]);
    expect((await b.core.stats({ tenant: "", taskType: "" })).total).toMatchObject({ hits: 0n, misses: 0n });
    await a.core.lookupMany(many(keysA));
    const counted = await b.core.lookupMany(many(keysB, { expiriesOnly: true }));
    expect(counted.expiresAtMs.map((ms) => ms > 0n)).toEqual([true, true, true, false, true]);
    expect(b.seen).toEqual(a.seen);
    expect(await b.core.stats({ tenant: "", taskType: "" })).toEqual(
      await a.core.stats({ tenant: "", taskType: "" }),
    );
  });

  it("answers 0 for every key when the store fails, and refuses values_only or an on_miss with it", async () => {
    const { core, store } = setup();
    await core.put({ entry: entry(key("a")) });
    store.failing = true;
    const degraded = await core.lookupMany(many([key("a"), key("b")], { peek: true, expiriesOnly: true }));
    expect(degraded.expiresAtMs).toEqual([0n, 0n]);
    store.failing = false;
    for (const extra of [
      { valuesOnly: true },
      { onMiss: onMissMode.enqueue },
      { onMiss: onMissMode.compute, peek: false },
    ]) {
      const error = await core.lookupMany(many([key("a")], { expiriesOnly: true, ...extra })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isInvalidArgument(error)).toBe(true);
    }
    expect(
      (await core.lookupMany(many([key("a")], { expiriesOnly: true, onMiss: onMissMode.none }))).expiresAtMs,
    ).toHaveLength(1);
  });
});

describe("LookupMany: metrics taken once per call", () => {
  it("count every key's outcome, per task type, as one increment per key would", async () => {
    const { core, clock, registry, store } = setup();
    const keys = await mixed(core, clock);
    await core.lookupMany(many(keys));
    await core.lookup(lookupRequest(key("a")));
    store.failing = true;
    await core.lookupMany(many([key("a"), key("d", "acme", "dashboard_data")]));
    expect(await counters(registry)).toEqual({
      "lookups_total ctr_prediction hit": 3,
      "lookups_total ctr_prediction stale": 1,
      "lookups_total ctr_prediction miss": 1,
      "lookups_total ctr_prediction degraded": 1,
      "lookups_total dashboard_data hit": 1,
      "lookups_total dashboard_data degraded": 1,
      // The stale hit; fresh ones have no compute time, so XFetch never marks them early.
      "refresh_due_total ctr_prediction": 1,
    });
  });
});

describe("LookupMany: keys of one tenant and type by entity id", () => {
  const ids = (entityIds: string[], extra: Partial<cacheV1.LookupManyRequest> = {}) =>
    many([], { tenant: "acme", taskType: "ctr_prediction", entityIds, ...extra });

  it("answers, counts and reports exactly as the same keys sent whole", async () => {
    const a = setup();
    const b = setup();
    const entityIds = ["a", "s", "m", "a", "b/c"];
    for (const s of [a, b]) {
      await s.core.put({ entry: entry(key("s"), { ttlSeconds: 1 }) });
      s.clock.advance(1_000);
      await s.core.put({ entry: entry(key("a")) });
      await s.core.put({ entry: entry(key("b/c")) });
    }
    const whole = await a.core.lookupMany(many(entityIds.map((id) => key(id))));
    const compact = await b.core.lookupMany(ids(entityIds));
    expect(compact).toEqual(whole);
    expect(compact.results.map((r) => r.key)).toEqual([
      "acme/ctr_prediction/a",
      "acme/ctr_prediction/s",
      "acme/ctr_prediction/m",
      "acme/ctr_prediction/a",
      "acme/ctr_prediction/b%2Fc",
    ]);
    expect(b.seen).toEqual(a.seen);
    expect(await counters(b.registry)).toEqual(await counters(a.registry));
    const lean = await b.core.lookupMany(ids(entityIds, { valuesOnly: true }));
    expect(lean.values.map((v) => v.tensors !== undefined)).toEqual([true, true, false, true, true]);
  });

  it("refuses both forms at once, a bad id by position, a bad tenant or type, and too many ids", async () => {
    const { core } = setup({ maxLookupMany: 3 });
    const refusal = (r: cacheV1.LookupManyRequest) =>
      core.lookupMany(r).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    const both = await refusal(ids(["a"], { keys: [key("b")] }));
    expect(isInvalidArgument(both)).toBe(true);
    expect(both?.message).toMatch(/either keys, or tenant, task_type and entity_ids/);
    const badId = await refusal(ids(["a", ""]));
    expect(isInvalidArgument(badId)).toBe(true);
    expect(badId?.message).toMatch(/^entity_ids\[1\]: /);
    expect(isInvalidArgument(await refusal(ids(["a"], { tenant: "" })))).toBe(true);
    const unknownType = await refusal(ids(["a"], { taskType: "no_such_type" }));
    expect(isInvalidArgument(unknownType)).toBe(true);
    expect(unknownType?.message).toMatch(/^entity_ids\[0\]: /);
    const tooMany = await refusal(ids(["a", "b", "c", "d"]));
    expect(isResourceExhausted(tooMany)).toBe(true);
    expect(tooMany?.message).toBe("LookupMany asked for 4 keys; the limit is 3 per call");
    expect(await core.lookupMany(ids([]))).toEqual({ results: [], values: [], expiresAtMs: [] });
  });
});
