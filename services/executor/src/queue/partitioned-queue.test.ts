import { randomUUID } from "node:crypto";
import { isInvalidArgument, isResourceExhausted, ManualClock } from "@prescient/core";
import { connectRedis } from "@prescient/kit";
import { Redis } from "ioredis";
import { afterAll, describe, expect, inject, it } from "vitest";
import { executorOptionsFromEnv } from "../options.js";
import { MemoryTaskQueue } from "./memory-task-queue.js";
import { resolveTaskQueueOptions, type TaskQueueOptions } from "./options.js";
import { partitionOfId, partitionOfKey, partitionShare } from "./partitions.js";
import { task } from "./queue-conformance.test-util.js";
import { deleteQueue, entitiesIn } from "./redis-queue.test-util.js";
import { RedisTaskQueue } from "./redis-task-queue.js";

const filePrefix = `test-executor-partitions-${randomUUID().slice(0, 8)}`;
let n = 0;
const worker = { workerId: "w" };
const entityOf = (key: string): string => key.slice(key.lastIndexOf("/") + 1);

describe("queue partitions: routing and options", () => {
  it("routes a key to one partition, spread evenly", () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) {
      const p = partitionOfKey(task(`e${i}`).key, 3);
      expect(partitionOfKey(task(`e${i}`).key, 3)).toBe(p);
      counts[p] = (counts[p] ?? 0) + 1;
    }
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(partitionOfKey(task("x").key, 1)).toBe(0);
  });

  it("reads the partition from the id, and unprefixed ids (old ones too) are partition 0", () => {
    expect(partitionOfId(`12-${"a".repeat(24)}`)).toBe(0);
    expect(partitionOfId("12")).toBe(0);
    expect(partitionOfId(`2.12-${"a".repeat(24)}`)).toBe(2);
  });

  it("splits capacities so that the shares add up to the total", () => {
    for (const [total, parts] of [
      [10, 3],
      [3, 3],
      [1_000_000, 7],
    ] as const) {
      const shares = Array.from({ length: parts }, (_, p) => partitionShare(total, parts, p));
      expect(shares.reduce((a, b) => a + b, 0)).toBe(total);
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
    }
  });

  it("defaults to 1 partition and validates the option and PRESCIENT_QUEUE_PARTITIONS", () => {
    expect(resolveTaskQueueOptions().partitions).toBe(1);
    for (const bad of [0, 1.5, 257])
      expect(() => resolveTaskQueueOptions({ partitions: bad })).toThrow(/partitions/);
    expect(() => resolveTaskQueueOptions({ partitions: 4, capacity: 3 })).toThrow(/at least partitions/);
    expect(executorOptionsFromEnv({ PRESCIENT_QUEUE_PARTITIONS: "3" }).queue).toMatchObject({
      partitions: 3,
    });
    for (const bad of ["0", "three", "1000"])
      expect(() => executorOptionsFromEnv({ PRESCIENT_QUEUE_PARTITIONS: bad })).toThrow(
        /PRESCIENT_QUEUE_PARTITIONS/,
      );
    // The memory queue takes the shared option and ignores it.
    expect(new MemoryTaskQueue({ partitions: 3 }).options.partitions).toBe(3);
  });
});

const stores = [
  ["one Redis", () => new Redis(inject("redisUrl"))],
  ["the Redis Cluster", () => connectRedis(inject("redisClusterUrl"))],
] as const;

