import { describe, expect, it } from "vitest";
import type { TriggerRule } from "./config.js";
import { harness } from "./fakes.test-util.js";
import { planFanOut } from "./fan-out.js";

const video = {
  type: "video_uploaded",
  tenant: "acme",
  entityId: "vid/1",
  userId: "u1",
  features: { duration_s: 31, title: "launch" },
  attributes: {},
};

describe("trigger fan-out", () => {
  it("fans video_uploaded out to its six task types at priority 8, features upserted once", async () => {
    const h = harness();
    const r = await h.core.trigger(video);
    expect(r.queued.map((q) => q.taskType)).toEqual([
      "scene_detection",
      "face_detection",
      "hook_analysis",
      "ctr_prediction",
      "thumbnail_generation",
      "caption_generation",
    ]);
    expect(r.queued.every((q) => q.taskIds.length === 1)).toBe(true);
    expect(h.executor.tasks.map((t) => [t.key, t.priority, t.reason])).toContainEqual([
      "acme/scene_detection/vid%2F1",
      8,
      "trigger",
    ]);
    expect(h.executor.tasks.filter((t) => t.features !== undefined)).toHaveLength(1);
    expect(h.executor.tasks[0]?.features).toEqual(video.features);
  });

  it("fans campaign_created out at priority 9 and user_login keys the dashboard by user", async () => {
    const h = harness();
    await h.core.trigger({ ...video, type: "campaign_created", entityId: "c1" });
    expect(h.executor.tasks.map((t) => [t.taskType, t.priority])).toEqual([
      ["variant_generation", 9],
      ["variant_scoring", 9],
      ["roas_prediction", 9],
    ]);
    const login = harness();
    // The analyzer relates u1 to the campaigns they manage; the login warms their analytics and ROAS.
    login.analyzer.related.set("acme/u1/campaign_analytics", ["c1", "c2"]);
    login.analyzer.related.set("acme/u1/roas_prediction", ["c1"]);
    const r = await login.core.trigger({ ...video, type: "user_login", entityId: "acct-9", features: {} });
    expect(login.executor.tasks.map((t) => [t.key, t.reason])).toEqual([
      ["acme/dashboard_data/u1", "trigger"],
      ["acme/campaign_analytics/c1", "trigger"],
      ["acme/campaign_analytics/c2", "trigger"],
      ["acme/roas_prediction/c1", "trigger"],
    ]);
    expect(r.queued.map((q) => q.taskType)).toEqual([
      "dashboard_data",
      "campaign_analytics",
      "roas_prediction",
    ]);
    expect(login.analyzer.events).toEqual([
      {
        time: login.clock.now(),
        tenant: "acme",
        type: "user_login",
        entityId: "acct-9",
        userId: "u1",
        relatedEntityIds: [],
      },
    ]);
  });

  it("skips task types already fresh in the cache and counts them", async () => {
    const h = harness();
    h.cache.expiresAt.set("acme/ctr_prediction/vid%2F1", h.clock.now() + 60_000);
    h.cache.expiresAt.set("acme/hook_analysis/vid%2F1", h.clock.now() - 1); // expired: recomputed
    const r = await h.core.trigger(video);
    expect(r.skippedFresh).toEqual(["ctr_prediction"]);
    expect(r.queued).toHaveLength(5);
    expect(h.core.counters.skippedCount("fresh")).toBe(1);
  });

  it("runs custom events from configuration alone", async () => {
    const h = harness({
      yaml: `
task_types:
  churn_score: { kind: external, ttl_seconds: 60 }
  retention_offer: { kind: external, ttl_seconds: 60 }
rules:
  subscription_cancelled: { priority: 10, task_types: [churn_score, retention_offer] }
`,
    });
    const r = await h.core.trigger({ ...video, type: "subscription_cancelled", entityId: "sub-1" });
    expect(r.queued.map((q) => q.taskType)).toEqual(["churn_score", "retention_offer"]);
    expect(h.executor.tasks.every((t) => t.priority === 10)).toBe(true);
  });

  it("fans TriggerMany out per event, in order", async () => {
    const h = harness();
    const r = await h.core.triggerMany([video, { ...video, type: "campaign_created", entityId: "c2" }]);
    expect(r.map((x) => x.queued.length)).toEqual([6, 3]);
  });

  it("rejects bad events with the field named, before enqueueing anything", async () => {
    const h = harness();
    // An event with no rule is learned from, so accepted; with learning off it has no rule.
    expect(await h.core.trigger({ ...video, type: "nope" })).toEqual({
      queued: [],
      skippedFresh: [],
      skippedNoFeatures: [],
    });
    const strict = harness({ core: { learnRules: false } });
    await expect(strict.core.trigger({ ...video, type: "nope" })).rejects.toThrow(
      /event.type "nope" has no rule/,
    );
    await expect(h.core.trigger({ ...video, type: "Nope!" })).rejects.toThrow(
      /event.type "Nope!" must match/,
    );
    await expect(h.core.trigger({ ...video, tenant: "a/b" })).rejects.toThrow(/event.tenant/);
    await expect(h.core.trigger({ ...video, entityId: "", userId: "" })).rejects.toThrow(
      /entity_id or a user_id/,
    );
    await expect(h.core.trigger({ ...video, type: "user_login", userId: "" })).rejects.toThrow(
      /user_id is required/,
    );
    await expect(h.core.triggerMany([video, { ...video, tenant: "" }])).rejects.toThrow(/events\[1\].tenant/);
    await expect(h.core.triggerMany([])).rejects.toThrow(/events is empty/);
    expect(h.executor.tasks).toHaveLength(0);
  });
});

describe("planFanOut", () => {
  const rule = (targets: TriggerRule["targets"]): TriggerRule => ({
    event: "e",
    targets,
    predictNextActions: false,
    predictNextKeys: false,
    skipFresh: true,
    description: "",
  });
  const login = { ...video, type: "e", entityId: "", userId: "u1" };

  it("drops a target that keys the same entity twice, and puts the features on the entity's first task only", () => {
    const tasks = planFanOut(
      login,
      rule([
        { taskType: "dashboard", priority: 5, keyBy: "entity" },
        { taskType: "dashboard", priority: 9, keyBy: "user" },
        { taskType: "campaign_analytics", priority: 5, keyBy: "user", probability: 0.4 },
      ]),
    );
    expect(tasks.map((t) => [t.key, t.priority, t.probability])).toEqual([
      ["acme/dashboard/u1", 5, undefined],
      ["acme/campaign_analytics/u1", 5, 0.4],
    ]);
    expect(tasks.map((t) => t.features)).toEqual([video.features, undefined]);
  });

  it("drops duplicates among many related entities too, in first-seen order, and checks their ids", () => {
    const ids = Array.from({ length: 60 }, (_, i) => `c${i % 30}`);
    const tasks = planFanOut(
      login,
      rule([
        { taskType: "dashboard", priority: 5, keyBy: "user" },
        { taskType: "campaign_analytics", priority: 5, keyBy: "related" },
      ]),
      new Map([["campaign_analytics", ids]]),
    );
    expect(tasks.map((t) => t.entityId)).toEqual(["u1", ...Array.from({ length: 30 }, (_, i) => `c${i}`)]);
    // The analyzer's ids are not trusted as the event's are: a bad one is named.
    expect(() =>
      planFanOut(
        login,
        rule([{ taskType: "campaign_analytics", priority: 5, keyBy: "related" }]),
        new Map([["campaign_analytics", ["x".repeat(600)]]]),
      ),
    ).toThrow(/entity_id is 600 bytes/);
  });
});
