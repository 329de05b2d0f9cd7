import { randomUUID } from "node:crypto";
import { formatKey, ManualClock } from "@prescient/core";
import fc from "fast-check";
import { Redis } from "ioredis";
import { afterAll, describe, expect, inject, it } from "vitest";
import { MemoryTaskQueue } from "./memory-task-queue.js";
import type { TaskQueueOptions } from "./options.js";
import { deleteQueue } from "./redis-queue.test-util.js";
import { RedisTaskQueue } from "./redis-task-queue.js";
import type { NewTask, TaskQueue, TaskReason, TaskRecord } from "./task-queue.js";

/**
 * The Redis queue's scripts against the in-memory queue, on random histories:
 * batches with repeated keys, priorities and not-before times, claims by type,
 * acks, failures, releases and time passing. The conformance suite checks
 * chosen cases; this checks that the two agree on everything in between
 * (which task a duplicate merges into, claim order, attempts, states).
 */
const url = inject("redisUrl");
const redis = new Redis(url);
const prefix = `test-queue-model-${randomUUID().slice(0, 8)}`;
let runs = 0;
afterAll(async () => {
  await redis.quit();
});

const types = ["ctr_prediction", "roas_prediction", "video_analysis"] as const;
const reasons: TaskReason[] = ["trigger", "miss", "schedule", "refresh"];
const t0 = 1_700_000_000_000;

