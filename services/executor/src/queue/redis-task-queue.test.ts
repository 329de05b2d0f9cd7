import { randomUUID } from "node:crypto";
import { isUnavailable, ManualClock } from "@prescient/core";
import { connectRedis } from "@prescient/kit";
import { Redis } from "ioredis";
import { afterAll, describe, expect, inject, it } from "vitest";
import { task, taskQueueConformance } from "./queue-conformance.test-util.js";
import { deleteQueue } from "./redis-queue.test-util.js";
import { RedisTaskQueue } from "./redis-task-queue.js";

const url = inject("redisUrl");
/** Every test gets its own queue namespace under this file's prefix, deleted afterwards. */
const filePrefix = `test-executor-queue-${randomUUID().slice(0, 8)}`;
let n = 0;

for (const partitions of [1, 3])
  taskQueueConformance(
    `RedisTaskQueue, ${partitions} partition${partitions === 1 ? "" : "s"}`,
    async (options, clock) => {
      const keyPrefix = `${filePrefix}-${++n}`;
      const connections: Redis[] = [];
      const connect = (): RedisTaskQueue => {
        const redis = new Redis(url, { lazyConnect: false });
        connections.push(redis);
        return new RedisTaskQueue(redis, { partitions, ...options, keyPrefix }, clock);
      };
      const queue = connect();
      return {
        queue,
        peer: async () => connect(),
        // Retention is a Redis PEXPIRE, which runs on Redis's own clock.
        elapse: async (ms) => {
          clock.advance(ms);
          await new Promise((resolve) => setTimeout(resolve, ms));
        },
        close: async () => {
          await deleteQueue(connections[0] as Redis, keyPrefix);
          await Promise.all(connections.map((c) => c.quit()));
        },
      };
    },
    { partitions },
  );

// On the real 3-master cluster every partition script must keep to its slot.
// Keys are left behind: SCAN sees one node, and the prefixes are unique to the run.
taskQueueConformance(
  "RedisTaskQueue, 3 partitions on a Redis Cluster",
  async (options, clock) => {
    const keyPrefix = `${filePrefix}-cluster-${++n}`;
    const connections: ReturnType<typeof connectRedis>[] = [];
    const connect = (): RedisTaskQueue => {
      const redis = connectRedis(inject("redisClusterUrl"));
      connections.push(redis);
      return new RedisTaskQueue(redis, { partitions: 3, ...options, keyPrefix }, clock);
    };
    const queue = connect();
    return {
      queue,
      peer: async () => connect(),
      elapse: async (ms) => {
        clock.advance(ms);
        await new Promise((resolve) => setTimeout(resolve, ms));
      },
      close: async () => {
        await Promise.all(connections.map((c) => c.quit()));
      },
    };
  },
  { partitions: 3 },
);

describe("RedisTaskQueue on Redis", () => {
  const redis = new Redis(url);
  afterAll(async () => {
    await redis.quit();
  });

  it("keeps every key of a queue under one hash tag (one cluster slot)", async () => {
    const keyPrefix = `${filePrefix}-slot`;
    const queue = new RedisTaskQueue(redis, { keyPrefix, maxAttempts: 1 }, new ManualClock(1_000));
    await queue.enqueueMany([task("a"), task("b", 5, { notBefore: 5_000, taskType: "video_analysis" })]);
    const [claimed] = await queue.claim(1, { workerId: "w" });
    await queue.fail(claimed?.id ?? "", "x");
    await queue.pause();
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, found] = await redis.scan(cursor, "MATCH", `*${keyPrefix}*`, "COUNT", 1000);
      keys.push(...found);
      cursor = next;
    } while (cursor !== "0");
    expect(keys.length).toBeGreaterThan(8);
    for (const k of keys) expect(k.startsWith(`{${keyPrefix}}:`), k).toBe(true);
    await deleteQueue(redis, keyPrefix);
  });

  it("reloads its scripts after SCRIPT FLUSH", async () => {
    const keyPrefix = `${filePrefix}-flush`;
    const queue = new RedisTaskQueue(redis, { keyPrefix });
    await queue.enqueue(task("a"));
    await redis.script("FLUSH");
    expect(await queue.claim(1, { workerId: "w" })).toHaveLength(1);
    await deleteQueue(redis, keyPrefix);
  });

  it("answers UnavailableError when Redis cannot be reached", async () => {
    const down = new Redis("redis://127.0.0.1:1", {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    down.on("error", () => {});
    const queue = new RedisTaskQueue(down, { keyPrefix: `${filePrefix}-down` });
    let error: unknown;
    try {
      await queue.enqueue(task("a"));
    } catch (e) {
      error = e;
    }
    expect(isUnavailable(error), String(error)).toBe(true);
    down.disconnect();
  });
});
