import { ManualClock } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { Budget, budgetDefaults } from "./budget.js";
import type { PlannedTask, TaskReason } from "./types.js";

const task = (i: number, reason: TaskReason = "schedule", tenant = "t", priority = 4): PlannedTask => ({
  key: `${tenant}/ctr_prediction/e${i}`,
  tenant,
  taskType: "ctr_prediction",
  entityId: `e${i}`,
  priority,
  reason,
});
const many = (n: number, reason?: TaskReason, tenant?: string, priority?: number) =>
  Array.from({ length: n }, (_, i) => task(i, reason, tenant, priority));

describe("background budget", () => {
  it("caps background work per minute and renews the allowance each minute", () => {
    const clock = new ManualClock(0);
    const b = new Budget(clock, { perMinute: 100 });
    expect(b.admit(many(80), {}).admitted).toHaveLength(80);
    const second = b.admit(many(50), {});
    expect(second.admitted).toHaveLength(20);
    expect(second.deferred).toEqual(new Map([["budget_exhausted", 30]]));
    clock.advance(60_000);
    expect(b.admit(many(50), {}).admitted).toHaveLength(50);
    expect(b.usage()).toMatchObject({ used: 50, limit: 100 });
  });

  it("never holds back triggers, misses or manual work, even under heavy load", () => {
    const b = new Budget(new ManualClock(0), { perMinute: 0, maxQueueDepth: 10 });
    const fg = [...many(5, "trigger"), ...many(5, "miss"), ...many(5, "manual")];
    expect(b.admit(fg, { queueDepth: 1_000_000, liveQps: 1e9 }).admitted).toHaveLength(15);
  });

  it("backs off linearly above a threshold and stops at twice it, counting the signal", () => {
    const clock = new ManualClock(0);
    const opts = { perMinute: 100, maxLiveQps: 1000, maxQueueDepth: 100, maxPredictorQueueMs: 50 };
    expect(new Budget(clock, opts).admit(many(100), { queueDepth: 100 }).admitted).toHaveLength(100);
    const half = new Budget(clock, opts).admit(many(100), { queueDepth: 150 });
    expect(half.admitted).toHaveLength(50);
    expect(half.deferred).toEqual(new Map([["backoff_queue_depth", 50]]));
    const live = new Budget(clock, opts).admit(many(100), { liveQps: 1750, queueDepth: 10 });
    expect(live.admitted).toHaveLength(25);
    expect(live.deferred.get("backoff_live_load")).toBe(75);
    const stopped = new Budget(clock, opts).admit(many(10), { predictorQueueMs: 100 });
    expect(stopped.admitted).toHaveLength(0);
    expect(stopped.deferred.get("backoff_predictor_queue")).toBe(10);
  });

  it("admits premium tenants and higher priorities first when the allowance is short", () => {
    const b = new Budget(new ManualClock(0), { perMinute: 5, tenantWeights: new Map([["premium", 3]]) });
    const { admitted } = b.admit(
      [...many(5, "schedule", "basic"), ...many(3, "schedule", "premium"), task(99, "launch", "basic", 9)],
      {},
    );
    // premium 4 × 3 = 12 outranks the basic launch at 9 × 1, which outranks basic schedule work at 4.
    expect(admitted.map((t) => t.tenant)).toEqual(["premium", "premium", "premium", "basic", "basic"]);
    expect(admitted[3]?.priority).toBe(9);
  });

  it("gives allowance back for tasks that were not enqueued", () => {
    const b = new Budget(new ManualClock(0), { perMinute: 10 });
    const { admitted } = b.admit(many(10), {});
    b.refund(admitted);
    expect(b.usage().used).toBe(0);
  });
});

