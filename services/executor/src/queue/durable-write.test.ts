import { randomUUID } from "node:crypto";
import { connectRedis, isCluster, keySlot } from "@prescient/kit";
import { Redis } from "ioredis";
import { afterAll, describe, expect, inject, it } from "vitest";
import { task } from "./queue-conformance.test-util.js";
import { deleteQueue } from "./redis-queue.test-util.js";
import { RedisTaskQueue } from "./redis-task-queue.js";

/** How many times a node has run `command` (INFO commandstats). */
async function calls(node: Redis, command: string): Promise<number> {
  const info = await node.info("commandstats");
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, "m").exec(info)?.[1] ?? 0);
}

describe("durableEnqueue after the master lost its scripts (real cluster)", () => {
  const redis = connectRedis(inject("redisClusterUrl"));
  const keyPrefix = `test-executor-durable-flush-${randomUUID().slice(0, 8)}`;
  let master: Redis | undefined;
  afterAll(async () => {
    if (master !== undefined) {
      await deleteQueue(master, keyPrefix);
      master.disconnect();
    }
    redis.disconnect();
  });

  it("waits again after the resent script, so replicas still acknowledge the write itself", async () => {
    const queue = new RedisTaskQueue(redis, { keyPrefix, durableEnqueue: { replicas: 1, timeoutMs: 5_000 } });
    await queue.enqueue(task("warm-1"));
    await queue.enqueue(task("warm-2"));
    if (!isCluster(redis)) throw new Error("expected a cluster client");
    const [host, port] = String(redis.slots[keySlot(`{${keyPrefix}}:types`)]?.[0]).split(":");
    master = new Redis(Number(port), host as string);
    // Cached: one WAIT per enqueue, in the script's pipeline.
    let waits = await calls(master, "wait");
    expect(await queue.enqueue(task("cached"))).toMatchObject({ deduplicated: false });
    expect((await calls(master, "wait")) - waits).toBe(1);
    // Flushed: ioredis resends the script after the pipeline's WAIT; a second WAIT follows it.
    await master.script("FLUSH");
    waits = await calls(master, "wait");
    const evals = await calls(master, "eval");
    expect(await queue.enqueue(task("after-flush"))).toMatchObject({ deduplicated: false });
    expect((await calls(master, "wait")) - waits).toBe(2);
    expect((await calls(master, "eval")) - evals).toBe(1);
    expect((await queue.getByKey(task("after-flush").key))?.state).toBe("queued");
  });
});
