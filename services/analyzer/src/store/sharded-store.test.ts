import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { rescaleFactor } from "../core/forward-decay.js";
import type { AnalyzerStore, Capacities, CounterDelta, UserHistory } from "./analyzer-store.js";
import { MemoryAnalyzerStore } from "./memory-store.js";
import { shardOf } from "./shard-routing.js";
import { batchesArb, readAll, roomyCaps } from "./sharded-equivalence.test-util.js";
import { ShardedAnalyzerStore } from "./sharded-store.js";
import { conformanceRates, storeConformance } from "./store-conformance.test-util.js";

const memoryShards = (n: number): AnalyzerStore[] =>
  Array.from({ length: n }, () => new MemoryAnalyzerStore());

storeConformance("sharded memory (4)", async () => new ShardedAnalyzerStore(memoryShards(4)), {
  capacity: "per-shard",
});

function delta(landmark: number, keys: Array<[string, number]>, events = 0): CounterDelta {
  return {
    landmark,
    rates: conformanceRates,
    keys: new Map(keys.map(([k, w]) => [k, { w, miss: 0 }])),
    entities: new Map(),
    tenants: new Map(),
    types: new Map(),
    hours: new Map(),
    successors: new Map(),
    events,
    firstTime: landmark,
  };
}

// The memory store lists users by last append, one Redis store by last action time: compare as sets.
const byUser = (hs: UserHistory[]): UserHistory[] =>
  [...hs].sort((a, b) => (`${a.tenant}/${a.userId}` < `${b.tenant}/${b.userId}` ? -1 : 1));