describe("budget by expected value", () => {
  const likely = (i: number, probability: number, tenant = "t"): PlannedTask => ({
    ...task(i, "refresh", tenant),
    probability,
  });

  it("admits the likeliest reads first when the bucket cannot pay for all", () => {
    const b = new Budget(new ManualClock(0), { perMinute: 3, minProbability: 0 });
    const { admitted, deferred } = b.admit(
      [likely(1, 0.3), likely(2, 0.9), likely(3, 0.5), likely(4, 0.7)],
      {},
    );
    expect(admitted.map((t) => t.probability)).toEqual([0.9, 0.7, 0.5]);
    expect(deferred).toEqual(new Map([["budget_exhausted", 1]]));
  });

  it("raises the bar as the bucket empties, and never admits below min_probability", () => {
    const clock = new ManualClock(0);
    const b = new Budget(clock, { perMinute: 100, minProbability: 0.2 });
    expect(b.usage().bar).toBe(0.2);
    // Below the floor: refused even with a full bucket.
    expect(b.admit([likely(0, 0.1)], {}).deferred).toEqual(new Map([["low_value", 1]]));
    // Spend 70 of 100: fill 0.3, the bar just above the floor ((1 − 0.3)⁴ = 0.2401 by default).
    expect(b.admit(many(70), {}).admitted).toHaveLength(70);
    expect(b.usage().bar).toBeCloseTo(0.2401, 5);
    // Spend 20 more: fill 0.1, bar (1 − 0.1)⁴ = 0.6561.
    expect(b.admit(many(20), {}).admitted).toHaveLength(20);
    expect(b.usage().bar).toBeCloseTo(0.6561, 5);
    const r = b.admit([likely(1, 0.6), likely(2, 0.7)], {});
    expect(r.admitted.map((t) => t.probability)).toEqual([0.7]);
    expect(r.deferred.get("low_value")).toBe(1);
    // The bucket refills with time, and the bar comes down with it.
    clock.advance(60_000);
    expect(b.usage().bar).toBe(0.2);
    expect(b.admit([likely(3, 0.45)], {}).admitted).toHaveLength(1);
  });

  it("raises the bar sooner the lower its exponent (bar_exponent)", () => {
    /** A budget of 100 a minute with 80 spent: fill 0.2. */
    const fifthFull = (barExponent: number): Budget => {
      const b = new Budget(new ManualClock(0), { perMinute: 100, barExponent });
      b.admit(many(80), {});
      return b;
    };
    // Fill 0.2: (0.8)² = 0.64 at 2, (0.8)⁴ = 0.4096 by default.
    expect(fifthFull(2).usage().bar).toBeCloseTo(0.64, 5);
    expect(fifthFull(budgetDefaults.barExponent).usage().bar).toBeCloseTo(0.4096, 5);
    // A read of 0.5 waits at 2 and goes by default.
    expect(fifthFull(2).admit([likely(1, 0.5)], {}).admitted).toHaveLength(0);
    expect(fifthFull(budgetDefaults.barExponent).admit([likely(1, 0.5)], {}).admitted).toHaveLength(1);
  });

  it("spends more when given more: the same candidates, ten times the budget", () => {
    const candidates = Array.from({ length: 200 }, (_, i) => likely(i, (i % 10) / 10 + 0.05));
    const spend = (perMinute: number): number => {
      const clock = new ManualClock(0);
      const b = new Budget(clock, { perMinute });
      let admitted = 0;
      for (let minute = 0; minute < 10; minute++) {
        admitted += b.admit(candidates.slice(minute * 20, minute * 20 + 20), {}).admitted.length;
        clock.advance(60_000);
      }
      return admitted;
    };
    expect(spend(50)).toBeGreaterThan(spend(5));
    expect(spend(5)).toBeGreaterThan(0);
    // With budget to spare, everything at or above min_probability (0.2) goes: 8 of each 10.
    expect(spend(1000)).toBe(160);
  });

  it("counts a learned fan-out target (a trigger with a probability) as background", () => {
    const b = new Budget(new ManualClock(0), { perMinute: 0 });
    const learned: PlannedTask = { ...task(1, "trigger"), probability: 0.8 };
    const configured = task(2, "trigger");
    const { admitted, deferred } = b.admit([learned, configured], {});
    expect(admitted).toEqual([configured]);
    // No budget at all: the bar is 1, which only a certain read meets.
    expect(deferred).toEqual(new Map([["low_value", 1]]));
  });

  it("charges foreground work to the bucket when asked to, without ever refusing it", () => {
    const b = new Budget(new ManualClock(0), { perMinute: 10, chargeForeground: true });
    expect(b.admit(many(8, "trigger"), {}).admitted).toHaveLength(8);
    expect(b.admit(many(5), {}).admitted).toHaveLength(2);
    expect(b.admit(many(20, "trigger"), {}).admitted).toHaveLength(20);
  });
});
