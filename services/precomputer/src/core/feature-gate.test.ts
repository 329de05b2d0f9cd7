import { readFileSync } from "node:fs";
import { defaultTaskTypesPath, UnavailableError } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { type Harness, harness } from "./fakes.test-util.js";
import { type PrecomputerLog, silentLog } from "./ports.js";
import type { EntityRef } from "./precomputer-deps.js";

/**
 * Model (onnx) tasks run on the features the executor stored for their
 * entity; without them they are dead-lettered ("no features stored for this
 * entity"). Every planner asks the executor (featuresStored) once per call,
 * and plans no model task whose entity has no features, stored or sent.
 */
function withFeatures(
  stored: readonly string[],
  yaml?: string,
): Harness & {
  asked: string[][];
  setDown: (down: boolean) => void;
  warned: string[];
} {
  const known = new Set(stored);
  const asked: string[][] = [];
  const warned: string[] = [];
  let down = false;
  const log: PrecomputerLog = { ...silentLog, warn: (_, msg) => void warned.push(msg) };
  const h = harness({
    ...(yaml === undefined ? {} : { yaml }),
    deps: {
      log,
      featuresStored: async (refs: readonly EntityRef[]) => {
        asked.push(refs.map((r) => `${r.tenant}/${r.entityId}`));
        if (down) throw new UnavailableError("connect ECONNREFUSED executor");
        return refs.map((r) => known.has(`${r.tenant}/${r.entityId}`));
      },
    },
  });
  return {
    ...h,
    asked,
    warned,
    setDown: (d) => {
      down = d;
    },
  };
}

const created = (entityId: string, features: Record<string, number> = {}) => ({
  type: "campaign_created",
  tenant: "acme",
  entityId,
  userId: "u1",
  features,
  attributes: {},
});