describe("sharded analyzer store", () => {
  it("answers TopPatterns' reads as one store on the same events (4 memory shards)", async () => {
    await fc.assert(
      fc.asyncProperty(batchesArb, async (batches) => {
        const one = new MemoryAnalyzerStore();
        const four = new ShardedAnalyzerStore(memoryShards(4));
        for (const d of batches) {
          await one.applyCounters(d, roomyCaps);
          await four.applyCounters(d, roomyCaps);
        }
        expect(await readAll(four, "any")).toEqual(await readAll(one, "any"));
      }),
      { numRuns: 300 },
    );
  });

  it("holds the capacity per shard: members of one shard evict as in one store", async () => {
    const caps: Capacities = { ...roomyCaps, keys: 3 };
    const sameShard = Array.from({ length: 200 }, (_, i) => `t/x/k${i}`)
      .filter((k) => shardOf(k, 4) === 2)
      .slice(0, 5);
    const elsewhere = Array.from({ length: 50 }, (_, i) => `t/y/k${i}`).find((k) => shardOf(k, 4) !== 2)!;
    const one = new MemoryAnalyzerStore();
    const four = new ShardedAnalyzerStore(memoryShards(4));
    const batch = delta(
      0,
      sameShard.map((k, i) => [k, 2 ** (4 - i)]),
    );
    for (const s of [one, four]) await s.applyCounters(batch, caps);
    // Shard 2 evicted as one store does: same survivors, same inherited errors.
    expect((await four.topKeys(10)).value).toEqual((await one.topKeys(10)).value);
    // A member of another shard is in no one's way: the shard holds 3, the whole 4.
    await four.applyCounters(delta(0, [[elsewhere, 1]]), caps);
    expect((await four.topKeys(10)).value.map((k) => k.key)).toContain(elsewhere);
    expect((await four.topKeys(10)).value).toHaveLength(4);
  });

  it("moves every shard to a new landmark together, so no read rescales", async () => {
    const shards = memoryShards(3);
    const store = new ShardedAnalyzerStore(shards);
    await store.applyCounters(delta(0, [["t/x/a", 8]]), roomyCaps);
    await store.applyCounters(delta(3_600_000, [["t/x/b", 1]]), roomyCaps);
    for (const s of shards) expect((await s.topKeys(1)).landmark).toBe(3_600_000);
    // An older batch goes to its shard only, scaled down there (keys decay at the keys rate).
    await store.applyCounters(delta(0, [["t/x/b", 2]]), roomyCaps);
    const f = rescaleFactor(conformanceRates.keys, 0, 3_600_000);
    expect((await store.keyWeights(["t/x/a", "t/x/b"])).value).toEqual([
      expect.closeTo(8 * f, 9),
      expect.closeTo(1 + 2 * f, 9),
    ]);
  });

  it("brings a shard left on an older landmark onto the newest in a read", async () => {
    const shards = memoryShards(2);
    const [a, b] = ["t/x/a", "t/x/b"].sort((x, y) => shardOf(x, 2) - shardOf(y, 2));
    expect(shardOf(a!, 2)).not.toBe(shardOf(b!, 2));
    // As if another replica's landmark move reached one shard only.
    await shards[shardOf(a!, 2)]!.applyCounters(delta(0, [[a!, 8]]), roomyCaps);
    await shards[shardOf(b!, 2)]!.applyCounters(delta(3_600_000, [[b!, 1]]), roomyCaps);
    const store = new ShardedAnalyzerStore(shards, { rates: conformanceRates });
    const top = await store.topKeys(10);
    expect(top.landmark).toBe(3_600_000);
    const f = rescaleFactor(conformanceRates.keys, 0, 3_600_000);
    expect(top.value.map((k) => [k.key, k.w])).toEqual([
      [a, 8 * f],
      [b, 1],
    ]);
    // Without rates it cannot merge, and says so rather than mixing scales.
    await expect(new ShardedAnalyzerStore(shards).topKeys(10)).rejects.toThrow(/different landmarks/);
  });

  it("retries a write that failed on one shard without counting it twice on the others", async () => {
    const shards = memoryShards(4);
    let failing = true;
    const flaky = shards[1]!;
    const apply = flaky.applyCounters.bind(flaky);
    flaky.applyCounters = async (d, c) => {
      if (failing) throw new Error("shard 1 is down");
      return apply(d, c);
    };
    const store = new ShardedAnalyzerStore(shards);
    const keys = Array.from({ length: 40 }, (_, i): [string, number] => [`t/x/k${i}`, 1]);
    const batch = delta(0, keys, 40);
    await expect(store.applyCounters(batch, roomyCaps)).rejects.toThrow(/down/);
    failing = false;
    await store.applyCounters(batch, roomyCaps);
    const weights = await store.keyWeights(keys.map(([k]) => k));
    expect(weights.value).toEqual(keys.map(() => 1));
    expect((await store.profile()).value.events).toBe(40);
  });

  it("routes action logs by user and launches by id, and lists them as one store does", async () => {
    const one = new MemoryAnalyzerStore();
    const four = new ShardedAnalyzerStore(memoryShards(4));
    const limits = { perUser: 5, users: 100 };
    const events = Array.from({ length: 60 }, (_, i) => ({
      tenant: `t${i % 3}`,
      userId: `u${i % 17}`,
      time: 1000 + ((i * 37) % 60),
      action: `a${i % 5}`,
    }));
    const launches = Array.from({ length: 9 }, (_, i) => ({
      id: `l${i}`,
      tenant: `t${i % 2}`,
      campaignId: `c${i}`,
      launchAt: 100 * (i % 4),
      entityIds: [],
      taskTypes: [],
      event: `e${i % 3}`,
    }));
    for (const s of [one, four]) {
      await s.appendActions(events, limits);
      for (const l of launches) await s.putLaunch(l);
    }
    expect(byUser(await four.histories())).toEqual(byUser(await one.histories()));
    expect(await four.userActions("t1", "u4", 3)).toEqual(await one.userActions("t1", "u4", 3));
    expect(await four.launchesBetween(100, 300, "t1")).toEqual(await one.launchesBetween(100, 300, "t1"));
    expect(await four.removeActionsBefore(1030)).toBe(await one.removeActionsBefore(1030));
    expect(await four.removeLaunchesBefore(200)).toBe(await one.removeLaunchesBefore(200));
    expect(byUser(await four.histories())).toEqual(byUser(await one.histories()));
    expect(await four.launchesBetween(0, 1000)).toEqual(await one.launchesBetween(0, 1000));
  });
});
