import { readFileSync } from "node:fs";
import { defaultTaskTypesPath } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { harness } from "./fakes.test-util.js";

const login = {
  type: "user_login",
  tenant: "acme",
  entityId: "",
  userId: "u1",
  features: { plan: "pro" },
  attributes: {},
};

describe("degradation", () => {
  it("analyzer down: triggers still fan out, without predictions, and say why in Stats", async () => {
    const h = harness();
    h.analyzer.related.set("acme/u1/campaign_analytics", ["c1"]);
    h.analyzer.down = true;
    const r = await h.core.trigger(login);
    // The user's related campaigns come from the analyzer too: without it, only the dashboard.
    expect(r.queued.map((q) => q.taskType)).toEqual(["dashboard_data"]);
    // Neither the related entities nor the predictions were there.
    expect(h.core.counters.skippedCount("analyzer_unavailable")).toBe(2);
  });

  it("analyzer down: a schedule run fails, is retried later in its window, and succeeds once it is back", async () => {
    const h = harness({ start: Date.parse("2024-05-01T12:00:30Z") });
    h.analyzer.down = true;
    const first = await h.core.tick("analysis");
    expect(first).toMatchObject({ ran: true, record: { status: "failed", attempts: 1 } });
    expect(await h.core.tick("analysis")).toMatchObject({ ran: false, why: "retry_later" });
    h.analyzer.down = false;
    h.clock.advance(60_000);
    expect(await h.core.tick("analysis")).toMatchObject({
      ran: true,
      record: { status: "succeeded", attempts: 2 },
    });
  });

  it("analyzer down: the off-peak schedule is simply not due, and says so once", async () => {
    const warnings: string[] = [];
    const h = harness({
      deps: { log: { debug: () => {}, info: () => {}, error: () => {}, warn: (_o, m) => warnings.push(m) } },
    });
    h.analyzer.down = true;
    expect(await h.core.tick("daily_top_n")).toBeUndefined();
    expect(await h.core.tick("daily_top_n")).toBeUndefined();
    expect(warnings).toEqual(["analyzer unavailable: cannot tell the off-peak window; checking again later"]);
  });

  it("executor down: Trigger answers UNAVAILABLE, counts nothing and keeps no budget", async () => {
    const h = harness();
    h.executor.down = true;
    h.analyzer.actions = [{ action: "view_dashboard", probability: 0.9 }];
    await expect(h.core.trigger({ ...login, entityId: "acct" })).rejects.toMatchObject({
      kind: "unavailable",
    });
    expect(h.core.counters.snapshot().enqueuedByReason).toEqual([]);
    expect(h.core.budget.usage().used).toBe(0);
    await expect(
      h.core.warm({ tenant: "acme", entityIds: ["a"], taskTypes: ["ctr_prediction"] }),
    ).rejects.toMatchObject({ kind: "unavailable" });
  });

  it("cache down: nothing is skipped as fresh, and triggers still work", async () => {
    const h = harness();
    h.cache.down = true;
    const r = await h.core.trigger({ ...login, type: "video_uploaded", entityId: "v1" });
    expect(r.queued).toHaveLength(6);
    expect(h.core.counters.skippedCount("freshness_unknown")).toBe(1);
  });

  it("predictions at or above the threshold are precomputed for the user or their related entities; the rest are counted", async () => {
    // The login warms the user's 3 most related campaigns; a likely view_campaign warms 2 more.
    const yaml = readFileSync(defaultTaskTypesPath, "utf8")
      .replace(
        "view_campaign: [{ task_type: campaign_analytics, key_by: related }]",
        "view_campaign: [{ task_type: campaign_analytics, key_by: related, related_limit: 5 }]",
      )
      .replace(
        "view_dashboard: [dashboard_data]",
        "view_dashboard: [dashboard_data]\n      view_report: [variant_generation]",
      );
    const h = harness({ yaml });
    h.analyzer.related.set("acme/u1/campaign_analytics", ["c1", "c2", "c3", "c4", "c5", "c6"]);
    h.analyzer.actions = [
      { action: "view_campaign", probability: 0.6 },
      { action: "view_dashboard", probability: 0.5 },
      { action: "view_report", probability: 0.5 },
      { action: "upload_video", probability: 0.1 },
      { action: "dance", probability: 0.9 },
    ];
    const r = await h.core.trigger({ ...login, entityId: "acct" });
    expect(h.executor.tasks.map((t) => [t.key, t.reason])).toEqual([
      ["acme/dashboard_data/u1", "trigger"],
      ["acme/campaign_analytics/c1", "trigger"],
      ["acme/campaign_analytics/c2", "trigger"],
      ["acme/campaign_analytics/c3", "trigger"],
      ["acme/campaign_analytics/c4", "predicted"],
      ["acme/campaign_analytics/c5", "predicted"],
      ["acme/variant_generation/u1", "predicted"],
    ]);
    expect(r.queued.find((q) => q.taskType === "campaign_analytics")?.taskIds).toHaveLength(5);
    expect(h.core.counters.skippedCount("low_confidence")).toBe(1);
    expect(h.core.counters.skippedCount("unmapped_action")).toBe(1);
  });

  it("asks for related entities only for a likely action configured by related, and only what the rule did not resolve", async () => {
    // view_campaign wants 5 campaigns; the login rule resolves 3.
    const yaml = readFileSync(defaultTaskTypesPath, "utf8").replace(
      "view_campaign: [{ task_type: campaign_analytics, key_by: related }]",
      "view_campaign: [{ task_type: campaign_analytics, key_by: related, related_limit: 5 }]",
    );
    const h = harness({ yaml });
    const asked = (): number => h.analyzer.calls.filter((c) => c === "relatedEntities").length;
    h.analyzer.actions = [{ action: "view_campaign", probability: 0.1 }];
    await h.core.trigger({ ...login, entityId: "acct" });
    // The login rule's two related targets; none for the unlikely view_campaign.
    expect(asked()).toBe(2);
    h.analyzer.actions = [{ action: "view_campaign", probability: 0.9 }];
    await h.core.trigger({ ...login, entityId: "acct" });
    expect(asked()).toBe(5);
    // Shipped, view_campaign wants the 3 the rule resolved: they are reused, not asked for again.
    const shipped = harness();
    shipped.analyzer.related.set("acme/u1/campaign_analytics", ["c1", "c2", "c3", "c4"]);
    shipped.analyzer.actions = [{ action: "view_campaign", probability: 0.9 }];
    await shipped.core.trigger({ ...login, entityId: "acct" });
    expect(shipped.analyzer.calls.filter((c) => c === "relatedEntities")).toHaveLength(2);
    expect(
      shipped.executor.tasks.filter((t) => t.taskType === "campaign_analytics").map((t) => t.key),
    ).toEqual(["acme/campaign_analytics/c1", "acme/campaign_analytics/c2", "acme/campaign_analytics/c3"]);
  });
});
