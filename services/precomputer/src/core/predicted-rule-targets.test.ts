import { readFileSync } from "node:fs";
import { defaultTaskTypesPath } from "@prescient/core";
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

describe("predicted actions mapped to task types by name", () => {
  it("are left to the rule where it fans the type out, keyed as its reads are, and never keyed by the user unknowingly", async () => {
    const yaml = readFileSync(defaultTaskTypesPath, "utf8").replace(
      "\n  user_login:\n",
      "\n  profile_viewed:\n    priority: 5\n    task_types:\n" +
        "      - { task_type: face_detection, key_by: user }\n" +
        "      - { task_type: hook_analysis, key_by: entity }\n" +
        "  user_login:\n",
    );
    const h = harness({ yaml });
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
      // Configured (view_campaign: campaign_analytics by related): u1's campaign c1, which the
      // rule fans out already, so not twice; never campaign_analytics/u1.
      { action: "view_campaign", probability: 0.7 },
      // A type no rule keys by the user: an ad's or a video's result under the user's id would be
      // read by nobody, so it is left to the analyzer's next-read offers.
      { action: "thumbnail_generation", probability: 0.6 },
      { action: "ctr_prediction", probability: 0.6 },
      // Mapped through another event's rule: its user-keyed target is the user's; its entity-keyed
      // one names an entity the action has not made yet.
      { action: "profile_viewed", probability: 0.6 },
    ];
    await h.core.trigger(login);
    expect(h.executor.tasks.map((t) => [t.key, t.reason]).sort()).toEqual(
      [
        ["acme/dashboard_data/u1", "trigger"],
        ["acme/campaign_analytics/c1", "trigger"],
        ["acme/variant_scoring/c1", "trigger"],
        ["acme/face_detection/u1", "predicted"],
      ].sort(),
    );
    expect(h.core.counters.skippedCount("rule_target")).toBe(2);
    // thumbnail_generation, ctr_prediction and profile_viewed's entity-keyed hook_analysis.
    expect(h.core.counters.skippedCount("unkeyed_action")).toBe(3);
  });
});
