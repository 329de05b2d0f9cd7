import { countFailures } from "@prescient/kit";
import { metricValue } from "@prescient/kit/testing";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterEach, describe, expect, inject, it, onTestFinished } from "vitest";
import { RedisTaskQueue } from "../queue/index.js";
import { QueueMetrics } from "../queue-metrics.js";
import {
  batchDeps,
  newTask,
  openStores,
  quietLogger,
  type StoreKind,
  type Stores,
  waitFor,
} from "./pipeline.test-util.js";
import type { ResultSink, TaskHandlers } from "./ports.js";
import { WorkerMetrics } from "./worker-metrics.js";
import { WorkerPool } from "./worker-pool.js";

/**
 * The executor's metrics against real queues: tasks enqueued at known
 * priorities and driven by a worker pool to each outcome (scene_detection
 * completes, face_detection fails and is retried, ctr_prediction without
 * features is dead-lettered at once), then read back from a scrape.
 */
const redisUrl = inject("redisUrl");
const tenant = "acme";

/** External handlers: scenes are found, faces fail (a transient error, so they are retried). */
const handlers: TaskHandlers = {
  async handle(taskType, _handler, items) {
    return items.map((i) =>
      taskType === "face_detection"
        ? { taskId: i.taskId, error: "face model is down" }
        : {
            taskId: i.taskId,
            value: { json: "{}", contentType: "application/json" },
            modelName: "scenes",
            modelVersion: "1",
          },
    );
  },
};
const sink: ResultSink = { putMany: async () => {} };
const unusedPredictor = { infer: () => Promise.reject(new Error("no model calls in this test")), close() {} };

describe.each<StoreKind>(["memory", "redis"])("executor metrics on the %s queue", (kind) => {
  let stores: Stores;
  let pool: WorkerPool | undefined;

  afterEach(async () => {
    await pool?.stop();
    pool = undefined;
    await stores.close();
  });

  it("counts depth by priority, states by type, claims, outcomes and their durations", async () => {
    // A long backoff keeps retried tasks waiting, so each is failed exactly once here.
    stores = await openStores(kind, redisUrl, {
      maxAttempts: 3,
      backoffBaseMs: 600_000,
      backoffMaxMs: 600_000,
    });
    const registry = new Registry();
    const queueMetrics = QueueMetrics.for(registry);
    queueMetrics.queue = stores.queue;
    await stores.queue.enqueueMany([
      ...["s1", "s2", "s3"].map((e) => newTask(tenant, "scene_detection", e, 7)),
      ...["f1", "f2"].map((e) => newTask(tenant, "face_detection", e, 3)),
      newTask(tenant, "ctr_prediction", "no-features", 5),
    ]);

    let text = await registry.metrics();
    expect(metricValue(text, "prescient_executor_queue_depth", { priority: "7" })).toBe(3);
    expect(metricValue(text, "prescient_executor_queue_depth", { priority: "3" })).toBe(2);
    expect(metricValue(text, "prescient_executor_queue_depth", { priority: "5" })).toBe(1);
    expect(metricValue(text, "prescient_executor_queue_depth", { priority: "10" })).toBe(0);
    expect(
      metricValue(text, "prescient_executor_queue_tasks", { task_type: "scene_detection", state: "queued" }),
    ).toBe(3);

    const metrics = WorkerMetrics.for(registry);
    pool = new WorkerPool(
      stores.queue,
      batchDeps(stores, { predictor: unusedPredictor, sink }, { handlers }),
      {
        claimSize: 64,
        batchesInFlight: 1,
        maxIdleMs: 20,
        logger: quietLogger,
        metrics,
      },
    );
    pool.start();
    await waitFor("every task settled", async () => {
      const t = (await stores.queue.stats()).total;
      return t.completed === 3 && t.failed === 2 && t.dead === 1;
    });
    await pool.stop();

    text = await registry.metrics();
    expect(metricValue(text, "prescient_executor_claim_batch_size_count")).toBe(1);
    expect(metricValue(text, "prescient_executor_claim_batch_size_sum")).toBe(6);
    expect(metricValue(text, "prescient_executor_tasks_in_flight")).toBe(0);
    expect(
      metricValue(text, "prescient_executor_tasks_dead_lettered_total", { task_type: "ctr_prediction" }),
    ).toBe(1);
    expect(metricValue(text, "prescient_executor_task_retries_total", { task_type: "face_detection" })).toBe(
      2,
    );
    expect(metricValue(text, "prescient_executor_task_retries_total", { task_type: "scene_detection" })).toBe(
      undefined,
    );
    const count = (taskType: string, outcome: string) =>
      metricValue(text, "prescient_executor_task_duration_seconds_count", { task_type: taskType, outcome });
    expect(count("scene_detection", "completed")).toBe(3);
    expect(count("face_detection", "retried")).toBe(2);
    expect(count("ctr_prediction", "dead_lettered")).toBe(1);
    expect(
      metricValue(text, "prescient_executor_queue_tasks", { task_type: "face_detection", state: "failed" }),
    ).toBe(2);
    expect(
      metricValue(text, "prescient_executor_queue_tasks", { task_type: "ctr_prediction", state: "dead" }),
    ).toBe(1);
    expect(metricValue(text, "prescient_executor_queue_tasks", { state: "queued" })).toBe(0);
    expect(metricValue(text, "prescient_executor_dead_letters")).toBe(1);
  });

  it("holds tasks in flight while their batch runs", async () => {
    stores = await openStores(kind, redisUrl);
    const registry = new Registry();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow: TaskHandlers = {
      async handle(taskType, handler, items) {
        await held;
        return handlers.handle(taskType, handler, items);
      },
    };
    await stores.queue.enqueueMany(["a", "b"].map((e) => newTask(tenant, "scene_detection", e)));
    pool = new WorkerPool(
      stores.queue,
      batchDeps(stores, { predictor: unusedPredictor, sink }, { handlers: slow }),
      {
        claimSize: 64,
        batchesInFlight: 1,
        maxIdleMs: 20,
        logger: quietLogger,
        metrics: WorkerMetrics.for(registry),
      },
    );
    pool.start();
    const inFlight = async () => metricValue(await registry.metrics(), "prescient_executor_tasks_in_flight");
    await waitFor("two tasks in flight", async () => (await inFlight()) === 2);
    release();
    await waitFor("none in flight", async () => (await inFlight()) === 0);
  });
});

