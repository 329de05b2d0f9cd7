import { executorV1 } from "@prescient/contracts";
import { ServiceHost, unary } from "@prescient/kit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  type Backends,
  batchDeps,
  newTask,
  openStores,
  quietLogger,
  records,
  startBackends,
  waitFor,
} from "../worker/pipeline.test-util.js";
import { WorkerPool } from "../worker/worker-pool.js";
import { GrpcTaskHandlers } from "./task-handler-client.js";

/**
 * An external task type (scene_detection) computed by a TaskHandlerService
 * that the test implements on loopback, as a user would: the whole group
 * arrives in one Handle call, and an item's error fails that item alone.
 */
const redisUrl = inject("redisUrl");
const tenant = "studio";
const handleCalls: executorV1.HandleRequest[] = [];
let handlerHost: ServiceHost;
let backends: Backends;

/** Scenes "detected" from the video's stored duration; bad-* fail, silent-* are left unanswered. */
async function handle(request: executorV1.HandleRequest): Promise<executorV1.HandleResponse> {
  handleCalls.push(request);
  const results = request.items
    .filter((item) => !item.entityId.startsWith("silent-"))
    .map((item): executorV1.HandleItemResult => {
      if (item.entityId.startsWith("bad-"))
        return {
          taskId: item.taskId,
          error: "cannot decode the video stream",
          modelName: "",
          modelVersion: "",
        };
      const duration = item.features.duration_s?.number ?? 0;
      const body = JSON.stringify({ scenes: Math.ceil(duration / 10), entity: item.entityId });
      return {
        taskId: item.taskId,
        value: { payload: Buffer.from(body), contentType: "application/json" },
        modelName: "scene-detector",
        modelVersion: "2024.1",
      };
    });
  return { results };
}

beforeAll(async () => {
  handlerHost = new ServiceHost({ address: "127.0.0.1:0", logger: quietLogger, drainTimeoutMs: 1000 });
  handlerHost.addService("prescient.executor.v1.TaskHandlerService", executorV1.TaskHandlerServiceService, {
    handle: unary("prescient.executor.v1.TaskHandlerService", "Handle", handle),
  });
  await handlerHost.start();
  backends = await startBackends();
}, 60_000);
afterAll(async () => {
  await Promise.all([handlerHost.shutdown(), backends.close()]);
});

describe("external task types", () => {
  it("send the whole group in one Handle call; per-item errors fail only those items", async () => {
    const stores = await openStores("redis", redisUrl, {
      maxAttempts: 2,
      backoffBaseMs: 20,
      backoffMaxMs: 40,
    });
    const handlers = new GrpcTaskHandlers(handlerHost.address);
    const pool = new WorkerPool(stores.queue, batchDeps(stores, backends, { handlers }), {
      claimSize: 100,
      batchesInFlight: 1,
      maxIdleMs: 20,
      logger: quietLogger,
    });
    try {
      const entities = ["video-1", "video-2", "video-3", "bad-4", "video-5", "silent-6"];
      await stores.entities.upsertMany(
        entities.map((entityId, i) => ({
          tenant,
          entityId,
          features: { duration_s: 30 + i * 10, codec: "h264" },
        })),
      );
      const ids = (
        await stores.queue.enqueueMany(entities.map((id) => newTask(tenant, "scene_detection", id)))
      ).map((r) => r.taskId);
      backends.sink.calls.length = 0;
      pool.start();
      await waitFor("the batch to settle", async () => {
        const s = (await stores.queue.stats()).total;
        return s.completed === 4 && s.dead === 2;
      });

      // First attempt: one call with all six; the retries: the two that failed, and only those.
      expect(handleCalls[0]?.taskType).toBe("scene_detection");
      expect(handleCalls[0]?.items.map((i) => i.entityId)).toEqual(entities);
      expect(handleCalls[0]?.items[0]).toMatchObject({
        tenant,
        key: `${tenant}/scene_detection/video-1`,
        features: { duration_s: { number: 30 }, codec: { text: "h264" } },
      });
      // Retries are scheduled with jitter, so the two may come back in either order.
      expect(
        handleCalls
          .slice(1)
          .flatMap((c) => c.items.map((i) => i.entityId))
          .sort(),
      ).toEqual(["bad-4", "silent-6"]);
      expect(backends.sink.calls[0]).toBe(4);

      const [, , , bad, good, silent] = await records(stores.queue, ids);
      expect(good?.state).toBe("completed");
      expect(bad).toMatchObject({
        state: "dead",
        attempts: 2,
        lastError: "task handler: cannot decode the video stream",
      });
      expect(silent).toMatchObject({
        state: "dead",
        lastError: "task handler returned no result for this task",
      });

      const hit = await backends.lookup({ tenant, taskType: "scene_detection", entityId: "video-5" });
      expect(hit.result).toMatchObject({ modelName: "scene-detector", modelVersion: "2024.1" });
      expect(JSON.parse(Buffer.from(hit.result?.value?.payload ?? []).toString())).toEqual({
        scenes: 7, // 70 s of video, one scene per 10 s
        entity: "video-5",
      });
    } finally {
      await pool.stop();
      handlers.close();
      await stores.close();
    }
  });

  it("send a group bigger than rowsPerCall in Handle calls of at most rowsPerCall", async () => {
    const stores = await openStores("redis", redisUrl);
    const handlers = new GrpcTaskHandlers(handlerHost.address);
    const pool = new WorkerPool(stores.queue, batchDeps(stores, backends, { handlers }), {
      claimSize: 50,
      rowsPerCall: 20,
      batchesInFlight: 1,
      maxIdleMs: 20,
      logger: quietLogger,
    });
    try {
      const entities = Array.from({ length: 50 }, (_, i) => `long-${i}`);
      await stores.entities.upsertMany(
        entities.map((entityId) => ({ tenant, entityId, features: { duration_s: 40 } })),
      );
      await stores.queue.enqueueMany(entities.map((id) => newTask(tenant, "scene_detection", id)));
      const before = handleCalls.length;
      pool.start();
      await waitFor("50 completed", async () => pool.counters.completed === 50);
      const calls = handleCalls.slice(before);
      expect(calls.map((c) => c.items.length).sort((a, b) => a - b)).toEqual([10, 20, 20]);
      expect(
        calls
          .flatMap((c) => c.items.map((i) => i.entityId))
          .sort()
          .join(),
      ).toBe([...entities].sort().join());
    } finally {
      await pool.stop();
      handlers.close();
      await stores.close();
    }
  });

  it("fail the group transiently when the handler is unreachable", async () => {
    const stores = await openStores("memory", redisUrl, { maxAttempts: 1 });
    const handlers = new GrpcTaskHandlers(undefined);
    const pool = new WorkerPool(stores.queue, batchDeps(stores, backends, { handlers }), {
      maxIdleMs: 20,
      logger: quietLogger,
    });
    try {
      await stores.entities.upsertMany([{ tenant, entityId: "v", features: { duration_s: 5 } }]);
      const [r] = await stores.queue.enqueueMany([newTask(tenant, "caption_generation", "v")]);
      pool.start();
      await waitFor("the task to die", async () => (await stores.queue.stats()).total.dead === 1);
      const [dead] = await records(stores.queue, [r?.taskId ?? ""]);
      expect(dead?.lastError).toMatch(
        /^task handler failed: no task handler for external task type caption_generation/,
      );
    } finally {
      await pool.stop();
      await stores.close();
    }
  });
});
