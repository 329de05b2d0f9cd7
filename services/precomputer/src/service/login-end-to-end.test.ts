import { setTimeout as sleep } from "node:timers/promises";
import { emptyIngestResult, startAnalyzer } from "@prescient/analyzer";
import { startCache } from "@prescient/cache";
import { cacheV1 } from "@prescient/contracts";
import { defaultTaskTypesPath, loadTaskTypes } from "@prescient/core";
import { startExecutor } from "@prescient/executor";
import { ServiceHost } from "@prescient/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inProcessAnalyzer, inProcessCache, inProcessExecutor } from "../adapters/in-process.js";
import { ReferenceTaskHandlers } from "../reference-handler/reference-handler.js";
import { startPrecomputer } from "../start-precomputer.js";
import { startTestPrecomputer } from "./grpc.test-util.js";

/**
 * The mesh as `prescient up` runs it, on one host: cache, executor (with the
 * reference handler for external types), analyzer and precomputer. After a
 * user_login, the dashboard and the predicted next action's results must be
 * in the cache before the user looks them up.
 */
const taskTypes = loadTaskTypes(defaultTaskTypesPath);
const host = new ServiceHost({ address: "127.0.0.1:0", drainTimeoutMs: 2000 });
let mesh: Awaited<ReturnType<typeof boot>>;

async function boot() {
  const cache = startCache(host, { taskTypes, store: "memory" });
  const analyzer = startAnalyzer(host, { store: "memory" });
  const executor = startExecutor(host, {
    taskTypes,
    store: "memory",
    predictor: "127.0.0.1:1",
    handlers: new ReferenceTaskHandlers(),
    sink: { putMany: async (entries) => void (await (await cache).core.putMany({ entries })) },
  });
  const precomputer = startPrecomputer(host, {
    taskTypes,
    executor: inProcessExecutor(executor.core, executor.entities),
    cache: inProcessCache(cache.then((c) => c.core)),
    analyzer: inProcessAnalyzer(analyzer.then((a) => a.analyzer)),
    runSchedules: false,
    alertIntervalMs: 0,
  });
  await host.start();
  await Promise.all([cache, analyzer.then((a) => a.ready), executor.ready, precomputer.ready]);
  return { cache: await cache, analyzer: (await analyzer).analyzer, executor, precomputer };
}

beforeAll(async () => {
  mesh = await boot();
  // u1's history: every session opens with a login and goes on to a campaign.
  const now = Date.now();
  const actions = [];
  for (let s = 0; s < 6; s++) {
    const t = now - (6 - s) * 3_600_000;
    actions.push({ time: new Date(t), tenant: "acme", userId: "u1", action: "login", attributes: {} });
    actions.push({
      time: new Date(t + 60_000),
      tenant: "acme",
      userId: "u1",
      action: "view_campaign",
      attributes: {},
    });
  }
  actions.push({ time: new Date(now - 1000), tenant: "acme", userId: "u1", action: "login", attributes: {} });
  await mesh.analyzer.recordActions(actions, emptyIngestResult());
});

afterAll(async () => {
  await host.shutdown();
});

/** The keys of an entity that were dead-lettered for want of features (the soak's 721). */
async function deadForNoFeatures(entityId: string): Promise<string[]> {
  const page = await mesh.executor.queue.listDeadLetters({ pageSize: 1000 });
  return page.tasks
    .filter((t) => t.key.endsWith(`/${entityId}`) && /no features stored/.test(t.lastError ?? ""))
    .map((t) => t.key);
}

