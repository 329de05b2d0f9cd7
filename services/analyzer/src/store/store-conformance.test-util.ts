import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { type DecayRates, rateOfHalfLife } from "../core/forward-decay.js";
import type { AnalyzerStore, Capacities, CounterDelta, LearningRecord, TypeDelta } from "./analyzer-store.js";

/** Every learned-state record the store hands out, in the order it hands them. */
export async function allLearningRecords(
  store: Pick<AnalyzerStore, "learningRecords">,
  only?: (tenant: string) => boolean,
): Promise<LearningRecord[]> {
  const out: LearningRecord[] = [];
  for await (const r of store.learningRecords(only)) out.push(r);
  return out;
}

/** One behavioural suite that every AnalyzerStore implementation passes. */
export const conformanceRates: DecayRates = {
  demand: rateOfHalfLife(3_600_000),
  keys: rateOfHalfLife(3 * 3_600_000),
  profile: rateOfHalfLife(14 * 86_400_000),
  successors: rateOfHalfLife(86_400_000),
};
const caps: Capacities = {
  keys: 4,
  entities: 4,
  tenants: 4,
  types: 2,
  successorSources: 2,
  successorsPerSource: 2,
};

function delta(landmark: number, part: Partial<CounterDelta>): CounterDelta {
  return {
    landmark,
    rates: conformanceRates,
    keys: new Map(),
    entities: new Map(),
    tenants: new Map(),
    types: new Map(),
    hours: new Map(),
    successors: new Map(),
    events: 0,
    firstTime: landmark,
    ...part,
  };
}

const typeDelta = (w: number, part: Partial<TypeDelta> = {}): TypeDelta => ({
  w,
  hit: 0,
  stale: 0,
  miss: 0,
  computeW: 0,
  computeSum: 0,
  buckets: new Map(),
  ...part,
});

export interface ConformanceOptions {
  /**
   * "global": one capacity bounds the whole store, and the tests that exceed
   * it expect one store's evictions. "per-shard" (a sharded store): each shard
   * holds the capacity, so beyond it members that fall on different shards
   * are all kept; those tests then check what still holds (the heaviest kept,
   * with their counts, and nothing counted twice). Default "global".
   */
  capacity: "global" | "per-shard";
}

