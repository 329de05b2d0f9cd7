import { describe, expect, it } from "vitest";
import { harness } from "./fakes.test-util.js";
import { refreshDecision, refreshHorizonMs, refreshPeriodMs } from "./refresh-ahead.js";

const minute = 60_000;

describe("refresh-ahead under a virtual clock", () => {
  it("re-enqueues a hot key before it expires, leaves a cold one to expire, and never lets the hot one go cold", async () => {
    const h = harness();
    const ttl = 6 * 3_600_000; // ctr_prediction: 6 h, so the horizon is max(10 min, 10% of 6 h) = 36 min
    const hot = "acme/ctr_prediction/hot";
    const cold = "acme/ctr_prediction/cold";
    h.analyzer.patterns = [
      { key: hot, tenant: "acme", taskType: "ctr_prediction", entityId: "hot", demand: 2, benefit: 10 },
      {
        key: cold,
        tenant: "acme",
        taskType: "ctr_prediction",
        entityId: "cold",
        demand: 0.00001,
        benefit: 1,
      },
    ];
    let expiresHot = h.clock.now() + ttl;
    h.cache.expiresAt.set(hot, expiresHot);
    h.cache.expiresAt.set(cold, h.clock.now() + ttl);
    const refreshed: number[] = [];
    // Run the 5-minute refresh schedule for 13 hours of virtual time.
    for (let t = 0; t < 13 * 60; t += 5) {
      h.clock.set(Date.parse("2024-05-01T12:00:00Z") + t * minute);
      const before = h.executor.tasks.length;
      const outcome = await h.core.tick("refresh_ahead");
      expect(outcome?.ran).toBe(true);
      for (const task of h.executor.tasks.slice(before)) {
        expect(task).toMatchObject({ key: hot, reason: "refresh", priority: 3 });
        refreshed.push(h.clock.now());
        // The executor recomputes it a minute later.
        expiresHot = h.clock.now() + minute + ttl;
        h.cache.expiresAt.set(hot, expiresHot);
      }
      expect(h.cache.expiresAt.get(hot) ?? 0).toBeGreaterThan(h.clock.now());
    }
    // Refreshed once per TTL, each time within the horizon before expiry, never after.
    expect(refreshed.length).toBe(2);
    const first = refreshed[0] ?? 0;
    expect(Date.parse("2024-05-01T12:00:00Z") + ttl - first).toBeLessThanOrEqual(36 * minute);
    expect(Date.parse("2024-05-01T12:00:00Z") + ttl - first).toBeGreaterThan(30 * minute);
    expect(h.executor.tasks.some((t) => t.key === cold)).toBe(false);
    expect(h.core.counters.skippedCount("cold")).toBeGreaterThan(0);
    expect(h.core.counters.skippedCount("not_near_expiry")).toBeGreaterThan(0);
  });

  it("refreshes keys the cache flagged through XFetch, once each", async () => {
    const h = harness();
    h.cache.refreshDue = [
      "acme/dashboard_data/u1",
      "acme/dashboard_data/u1",
      "acme/nope/x",
      `acme/ctr_prediction/#${"a".repeat(64)}`,
    ];
    const outcome = await h.core.runScheduleNow("refresh_ahead");
    expect(outcome).toMatchObject({ status: "succeeded", items: 1 });
    expect(h.executor.tasks.map((t) => [t.key, t.reason])).toEqual([["acme/dashboard_data/u1", "refresh"]]);
    expect(h.core.counters.skippedCount("unknown_task_type")).toBe(1);
    expect(h.core.counters.skippedCount("semantic_key")).toBe(1);
  });

  it("leaves alone the onnx keys whose entity has no features (a client's put), and refreshes the rest", async () => {
    // Features are stored for "known" only: "put-by-client" was put with --json, never computed.
    const withFeatures = new Set(["acme/known"]);
    const asked: string[] = [];
    const h = harness({
      deps: {
        featuresStored: async (refs) => {
          asked.push(...refs.map((r) => r.entityId));
          return refs.map((r) => withFeatures.has(`${r.tenant}/${r.entityId}`));
        },
      },
    });
    const hot = (taskType: string, entityId: string) => ({
      key: `acme/${taskType}/${entityId}`,
      tenant: "acme",
      taskType,
      entityId,
      demand: 2,
      benefit: 1,
    });
    // No stored result for any of them (invalidated or expired while read): all three are due at once.
    h.analyzer.patterns = [
      hot("ctr_prediction", "put-by-client"),
      hot("ctr_prediction", "known"),
      hot("dashboard_data", "u1"),
    ];
    h.cache.refreshDue = ["acme/roas_prediction/put-by-client"];
    const outcome = await h.core.runScheduleNow("refresh_ahead");
    expect(outcome).toMatchObject({ status: "succeeded", items: 2 });
    expect(h.executor.tasks.map((t) => t.key).sort()).toEqual([
      "acme/ctr_prediction/known",
      "acme/dashboard_data/u1",
    ]);
    expect(h.core.counters.skippedCount("no_features")).toBe(2);
    // External types build their own inputs: only the onnx keys' entities were asked, each once.
    expect(asked.sort()).toEqual(["known", "put-by-client"]);
  });

  it("backs off under load, but a key the budget deferred is picked up by a later run", async () => {
    const h = harness();
    const key = "acme/ctr_prediction/hot";
    h.analyzer.patterns = [
      { key, tenant: "acme", taskType: "ctr_prediction", entityId: "hot", demand: 1, benefit: 1 },
    ];
    h.load.queueDepth = 50_000; // five times max_queue_depth
    await h.core.runScheduleNow("refresh_ahead");
    expect(h.executor.tasks).toHaveLength(0);
    expect(h.core.counters.skippedCount("backoff_queue_depth")).toBe(1);
    h.load.queueDepth = 10;
    h.clock.advance(5 * minute);
    await h.core.runScheduleNow("refresh_ahead");
    expect(h.executor.tasks.map((t) => t.key)).toEqual([key]);
  });
});

