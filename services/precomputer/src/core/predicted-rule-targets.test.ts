import { describe, expect, it } from "vitest";
import { harness } from "./fakes.test-util.js";

const login = {
  type: "user_login",
  tenant: "acme",
  entityId: "",
  userId: "u1",
  features: {},
  attributes: {},
};

describe("predicted actions named after a task type the event's rule fans out", () => {
  it("are left to the rule, keyed as its reads are, not computed for the user", async () => {
    const h = harness();
    // u1's campaign c1: the login's configured related target, and a learned one.
    h.analyzer.related.set("acme/u1/campaign_analytics", ["c1"]);
    h.analyzer.related.set("acme/u1/variant_scoring", ["c1"]);
    h.analyzer.learned = [
      {
        tenant: "acme",
        event: "user_login",
        support: 50,
        targets: [
          { taskType: "dashboard_data", keyBy: "user", probability: 1, meanDelayMs: 2000 },
          { taskType: "campaign_analytics", keyBy: "related", probability: 0.6, meanDelayMs: 9000 },
          { taskType: "variant_scoring", keyBy: "related", probability: 0.5, meanDelayMs: 9000 },
        ],
      },
    ];
    h.analyzer.actions = [
      { action: "campaign_analytics", probability: 0.9 },
      { action: "variant_scoring", probability: 0.8 },
      // Configured (view_campaign: [campaign_analytics]): computed for the acting user, as configured.
      { action: "view_campaign", probability: 0.7 },
      // A type the rule does not fan out: the user, as before.
      { action: "thumbnail_generation", probability: 0.6 },
    ];
    await h.core.trigger(login);
    expect(h.executor.tasks.map((t) => [t.key, t.reason]).sort()).toEqual(
      [
        ["acme/dashboard_data/u1", "trigger"],
        ["acme/campaign_analytics/c1", "trigger"],
        ["acme/variant_scoring/c1", "trigger"],
        ["acme/campaign_analytics/u1", "predicted"],
        ["acme/thumbnail_generation/u1", "predicted"],
      ].sort(),
    );
    expect(h.core.counters.skippedCount("rule_target")).toBe(2);
  });
});
