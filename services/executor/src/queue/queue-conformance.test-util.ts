import { formatKey, isInvalidArgument, isResourceExhausted, ManualClock } from "@prescient/core";
import { afterEach, describe, expect, it } from "vitest";
import type { TaskQueueOptions } from "./options.js";
import type { NewTask, TaskQueue, TaskReason } from "./task-queue.js";

/** One queue under test, on a fresh, empty namespace. */
export interface QueueHarness {
  queue: TaskQueue;
  /** Another handle on the same queue (for Redis: its own connection), for concurrent claimers. */
  peer(): Promise<TaskQueue>;
  /** Lets `ms` pass for record retention: the clock, plus real time where the store expires keys itself. */
  elapse(ms: number): Promise<void>;
  close(): Promise<void>;
}

export type QueueFactory = (options: Partial<TaskQueueOptions>, clock: ManualClock) => Promise<QueueHarness>;

const t0 = 1_700_000_000_000;
const worker = { workerId: "w1" };

export function task(entity: string, priority = 5, extra: Partial<NewTask> = {}): NewTask {
  const taskType = extra.taskType ?? "ctr_prediction";
  const tenant = extra.tenant ?? "acme";
  return {
    key: formatKey({ tenant, taskType, entityId: entity }),
    taskType,
    tenant,
    priority,
    reason: "trigger",
    ...extra,
  };
}

const entityOf = (key: string): string => key.slice(key.lastIndexOf("/") + 1);

async function rejects(p: Promise<unknown>, guard: (e: unknown) => boolean): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(guard(e), String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error("expected a rejection");
}

/**
 * What the suite may assume of a queue. A partitioned queue (partitions > 1)
 * keeps priority order only within a partition (a task id's `p.` prefix), and
 * splits its capacities over partitions, so tests of order check it per
 * partition, and the tiny-capacity tests are left to the partition tests.
 */
export interface QueueTraits {
  partitions?: number;
}

/** A task id's partition: its `p.` prefix, or 0 without one (partitions.ts). */
const partitionOf = (id: string): number => (id.includes(".") ? Number(id.slice(0, id.indexOf("."))) : 0);