describe("refresh horizon and period", () => {
  const s = { horizonMs: 10 * minute, horizonFraction: 0.1 };
  it("is the horizon, the TTL's fraction when larger, and never over half the TTL", () => {
    expect(refreshHorizonMs(3_600_000, s)).toBe(10 * minute);
    expect(refreshHorizonMs(6 * 3_600_000, s)).toBe(36 * minute);
    expect(refreshHorizonMs(5000, s)).toBe(2500);
  });
  it("runs twice within the shortest horizon, at least a second apart", () => {
    expect(refreshPeriodMs(2 * minute, [3_600_000, 6 * 3_600_000], s)).toBe(2 * minute);
    expect(refreshPeriodMs(2 * minute, [3_600_000, 5000], s)).toBe(1250);
    expect(refreshPeriodMs(2 * minute, [100], s)).toBe(1000);
    expect(refreshPeriodMs(500, [3_600_000], s)).toBe(1000);
    expect(refreshPeriodMs(2 * minute, [], s)).toBe(2 * minute);
  });
});

describe("refresh decision", () => {
  const s = {
    horizonMs: 10 * minute,
    horizonFraction: 0.1,
    minDemand: 0.0001,
    minExpectedReads: 0.5,
    candidates: 100,
    refreshDueLimit: 100,
    priority: 3,
  };
  const now = 1_000_000;
  it("refreshes a key near expiry whose demand clears both bars", () => {
    expect(refreshDecision({ demand: 0.001, expiresAt: now + minute, ttlMs: 3_600_000 }, now, s)).toBe(
      "refresh",
    );
    expect(refreshDecision({ demand: 0.001, expiresAt: undefined, ttlMs: 3_600_000 }, now, s)).toBe(
      "refresh",
    );
  });
  it("leaves a key to expire below min_demand, or when too few reads are expected in its next life", () => {
    expect(refreshDecision({ demand: 0.00005, expiresAt: now + minute, ttlMs: 86_400_000 }, now, s)).toBe(
      "cold",
    );
    // 0.01 requests/s clears min_demand, but a 10 s result would expect 0.1 reads.
    expect(refreshDecision({ demand: 0.01, expiresAt: now + 1000, ttlMs: 10_000 }, now, s)).toBe("cold");
    expect(refreshDecision({ demand: 0.1, expiresAt: now + 1000, ttlMs: 10_000 }, now, s)).toBe("refresh");
  });
  it("waits while the result is fresh beyond its horizon", () => {
    expect(refreshDecision({ demand: 1, expiresAt: now + 30 * minute, ttlMs: 3_600_000 }, now, s)).toBe(
      "not_near_expiry",
    );
  });
});

describe("refresh-ahead's two ways to find candidates", () => {
  it("plans the same refreshes from the cache's expiry index and the analyzer's demand per key as from TopPatterns", async () => {
    const ttl = { ctr_prediction: 6 * 3_600_000, dashboard_data: 3_600_000 } as const;
    const build = (indexed: boolean) => {
      const h = harness();
      const now = h.clock.now();
      let seed = 7;
      const random = () => {
        seed = (seed * 16807) % 2147483647;
        return seed / 2147483647;
      };
      for (let i = 0; i < 400; i++) {
        const taskType = i % 3 === 0 ? "dashboard_data" : "ctr_prediction";
        const key = `acme/${taskType}/e${i}`;
        const demand = random() < 0.3 ? random() * 1e-5 : random() * 0.01;
        h.analyzer.patterns.push({
          key,
          tenant: "acme",
          taskType,
          entityId: `e${i}`,
          demand,
          benefit: demand,
        });
        // Most results are stored, some near expiry; a few keys have none.
        if (i % 17 !== 0) h.cache.expiresAt.set(key, now + random() * ttl[taskType]);
      }
      if (indexed) {
        const patterns = h.analyzer.patterns;
        Object.assign(h.analyzer, {
          demandOf: async (keys: readonly string[]) =>
            keys.map((k) => patterns.find((p) => p.key === k)?.demand),
        });
        Object.assign(h.cache, {
          // The index holds what is stored and near expiry; the keys with nothing stored have expired (once).
          nearExpiry: async (at: number, horizonOf: (t: string) => number) =>
            patterns.flatMap((p) => {
              const exp = h.cache.expiresAt.get(p.key);
              if (exp !== undefined && exp - at > horizonOf(p.taskType)) return [];
              return [
                { key: p.key, tenant: p.tenant, taskType: p.taskType, entityId: p.entityId, expiresAt: exp },
              ];
            }),
        });
      }
      return h;
    };
    const planned = async (indexed: boolean) => {
      const h = build(indexed);
      await h.core.runScheduleNow("refresh_ahead");
      return h.executor.tasks.map((t) => `${t.key} ${t.probability?.toFixed(6)}`).sort();
    };
    const viaRanking = await planned(false);
    expect(viaRanking.length).toBeGreaterThan(20);
    expect(await planned(true)).toEqual(viaRanking);
  });
});