describe("executor metrics when Redis is down", () => {
  it("counts the failed store operations and keeps the last gauge values", async () => {
    const redis = new Redis(redisUrl);
    const keyPrefix = `test-metrics-down-${process.pid}-${Date.now()}`;
    onTestFinished(async () => {
      const cleaner = new Redis(redisUrl);
      const keys = await cleaner.keys(`*${keyPrefix}*`);
      if (keys.length > 0) await cleaner.unlink(...keys);
      await cleaner.quit();
    });
    const registry = new Registry();
    const metrics = QueueMetrics.for(registry);
    const queue = countFailures(new RedisTaskQueue(redis, { keyPrefix }), metrics.onStoreError);
    metrics.queue = queue;
    await queue.enqueueMany([newTask(tenant, "scene_detection", "x", 9)]);
    expect(metricValue(await registry.metrics(), "prescient_executor_queue_depth", { priority: "9" })).toBe(
      1,
    );
    redis.disconnect();

    expect(metricValue(await registry.metrics(), "prescient_executor_queue_depth", { priority: "9" })).toBe(
      1,
    );
    // The counter is read alongside the failing gauges, so the failures show from the next scrape.
    const text = await registry.metrics();
    expect(metricValue(text, "prescient_executor_queue_depth", { priority: "9" })).toBe(1);
    expect(
      metricValue(text, "prescient_executor_store_errors_total", { operation: "stats" }),
    ).toBeGreaterThan(0);
    expect(
      metricValue(text, "prescient_executor_store_errors_total", { operation: "countDeadLetters" }),
    ).toBeGreaterThan(0);
    await expect(queue.claim(1, { workerId: "w" })).rejects.toThrow(/unavailable/);
    await expect(
      queue.enqueue({ ...newTask(tenant, "scene_detection", "y"), priority: 99 }),
    ).rejects.toThrow();
    const after = await registry.metrics();
    expect(metricValue(after, "prescient_executor_store_errors_total", { operation: "claim" })).toBe(1);
    // Bad input is the caller's error, not the store's.
    expect(metricValue(after, "prescient_executor_store_errors_total", { operation: "enqueue" })).toBe(
      undefined,
    );
  });
});