/** The user's lookup, as a backend makes it; polls only until the deadline. */
async function lookupWhenReady(keys: cacheV1.LookupManyRequest["keys"], deadlineMs: number) {
  const until = Date.now() + deadlineMs;
  for (;;) {
    // Peek at the store: a real lookup would count as demand and as a miss.
    const stored = await mesh.cache.store.getMany(keys.map((k) => `${k.tenant}/${k.taskType}/${k.entityId}`));
    if (stored.every((r) => r !== undefined) || Date.now() > until) break;
    await sleep(10);
  }
  return mesh.cache.core.lookupMany({
    keys,
    entityIds: [],
    onMiss: cacheV1.OnMiss.ON_MISS_NONE,
    userId: "u1",
    rejectStale: false,
    peek: false,
  });
}

describe("user_login end to end", () => {
  it("has the dashboard, the user's campaign's analytics and the predicted action's results in the cache before the next lookup", async () => {
    const started = Date.now();
    // u1 created camp-7: the analyzer relates them, so u1's login warms camp-7 although it names no campaign.
    // The event's features are stored for camp-7, so its ROAS (a model type) can be planned on the login.
    await mesh.precomputer.core.trigger({
      type: "campaign_created",
      tenant: "acme",
      entityId: "camp-7",
      userId: "u1",
      features: { budget: 500 },
      attributes: {},
    });
    const r = await mesh.precomputer.core.trigger({
      type: "user_login",
      tenant: "acme",
      entityId: "",
      userId: "u1",
      features: {},
      attributes: {},
    });
    expect(r.queued.map((q) => q.taskType).sort()).toEqual([
      "campaign_analytics",
      "dashboard_data",
      "roas_prediction",
    ]);
    // campaign_analytics: the related campaign's, once. The predicted view_campaign (key_by: related)
    // names the same campaign, and nothing is computed under the user's id, which nobody reads.
    expect(r.queued.find((q) => q.taskType === "campaign_analytics")?.taskIds).toHaveLength(1);
    const predicted = await mesh.analyzer.predictNextActions({ tenant: "acme", userId: "u1", limit: 5 });
    expect(predicted.actions.find((a) => a.action === "view_campaign")?.probability).toBeGreaterThanOrEqual(
      0.5,
    );
    const answer = await lookupWhenReady(
      [
        { tenant: "acme", taskType: "dashboard_data", entityId: "u1" },
        { tenant: "acme", taskType: "campaign_analytics", entityId: "camp-7" },
      ],
      5000,
    );
    expect(answer.results.map((x) => x.hit)).toEqual([true, true]);
    expect(await mesh.cache.store.getMany(["acme/campaign_analytics/u1"])).toEqual([undefined]);
    const dashboard = JSON.parse(
      Buffer.from(answer.results[0]?.result?.value?.payload ?? new Uint8Array()).toString(),
    );
    expect(dashboard).toMatchObject({ user: "u1" });
    expect(answer.results[0]?.result?.modelName).toBe("prescient-reference-handler");
    expect(Date.now() - started).toBeLessThan(5000);
    const stats = await mesh.precomputer.core.stats();
    // campaign_created's three, and the login's dashboard, campaign analytics and ROAS.
    expect(stats.enqueuedByReason).toEqual([{ name: "trigger", count: 6 }]);
  });

  it("skips the fresh results on the next login and says so", async () => {
    const r = await mesh.precomputer.core.trigger({
      type: "user_login",
      tenant: "acme",
      entityId: "",
      userId: "u1",
      features: {},
      attributes: {},
    });
    // ROAS is an ONNX type and this mesh has no predictor: still queued, so not fresh.
    expect(r.queued.map((q) => q.taskType)).toEqual(["roas_prediction"]);
    expect(r.skippedFresh.sort()).toEqual(["campaign_analytics", "dashboard_data"]);
  });

  it("runs every default trigger end to end, including the external types, through peers over gRPC", async () => {
    // A second precomputer as `prescient serve precomputer` runs it: peers at addresses.
    const remote = await startTestPrecomputer({
      executor: host.address,
      cache: host.address,
      analyzer: host.address,
    });
    try {
      const responses = await remote.rpc.triggerMany({
        events: [
          {
            type: "video_uploaded",
            tenant: "acme",
            entityId: "vid-1",
            userId: "u2",
            features: { duration_s: { number: 12 } },
            attributes: {},
            relatedEntityIds: [],
          },
          {
            type: "campaign_created",
            tenant: "acme",
            entityId: "camp-1",
            userId: "u2",
            features: {},
            attributes: {},
            relatedEntityIds: [],
          },
        ],
      });
      // camp-1 has no features, stored or sent: its model types (variant_scoring, roas_prediction) could
      // only be dead-lettered, so only variant_generation is queued. vid-1's event carries its features.
      expect(responses.results.map((x) => x.queued.length)).toEqual([6, 1]);
      const keys = [
        ...[
          "scene_detection",
          "face_detection",
          "hook_analysis",
          "thumbnail_generation",
          "caption_generation",
        ].map((taskType) => ({
          tenant: "acme",
          taskType,
          entityId: "vid-1",
        })),
        { tenant: "acme", taskType: "variant_generation", entityId: "camp-1" },
      ];
      const answer = await lookupWhenReady(keys, 5000);
      expect(answer.results.map((x) => x.hit)).toEqual(keys.map(() => true));
      // The ONNX types need the predictor, which this mesh lacks: they are queued, not lost.
      const ctr = await mesh.executor.queue.getByKey("acme/ctr_prediction/vid-1");
      expect(ctr).toBeDefined();
      expect(await mesh.executor.queue.getByKey("acme/roas_prediction/camp-1")).toBeUndefined();
      expect(await deadForNoFeatures("camp-1")).toEqual([]);
      // Stats over gRPC: the alert rules are evaluated from the remote executor and cache.
      const stats = await remote.rpc.stats();
      expect(stats.enqueuedByReason).toEqual([{ name: "trigger", count: 7n }]);
      expect(stats.skippedByReason).toContainEqual({ name: "no_features", count: 2n });
    } finally {
      await remote.stop();
    }
  });
  it("plans no model task for an entity without features, so nothing is dead-lettered, and plans it once features are stored", async () => {
    const created = (features: Record<string, number>) =>
      mesh.precomputer.core.trigger({
        type: "campaign_created",
        tenant: "acme",
        entityId: "camp-bare",
        userId: "u3",
        features,
        attributes: {},
      });
    const skippedBefore = mesh.precomputer.core.counters.skippedCount("no_features");
    const bare = await created({});
    expect(bare.queued.map((q) => q.taskType)).toEqual(["variant_generation"]);
    expect(bare.skippedNoFeatures).toEqual(["variant_scoring", "roas_prediction"]);
    expect(mesh.precomputer.core.counters.skippedCount("no_features") - skippedBefore).toBe(2);
    const generated = await lookupWhenReady(
      [{ tenant: "acme", taskType: "variant_generation", entityId: "camp-bare" }],
      5000,
    );
    expect(generated.results[0]?.hit).toBe(true);
    expect(await mesh.executor.queue.getByKey("acme/roas_prediction/camp-bare")).toBeUndefined();
    expect(await deadForNoFeatures("camp-bare")).toEqual([]);

    // With features in the event, the model types are planned (variant_generation is fresh: the
    // features are upserted on their own); afterwards the stored features suffice. (These made-up
    // features lack the models' inputs, so those tasks die for that, not for having none.)
    const withFeatures = await created({ budget: 900 });
    expect(withFeatures.queued.map((q) => q.taskType)).toEqual(["variant_scoring", "roas_prediction"]);
    expect(withFeatures.skippedFresh).toEqual(["variant_generation"]);
    expect(withFeatures.skippedNoFeatures).toEqual([]);
    const stored = await created({});
    expect(stored.skippedNoFeatures).toEqual([]);
    expect(stored.queued.map((q) => q.taskType)).toContain("roas_prediction");
    expect(await deadForNoFeatures("camp-bare")).toEqual([]);
  });
});
