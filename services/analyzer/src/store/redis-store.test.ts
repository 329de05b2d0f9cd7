import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { describe, expect, inject, it } from "vitest";
import { type DecayRates, rateOfHalfLife } from "../core/forward-decay.js";
import { emptyCounterDelta } from "../core/merge-counter-delta.js";
import type { CounterDelta } from "./analyzer-store.js";
import { RedisAnalyzerStore } from "./redis-store.js";
import { conformanceRates, storeConformance } from "./store-conformance.test-util.js";

storeConformance(
  "redis",
  async () =>
    new RedisAnalyzerStore({
      redisUrl: inject("redisUrl"),
      keyPrefix: `test:{analyzer-${randomBytes(4).toString("hex")}}:`,
    }),
);

// The same suite on a real Redis Cluster (3 masters, 3 replicas).
storeConformance(
  "redis cluster",
  async () =>
    new RedisAnalyzerStore({
      redisUrl: inject("redisClusterUrl"),
      keyPrefix: `test:{analyzer-${randomBytes(4).toString("hex")}}:`,
    }),
);

describe("redis analyzer store, key decay rate", () => {
  it("starts key counts over when the key rate changes, and keeps the other families", async () => {
    const keyPrefix = `test:{analyzer-${randomBytes(4).toString("hex")}}:`;
    const store = new RedisAnalyzerStore({ redisUrl: inject("redisUrl"), keyPrefix });
    const admin = new Redis(inject("redisUrl"));
    const caps = {
      keys: 10,
      entities: 10,
      tenants: 10,
      types: 4,
      successorSources: 4,
      successorsPerSource: 4,
    };
    const delta = (rates: DecayRates, key: string): CounterDelta => ({
      ...emptyCounterDelta({ landmark: 0, rates }),
      keys: new Map([[key, { w: 2, miss: 1 }]]),
      entities: new Map([["t/e", 1]]),
    });
    try {
      await store.ready();
      // A store written before keys had a rate of their own holds them under the demand rate, and records none:
      // kept under the same rate, dropped under another.
      const sameAsDemand = { ...conformanceRates, keys: conformanceRates.demand };
      await admin.zadd(`${keyPrefix}keys`, 5, "t/x/old");
      await store.applyCounters(delta(sameAsDemand, "t/x/a"), caps);
      expect((await store.topKeys(10)).value.map((k) => [k.key, k.w])).toEqual([
        ["t/x/old", 5],
        ["t/x/a", 2],
      ]);
      await store.applyCounters(delta(conformanceRates, "t/x/a"), caps);
      expect((await store.topKeys(10)).value.map((k) => [k.key, k.w])).toEqual([["t/x/a", 2]]);
      await store.applyCounters(delta(conformanceRates, "t/x/a"), caps);
      expect((await store.keyWeights(["t/x/a"])).value).toEqual([4]);
      // Another key half-life: the key counts it finds were scaled by another rate, and go.
      const slower = { ...conformanceRates, keys: rateOfHalfLife(6 * 3_600_000) };
      await store.applyCounters(delta(slower, "t/x/b"), caps);
      expect((await store.topKeys(10)).value.map((k) => [k.key, k.w, k.miss])).toEqual([["t/x/b", 2, 1]]);
      expect((await store.topMembers("entities", 10)).value).toEqual([{ member: "t/e", w: 4 }]);
    } finally {
      admin.disconnect();
      await store.close();
    }
  });
});

describe("redis analyzer store, launches", () => {
  it("reads a launch stored before launches named their event as naming none", async () => {
    const keyPrefix = `test:{analyzer-${randomBytes(4).toString("hex")}}:`;
    const store = new RedisAnalyzerStore({ redisUrl: inject("redisUrl"), keyPrefix });
    const admin = new Redis(inject("redisUrl"));
    try {
      await store.ready();
      const stored = {
        id: "l1",
        tenant: "t",
        campaignId: "c1",
        launchAt: 100,
        entityIds: [],
        taskTypes: ["ctr"],
      };
      await admin.hset(`${keyPrefix}launches`, "l1", JSON.stringify(stored));
      await admin.zadd(`${keyPrefix}launchtimes`, 100, "l1");
      expect(await store.launchesBetween(0, 1000)).toEqual([{ ...stored, event: "" }]);
    } finally {
      admin.disconnect();
      await store.close();
    }
  });
});

describe("redis analyzer store, learned state", () => {
  it("reads saved learned state a few records per reply, not every tenant's at once", async () => {
    const keyPrefix = `test:{analyzer-${randomBytes(4).toString("hex")}}:`;
    const store = new RedisAnalyzerStore({ redisUrl: inject("redisUrl"), keyPrefix });
    const admin = new Redis(inject("redisUrl"));
    try {
      await store.ready();
      const body = "x".repeat(100_000);
      for (let i = 0; i < 40; i++) await store.putLearning({ tenant: `t${i}`, savedAt: i, body });
      const records = store.learningRecords()[Symbol.asyncIterator]();
      const first = await records.next();
      expect(first.done).toBe(false);
      // The rest are deleted once the first has come: a store that had read them all at once
      // (HGETALL) would still hand out all 40.
      await admin.del(`${keyPrefix}learning`);
      let handed = 1;
      while (!(await records.next()).done) handed++;
      expect(handed).toBeLessThan(40);
    } finally {
      admin.disconnect();
      await store.close();
    }
  });
});