describe("planning skips model tasks whose entity has no features", () => {
  it("a trigger for an entity without features plans no onnx task, and reports and counts the skip", async () => {
    const h = withFeatures([]);
    const r = await h.core.trigger(created("c1"));
    expect(h.executor.tasks.map((t) => t.key)).toEqual(["acme/variant_generation/c1"]);
    expect(r.queued.map((q) => q.taskType)).toEqual(["variant_generation"]);
    expect(r.skippedNoFeatures).toEqual(["variant_scoring", "roas_prediction"]);
    expect(h.core.counters.skippedCount("no_features")).toBe(2);
    expect((await h.core.stats()).skippedByReason).toContainEqual({ name: "no_features", count: 2 });
    // One question, naming the entity once; external types are never asked about.
    expect(h.asked).toEqual([["acme/c1"]]);
  });

  it("plans them when the event carries features, without asking", async () => {
    const h = withFeatures([]);
    const r = await h.core.trigger(created("c1", { budget: 500 }));
    expect(r.queued.map((q) => q.taskType)).toEqual([
      "variant_generation",
      "variant_scoring",
      "roas_prediction",
    ]);
    expect(r.skippedNoFeatures).toEqual([]);
    expect(h.asked).toEqual([]);
    expect(h.core.counters.skippedCount("no_features")).toBe(0);
  });

  it("plans them when the executor holds the entity's features", async () => {
    const h = withFeatures(["acme/c1"]);
    const r = await h.core.trigger(created("c1"));
    expect(r.queued).toHaveLength(3);
    expect(r.skippedNoFeatures).toEqual([]);
    expect(h.asked).toEqual([["acme/c1"]]);
  });

  it("asks once for a whole TriggerMany, and counts features another event of the call carries", async () => {
    const h = withFeatures(["acme/c3"]);
    const r = await h.core.triggerMany([
      created("c1"),
      created("c2", { budget: 1 }),
      { ...created("c2"), type: "campaign_launch_scheduled" }, // c2's features ride on the other event
      created("c3"),
    ]);
    expect(r.map((x) => x.skippedNoFeatures)).toEqual([["variant_scoring", "roas_prediction"], [], [], []]);
    expect(h.asked).toEqual([["acme/c1", "acme/c3"]]);
    // Both c2 events plan its ROAS (the executor coalesces the key); c1's is left out.
    expect(h.executor.tasks.filter((t) => t.taskType === "roas_prediction").map((t) => t.entityId)).toEqual([
      "c2",
      "c2",
      "c3",
    ]);
  });

  it("counts features upserted for a fresh-skipped task as sent", async () => {
    const upserted: string[] = [];
    const fresh = harness({
      deps: {
        featuresStored: async (refs) => refs.map(() => false),
        upsertFeatures: async (records) => void upserted.push(...records.map((x) => x.entityId)),
      },
    });
    fresh.cache.expiresAt.set("acme/variant_generation/c1", fresh.clock.now() + 60_000);
    const r = await fresh.core.trigger(created("c1", { budget: 2 }));
    expect(r.skippedFresh).toEqual(["variant_generation"]);
    expect(upserted).toEqual(["c1"]);
    expect(r.queued.map((q) => q.taskType)).toEqual(["variant_scoring", "roas_prediction"]);
  });

  it("skips related and predicted model tasks too: a login's related campaigns and the user's predicted actions", async () => {
    // A configured action computes a model type for the user, who has no features.
    const yaml = readFileSync(defaultTaskTypesPath, "utf8").replace(
      "view_dashboard: [dashboard_data]",
      "view_dashboard: [dashboard_data]\n      open_creative: [ctr_prediction]",
    );
    const h = withFeatures(["acme/c2"], yaml);
    h.analyzer.related.set("acme/u1/campaign_analytics", ["c1", "c2"]);
    h.analyzer.related.set("acme/u1/roas_prediction", ["c1", "c2"]);
    h.analyzer.actions = [{ action: "open_creative", probability: 0.9 }];
    const r = await h.core.trigger({ ...created(""), type: "user_login" });
    expect(h.executor.tasks.map((t) => t.key)).toEqual([
      "acme/dashboard_data/u1",
      "acme/campaign_analytics/c1",
      "acme/campaign_analytics/c2",
      "acme/roas_prediction/c2",
    ]);
    expect(r.skippedNoFeatures.sort()).toEqual(["ctr_prediction", "roas_prediction"]);
    expect(h.asked).toEqual([["acme/c1", "acme/c2", "acme/u1"]]);
  });

  it("enqueues as before, and warns, when the executor cannot tell", async () => {
    const h = withFeatures([]);
    h.setDown(true);
    const r = await h.core.trigger(created("c1"));
    expect(r.queued).toHaveLength(3);
    expect(r.skippedNoFeatures).toEqual([]);
    expect(h.core.counters.skippedCount("no_features")).toBe(0);
    expect(h.warned).toEqual([
      "executor cannot tell which entities have features: triggers enqueue their model tasks unchecked",
    ]);
  });

  it("plans every task without the port (an executor too old to answer)", async () => {
    const h = harness();
    const r = await h.core.trigger(created("c1"));
    expect(r.queued).toHaveLength(3);
  });

  it("readahead, top-N and launch warming skip them as well, and their run notes say so", async () => {
    const h = withFeatures(["acme/ad.5"]);
    h.analyzer.readAhead = [
      { key: "acme/ctr_prediction/ad.4", confidence: 0.9 },
      { key: "acme/ctr_prediction/ad.5", confidence: 0.9 },
      { key: "acme/dashboard_data/u9", confidence: 0.9 },
    ];
    await h.core.tick("readahead");
    expect(h.executor.tasks.map((t) => t.key)).toEqual([
      "acme/ctr_prediction/ad.5",
      "acme/dashboard_data/u9",
    ]);
    expect((await h.core.listRuns("readahead", 1))[0]?.note).toMatch(/2 enqueued; skipped 1 no_features/);

    h.executor.tasks.length = 0;
    const pattern = (taskType: string, entityId: string) => ({
      key: `acme/${taskType}/${entityId}`,
      tenant: "acme",
      taskType,
      entityId,
      demand: 1,
      benefit: 1,
    });
    h.analyzer.patterns = [pattern("ctr_prediction", "ad.4"), pattern("campaign_analytics", "c9")];
    await h.core.runScheduleNow("daily_top_n");
    expect(h.executor.tasks.map((t) => t.key)).toEqual(["acme/campaign_analytics/c9"]);

    h.executor.tasks.length = 0;
    h.analyzer.launches = [
      {
        id: "l1",
        tenant: "acme",
        campaignId: "c7",
        launchAt: h.clock.now() + 30 * 60_000,
        entityIds: [],
        taskTypes: [],
        event: "",
      },
    ];
    const run = await h.core.runScheduleNow("launch_warming");
    expect(h.executor.tasks.map((t) => t.taskType)).toEqual(["campaign_analytics"]);
    expect(run.note).toMatch(/skipped 2 no_features/);
    expect(h.core.counters.skippedCount("no_features")).toBe(4);
  });

  it("a schedule job goes on unchecked when the executor cannot tell", async () => {
    const h = withFeatures([]);
    h.setDown(true);
    h.analyzer.readAhead = [{ key: "acme/ctr_prediction/ad.4", confidence: 0.9 }];
    const outcome = await h.core.tick("readahead");
    expect(outcome?.ran).toBe(true);
    expect(h.executor.tasks.map((t) => t.key)).toEqual(["acme/ctr_prediction/ad.4"]);
    expect(h.warned).toEqual([
      "executor cannot tell which entities have features: schedule jobs enqueue their model tasks unchecked",
    ]);
  });
});
