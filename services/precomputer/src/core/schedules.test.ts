import { describe, expect, it } from "vitest";
import { harness } from "./fakes.test-util.js";

const hour = 3_600_000;

describe("schedules", () => {
  it("runs each window once, and again in the next window", async () => {
    const h = harness({ start: Date.parse("2024-05-01T12:10:00Z") });
    expect(await h.core.tick("analysis")).toMatchObject({
      ran: true,
      record: { status: "succeeded", windowStart: Date.parse("2024-05-01T12:00:00Z") },
    });
    expect(await h.core.tick("analysis")).toMatchObject({ ran: false, why: "succeeded" });
    h.clock.advance(hour);
    expect(await h.core.tick("analysis")).toMatchObject({ ran: true });
    expect(h.analyzer.calls.filter((c) => c === "retrainNextAction")).toHaveLength(2);
  });

  it("runs the daily top-N only inside the off-peak window, once per day", async () => {
    const h = harness({ start: Date.parse("2024-05-01T01:50:00Z") });
    h.analyzer.offPeak = { nextStart: Date.parse("2024-05-03T02:00:00Z"), durationMinutes: 60 };
    h.analyzer.patterns = Array.from({ length: 1500 }, (_, i) => ({
      key: `acme/ctr_prediction/ad${i}`,
      tenant: "acme",
      taskType: "ctr_prediction",
      entityId: `ad${i}`,
      demand: 1,
      benefit: 1500 - i,
    }));
    h.cache.expiresAt.set("acme/ctr_prediction/ad0", h.clock.now() + 5 * hour); // fresh beyond the horizon: skipped
    expect(await h.core.tick("daily_top_n")).toBeUndefined();
    h.clock.set(Date.parse("2024-05-01T02:05:00Z"));
    const run = await h.core.tick("daily_top_n");
    expect(run).toMatchObject({
      ran: true,
      record: { windowStart: Date.parse("2024-05-01T02:00:00Z"), items: 999 },
    });
    expect(h.executor.tasks[0]).toMatchObject({
      key: "acme/ctr_prediction/ad1",
      reason: "schedule",
      priority: 4,
    });
    h.clock.set(Date.parse("2024-05-01T02:40:00Z"));
    expect(await h.core.tick("daily_top_n")).toMatchObject({ ran: false, why: "succeeded" });
    h.clock.set(Date.parse("2024-05-02T02:01:00Z"));
    expect(await h.core.tick("daily_top_n")).toMatchObject({ ran: true });
  });

  it("warms launches within hours_ahead so they are claimable before the launch", async () => {
    const h = harness();
    const now = h.clock.now();
    h.analyzer.launches = [
      {
        id: "l1",
        tenant: "acme",
        campaignId: "c1",
        launchAt: now + 3 * hour,
        entityIds: [],
        taskTypes: ["ctr_prediction", "caption_generation"],
        event: "",
      },
      {
        id: "l2",
        tenant: "acme",
        campaignId: "c2",
        launchAt: now + 30 * 60_000,
        entityIds: ["ad1", "ad2"],
        taskTypes: [],
        event: "",
      },
      {
        id: "l3",
        tenant: "acme",
        campaignId: "c3",
        launchAt: now + 9 * hour,
        entityIds: [],
        taskTypes: [],
        event: "",
      },
    ];
    const run = await h.core.runScheduleNow("launch_warming");
    expect(run.status).toBe("succeeded");
    const byKey = new Map(h.executor.tasks.map((t) => [t.key, t]));
    // Three hours out: a result that lives a day is claimable the lead (two hours) before the launch;
    // one that lives 6 h only its refresh horizon (36 minutes) before, so most of its life follows the launch.
    expect(byKey.get("acme/caption_generation/c1")).toMatchObject({
      reason: "launch",
      priority: 6,
      notBefore: now + hour,
    });
    expect(byKey.get("acme/ctr_prediction/c1")).toMatchObject({
      reason: "launch",
      priority: 6,
      notBefore: now + 3 * hour - 36 * 60_000,
    });
    // Half an hour out: now, and urgent; task types from the campaign_launch_scheduled rule.
    expect(byKey.get("acme/roas_prediction/ad1")).toMatchObject({ priority: 8 });
    expect(byKey.get("acme/roas_prediction/ad1")?.notBefore).toBeUndefined();
    expect([...byKey.keys()].filter((k) => k.includes("ad2"))).toHaveLength(3);
    expect([...byKey.keys()].some((k) => k.endsWith("/c3"))).toBe(false);
    expect(h.core.counters.skippedCount("launch_too_far")).toBe(1);
  });

  it("does not warm again a launch whose stored result outlives it by the refresh horizon", async () => {
    const h = harness();
    const now = h.clock.now();
    const launchAt = now + hour;
    h.analyzer.launches = [
      {
        id: "l1",
        tenant: "acme",
        campaignId: "c1",
        launchAt,
        entityIds: ["ad1", "ad2", "ad3"],
        taskTypes: ["ctr_prediction"],
        event: "",
      },
    ];
    // ctr_prediction lives 6 h: its refresh horizon is 10% of that, 36 minutes.
    h.cache.expiresAt.set("acme/ctr_prediction/ad1", launchAt + 4 * hour); // warmed by the run before
    h.cache.expiresAt.set("acme/ctr_prediction/ad2", launchAt + 30 * 60_000); // expires soon after the launch
    expect((await h.core.runScheduleNow("launch_warming")).status).toBe("succeeded");
    expect(h.executor.tasks.map((t) => t.key).sort()).toEqual([
      "acme/ctr_prediction/ad2",
      "acme/ctr_prediction/ad3",
    ]);
    expect(h.core.counters.skippedCount("fresh")).toBe(1);
    // A cache that cannot say what is stored skips nothing: the launch is warmed whole.
    h.cache.down = true;
    h.executor.tasks.length = 0;
    expect((await h.core.runScheduleNow("launch_warming")).status).toBe("succeeded");
    expect(h.executor.tasks.map((t) => t.key).sort()).toEqual([
      "acme/ctr_prediction/ad1",
      "acme/ctr_prediction/ad2",
      "acme/ctr_prediction/ad3",
    ]);
  });

  it("warms a launch that names no task types with those of the rule for the event that announced it", async () => {
    const h = harness();
    const now = h.clock.now();
    const launch = (id: string, tenant: string, event: string) => ({
      id,
      tenant,
      campaignId: id,
      launchAt: now + 30 * 60_000,
      entityIds: [],
      taskTypes: [],
      event,
    });
    // An event no configuration names, whose reads the analyzer learned in tenant acme alone.
    h.analyzer.learned = [
      {
        tenant: "acme",
        event: "flight_booked",
        support: 50,
        targets: [
          { taskType: "campaign_analytics", keyBy: "entity", probability: 0.9, meanDelayMs: 60_000 },
          { taskType: "dashboard_data", keyBy: "user", probability: 0.05, meanDelayMs: 60_000 },
        ],
      },
    ];
    h.analyzer.launches = [
      launch("learned", "acme", "flight_booked"),
      launch("configured", "acme", "video_uploaded"),
      launch("other-tenant", "globex", "flight_booked"),
    ];
    expect((await h.core.runScheduleNow("launch_warming")).status).toBe("succeeded");
    const types = (campaign: string) =>
      h.executor.tasks
        .filter((t) => t.entityId === campaign)
        .map((t) => t.taskType)
        .sort();
    // The learned rule's likely target; the unlikely one is no part of the rule.
    expect(types("learned")).toEqual(["campaign_analytics"]);
    // The configured rule's targets.
    expect(types("configured")).toEqual(
      [...(h.core.config.rules.get("video_uploaded")?.targets.map((t) => t.taskType) ?? [])].sort(),
    );
    // Another tenant learned nothing of the event: the launch warming's defaults.
    expect(types("other-tenant")).toEqual(
      [
        ...(h.core.config.rules.get("campaign_launch_scheduled")?.targets.map((t) => t.taskType) ?? []),
      ].sort(),
    );
    expect(types("learned")).not.toEqual(types("other-tenant"));
  });

  it("records run history with items and errors", async () => {
    const h = harness();
    await h.core.runScheduleNow("cleanup");
    h.analyzer.down = true;
    const failed = await h.core.runScheduleNow("cleanup");
    expect(failed).toMatchObject({ status: "failed", error: expect.stringMatching(/analyzer unavailable/) });
    const runs = await h.core.listRuns("cleanup", 10);
    expect(runs.map((r) => r.status).sort()).toEqual(["failed", "succeeded"]);
    expect(runs.find((r) => r.status === "succeeded")).toMatchObject({ items: 3, owner: "test" });
    await expect(h.core.runScheduleNow("nope")).rejects.toThrow(/no schedule "nope"/);
  });
});