/** The behaviour every TaskQueue must have; registers describe/it blocks. */
export function taskQueueConformance(name: string, factory: QueueFactory, traits: QueueTraits = {}): void {
  const partitioned = (traits.partitions ?? 1) > 1;
  /**
   * Claimed tasks in the expected order: exactly, or, partitioned, the same
   * tasks with each partition's in the expected relative order.
   */
  const expectOrder = (
    claimed: readonly { id: string; key: string }[],
    expected: readonly string[],
  ): void => {
    const got = claimed.map((t) => entityOf(t.key));
    if (!partitioned) {
      expect(got).toEqual(expected);
      return;
    }
    expect([...got].sort()).toEqual([...expected].sort());
    const byPartition = new Map<number, string[]>();
    for (const t of claimed)
      byPartition.set(partitionOf(t.id), [...(byPartition.get(partitionOf(t.id)) ?? []), entityOf(t.key)]);
    for (const entities of byPartition.values())
      expect(entities).toEqual(expected.filter((e) => entities.includes(e)));
  };
  describe(`${name} (task queue conformance)`, () => {
    let harnesses: QueueHarness[] = [];
    let clock: ManualClock;
    const open = async (options: Partial<TaskQueueOptions> = {}): Promise<QueueHarness> => {
      clock = new ManualClock(t0);
      const h = await factory({ backoffBaseMs: 1_000, backoffMaxMs: 60_000, ...options }, clock);
      harnesses.push(h);
      return h;
    };
    afterEach(async () => {
      await Promise.all(harnesses.map((h) => h.close()));
      harnesses = [];
    });

    it("claims priority 10 first and FIFO within a priority", async () => {
      const { queue } = await open();
      const prios: [string, number][] = [
        ["a", 1],
        ["b", 5],
        ["c", 10],
        ["d", 5],
        ["e", 10],
        ["f", 1],
      ];
      await queue.enqueueMany(prios.map(([e, p]) => task(e, p)));
      if (partitioned) {
        expectOrder(await queue.claim(10, worker), ["c", "e", "b", "d", "a", "f"]);
        return;
      }
      const claimed = await queue.claim(4, worker);
      expect(claimed.map((t) => entityOf(t.key))).toEqual(["c", "e", "b", "d"]);
      expect((await queue.claim(10, worker)).map((t) => entityOf(t.key))).toEqual(["a", "f"]);
      expect(await queue.claim(10, worker)).toEqual([]);
    });

    it("merges order across task types and filters claims by type", async () => {
      const { queue } = await open();
      await queue.enqueue(task("x1", 3, { taskType: "video_analysis" }));
      await queue.enqueue(task("c1", 5));
      await queue.enqueue(task("x2", 9, { taskType: "video_analysis" }));
      await queue.enqueue(task("c2", 5));
      const videos = await queue.claim(10, { ...worker, taskTypes: ["video_analysis"] });
      expectOrder(videos, ["x2", "x1"]);
      expect(await queue.claim(10, { ...worker, taskTypes: ["roas_forecast"] })).toEqual([]);
      await queue.enqueue(task("x3", 5, { taskType: "video_analysis" }));
      const all = await queue.claim(10, worker);
      expectOrder(all, ["c1", "c2", "x3"]);
    });

    it("holds a task until its not-before time", async () => {
      const { queue } = await open();
      await queue.enqueue(task("later", 10, { notBefore: t0 + 5_000 }));
      await queue.enqueue(task("now", 1));
      expect((await queue.claim(10, worker)).map((t) => entityOf(t.key))).toEqual(["now"]);
      expect((await queue.stats()).total).toMatchObject({ delayed: 1, queued: 0, processing: 1 });
      clock.advance(4_999);
      expect(await queue.claim(10, worker)).toEqual([]);
      clock.advance(1);
      const [t] = await queue.claim(10, worker);
      expect(t?.key).toContain("later");
      expect(t?.notBefore).toBe(t0 + 5_000);
    });

    it("dedups a waiting key: one task, the highest priority, every reason", async () => {
      const { queue } = await open();
      const first = await queue.enqueue(task("k", 3, { reason: "schedule" }));
      await queue.enqueue(task("other", 5));
      const again = await queue.enqueue(task("k", 8, { reason: "miss", payload: "p2" }));
      const lower = await queue.enqueue(task("k", 2, { reason: "miss" }));
      expect(first.deduplicated).toBe(false);
      expect(again).toEqual({ taskId: first.taskId, deduplicated: true });
      expect(lower).toEqual({ taskId: first.taskId, deduplicated: true });
      const record = await queue.get(first.taskId);
      expect(record).toMatchObject({ priority: 8, state: "queued", payload: "p2" });
      expect([...(record?.reasons ?? [])].sort()).toEqual(["miss", "schedule"]);
      const claimed = await queue.claim(10, worker);
      expectOrder(claimed, ["k", "other"]);
      expect((await queue.stats()).total.processing).toBe(2);
    });

    it("dedups inside one batch and moves a delayed task up to an earlier not-before", async () => {
      const { queue } = await open();
      const out = await queue.enqueueMany([
        task("k", 2, { notBefore: t0 + 60_000 }),
        task("k", 4, { reason: "launch", notBefore: t0 + 10_000 }),
      ]);
      expect(out[1]).toEqual({ taskId: out[0]?.taskId, deduplicated: true });
      clock.advance(10_000);
      const [t] = await queue.claim(5, worker);
      expect(t).toMatchObject({ id: out[0]?.taskId, priority: 4, notBefore: t0 + 10_000 });
      expect(t?.reasons).toEqual(["trigger", "launch"]);
    });

    it("re-scores a task created earlier in the same batch when a duplicate raises its priority", async () => {
      const { queue } = await open();
      const out = await queue.enqueueMany([task("k", 2), task("other", 5), task("k", 9, { reason: "miss" })]);
      expect(out[2]).toEqual({ taskId: out[0]?.taskId, deduplicated: true });
      expect((await queue.getByKey(task("k").key))?.id).toBe(out[0]?.taskId);
      expectOrder(await queue.claim(10, worker), ["k", "other"]);
    });

    it("takes a key that is being processed as new work", async () => {
      const { queue } = await open();
      const first = await queue.enqueue(
        task("k", 5, { traceparent: `00-${"a".repeat(32)}-${"b".repeat(16)}-01` }),
      );
      await queue.claim(1, worker);
      const second = await queue.enqueue(task("k", 5));
      expect(second.deduplicated).toBe(false);
      expect(second.taskId).not.toBe(first.taskId);
      expect((await queue.getByKey(task("k").key))?.id).toBe(second.taskId);
      expect((await queue.get(first.taskId))?.traceparent).toBe(`00-${"a".repeat(32)}-${"b".repeat(16)}-01`);
    });

    it("keeps the newer task's key after an older task of the key completes and expires", async () => {
      const h = await open({ retentionMs: 100, maxAttempts: 3 });
      const older = await h.queue.enqueue(task("k"));
      await h.queue.claim(1, worker);
      const newer = await h.queue.enqueue(task("k", 6));
      // The older one fails and waits for its retry beside the newer one: no pointer theft.
      await h.queue.fail(older.taskId, "flaky");
      expect((await h.queue.getByKey(task("k").key))?.id).toBe(newer.taskId);
      clockAdvanceTo(clock, (await h.queue.get(older.taskId))?.notBefore);
      const [first] = await h.queue.claim(1, worker);
      expect(first?.id).toBe(newer.taskId);
      const [second] = await h.queue.claim(1, worker);
      expect(second?.id).toBe(older.taskId);
      await h.queue.ack([older.taskId]);
      await h.elapse(300);
      expect((await h.queue.getByKey(task("k").key))?.id).toBe(newer.taskId);
      await h.queue.ack([newer.taskId]);
      expect((await h.queue.getByKey(task("k").key))?.state).toBe("completed");
    });

    it("records status: times, attempts, worker, lease, completion", async () => {
      const { queue } = await open({ leaseMs: 10_000, retentionMs: 60_000 });
      const { taskId } = await queue.enqueue(task("s", 7, { reason: "refresh" }));
      expect(await queue.get(taskId)).toEqual({
        id: taskId,
        key: task("s").key,
        taskType: "ctr_prediction",
        tenant: "acme",
        priority: 7,
        reasons: ["refresh"],
        state: "queued",
        attempts: 0,
        createdAt: t0,
        updatedAt: t0,
      });
      clock.advance(5);
      const [claimed] = await queue.claim(1, { workerId: "w9" });
      expect(claimed).toMatchObject({ state: "processing", attempts: 1, workerId: "w9" });
      expect(claimed?.leaseExpiresAt).toBe(t0 + 5 + 10_000);
      expect(claimed).toEqual(await queue.get(taskId));
      clock.advance(5);
      expect(await queue.ack([taskId, taskId])).toEqual({ completed: 1, refused: [] });
      expect(await queue.ack([taskId])).toEqual({ completed: 0, refused: [taskId] });
      const done = await queue.getByKey(task("s").key);
      expect(done).toMatchObject({ state: "completed", attempts: 1, createdAt: t0, updatedAt: t0 + 10 });
      expect(done?.workerId).toBeUndefined();
      expect((await queue.stats()).total).toMatchObject({ completed: 1, processing: 0, queued: 0 });
      expect(await queue.get(`999999999-${"0".repeat(24)}`)).toBeUndefined();
      // The sequence part alone names no task: the random part is what makes ids unguessable.
      expect(taskId).toMatch(
        partitioned ? /^([1-9][0-9]*\.)?[1-9][0-9]*-[0-9a-f]{24}$/ : /^[1-9][0-9]*-[0-9a-f]{24}$/,
      );
      expect(await queue.get(taskId.split("-")[0] ?? "")).toBeUndefined();
      await rejects(queue.get("not-an-id"), isInvalidArgument);
    });

    it("carries payload and trace context through claim intact", async () => {
      const { queue } = await open();
      const payload = `{"features":{"ctr":0.5}}\n\t"quoted" \\ é 广告 🎉 \u0001 </script>`;
      const traceparent = `00-${"0af7651916cd43dd8448eb211c80319c"}-${"b7ad6b7169203331"}-01`;
      const { taskId } = await queue.enqueue(task("p", 5, { payload, traceparent, notBefore: t0 - 1 }));
      await queue.enqueue(task("empty", 4, { payload: "" }));
      const both = await queue.claim(2, worker);
      const first = both.find((t) => t.id === taskId);
      const second = both.find((t) => t.id !== taskId);
      expect(first).toMatchObject({ id: taskId, payload, traceparent, notBefore: t0 - 1, attempts: 1 });
      expect(second?.payload).toBe("");
      expect(second?.traceparent).toBeUndefined();
      expect(second?.lastError).toBeUndefined();
    });

    it("forgets completed tasks after the retention", async () => {
      const h = await open({ retentionMs: 150 });
      const { taskId } = await h.queue.enqueue(task("r"));
      await h.queue.claim(1, worker);
      await h.queue.ack([taskId]);
      expect((await h.queue.get(taskId))?.state).toBe("completed");
      await h.elapse(400);
      expect(await h.queue.get(taskId)).toBeUndefined();
      expect(await h.queue.getByKey(task("r").key)).toBeUndefined();
    });

    it("brings back a task whose lease expired, counting the attempt", async () => {
      const { queue } = await open({ leaseMs: 1_000, maxAttempts: 2 });
      const { taskId } = await queue.enqueue(task("crash"));
      await queue.claim(1, { workerId: "dies" });
      clock.advance(999);
      expect(await queue.claim(1, worker)).toEqual([]);
      clock.advance(1);
      const [back] = await queue.claim(1, { workerId: "w2" });
      expect(back).toMatchObject({ id: taskId, attempts: 2, workerId: "w2" });
      expect(back?.lastError).toContain("lease expired");
      clock.advance(1_000);
      expect(await queue.requeueExpired()).toBe(1);
      expect(await queue.get(taskId)).toMatchObject({ state: "dead", attempts: 2 });
    });

    it("lets a worker whose lease ran out end none of the claim another worker holds now", async () => {
      const { queue } = await open({ leaseMs: 1_000, maxAttempts: 2 });
      const { taskId } = await queue.enqueue(task("stalled"));
      const late = { workerId: "stalled" };
      const holder = { workerId: "w2" };
      await queue.claim(1, late);
      clock.advance(1_000);
      const [taken] = await queue.claim(1, holder);
      expect(taken).toMatchObject({ id: taskId, attempts: 2, workerId: "w2" });
      // Back from its stall, the first worker's calls find the task held by another: each is a no-op.
      expect(await queue.extendLease([taskId], 60_000, late)).toBe(0);
      expect(await queue.fail(taskId, "late failure", late)).toEqual({ id: taskId, outcome: "ignored" });
      expect(await queue.failMany([{ id: taskId, error: "late", permanent: true }], late)).toEqual([
        { id: taskId, outcome: "ignored" },
      ]);
      expect(await queue.release([taskId], late)).toBe(0);
      expect(await queue.ack([taskId], late)).toEqual({ completed: 0, refused: [taskId] });
      expect(await queue.get(taskId)).toMatchObject({
        state: "processing",
        attempts: 2,
        workerId: "w2",
        leaseExpiresAt: t0 + 2_000,
      });
      expect((await queue.stats()).total).toMatchObject({ processing: 1, completed: 0, dead: 0 });
      // The holder's own calls, and calls that name no worker, still end it.
      expect(await queue.extendLease([taskId], 5_000, holder)).toBe(1);
      expect(await queue.ack([taskId], holder)).toEqual({ completed: 1, refused: [] });
      expect((await queue.get(taskId))?.state).toBe("completed");
      const other = await queue.enqueue(task("anyone"));
      await queue.claim(1, holder);
      expect(await queue.release([other.taskId])).toBe(1);
      await rejects(queue.ack([taskId], { workerId: "" }), isInvalidArgument);
      await rejects(queue.release([taskId], { workerId: "w".repeat(300) }), isInvalidArgument);
    });

    it("keeps a lease alive with extendLease, and release gives it back without an attempt", async () => {
      const { queue } = await open({ leaseMs: 1_000 });
      const long = await queue.enqueue(task("long", 5));
      await queue.enqueue(task("next", 5));
      // Partitioned, the claim may take either: the one it took is the long one.
      const [held] = await queue.claim(1, worker);
      const taskId = held?.id ?? "";
      if (!partitioned) expect(taskId).toBe(long.taskId);
      clock.advance(800);
      expect(await queue.extendLease([taskId], 5_000)).toBe(1);
      clock.advance(1_000);
      expect(await queue.requeueExpired()).toBe(0);
      expect((await queue.get(taskId))?.leaseExpiresAt).toBe(t0 + 5_800);
      expect(await queue.release([taskId])).toBe(1);
      expect(await queue.release([taskId])).toBe(0);
      expect(await queue.get(taskId)).toMatchObject({ state: "queued", attempts: 0 });
      const again = await queue.claim(partitioned ? 2 : 1, worker);
      if (partitioned) expect(again.map((t) => t.id)).toContain(taskId);
      else expect(again[0]?.id).toBe(taskId);
    });

    it("retries a failure with exponential backoff and jitter, then dead-letters it", async () => {
      const { queue } = await open({ maxAttempts: 3, backoffBaseMs: 1_000 });
      const { taskId } = await queue.enqueue(task("flaky"));
      await queue.claim(1, worker);
      const first = await queue.fail(taskId, "predictor said no");
      if (first.outcome !== "retry") throw new Error(`expected a retry, got ${first.outcome}`);
      expect(first.retryAt - t0).toBeGreaterThanOrEqual(500);
      expect(first.retryAt - t0).toBeLessThanOrEqual(1_000);
      expect(await queue.get(taskId)).toMatchObject({ state: "failed", lastError: "predictor said no" });
      expect((await queue.stats()).total.failed).toBe(1);
      clock.set(first.retryAt - 1);
      expect(await queue.claim(1, worker)).toEqual([]);
      clock.set(first.retryAt);
      expect((await queue.claim(1, worker))[0]).toMatchObject({ id: taskId, attempts: 2 });
      const second = await queue.fail(taskId, "again");
      if (second.outcome !== "retry") throw new Error("expected a retry");
      expect(second.retryAt - first.retryAt).toBeGreaterThanOrEqual(1_000);
      expect(second.retryAt - first.retryAt).toBeLessThanOrEqual(2_000);
      clock.set(second.retryAt);
      await queue.claim(1, worker);
      expect(await queue.fail(taskId, "third")).toEqual({ id: taskId, outcome: "dead" });
      expect(await queue.fail(taskId, "fourth")).toEqual({ id: taskId, outcome: "ignored" });
      expect(await queue.get(taskId)).toMatchObject({ state: "dead", attempts: 3, lastError: "third" });
    });

    it("dead-letters a permanent failure at once and fails tasks one by one in a batch", async () => {
      const { queue } = await open();
      await queue.enqueueMany([task("bad"), task("ok")]);
      const [bad, ok] = await queue.claim(2, worker);
      const outcomes = await queue.failMany([
        { id: bad?.id ?? "", error: "no such feature", permanent: true },
        { id: ok?.id ?? "", error: "timeout" },
      ]);
      expect(outcomes.map((o) => o.outcome)).toEqual(["dead", "retry"]);
      const { total } = await queue.stats();
      expect(total).toMatchObject({ dead: 1, failed: 1 });
    });

    it("lists dead letters in pages, requeues them with fresh attempts, and purges them", async () => {
      const { queue } = await open({ maxAttempts: 1 });
      const keys = ["d1", "d2", "d3", "d4", "d5"];
      await queue.enqueueMany(keys.map((k) => task(k)));
      for (const t of await queue.claim(5, worker)) await queue.fail(t.id, `boom ${entityOf(t.key)}`);
      const p1 = await queue.listDeadLetters({ pageSize: 2 });
      if (!partitioned) expect(p1.tasks.map((t) => entityOf(t.key))).toEqual(["d1", "d2"]);
      // Removing a listed task between pages does not shift the next page.
      await queue.purgeDeadLetters({ ids: [p1.tasks[0]?.id ?? ""] });
      const p2 = await queue.listDeadLetters({ pageSize: 2, ...pageToken(p1.nextPageToken) });
      if (!partitioned) expect(p2.tasks.map((t) => entityOf(t.key))).toEqual(["d3", "d4"]);
      const p3 = await queue.listDeadLetters({ pageSize: 2, ...pageToken(p2.nextPageToken) });
      expect(p3.tasks.map((t) => t.lastError)).toEqual(p3.tasks.map((t) => `boom ${entityOf(t.key)}`));
      if (!partitioned) expect(p3.tasks.map((t) => t.lastError)).toEqual(["boom d5"]);
      expect(p3.nextPageToken).toBeUndefined();
      // Every dead letter on exactly one page, however they are spread.
      expect([p1, p2, p3].map((p) => p.tasks.length)).toEqual([2, 2, 1]);
      expect([p1, p2, p3].flatMap((p) => p.tasks.map((t) => entityOf(t.key))).sort()).toEqual(keys);
      await rejects(queue.listDeadLetters({ pageToken: "bogus" }), isInvalidArgument);

      expect(
        await queue.requeueDeadLetters({ ids: [p2.tasks[0]?.id ?? "", `12345678-${"0".repeat(24)}`] }),
      ).toBe(1);
      const [requeued] = await queue.claim(5, worker);
      expect(requeued).toMatchObject({ key: p2.tasks[0]?.key, attempts: 1 });
      expect(await queue.requeueDeadLetters({ all: true })).toBe(3);
      expect((await queue.stats()).total).toMatchObject({ dead: 0, queued: 3 });
      for (const t of await queue.claim(5, worker)) await queue.fail(t.id, "again");
      expect((await queue.listDeadLetters()).tasks).toHaveLength(3);
      expect(await queue.purgeDeadLetters({ all: true })).toBe(3);
      expect((await queue.listDeadLetters()).tasks).toEqual([]);
      expect(await queue.get(p3.tasks[0]?.id ?? "")).toBeUndefined();
      expect((await queue.stats()).total.dead).toBe(0);
    });

    // Exact small-capacity counts hold unpartitioned only: capacity splits per partition (partitioned-queue.test.ts covers the shares).
    if (!partitioned) {
      it("bounds the dead-letter set: beyond its capacity the oldest deaths go, counted", async () => {
        const dropped: [string, number][] = [];
        const { queue } = await open({
          maxAttempts: 1,
          deadLetterCapacity: 3,
          onDeadLettersDropped: (reason, n) => dropped.push([reason, n]),
        });
        const keys = ["d1", "d2", "d3", "d4", "d5", "d6"];
        await queue.enqueueMany(keys.map((k) => task(k)));
        const claimed = await queue.claim(6, worker);
        for (const t of claimed.slice(0, 4)) await queue.fail(t.id, "boom");
        await queue.failMany(claimed.slice(4, 5).map((t) => ({ id: t.id, error: "boom" })));
        const page = await queue.listDeadLetters();
        expect(page.tasks.map((t) => entityOf(t.key))).toEqual(["d3", "d4", "d5"]);
        expect(await queue.get(claimed[0]?.id ?? "")).toBeUndefined();
        expect(await queue.getByKey(task("d1").key)).toBeUndefined();
        // A lease that runs out on the last attempt dead-letters too, and pushes one out.
        clock.advance(60_000);
        await queue.claim(1, worker);
        expect((await queue.listDeadLetters()).tasks.map((t) => entityOf(t.key))).toEqual(["d4", "d5", "d6"]);
        expect((await queue.stats()).total.dead).toBe(3);
        expect(await queue.countDeadLetters()).toBe(3);
        expect(dropped.every(([reason]) => reason === "capacity")).toBe(true);
        expect(dropped.reduce((sum, [, n]) => sum + n, 0)).toBe(3);
      });
    }

    it("deletes dead letters older than their retention, oldest first, counted", async () => {
      const dropped: [string, number][] = [];
      const { queue } = await open({
        maxAttempts: 1,
        deadLetterRetentionMs: 60_000,
        onDeadLettersDropped: (reason, n) => dropped.push([reason, n]),
      });
      await queue.enqueueMany([task("old"), task("young")]);
      const [old, young] = await queue.claim(2, worker);
      await queue.fail(old?.id ?? "", "boom");
      clock.advance(30_000);
      await queue.fail(young?.id ?? "", "boom");
      clock.advance(29_999);
      await queue.claim(1, worker);
      expect((await queue.listDeadLetters()).tasks).toHaveLength(2);
      clock.advance(1);
      // Workers poll even when idle, so a claim is where the age check runs.
      expect(await queue.claim(1, worker)).toEqual([]);
      expect((await queue.listDeadLetters()).tasks.map((t) => t.id)).toEqual([young?.id]);
      expect(await queue.get(old?.id ?? "")).toBeUndefined();
      clock.advance(30_000);
      expect(await queue.requeueExpired()).toBe(0);
      expect((await queue.listDeadLetters()).tasks).toEqual([]);
      expect((await queue.stats()).total.dead).toBe(0);
      expect(dropped).toEqual([
        ["retention", 1],
        ["retention", 1],
      ]);
    });

    // Exact small-capacity counts hold unpartitioned only: capacity splits per partition (partitioned-queue.test.ts covers the shares).
    if (!partitioned) {
      it("is bounded: beyond capacity enqueue is refused whole, dedup still works", async () => {
        const { queue } = await open({ capacity: 3 });
        await queue.enqueueMany([task("a"), task("b")]);
        const message = await rejects(queue.enqueueMany([task("c"), task("d")]), isResourceExhausted);
        expect(message).toMatch(/task queue is full: 2 of 3/);
        expect((await queue.stats()).size).toBe(2);
        await queue.enqueue(task("c"));
        await rejects(queue.enqueue(task("d")), isResourceExhausted);
        expect((await queue.enqueue(task("a", 9))).deduplicated).toBe(true);
        const [first] = await queue.claim(1, worker);
        await rejects(queue.enqueue(task("d")), isResourceExhausted);
        await queue.ack([first?.id ?? ""]);
        expect((await queue.enqueue(task("d"))).deduplicated).toBe(false);
      });
    }

    it("reports stats by task type, priority and state", async () => {
      const { queue } = await open({ capacity: 100 });
      await queue.enqueueMany([
        task("a", 10),
        task("b", 10),
        task("c", 2),
        task("d", 5, { notBefore: t0 + 1_000 }),
        task("v", 7, { taskType: "video_analysis" }),
      ]);
      const [v] = await queue.claim(1, { ...worker, taskTypes: ["video_analysis"] });
      await queue.ack([v?.id ?? ""]);
      await queue.claim(1, { ...worker, taskTypes: ["ctr_prediction"] });
      const stats = await queue.stats();
      expect(stats).toMatchObject({ capacity: 100, size: 4, paused: false });
      expect(stats.total).toEqual({ queued: 2, delayed: 1, processing: 1, completed: 1, failed: 0, dead: 0 });
      expect(stats.byTaskType).toEqual([
        {
          taskType: "ctr_prediction",
          counts: { queued: 2, delayed: 1, processing: 1, completed: 0, failed: 0, dead: 0 },
        },
        {
          taskType: "video_analysis",
          counts: { queued: 0, delayed: 0, processing: 0, completed: 1, failed: 0, dead: 0 },
        },
      ]);
      // Partitioned, the claim of one may have taken c from a partition without a or b.
      expect(stats.byPriority).toEqual(
        partitioned && stats.byPriority.length === 1
          ? [{ priority: 10, queued: 2 }]
          : [
              { priority: 10, queued: 1 },
              { priority: 2, queued: 1 },
            ],
      );
    });

    it("claims nothing while paused", async () => {
      const { queue } = await open();
      await queue.enqueue(task("p"));
      await queue.pause();
      expect(await queue.claim(5, worker)).toEqual([]);
      expect((await queue.stats()).paused).toBe(true);
      await queue.resume();
      expect(await queue.claim(5, worker)).toHaveLength(1);
      expect((await queue.stats()).paused).toBe(false);
    });

    it("rejects bad input with InvalidArgument", async () => {
      const { queue } = await open();
      const bad: NewTask[] = [
        task("x", 0),
        task("x", 11),
        task("x", 2.5),
        { ...task("x"), tenant: "other" },
        { ...task("x"), key: "acme/ctr_prediction/raw/slash" },
        { ...task("x"), reason: "whim" as TaskReason },
        task("x", 5, { traceparent: "nope" }),
        task("x", 5, { notBefore: -1 }),
        task("x", 5, { payload: "x".repeat(64 * 1024 + 1) }),
      ];
      for (const t of bad) await rejects(queue.enqueue(t), isInvalidArgument);
      await rejects(queue.claim(0, worker), isInvalidArgument);
      await rejects(queue.claim(1, { workerId: "" }), isInvalidArgument);
      await rejects(queue.claim(1, { ...worker, taskTypes: ["Bad-Type"] }), isInvalidArgument);
      await rejects(queue.ack(["1", "x; DROP"]), isInvalidArgument);

      await rejects(queue.extendLease(["1"], 0), isInvalidArgument);
      await rejects(queue.getByKey("no-slashes"), isInvalidArgument);
      expect((await queue.stats()).size).toBe(0);
    });

    it("hands each task to exactly one of many concurrent claimers", async () => {
      const h = await open();
      const total = 2_000;
      for (let i = 0; i < total; i += 500)
        await h.queue.enqueueMany(
          Array.from({ length: 500 }, (_, j) => task(`e${i + j}`, 1 + ((i + j) % 10))),
        );
      const claimers = await Promise.all(Array.from({ length: 8 }, () => h.peer()));
      const seen = new Map<string, string>();
      await Promise.all(
        claimers.map(async (q, w) => {
          for (;;) {
            const batch = await q.claim(16, { workerId: `w${w}` });
            if (batch.length === 0) return;
            for (const t of batch) {
              expect(seen.get(t.id), `task ${t.id} claimed twice`).toBeUndefined();
              seen.set(t.id, `w${w}`);
            }
            expect(await q.ack(batch.map((t) => t.id))).toEqual({ completed: batch.length, refused: [] });
          }
        }),
      );
      expect(seen.size).toBe(total);
      expect(new Set(seen.values()).size).toBeGreaterThan(1);
      expect((await h.queue.stats()).total).toMatchObject({ completed: total, queued: 0, processing: 0 });
    });
  });
}

function clockAdvanceTo(clock: ManualClock, at: number | undefined): void {
  if (at !== undefined && at > clock.now()) clock.set(at);
}

function pageToken(token: string | undefined): { pageToken?: string } {
  return token === undefined ? {} : { pageToken: token };
}