describe.each(stores)("a 3-partition queue on %s", (where, connect) => {
  const redis = connect();
  const prefixes: string[] = [];
  afterAll(async () => {
    // SCAN on a cluster sees one node: cluster keys are left behind (unique prefixes).
    if (redis instanceof Redis) for (const p of prefixes) await deleteQueue(redis, p);
    await redis.quit();
  });
  const open = (options: Partial<TaskQueueOptions> = {}, clock = new ManualClock(1_000)): RedisTaskQueue => {
    const keyPrefix = `${filePrefix}-${++n}`;
    prefixes.push(keyPrefix);
    return new RedisTaskQueue(redis, { partitions: 3, keyPrefix, ...options }, clock);
  };

  it("dedups a key however it is batched: one key, one partition, one task", async () => {
    const queue = open();
    const keys = Array.from({ length: 60 }, (_, i) => `k${i}`);
    const first = await queue.enqueueMany(keys.map((k) => task(k, 3)));
    expect(new Set(first.map((r) => partitionOfId(r.taskId)))).toEqual(new Set([0, 1, 2]));
    first.forEach((r, i) => {
      expect(partitionOfId(r.taskId)).toBe(partitionOfKey(task(keys[i] ?? "").key, 3));
    });
    // Again in other batches and orders, some one at a time, with a higher priority.
    const again = [
      ...(await queue.enqueueMany(
        [...keys]
          .reverse()
          .slice(0, 30)
          .map((k) => task(k, 7, { reason: "miss" })),
      )),
      ...(await Promise.all(
        [...keys]
          .reverse()
          .slice(30)
          .map((k) => queue.enqueue(task(k, 7, { reason: "miss" }))),
      )),
    ].reverse();
    expect(again.every((r) => r.deduplicated)).toBe(true);
    expect(again.map((r) => r.taskId)).toEqual(first.map((r) => r.taskId));
    expect((await queue.stats()).total.queued).toBe(60);
    expect(await queue.getByKey(task("k7").key)).toMatchObject({ id: first[7]?.taskId, priority: 7 });
    const claimed = await queue.claim(100, worker);
    expect(claimed).toHaveLength(60);
    expect(claimed.every((t) => t.reasons.includes("miss") && t.priority === 7)).toBe(true);
  });

  it("claims round-robin from every partition, in priority order within each", async () => {
    const queue = open();
    const per = [0, 1, 2].map((p) => entitiesIn(p, 3, 3, `rr${p}-`));
    // Priorities 1, 5, 10 in each partition, enqueued lowest first.
    await queue.enqueueMany(per.flatMap((entities) => entities.map((e, i) => task(e, [1, 5, 10][i]))));
    const rounds: number[] = [];
    const byPartition = new Map<number, number[]>();
    for (let i = 0; i < 9; i++) {
      const [t] = await queue.claim(1, worker);
      if (t === undefined) throw new Error("expected a task");
      const p = partitionOfId(t.id);
      rounds.push(p);
      byPartition.set(p, [...(byPartition.get(p) ?? []), t.priority]);
    }
    // Each run of three claims visits every partition once.
    for (let r = 0; r < 9; r += 3) expect(new Set(rounds.slice(r, r + 3))).toEqual(new Set([0, 1, 2]));
    for (const priorities of byPartition.values()) expect(priorities).toEqual([10, 5, 1]);
    expect(await queue.claim(5, worker)).toEqual([]);
  });

  it("fills a claim of n from several partitions when one has fewer", async () => {
    const queue = open();
    const a = entitiesIn(0, 3, 2, "fa");
    const b = entitiesIn(2, 3, 5, "fb");
    await queue.enqueueMany([...a, ...b].map((e) => task(e)));
    const first = await queue.claim(4, worker);
    expect(first).toHaveLength(4);
    const second = await queue.claim(4, worker);
    expect(second).toHaveLength(3);
    expect([...first, ...second].map((t) => entityOf(t.key)).sort()).toEqual([...a, ...b].sort());
    const ids = [...first, ...second].map((t) => t.id);
    expect(await queue.ack(ids)).toEqual({ completed: 7, refused: [] });
    // Refused ones come back in the order given, each once, whichever partition held them.
    expect(await queue.ack([...ids].reverse())).toEqual({ completed: 0, refused: [...ids].reverse() });
  });

  it("adds stats up over the partitions, as one memory queue counts them", async () => {
    const clock = new ManualClock(1_000);
    const queue = open({ capacity: 1_000, maxAttempts: 1 }, clock);
    const memory = new MemoryTaskQueue({ capacity: 1_000, maxAttempts: 1 }, clock);
    const tasks = Array.from({ length: 40 }, (_, i) =>
      task(`s${i}`, 1 + (i % 10), {
        taskType: i % 4 === 0 ? "video_analysis" : "ctr_prediction",
        ...(i % 7 === 0 ? { notBefore: 50_000 } : {}),
      }),
    );
    for (const q of [queue, memory]) {
      await q.enqueueMany(tasks);
      const claimed = await q.claim(40, { ...worker, taskTypes: ["video_analysis"] });
      await q.ack(claimed.slice(0, 3).map((t) => t.id));
      await q.fail(claimed[3]?.id ?? "", "boom");
    }
    const [stats, expected] = await Promise.all([queue.stats(), memory.stats()]);
    expect(stats).toEqual(expected);
    expect(stats.total).toMatchObject({ completed: 3, dead: 1 });
    expect(await queue.countDeadLetters()).toBe(1);
  });

  it("holds each partition to its share of the capacity; a batch is refused whole", async () => {
    const queue = open({ capacity: 6 });
    const [p0, p1] = [entitiesIn(0, 3, 3, "c0-"), entitiesIn(1, 3, 3, "c1-")];
    await queue.enqueueMany([task(p1[0] ?? ""), task(p1[1] ?? "")]);
    // Partition 1 is at its share (2 of 6): this batch over partitions 0 and 1 is refused whole.
    const error = await queue.enqueueMany([task(p0[0] ?? ""), task(p1[2] ?? "")]).catch((e: unknown) => e);
    expect(isResourceExhausted(error), String(error)).toBe(true);
    expect(String(error)).toMatch(/partition 1 \(of 3.*2 of 2 tasks/);
    expect((await queue.stats()).size).toBe(2);
    // Dedup into a full partition still works, and the other partitions take theirs.
    expect((await queue.enqueue(task(p1[0] ?? "", 9))).deduplicated).toBe(true);
    await queue.enqueueMany(p0.slice(0, 2).map((e) => task(e)));
    expect((await queue.stats()).size).toBe(4);
  });

  // An upgrade in place is a single-Redis matter: a cluster deployment starts partitioned.
  if (where === "one Redis") {
    it("keeps the unpartitioned layout and ids in partition 0, so an upgrade keeps its queue", async () => {
      const clock = new ManualClock(1_000);
      const one = open({ partitions: 1 }, clock);
      const before = await one.enqueueMany(["u1", "u2", "u3"].map((e) => task(e)));
      expect(before.every((r) => /^[1-9][0-9]*-[0-9a-f]{24}$/.test(r.taskId))).toBe(true);
      const base = `{${one.options.keyPrefix}}:`;
      expect(await redis.exists(`${base}task:${before[0]?.taskId}`)).toBe(1);
      const three = new RedisTaskQueue(redis, { ...one.options, partitions: 3 }, clock);
      expect((await three.get(before[1]?.taskId ?? ""))?.state).toBe("queued");
      const claimed = await three.claim(10, worker);
      expect(claimed.map((t) => t.id).sort()).toEqual(before.map((r) => r.taskId).sort());
      expect(await three.ack(claimed.map((t) => t.id))).toEqual({ completed: 3, refused: [] });
      // New tasks of partitions 1 and 2 carry their partition; a 1-partition queue does not know them.
      const p2 = entitiesIn(2, 3, 1, "up")[0] ?? "";
      const { taskId } = await three.enqueue(task(p2));
      expect(taskId).toMatch(/^2\.[1-9][0-9]*-[0-9a-f]{24}$/);
      expect(await one.get(taskId)).toBeUndefined();
      expect(await one.ack([taskId])).toEqual({ completed: 0, refused: [taskId] });
      await expect(one.listDeadLetters({ pageToken: "2.5" })).rejects.toSatisfy(isInvalidArgument);
    });
  }
});
