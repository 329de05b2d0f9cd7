import { SpanStatusCode, trace } from "@opentelemetry/api";
import { withSpan } from "@prescient/tracing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  type InMemoryTracing,
  installInMemoryTracing,
} from "../../../../packages/tracing/src/in-memory-tracing.test-util.js";
import type { ClaimedTask } from "../queue/index.js";
import { ExecutorCore } from "../service/executor-core.js";
import { BatchTrace } from "./batch-trace.js";
import {
  type Backends,
  batchDeps,
  ctrFeatures,
  openStores,
  quietLogger,
  startBackends,
  waitFor,
} from "./pipeline.test-util.js";
import { WorkerPool } from "./worker-pool.js";

/**
 * Tracing across the queue: each task carries its enqueuer's trace context,
 * and the batch span links to every one of them. The ModelInfer and PutMany
 * calls run inside the batch span, so the client spans that the gRPC
 * instrumentation makes for them (with the preload) are its children; here
 * that is checked through the active span those calls see.
 */
const redisUrl = inject("redisUrl");
let tracing: InMemoryTracing;
let backends: Backends;

beforeAll(async () => {
  tracing = installInMemoryTracing();
  backends = await startBackends();
}, 60_000);
afterAll(async () => {
  await backends.close();
  await tracing.uninstall();
});

