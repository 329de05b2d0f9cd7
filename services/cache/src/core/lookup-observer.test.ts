import { ManualClock } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { CacheCore } from "./cache-core.js";
import { entry, FlakyStore, key, lookupRequest, testTypes } from "./core.test-util.js";
import type { ObservedLookup } from "./observed-lookup.js";

const t0 = 1_700_000_000_000;

describe("cache core: lookup observer (the analyzer's query log)", () => {
  it("reports every answered lookup with its outcome, user and compute time", async () => {
    const clock = new ManualClock(t0);
    const seen: ObservedLookup[] = [];
    const core = new CacheCore(new FlakyStore(clock), testTypes, {
      clock,
      random: () => 0.5,
      lookupObserver: (l) => seen.push(l),
    });
    await core.put({ entry: entry(key("a"), { computeMs: 40 }) });
    await core.lookup(lookupRequest(key("a"), { userId: "u1" }));
    clock.advance(105_000); // past the 100 s TTL, inside the 10 s grace
    await core.lookup(lookupRequest(key("a"), { userId: "u1" }));
    await core.lookupMany({
      keys: [key("a"), key("b/c")],
      entityIds: [],
      onMiss: 0,
      userId: "u2",
      rejectStale: true,
      peek: false,
    });

    expect(seen.map((l) => [l.key, l.outcome, l.userId])).toEqual([
      ["acme/ctr_prediction/a", "hit", "u1"],
      ["acme/ctr_prediction/a", "stale", "u1"],
      ["acme/ctr_prediction/a", "miss", "u2"],
      ["acme/ctr_prediction/b%2Fc", "miss", "u2"],
    ]);
    expect(seen[0]).toMatchObject({
      tenant: "acme",
      taskType: "ctr_prediction",
      entityId: "a",
      computeMs: 40,
      time: t0,
    });
    expect(seen[3]?.entityId).toBe("b/c");
  });
});

describe("cache core: peek", () => {
  it("answers freshness without counting, logging or marking a refresh", async () => {
    const clock = new ManualClock(t0);
    const seen: ObservedLookup[] = [];
    const store = new FlakyStore(clock);
    // The store is told it is a peek, so that it keeps no trace of the read (its near cache, Redis's tracking, LRU order).
    const asked: unknown[] = [];
    const getMany = store.getMany.bind(store);
    store.getMany = (keys, options) => {
      asked.push(options);
      return getMany(keys, options);
    };
    // random 0.999...: XFetch would mark any hit due if the peek consulted it.
    const core = new CacheCore(store, testTypes, {
      clock,
      random: () => 0.999_999,
      lookupObserver: (l) => seen.push(l),
    });
    await core.put({ entry: entry(key("a"), { computeMs: 90_000 }) });
    const peeked = await core.lookupMany({
      keys: [key("a"), key("b")],
      entityIds: [],
      onMiss: 0,
      userId: "precomputer",
      rejectStale: false,
      peek: true,
    });
    expect(peeked.results.map((r) => [r.hit, r.refreshDue])).toEqual([
      [true, false],
      [false, false],
    ]);
    expect(seen).toEqual([]);
    expect(asked).toEqual([{ peek: true }]);
    expect(core.takeRefreshDue({ limit: 0 }).keys).toEqual([]);
    const stats = await core.stats({ tenant: "", taskType: "" });
    expect(stats.total).toMatchObject({ hits: 0n, misses: 0n });
  });
});
