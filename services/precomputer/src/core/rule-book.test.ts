import { describe, expect, it } from "vitest";
import { harness } from "./fakes.test-util.js";
import type { LearnedRuleView } from "./ports.js";

const upload = {
  type: "video_uploaded",
  tenant: "acme",
  entityId: "v1",
  userId: "u1",
  features: {},
  attributes: {},
};

const learned = (over: Partial<LearnedRuleView> = {}): LearnedRuleView => ({
  tenant: "acme",
  event: "ad_clicked",
  support: 12,
  targets: [{ taskType: "ctr_prediction", keyBy: "entity", probability: 0.8, meanDelayMs: 2000 }],
  ...over,
});

describe("rule book: configured and learned rules", () => {
  it("fans an event nobody configured out by its learned rule, as budgeted work with its probability", async () => {
    const h = harness();
    h.analyzer.learned = [learned()];
    const r = await h.core.trigger({ ...upload, type: "ad_clicked", entityId: "ad-9" });
    expect(r.queued.map((q) => q.taskType)).toEqual(["ctr_prediction"]);
    expect(h.executor.tasks).toMatchObject([
      { key: "acme/ctr_prediction/ad-9", reason: "trigger", probability: 0.8 },
    ]);
    expect(h.core.ruleBook.ruleFor("acme", "ad_clicked")).toMatchObject({ source: "learned" });
  });

  it("never applies one tenant's learned rule to another tenant's events", async () => {
    const h = harness();
    h.analyzer.learned = [learned({ tenant: "globex" })];
    const r = await h.core.trigger({ ...upload, type: "ad_clicked", entityId: "ad-9" });
    expect(r.queued).toEqual([]);
    expect(h.executor.tasks).toEqual([]);
  });

  it("keeps a configured target over a learned one of the same type, weighed by the learned share", async () => {
    const h = harness();
    h.analyzer.learned = [
      learned({
        event: "video_uploaded",
        targets: [
          // Configured as entity-keyed: this user-keyed learned target loses to it.
          { taskType: "ctr_prediction", keyBy: "user", probability: 0.9, meanDelayMs: 1 },
          { taskType: "scene_detection", keyBy: "entity", probability: 0.7, meanDelayMs: 1 },
          // Not configured for uploads: joins the rule.
          { taskType: "dashboard_data", keyBy: "user", probability: 0.5, meanDelayMs: 1 },
          // Below learnedMinProbability (0.2): left out.
          { taskType: "campaign_analytics", keyBy: "user", probability: 0.1, meanDelayMs: 1 },
        ],
      }),
    ];
    await h.core.trigger(upload);
    const byKey = new Map(h.executor.tasks.map((t) => [t.key, t]));
    expect(byKey.get("acme/scene_detection/v1")).toMatchObject({ reason: "trigger", probability: 0.7 });
    expect(byKey.get("acme/dashboard_data/u1")).toMatchObject({ reason: "trigger", probability: 0.5 });
    expect(byKey.has("acme/ctr_prediction/u1")).toBe(false);
    expect(byKey.has("acme/campaign_analytics/u1")).toBe(false);
    // Configured targets whose reads the analyzer never saw after uploads weigh 0: the budget refuses them.
    expect(byKey.has("acme/ctr_prediction/v1")).toBe(false);
    expect(byKey.has("acme/hook_analysis/v1")).toBe(false);
    expect(h.core.counters.skippedCount("low_value")).toBe(5);
  });

  it("computes every configured target while the analyzer has too little support to weigh them", async () => {
    const h = harness();
    const r = await h.core.trigger(upload);
    expect(r.queued).toHaveLength(6);
    expect(h.executor.tasks.every((t) => t.probability === undefined)).toBe(true);
  });

  it("asks the analyzer for its rules at most once per learnedRulesRefreshMs", async () => {
    const h = harness({ core: { learnedRulesRefreshMs: 60_000 } });
    await h.core.trigger(upload);
    await h.core.trigger(upload);
    h.clock.advance(30_000);
    await h.core.trigger(upload);
    expect(h.analyzer.calls.filter((c) => c === "learnedRules")).toHaveLength(1);
    h.clock.advance(30_000);
    await h.core.trigger(upload);
    expect(h.analyzer.calls.filter((c) => c === "learnedRules")).toHaveLength(2);
  });

  it("keeps the rules it has when the analyzer fails, and learns nothing new", async () => {
    const h = harness({ core: { learnedRulesRefreshMs: 1000 } });
    h.analyzer.learned = [learned()];
    await h.core.trigger({ ...upload, type: "ad_clicked", entityId: "ad-1" });
    h.analyzer.down = true;
    h.clock.advance(5000);
    const r = await h.core.trigger({ ...upload, type: "ad_clicked", entityId: "ad-2" });
    expect(r.queued.map((q) => q.taskType)).toEqual(["ctr_prediction"]);
  });
});