export function storeConformance(
  name: string,
  make: () => Promise<AnalyzerStore>,
  options?: Partial<ConformanceOptions>,
): void {
  const perShard = (options?.capacity ?? "global") === "per-shard";
  describe(`${name} analyzer store conformance`, () => {
    let store: AnalyzerStore;
    const opened: AnalyzerStore[] = [];
    beforeEach(async () => {
      store = await make();
      opened.push(store);
      await store.ready();
    });
    afterAll(async () => {
      for (const s of opened) await s.close();
    });

    it("adds key weights and keeps the heaviest within capacity (Space-Saving)", async () => {
      const keys = new Map<string, { w: number; miss: number }>();
      for (const [k, w] of [
        ["a", 10],
        ["b", 8],
        ["c", 6],
        ["d", 4],
      ] as const)
        keys.set(`t/x/${k}`, { w, miss: w / 2 });
      await store.applyCounters(delta(1000, { keys, events: 4 }), caps);
      await store.applyCounters(delta(1000, { keys: new Map([["t/x/e", { w: 1, miss: 1 }]]) }), caps);
      const top = await store.topKeys(10);
      expect(top.landmark).toBe(1000);
      const e = top.value.find((k) => k.key === "t/x/e")!;
      const d = top.value.find((k) => k.key === "t/x/d");
      if (perShard && (d !== undefined || e.error === 0)) {
        // d and e on different shards: both kept, e with its own weight and no error.
        expect(top.value.map((k) => k.key)).toEqual(["t/x/a", "t/x/b", "t/x/c", "t/x/d", "t/x/e"]);
        expect([e.w, e.error, d!.w, d!.error]).toEqual([1, 0, 4, 0]);
      } else {
        expect(top.value.map((k) => k.key)).toEqual(["t/x/a", "t/x/b", "t/x/c", "t/x/e"]);
        // The newcomer inherits the evicted minimum (4) as its error bound.
        expect(e.w).toBeCloseTo(5);
        expect(e.error).toBeCloseTo(4);
      }
      expect(e.miss).toBeCloseTo(1);
      expect(top.value[0]!.miss).toBeCloseTo(5);
      expect((await store.topKeys(2)).value).toHaveLength(2);
      // Looked up by name: the same counts, and nothing for a key the sketch evicted or never held.
      const some = await store.keyCounts(["t/x/e", "t/x/d", "t/x/a", "t/x/never"]);
      expect(some.landmark).toBe(1000);
      expect(some.value).toEqual([e, d, top.value[0], undefined]);
      expect((await store.keyCounts([])).value).toEqual([]);
      // The weights alone, as keyCounts has them.
      const weights = await store.keyWeights(["t/x/e", "t/x/d", "t/x/a", "t/x/never"]);
      expect(weights.landmark).toBe(1000);
      expect(weights.value).toEqual([e.w, d?.w, top.value[0]!.w, undefined]);
      expect((await store.keyWeights([])).value).toEqual([]);
    });

    it("rescales stored counts when the landmark moves forward, and scales an older delta down, each family at its rate", async () => {
      const hour = 3_600_000;
      // Keys decay at the keys rate (3-hour half-life here), entities at the demand rate (1 hour).
      const keyFactor = 2 ** (-1 / 3);
      await store.applyCounters(
        delta(0, { keys: new Map([["t/x/a", { w: 8, miss: 4 }]]), entities: new Map([["t/e", 8]]) }),
        caps,
      );
      await store.applyCounters(delta(hour, { keys: new Map([["t/x/b", { w: 1, miss: 0 }]]) }), caps);
      let top = await store.topKeys(10);
      expect(top.landmark).toBe(hour);
      expect(top.value.find((k) => k.key === "t/x/a")).toMatchObject({
        w: expect.closeTo(8 * keyFactor, 6),
        miss: expect.closeTo(4 * keyFactor, 6),
      });
      expect((await store.topMembers("entities", 10)).value).toEqual([
        { member: "t/e", w: expect.closeTo(4, 6) },
      ]);
      await store.applyCounters(delta(0, { keys: new Map([["t/x/b", { w: 2, miss: 0 }]]) }), caps);
      top = await store.topKeys(10);
      expect(top.value.find((k) => k.key === "t/x/b")!.w).toBeCloseTo(1 + 2 * keyFactor, 6);
      expect((await store.keyWeights(["t/x/a", "t/x/b"])).value).toEqual([
        expect.closeTo(8 * keyFactor, 6),
        expect.closeTo(1 + 2 * keyFactor, 6),
      ]);
    });

    it("keeps entities, tenants and per-type statistics, bounded", async () => {
      await store.applyCounters(
        delta(0, {
          entities: new Map([
            ["t/e1", 3],
            ["t/e2", 1],
          ]),
          tenants: new Map([["t", 4]]),
          types: new Map([
            [
              "ctr",
              typeDelta(4, { hit: 3, miss: 1, computeW: 1, computeSum: 12, buckets: new Map([[40, 1]]) }),
            ],
            ["roas", typeDelta(1)],
          ]),
        }),
        caps,
      );
      await store.applyCounters(delta(0, { types: new Map([["video", typeDelta(2)]]) }), caps);
      expect((await store.topMembers("entities", 1)).value).toEqual([{ member: "t/e1", w: 3 }]);
      expect((await store.topMembers("tenants", 5)).value).toEqual([{ member: "t", w: 4 }]);
      const types = (await store.typeStats()).value
        .sort((a, b) => (a.type < b.type ? -1 : 1))
        // On its own shard, "roas" was not in the way of "video": kept, and counted once.
        .filter((t) => !(perShard && t.type === "roas" && t.w === 1 && t.hit === 0));
      // Capacity 2: "roas" (the lightest) made way for "video".
      expect(types.map((t) => t.type)).toEqual(["ctr", "video"]);
      const ctr = types[0]!;
      expect([ctr.w, ctr.hit, ctr.miss, ctr.computeW, ctr.computeSum]).toEqual([4, 3, 1, 1, 12]);
      expect([...ctr.buckets]).toEqual([[40, 1]]);
    });

    it("accumulates the hour-of-week profile with its event count and first time", async () => {
      await store.applyCounters(
        delta(0, {
          hours: new Map([
            [5, 2],
            [167, 1],
          ]),
          events: 3,
          firstTime: 500,
        }),
        caps,
      );
      await store.applyCounters(delta(0, { hours: new Map([[5, 1]]), events: 1, firstTime: 700 }), caps);
      const p = (await store.profile()).value;
      expect(p.hours).toHaveLength(168);
      expect(p.hours[5]).toBeCloseTo(3);
      expect(p.hours[167]).toBeCloseTo(1);
      expect(p.events).toBe(4);
      expect(p.firstTime).toBe(500);
    });

    it("counts successors per source with confidence totals, bounded", async () => {
      const successors = new Map([
        [
          "t/x/a",
          new Map([
            ["t/x/b", 3],
            ["t/x/c", 1],
          ]),
        ],
        ["t/x/b", new Map([["t/x/c", 1]])],
      ]);
      await store.applyCounters(delta(0, { successors }), caps);
      await store.applyCounters(
        delta(0, { successors: new Map([["t/x/a", new Map([["t/x/d", 3]])]]) }),
        caps,
      );
      const s = (await store.successors("t/x/a", 5)).value;
      expect(s.total).toBeCloseTo(7);
      // Two successors per source: d replaced c and inherited its count.
      expect(s.successors.map((x) => x.member)).toEqual(["t/x/d", "t/x/b"]);
      expect((await store.successors("t/x/zzz", 5)).value).toEqual({ total: 0, successors: [] });
    });

    it("keeps action logs per user in time order, bounded per user and in users", async () => {
      const limits = { perUser: 3, users: 2 };
      const ev = (user: string, time: number, action: string) => ({
        tenant: "t",
        userId: user,
        time,
        action,
      });
      await store.appendActions(
        [ev("u1", 1, "a"), ev("u1", 3, "c"), ev("u1", 2, "b"), ev("u1", 4, "d")],
        limits,
      );
      expect(await store.userActions("t", "u1", 10)).toEqual([
        { time: 2, action: "b" },
        { time: 3, action: "c" },
        { time: 4, action: "d" },
      ]);
      expect(await store.userActions("t", "u1", 1)).toEqual([{ time: 4, action: "d" }]);
      await store.appendActions([ev("u2", 5, "a")], limits);
      await store.appendActions([ev("u3", 6, "a")], limits);
      const users = (await store.histories()).map((h) => h.userId).sort();
      // On another shard than u2's and u3's, u1 was no one's least recently active.
      const u1Kept = perShard && users[0] === "u1";
      expect(users).toEqual(u1Kept ? ["u1", "u2", "u3"] : ["u2", "u3"]);
      expect(await store.removeActionsBefore(6)).toBe(u1Kept ? 4 : 1);
      expect((await store.histories()).map((h) => h.userId)).toEqual(["u3"]);
    });

    it("stores launches, lists them by window and tenant, and removes past ones", async () => {
      const launch = (id: string, tenant: string, launchAt: number) => ({
        id,
        tenant,
        campaignId: `c-${id}`,
        launchAt,
        entityIds: ["e1"],
        taskTypes: id === "l3" ? [] : ["ctr"],
        // A launch naming no task types names the event whose rule warms it.
        event: id === "l3" ? "campaign_launch_scheduled" : "",
      });
      await store.putLaunch(launch("l2", "t", 200));
      await store.putLaunch(launch("l1", "t", 100));
      await store.putLaunch(launch("l3", "u", 150));
      expect((await store.launchesBetween(0, 1000)).map((l) => l.id)).toEqual(["l1", "l3", "l2"]);
      expect((await store.launchesBetween(0, 1000, "t")).map((l) => l.id)).toEqual(["l1", "l2"]);
      expect(await store.launchesBetween(120, 160)).toEqual([launch("l3", "u", 150)]);
      expect(await store.removeLaunchesBefore(160)).toBe(2);
      expect((await store.launchesBetween(0, 1000)).map((l) => l.id)).toEqual(["l2"]);
    });

    it("keeps one learned-state record per tenant, the latest, and removes those saved before a cutoff", async () => {
      expect(await allLearningRecords(store)).toEqual([]);
      await store.putLearning({ tenant: "t", savedAt: 100, body: '{"v":1,"old":true}' });
      await store.putLearning({ tenant: "u", savedAt: 150, body: "u's" });
      await store.putLearning({ tenant: "t", savedAt: 200, body: "t's, \u00e9\n" });
      const byTenant = (await allLearningRecords(store)).sort((a, b) => (a.tenant < b.tenant ? -1 : 1));
      expect(byTenant).toEqual([
        { tenant: "t", savedAt: 200, body: "t's, \u00e9\n" },
        { tenant: "u", savedAt: 150, body: "u's" },
      ]);
      expect(await store.removeLearningBefore(160)).toBe(1);
      expect(await allLearningRecords(store)).toEqual([{ tenant: "t", savedAt: 200, body: "t's, \u00e9\n" }]);
      expect(await store.removeLearningBefore(160)).toBe(0);
    });

    it("hands out every tenant's learned-state record, however many and however large", async () => {
      const body = (i: number): string => `${i}:`.padEnd(200_000 + i, "x");
      for (let i = 0; i < 12; i++)
        await store.putLearning({ tenant: `t${i}`, savedAt: 1000 + i, body: body(i) });
      const got = await allLearningRecords(store);
      const byTenant = new Map(got.map((r) => [r.tenant, r]));
      expect(byTenant.size).toBe(12);
      for (let i = 0; i < 12; i++)
        expect(byTenant.get(`t${i}`)).toEqual({ tenant: `t${i}`, savedAt: 1000 + i, body: body(i) });
    });

    it("hands out only the tenants asked for, when asked for some (a ring replica taking tenants over)", async () => {
      for (let i = 0; i < 12; i++)
        await store.putLearning({ tenant: `t${i}`, savedAt: 1000 + i, body: `b${i}` });
      const odd = (tenant: string): boolean => Number(tenant.slice(1)) % 2 === 1;
      const got = (await allLearningRecords(store, odd)).sort((a, b) => a.savedAt - b.savedAt);
      expect(got).toEqual(
        [1, 3, 5, 7, 9, 11].map((i) => ({ tenant: `t${i}`, savedAt: 1000 + i, body: `b${i}` })),
      );
      expect(await allLearningRecords(store, () => false)).toEqual([]);
    });
  });
}