type Op =
  | {
      op: "enqueue";
      tasks: Array<{ e: number; type: number; priority: number; reason: number; delay: number }>;
    }
  | { op: "claim"; n: number; onlyCtr: boolean }
  | { op: "ack"; picks: number[] }
  | { op: "fail"; pick: number; permanent: boolean }
  | { op: "release"; picks: number[] }
  | { op: "advance"; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("enqueue" as const),
      tasks: fc.array(
        fc.record({
          e: fc.integer({ min: 0, max: 4 }),
          type: fc.integer({ min: 0, max: types.length - 1 }),
          priority: fc.integer({ min: 1, max: 10 }),
          reason: fc.integer({ min: 0, max: 3 }),
          delay: fc.constantFrom(0, 0, 1_000, 5_000),
        }),
        { minLength: 1, maxLength: 6 },
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("claim" as const),
      n: fc.integer({ min: 1, max: 4 }),
      onlyCtr: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("ack" as const), picks: fc.array(fc.nat(), { maxLength: 3 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("fail" as const), pick: fc.nat(), permanent: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("release" as const),
      picks: fc.array(fc.nat(), { maxLength: 2 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("advance" as const), ms: fc.constantFrom(500, 2_000, 6_000) }),
  },
);

/** What both queues must agree on about a record (ids differ: each queue draws its own). */
const view = (r: TaskRecord | undefined) =>
  r === undefined
    ? undefined
    : {
        key: r.key,
        state: r.state,
        priority: r.priority,
        reasons: [...r.reasons].sort(),
        attempts: r.attempts,
        notBefore: r.notBefore,
        lastError: r.lastError,
      };

/** The outcome of a call, or the error's class: both queues must refuse the same calls. */
async function outcome<T>(p: Promise<T>): Promise<T | { error: string }> {
  try {
    return await p;
  } catch (e) {
    return { error: (e as Error).name };
  }
}

describe("RedisTaskQueue against MemoryTaskQueue on random histories", () => {
  it("agrees on dedup, claim order, attempts and states", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 30 }), async (ops) => {
        const clock = new ManualClock(t0);
        const options: Partial<TaskQueueOptions> = {
          capacity: 8,
          leaseMs: 10_000,
          maxAttempts: 3,
          backoffBaseMs: 1_000,
          backoffMaxMs: 8_000,
          retentionMs: 3_600_000,
          random: () => 0.5,
        };
        const keyPrefix = `${prefix}-${++runs}`;
        const memory: TaskQueue = new MemoryTaskQueue(options, clock);
        const store: TaskQueue = new RedisTaskQueue(redis, { ...options, keyPrefix }, clock);
        /** Redis id → memory id, and the tasks processing now (memory ids, claim order). */
        const idOf = new Map<string, string>();
        const redisIdOf = new Map<string, string>();
        let processing: string[] = [];
        const pick = (i: number): string | undefined =>
          processing.length === 0 ? undefined : processing[i % processing.length];
        try {
          for (const op of ops) {
            if (op.op === "enqueue") {
              const batch: NewTask[] = op.tasks.map((t) => {
                const taskType = types[t.type]!;
                return {
                  key: formatKey({ tenant: "acme", taskType, entityId: `e${t.e}` }),
                  taskType,
                  tenant: "acme",
                  priority: t.priority,
                  reason: reasons[t.reason]!,
                  ...(t.delay > 0 ? { notBefore: clock.now() + t.delay } : {}),
                };
              });
              const [m, r] = [
                await outcome(memory.enqueueMany(batch)),
                await outcome(store.enqueueMany(batch)),
              ];
              if ("error" in m || "error" in r) {
                expect(r).toEqual(m);
                continue;
              }
              m.forEach((res, i) => {
                expect(r[i]!.deduplicated).toBe(res.deduplicated);
                idOf.set(r[i]!.taskId, res.taskId);
                redisIdOf.set(res.taskId, r[i]!.taskId);
              });
            } else if (op.op === "claim") {
              const claim = { workerId: "w", ...(op.onlyCtr ? { taskTypes: ["ctr_prediction"] } : {}) };
              const m = await memory.claim(op.n, claim);
              const r = await store.claim(op.n, claim);
              expect(r.map((t) => idOf.get(t.id))).toEqual(m.map((t) => t.id));
              expect(r.map(view)).toEqual(m.map(view));
              // Expired leases come back with a claim: only what is processing now stays listed.
              const live = new Set<string>();
              for (const id of [...processing, ...m.map((t) => t.id)])
                if ((await memory.get(id))?.state === "processing") live.add(id);
              processing = [...live];
            } else if (op.op === "ack") {
              const ids = op.picks.map(pick).filter((id): id is string => id !== undefined);
              const m = await memory.ack(ids);
              // The same tasks completed, and the same ones refused, in the same order.
              expect(await store.ack(ids.map((id) => redisIdOf.get(id)!))).toEqual({
                completed: m.completed,
                refused: m.refused.map((id) => redisIdOf.get(id)!),
              });
              processing = processing.filter((id) => !ids.includes(id));
            } else if (op.op === "release") {
              const ids = op.picks.map(pick).filter((id): id is string => id !== undefined);
              const m = await memory.release(ids);
              expect(await store.release(ids.map((id) => redisIdOf.get(id)!))).toBe(m);
              processing = processing.filter((id) => !ids.includes(id));
            } else if (op.op === "fail") {
              const id = pick(op.pick);
              if (id === undefined) continue;
              const m = await memory.fail(id, "boom", { permanent: op.permanent });
              const r = await store.fail(redisIdOf.get(id)!, "boom", { permanent: op.permanent });
              expect({ ...r, id: idOf.get(r.id) }).toEqual(m);
              processing = processing.filter((p) => p !== id);
            } else {
              clock.advance(op.ms);
            }
          }
          for (const e of [0, 1, 2, 3, 4])
            for (const taskType of types) {
              const key = formatKey({ tenant: "acme", taskType, entityId: `e${e}` });
              const [m, r] = [await memory.getByKey(key), await store.getByKey(key)];
              expect(view(r)).toEqual(view(m));
              if (m !== undefined) expect(idOf.get(r!.id)).toBe(m.id);
            }
          const [ms, rs] = [await memory.stats(), await store.stats()];
          expect(rs.total).toEqual(ms.total);
          expect(rs.size).toBe(ms.size);
        } finally {
          await deleteQueue(redis, keyPrefix);
        }
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
