import { randomUUID } from "node:crypto";
import { isUnavailable } from "@prescient/core";
import { Redis } from "ioredis";
import { afterAll, describe, expect, inject, it } from "vitest";
import { executorOptionsFromEnv } from "../options.js";
import { resolveTaskQueueOptions } from "./options.js";
import { task } from "./queue-conformance.test-util.js";
import { deleteQueue } from "./redis-queue.test-util.js";
import { RedisTaskQueue } from "./redis-task-queue.js";

// The failover itself, and WAIT's cost, are in failover.test.ts (a private cluster).
describe("durableEnqueue: options", () => {
  it("is off by default and validated", () => {
    expect(resolveTaskQueueOptions().durableEnqueue).toBeUndefined();
    expect(
      resolveTaskQueueOptions({ durableEnqueue: { replicas: 2, timeoutMs: 100 } }).durableEnqueue,
    ).toEqual({
      replicas: 2,
      timeoutMs: 100,
    });
    for (const bad of [
      { replicas: 0, timeoutMs: 100 },
      { replicas: 17, timeoutMs: 100 },
      { replicas: 1.5, timeoutMs: 100 },
    ])
      expect(() => resolveTaskQueueOptions({ durableEnqueue: bad })).toThrow(/durableEnqueue.replicas/);
    // WAIT's timeout 0 would block for ever.
    expect(() => resolveTaskQueueOptions({ durableEnqueue: { replicas: 1, timeoutMs: 0 } })).toThrow(
      /durableEnqueue.timeoutMs/,
    );
  });

  it("reads PRESCIENT_QUEUE_DURABLE_REPLICAS and _TIMEOUT_MS, naming the variable when wrong", () => {
    expect(executorOptionsFromEnv({}).queue?.durableEnqueue).toBeUndefined();
    expect(executorOptionsFromEnv({ PRESCIENT_QUEUE_DURABLE_REPLICAS: "1" }).queue?.durableEnqueue).toEqual({
      replicas: 1,
      timeoutMs: 1_000,
    });
    expect(
      executorOptionsFromEnv({
        PRESCIENT_QUEUE_DURABLE_REPLICAS: "2",
        PRESCIENT_QUEUE_DURABLE_TIMEOUT_MS: "250",
      }).queue?.durableEnqueue,
    ).toEqual({ replicas: 2, timeoutMs: 250 });
    for (const bad of ["0", "17", "one"])
      expect(() => executorOptionsFromEnv({ PRESCIENT_QUEUE_DURABLE_REPLICAS: bad })).toThrow(
        /PRESCIENT_QUEUE_DURABLE_REPLICAS/,
      );
    expect(() =>
      executorOptionsFromEnv({
        PRESCIENT_QUEUE_DURABLE_REPLICAS: "1",
        PRESCIENT_QUEUE_DURABLE_TIMEOUT_MS: "0",
      }),
    ).toThrow(/PRESCIENT_QUEUE_DURABLE_TIMEOUT_MS/);
    expect(() => executorOptionsFromEnv({ PRESCIENT_QUEUE_DURABLE_TIMEOUT_MS: "100" })).toThrow(
      /PRESCIENT_QUEUE_DURABLE_TIMEOUT_MS needs PRESCIENT_QUEUE_DURABLE_REPLICAS/,
    );
  });
});

describe("durableEnqueue on a node without replicas", () => {
  const redis = new Redis(inject("redisUrl"));
  const keyPrefix = `test-executor-durable-${randomUUID().slice(0, 8)}`;
  afterAll(async () => {
    await deleteQueue(redis, keyPrefix);
    await redis.quit();
  });

  it("fails UNAVAILABLE when too few replicas acknowledge, and the retry merges into the written task", async () => {
    const durable = new RedisTaskQueue(redis, { keyPrefix, durableEnqueue: { replicas: 1, timeoutMs: 20 } });
    const plain = new RedisTaskQueue(redis, { keyPrefix });
    const t = task("durable-1");
    const failed = await durable.enqueue(t).catch((e: unknown) => e);
    expect(isUnavailable(failed)).toBe(true);
    expect(String(failed)).toMatch(/0 of 1 replicas acknowledged within 20 ms/);
    // The write landed on the master; a retry (here without WAIT) finds it.
    const written = await plain.getByKey(t.key);
    expect(written?.state).toBe("queued");
    expect(await plain.enqueue(t)).toEqual({ taskId: written?.id, deduplicated: true });
    // A refused enqueue (queue full) is not turned into UNAVAILABLE.
    const full = new RedisTaskQueue(redis, {
      keyPrefix,
      capacity: 1,
      durableEnqueue: { replicas: 1, timeoutMs: 20 },
    });
    await expect(full.enqueue(task("durable-2"))).rejects.toThrow(/full/);
  });
});
