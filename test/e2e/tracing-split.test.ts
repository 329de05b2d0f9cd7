import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { credentials } from "@grpc/grpc-js";
import { createClient } from "@prescient/client";
import { executorV1 } from "@prescient/contracts";
import { callUnary } from "@prescient/kit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
} from "../../packages/tracing/src/otlp-receiver.test-util.js";
import { eventually } from "./eventually.test-util.js";
import { cli, type MeshProcesses, startSplit } from "./mesh-processes.test-util.js";

/**
 * Tracing as deploy/base runs it: one service per process through `prescient
 * serve` (no `node --import`: the CLI starts tracing itself), exporting OTLP
 * to a loopback receiver. One mesh samples everything (idle noise, failures,
 * attributes, what the export may not hold); one samples at deploy/base's
 * parentbased_traceidratio 0.1 (queued work must survive sampling).
 */
const SERVER = 2;

function otelEnv(receiver: OtlpReceiver, sampler: Record<string, string>): NodeJS.ProcessEnv {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_BSP_SCHEDULE_DELAY: "100",
    ...sampler,
  };
}

/** Each test file's own Redis database, so another file's executors claim none of these tasks. */
function redisDb(db: number): string {
  return `${inject("redisUrl").replace(/\/\d*$/, "")}/${db}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until every task is completed or dead. */
async function settled(executorAddr: string, ids: readonly string[]): Promise<void> {
  const executor = new executorV1.ExecutorServiceClient(executorAddr, credentials.createInsecure());
  try {
    for (const id of ids)
      await eventually(`task ${id}`, async () => {
        const { task } = await callUnary(executor.getTask.bind(executor), { id });
        const done =
          task?.state === executorV1.TaskState.TASK_STATE_COMPLETED ||
          task?.state === executorV1.TaskState.TASK_STATE_DEAD;
        return done ? true : undefined;
      });
  } finally {
    executor.close();
  }
}

describe("a split mesh sampling everything", () => {
  let receiver: OtlpReceiver;
  let mesh: MeshProcesses;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    mesh = await startSplit(redisDb(11), `trace-${randomUUID().slice(0, 8)}`, {
      analyzer: true,
      handler: true,
      env: otelEnv(receiver, { OTEL_TRACES_SAMPLER: "parentbased_always_on" }),
    });
  }, 120_000);
  afterAll(async () => {
    await mesh?.stop();
    await receiver?.close();
  });

  it("makes no traces while idle, though the readahead, refresh-ahead and load sampling run", async () => {
    await sleep(2_000);
    receiver.spans.length = 0;
    await sleep(8_000);
    const traces = new Set(receiver.spans.map((s) => s.traceId));
    expect([...new Set(receiver.spans.map((s) => `${s.serviceName}: ${s.name}`))]).toEqual([]);
    expect(traces.size).toBe(0);
  }, 20_000);

  it("shows a trigger's tasks in its trace, failures as ERROR, with domain attributes and no input", async () => {
    const tenant = `tr${randomUUID().slice(0, 8)}`;
    const marker = `zz${randomUUID().replaceAll("-", "")}`;
    // The CLI traces itself too: its flags (features included) must not reach the collector.
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        "node",
        [
          cli,
          "trigger",
          "campaign_created",
          "--tenant",
          tenant,
          "--entity",
          "camp-1",
          "--user",
          "u-1",
          "--features",
          JSON.stringify({ note: marker }),
          "--json",
          "--addr",
          mesh.addr.precomputer,
        ],
        { env: { ...process.env, ...otelEnv(receiver, {}), OTEL_SERVICE_NAME: "cli" }, timeout: 20_000 },
        (error, out, err) => (error ? reject(new Error(`${error.message}: ${err}`)) : resolve(out)),
      ),
    );
    const queued = (JSON.parse(stdout) as { queued: Record<string, string[]> }).queued;
    const ids = Object.values(queued).flat();
    expect(ids.length).toBeGreaterThanOrEqual(2);
    await settled(mesh.addr.executor, ids);

    const trigger = await eventually("the Trigger server span", async () =>
      receiver.spans.find(
        (s) =>
          s.kind === SERVER &&
          s.name.endsWith("PrecomputerService/Trigger") &&
          s.attributes["prescient.tenant"] === tenant,
      ),
    );
    expect(trigger.attributes).toMatchObject({
      "prescient.event.type": "campaign_created",
      "prescient.trigger.tasks_queued": String(ids.length),
    });
    // The CLI's client span is the root, so the trace starts in the CLI.
    const root = receiver.spans.find((s) => s.traceId === trigger.traceId && s.parentSpanId === "");
    expect(root?.serviceName).toBe("cli");

    const tasks = await eventually("every task's span", async () => {
      const found = receiver.spans.filter((s) => s.name === "executor.task" && s.traceId === trigger.traceId);
      return found.length === ids.length ? found : undefined;
    });
    expect(tasks.map((t) => t.attributes["prescient.task.id"]).sort()).toEqual([...ids].sort());
    for (const t of tasks) expect(t.attributes["prescient.tenant"]).toBe(tenant);
    // The onnx types have none of the features their models read: dead-lettered, and it shows.
    const failed = tasks.filter((t) => t.status.code === 2);
    expect(failed.length).toBeGreaterThan(0);
    for (const t of failed) {
      expect(t.attributes["prescient.task.outcome"]).toBe("dead_lettered");
      expect(t.status.message).not.toBe("");
    }
    const batches = receiver.spans.filter(
      (s) => s.name === "executor.batch" && s.links.some((l) => l.traceId === trigger.traceId),
    );
    expect(batches.some((b) => b.status.code === 2 && b.events.some((e) => e.name === "task failed"))).toBe(
      true,
    );

    // Nothing exported, by any process, holds the feature value or the command line.
    await sleep(500);
    const exported = receiver.bodies.join("\n");
    expect(exported).not.toContain(marker);
    expect(exported).not.toContain("process.command_args");
    expect(exported).not.toContain('process.command"');
  }, 60_000);
  it("reports the query log in a trace of its own, linked to the lookups it carries", async () => {
    const tenant = `ql${randomUUID().slice(0, 8)}`;
    await new Promise<void>((resolve, reject) =>
      execFile(
        "node",
        [cli, "lookup", `${tenant}/dashboard_data/u-1`, "--json", "--addr", mesh.addr.cache],
        { env: { ...process.env, ...otelEnv(receiver, {}), OTEL_SERVICE_NAME: "cli" }, timeout: 20_000 },
        (error, _out, err) => (error ? reject(new Error(`${error.message}: ${err}`)) : resolve()),
      ),
    );
    const lookup = await eventually("the Lookup server span", async () =>
      receiver.spans.find(
        (s) =>
          s.kind === SERVER &&
          s.name.endsWith("CacheService/Lookup") &&
          s.attributes["prescient.tenant"] === tenant,
      ),
    );
    expect(lookup.attributes).toMatchObject({
      "prescient.task_type": "dashboard_data",
      "prescient.lookup.outcome": "miss",
    });
    const report = await eventually("the query report span", async () =>
      receiver.spans.find(
        (s) => s.name === "cache.report_queries" && s.links.some((l) => l.spanId === lookup.spanId),
      ),
    );
    expect(report.parentSpanId).toBe("");
    expect(report.traceId).not.toBe(lookup.traceId);
    const sent = await eventually("the RecordQueryBatch call", async () =>
      receiver.spans.find((s) => s.parentSpanId === report.spanId && s.name.endsWith("RecordQueryBatch")),
    );
    expect(sent.traceId).toBe(report.traceId);
    // Nothing from the batch joined the lookup's trace.
    expect(
      receiver.spans.filter((s) => s.traceId === lookup.traceId && s.name.includes("RecordQuery")),
    ).toEqual([]);
  }, 30_000);

  it("shows a schedule run as one span with its steps as children", async () => {
    await new Promise<void>((resolve, reject) =>
      execFile(
        "node",
        [cli, "schedule", "run", "daily_top_n", "--json", "--addr", mesh.addr.precomputer],
        { env: { ...process.env, ...otelEnv(receiver, {}), OTEL_SERVICE_NAME: "cli" }, timeout: 20_000 },
        (error, _out, err) => (error ? reject(new Error(`${error.message}: ${err}`)) : resolve()),
      ),
    );
    const run = await eventually("the schedule run span", async () =>
      receiver.spans.find(
        (s) => s.name === "precomputer.schedule_run" && s.attributes["prescient.schedule"] === "daily_top_n",
      ),
    );
    expect(run.attributes["prescient.schedule.job"]).toBe("top_n");
    // Asked for by RunSchedule, so it sits under that call; its steps (the analyzer's ranking first) under it.
    const parent = receiver.spans.find((s) => s.spanId === run.parentSpanId);
    expect(parent?.name).toMatch(/PrecomputerService\/\w+$/);
    const steps = await eventually("the run's steps", async () => {
      const found = receiver.spans.filter((s) => s.parentSpanId === run.spanId);
      return found.some((s) => s.name.endsWith("AnalyzerService/TopPatterns")) ? found : undefined;
    });
    expect(steps.every((s) => s.traceId === run.traceId)).toBe(true);
  }, 30_000);
});

describe("a split mesh sampling at ratio 0.1", () => {
  let receiver: OtlpReceiver;
  let mesh: MeshProcesses;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    mesh = await startSplit(redisDb(12), `trace-${randomUUID().slice(0, 8)}`, {
      handler: true,
      env: otelEnv(receiver, {
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "0.1",
      }),
    });
  }, 120_000);
  afterAll(async () => {
    await mesh?.stop();
    await receiver?.close();
  });

  it("shows the computation of every task in every kept trigger's trace", async () => {
    const run = randomUUID().slice(0, 6);
    const client = createClient({
      address: mesh.addr.cache,
      services: { precomputer: mesh.addr.precomputer },
      deadlineMs: 10_000,
    });
    // A tenant per trigger, so a kept Trigger span says which request it was.
    const tasksOf = new Map<string, string[]>();
    try {
      for (let i = 0; i < 150; i++) {
        const tenant = `r${run}x${i}`;
        const r = await client.trigger({ type: "user_login", tenant, userId: "u" });
        tasksOf.set(tenant, Object.values(r.queued).flat());
      }
    } finally {
      client.close();
    }
    await settled(mesh.addr.executor, [...tasksOf.values()].flat());
    await sleep(1_000);

    const spans: ReceivedSpan[] = receiver.spans;
    const kept = spans.filter((s) => s.kind === SERVER && s.name.endsWith("PrecomputerService/Trigger"));
    // 0.9^150 of keeping none; and far fewer than all, or the ratio did nothing.
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(60);
    const batchIds = new Set(spans.filter((s) => s.name === "executor.batch").map((s) => s.spanId));
    let shown = 0;
    for (const trigger of kept) {
      const ids = tasksOf.get(trigger.attributes["prescient.tenant"] ?? "") ?? [];
      expect(ids.length).toBeGreaterThan(0);
      const taskSpans = spans.filter((s) => s.name === "executor.task" && s.traceId === trigger.traceId);
      expect(taskSpans.map((t) => t.attributes["prescient.task.id"]).sort()).toEqual([...ids].sort());
      for (const t of taskSpans) {
        expect(t.attributes["prescient.task.outcome"]).toBe("completed");
        // The batch that computed it was kept too (the links-based sampler), and is linked from it.
        expect(t.links.every((l) => batchIds.has(l.spanId))).toBe(true);
        expect(t.links).toHaveLength(1);
      }
      shown++;
    }
    expect(shown).toBe(kept.length);
    // Unkept triggers' tasks leave no task spans.
    const keptTraces = new Set(kept.map((k) => k.traceId));
    expect(spans.filter((s) => s.name === "executor.task" && !keptTraces.has(s.traceId))).toEqual([]);
    console.log(
      `ratio 0.1: ${kept.length} of 150 triggers kept; all ${kept.length} show their tasks' computation`,
    );
  }, 120_000);
});
