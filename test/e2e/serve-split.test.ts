import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { credentials } from "@grpc/grpc-js";
import { createClient } from "@prescient/client";
import { analyzerV1, executorV1 } from "@prescient/contracts";
import { callUnary } from "@prescient/kit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually } from "./eventually.test-util.js";
import { cli, type MeshProcesses, startSplit } from "./mesh-processes.test-util.js";

/**
 * The Kubernetes shape, as deploy/base runs it: one service per process
 * (`prescient serve`), the reference handler of the external task types in a
 * process of its own (`prescient serve task-handler`), peers found through
 * PRESCIENT_*_ADDR, shared state in Redis. A miss computed through the cache
 * crosses cache → executor → predictor → back, a queued task crosses
 * executor → predictor → cache, and a login's external tasks cross
 * precomputer → executor → task handler → cache, all over real gRPC.
 */
let mesh: MeshProcesses;

const ctrFeatures = JSON.stringify({
  bid: 2,
  quality_score: 6,
  position: 2,
  hour_of_day: 9,
  ad_age_days: 1,
  historical_ctr: 0.02,
  relevance: 0.6,
  device_mobile: 0,
});

/** What campaign_created's ONNX types read (roas_prediction, variant_scoring), so none of its tasks fails. */
const campaignFeatures = {
  budget: 5000,
  bid: 1.5,
  audience_size: 120_000,
  historical_roas: 2.1,
  ctr: 0.03,
  conversion_rate: 0.02,
  seasonality: 0.7,
  competition: 0.4,
  length: 42,
  sentiment: 0.6,
  novelty: 0.5,
  brand_fit: 0.8,
  readability: 0.7,
  emoji_count: 1,
};

function prescient(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("node", [cli, ...args], { timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? 1 : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  // Its own Redis database: the queue has no prefix of its own, and another test's split
  // executor, which has no task handler, would otherwise claim (and dead-letter) these tasks.
  const redisUrl = `${inject("redisUrl").replace(/\/\d*$/, "")}/10`;
  mesh = await startSplit(redisUrl, `split-${randomUUID().slice(0, 8)}`, { analyzer: true, handler: true });
}, 120_000);

afterAll(async () => {
  await mesh?.stop();
});

describe("prescient serve, one service per process", () => {
  it("computes a miss through the cache, a remote executor and a remote predictor", async () => {
    const r = await prescient(
      "lookup",
      "acme/ctr_prediction/split-ad",
      "--on-miss",
      "compute",
      "--features",
      ctrFeatures,
      "--json",
      "--addr",
      mesh.addr.cache,
    );
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toMatchObject({ computed: true, model_name: "ctr_prediction" });
  });

  it("runs a queued task on the remote predictor and writes it to the remote cache", async () => {
    const q = await prescient(
      "enqueue",
      "acme/ctr_prediction/split-queued",
      "--features",
      ctrFeatures,
      "--json",
      "--addr",
      mesh.addr.executor,
    );
    expect(q.stderr).toBe("");
    let hit = false;
    for (let i = 0; i < 50 && !hit; i++) {
      const l = await prescient(
        "lookup",
        "acme/ctr_prediction/split-queued",
        "--json",
        "--addr",
        mesh.addr.cache,
      );
      hit = JSON.parse(l.stdout).hit === true;
      if (!hit) await new Promise((r) => setTimeout(r, 100));
    }
    expect(hit).toBe(true);
  });

  it("runs a user_login through to cache hits, its external tasks on the task-handler process", async () => {
    const tenant = `split${randomUUID().slice(0, 8)}`;
    const user = "u-login";
    const campaign = "camp-login";
    const { cache, precomputer, executor: executorAddr, predictor, analyzer: analyzerAddr } = mesh.addr;
    if (analyzerAddr === undefined) throw new Error("the split was started without its analyzer");
    const client = createClient({
      address: cache,
      services: { precomputer, executor: executorAddr, predictor },
      deadlineMs: 10_000,
    });
    const executor = new executorV1.ExecutorServiceClient(executorAddr, credentials.createInsecure());
    const analyzer = new analyzerV1.AnalyzerServiceClient(analyzerAddr, credentials.createInsecure());
    try {
      // The user creates a campaign: the analyzer relates the two, so the login warms its analytics.
      const created = await client.trigger({
        type: "campaign_created",
        tenant,
        entityId: campaign,
        userId: user,
        features: campaignFeatures,
      });
      // The precomputer reports events to the analyzer without waiting; the login must find the relation.
      await eventually("the analyzer to relate the user to the campaign", async () => {
        const r = await callUnary(analyzer.relatedEntities.bind(analyzer), {
          tenant,
          subject: user,
          limit: 10,
          taskType: "campaign_analytics",
        });
        return r.entities.some((e) => e.entityId === campaign) ? true : undefined;
      });

      const login = await client.trigger({ type: "user_login", tenant, userId: user });
      expect(login.queued.dashboard_data).toHaveLength(1);
      expect(login.queued.campaign_analytics?.length).toBeGreaterThanOrEqual(1);

      // Every task of both events completes: a dead one fails the test with its error.
      const ids = [...Object.values(created.queued), ...Object.values(login.queued)].flat();
      for (const id of ids) {
        await eventually(`task ${id}`, async () => {
          const { task } = await callUnary(executor.getTask.bind(executor), { id });
          if (task?.state === executorV1.TaskState.TASK_STATE_DEAD)
            throw new Error(`${task.key} dead-lettered: ${task.lastError}`);
          return task?.state === executorV1.TaskState.TASK_STATE_COMPLETED ? task : undefined;
        });
      }

      const [dashboard, analytics] = await client.lookupMany([
        `${tenant}/dashboard_data/${user}`,
        `${tenant}/campaign_analytics/${campaign}`,
      ]);
      expect(dashboard).toMatchObject({ outcome: "hit", value: { kind: "json", json: { user } } });
      expect(analytics).toMatchObject({ outcome: "hit", value: { kind: "json", json: { campaign } } });
      for (const hit of [dashboard, analytics])
        expect(hit?.raw?.modelName).toBe("prescient-reference-handler");

      const dead = await callUnary(executor.listDeadLetters.bind(executor), {
        pageSize: 1000,
        pageToken: "",
      });
      const ours = dead.tasks.filter((t) => t.tenant === tenant);
      expect(ours.map((t) => `${t.key}: ${t.lastError}`)).toEqual([]);
    } finally {
      client.close();
      executor.close();
      analyzer.close();
    }
  });
});