describe("the executor.batch span", () => {
  it("links to every enqueuing task's trace and is the parent of the batch's calls", async () => {
    const stores = await openStores("redis", redisUrl);
    const activeAt: { call: string; spanId: string | undefined }[] = [];
    backends.predictor.before = () => {
      activeAt.push({ call: "ModelInfer", spanId: trace.getActiveSpan()?.spanContext().spanId });
    };
    const deps = batchDeps(stores, {
      predictor: backends.predictor,
      sink: {
        putMany: (entries) => {
          activeAt.push({ call: "PutMany", spanId: trace.getActiveSpan()?.spanContext().spanId });
          return backends.sink.putMany(entries);
        },
      },
    });
    const core = new ExecutorCore(stores.queue, deps);
    const pool = new WorkerPool(stores.queue, deps, { claimSize: 64, maxIdleMs: 20, logger: quietLogger });
    try {
      // Three callers in three traces, enqueuing before any worker runs.
      const callers = await Promise.all(
        ["a", "b", "c"].map((name, i) =>
          withSpan(`caller.${name}`, {}, async (span) => {
            await core.enqueueMany([
              {
                parts: { tenant: "traced", taskType: "ctr_prediction", entityId: `ad-${name}` },
                priority: undefined,
                reason: "trigger",
                features: ctrFeatures(i),
              },
            ]);
            return span.spanContext();
          }),
        ),
      );
      expect(new Set(callers.map((c) => c.traceId)).size).toBe(3);
      pool.start();
      await waitFor("the batch to complete", async () => (await stores.queue.stats()).total.completed === 3);
      await pool.stop();

      const batch = tracing.exporter.getFinishedSpans().find((s) => s.name === "executor.batch");
      expect(batch?.attributes["prescient.batch.size"]).toBe(3);
      expect(batch?.links.map((l) => `${l.context.traceId}/${l.context.spanId}`).sort()).toEqual(
        callers.map((c) => `${c.traceId}/${c.spanId}`).sort(),
      );
      // A batch is its own trace; the callers' traces are reached by the links.
      expect(callers.map((c) => c.traceId)).not.toContain(batch?.spanContext().traceId);
      expect(activeAt).toEqual([
        { call: "ModelInfer", spanId: batch?.spanContext().spanId },
        { call: "PutMany", spanId: batch?.spanContext().spanId },
      ]);
      // Each caller's own trace shows its task's computation, a child of the enqueue.
      const tasks = tracing.exporter.getFinishedSpans().filter((s) => s.name === "executor.task");
      expect(tasks.map((t) => `${t.spanContext().traceId}/${t.parentSpanContext?.spanId}`).sort()).toEqual(
        callers.map((c) => `${c.traceId}/${c.spanId}`).sort(),
      );
      for (const t of tasks) {
        expect(t.attributes).toMatchObject({
          "prescient.task.outcome": "completed",
          "prescient.task_type": "ctr_prediction",
          "prescient.tenant": "traced",
          "prescient.task.reason": "trigger",
        });
        expect(t.attributes["prescient.task.id"]).toMatch(/^\d+-[0-9a-f]{24}$/);
        expect(t.status.code).toBe(SpanStatusCode.UNSET);
        expect(t.links.map((l) => l.context.spanId)).toEqual([batch?.spanContext().spanId]);
      }
    } finally {
      backends.predictor.before = undefined;
      await pool.stop();
      await stores.close();
    }
  });

  it("marks a dead-lettered task ERROR, with its reason, on its own span and on the batch", async () => {
    tracing.exporter.reset();
    const stores = await openStores("redis", redisUrl);
    const deps = batchDeps(stores, { predictor: backends.predictor, sink: backends.sink });
    const core = new ExecutorCore(stores.queue, deps);
    const pool = new WorkerPool(stores.queue, deps, { claimSize: 64, maxIdleMs: 20, logger: quietLogger });
    try {
      const caller = await withSpan("caller.bad", {}, async (span) => {
        // No features for a model task: it can never compute, so it is dead-lettered at once.
        await core.enqueueMany([
          {
            parts: { tenant: "traced", taskType: "ctr_prediction", entityId: "ad-no-features" },
            priority: undefined,
            reason: "trigger",
            features: {},
          },
        ]);
        return span.spanContext();
      });
      pool.start();
      await waitFor("the dead letter", async () => (await stores.queue.stats()).total.dead === 1);
      await pool.stop();

      const spans = tracing.exporter.getFinishedSpans();
      const task = spans.find((s) => s.name === "executor.task");
      expect(task?.spanContext().traceId).toBe(caller.traceId);
      expect(task?.attributes["prescient.task.outcome"]).toBe("dead_lettered");
      expect(task?.status.code).toBe(SpanStatusCode.ERROR);
      expect(task?.status.message).toMatch(/feature/i);
      const batch = spans.find((s) => s.name === "executor.batch");
      expect(batch?.status).toMatchObject({ code: SpanStatusCode.ERROR, message: "1 of 1 tasks failed" });
      expect(batch?.events.map((e) => [e.name, e.attributes?.["prescient.task.outcome"]])).toEqual([
        ["task failed", "dead_lettered"],
      ]);
    } finally {
      await pool.stop();
      await stores.close();
    }
  });

  it("ends a task whose ack was refused as lease_lost: computed, but another claim's to complete", async () => {
    tracing.exporter.reset();
    const claimed = ["kept", "lost"].map(
      (id, i): ClaimedTask => ({
        id,
        key: `traced/ctr_prediction/ad-${id}`,
        taskType: "ctr_prediction",
        tenant: "traced",
        priority: 5,
        reasons: ["trigger"],
        state: "processing",
        attempts: 1,
        createdAt: 0,
        updatedAt: 0,
        traceparent: `00-${String(i + 1).repeat(32)}-${String(i + 1).repeat(16)}-01`,
        workerId: "w",
        leaseExpiresAt: 1,
      }),
    );
    await withSpan("executor.batch", {}, async (span) => {
      new BatchTrace(span, claimed).settle(["kept"], [], [], ["lost"]);
    });
    const outcomes = Object.fromEntries(
      tracing.exporter
        .getFinishedSpans()
        .filter((s) => s.name === "executor.task")
        .map((s) => [
          s.attributes["prescient.task.id"],
          [s.attributes["prescient.task.outcome"], s.status.code],
        ]),
    );
    expect(outcomes).toEqual({
      kept: ["completed", SpanStatusCode.UNSET],
      lost: ["lease_lost", SpanStatusCode.ERROR],
    });
  });
});
