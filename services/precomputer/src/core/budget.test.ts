import { ManualClock } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { Budget } from "./budget.js";
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
