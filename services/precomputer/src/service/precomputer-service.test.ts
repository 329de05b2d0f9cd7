import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AnalyzerPeer, CachePeer, ExecutorPeer } from "../adapters/peers.js";
import { FakeAnalyzer, FakeCache, FakeExecutor } from "../core/fakes.test-util.js";
import { event, grpcError, startTestPrecomputer } from "./grpc.test-util.js";

const executor = new FakeExecutor();
const cache = new FakeCache();
const analyzer = new FakeAnalyzer();
const executorPeer: ExecutorPeer = {
  sink: executor,
  queueDepth: async () => executor.tasks.length,
  close: () => {},
};
const cachePeer: CachePeer = Object.assign(cache, {
  counters: async () => ({ lookups: 10, hits: 5 }),
  close: () => {},
});
const analyzerPeer: AnalyzerPeer = Object.assign(analyzer, { close: () => {} });
let t: Awaited<ReturnType<typeof startTestPrecomputer>>;

beforeAll(async () => {
  t = await startTestPrecomputer({ executor: executorPeer, cache: cachePeer, analyzer: analyzerPeer });
});
afterAll(async () => {
  await t.stop();
});

describe("PrecomputerService over gRPC", () => {
  it("answers Trigger with the queued task ids per type", async () => {
    const r = await t.rpc.trigger({ event: event() });
    expect(r.queued).toHaveLength(6);
    expect(r.queued[0]?.taskIds[0]).toMatch(/^t\d+$/);
    const many = await t.rpc.triggerMany({
      events: [event(), event({ type: "campaign_created", entityId: "c1" })],
    });
    expect(many.results.map((x) => x.queued.length)).toEqual([6, 3]);
  });

  it("answers Warm, Refresh, RunScheduleNow, ListRuns and Stats", async () => {
    const warm = await t.rpc.warm({
      tenant: "acme",
      entityIds: ["c1", "c2"],
      taskTypes: ["roas_prediction"],
      priority: 0,
    });
    expect(warm.queued).toEqual([
      { taskType: "roas_prediction", taskIds: [expect.any(String), expect.any(String)] },
    ]);
    analyzer.patterns = [
      {
        key: "acme/ctr_prediction/ad1",
        tenant: "acme",
        taskType: "ctr_prediction",
        entityId: "ad1",
        demand: 1,
        benefit: 1,
      },
    ];
    expect(
      (await t.rpc.refresh({ taskType: "ctr_prediction", tenant: "", entityPrefix: "ad" })).enqueued,
    ).toBe(1n);
    const run = await t.rpc.runScheduleNow({ schedule: "cleanup" });
    expect(run.run).toMatchObject({ schedule: "cleanup", items: 3n, status: 2 });
    expect((await t.rpc.listRuns({ schedule: "cleanup", limit: 5 })).runs).toHaveLength(1);
    const stats = await t.rpc.stats();
    expect(stats.enqueuedByReason.map((c) => c.name)).toEqual(["manual", "refresh", "trigger"]);
    expect(stats.budgetLimit).toBe(10_000n);
    expect(stats.alerts.map((a) => a.name)).toEqual(["queue_depth_high", "hit_rate_low"]);
  });

  it("answers INVALID_ARGUMENT, NOT_FOUND or RESOURCE_EXHAUSTED for bad input on every RPC", async () => {
    // Thunks: each call starts only when it is checked, so no rejection goes unhandled.
    const bad: Array<[() => Promise<unknown>, status, RegExp]> = [
      [() => t.rpc.trigger({}), status.INVALID_ARGUMENT, /event is required/],
      [() => t.rpc.trigger({ event: event({ type: "" }) }), status.INVALID_ARGUMENT, /event.type is empty/],
      [() => t.rpc.trigger({ event: event({ type: "Bad Type" }) }), status.INVALID_ARGUMENT, /must match/],
      [
        () =>
          t.rpc.trigger({
            event: event({ relatedEntityIds: Array.from({ length: 65 }, (_, i) => `c${i}`) }),
          }),
        status.INVALID_ARGUMENT,
        /related_entity_ids holds 65 ids; the limit is 64/,
      ],
      [
        () => t.rpc.trigger({ event: event({ relatedEntityIds: ["ok", "x".repeat(600)] }) }),
        status.INVALID_ARGUMENT,
        /event.related_entity_ids\[1\]/,
      ],
      [() => t.rpc.trigger({ event: event({ tenant: "" }) }), status.INVALID_ARGUMENT, /event.tenant/],
      [
        () => t.rpc.trigger({ event: event({ tenant: "../other" }) }),
        status.INVALID_ARGUMENT,
        /event.tenant/,
      ],
      [
        () => t.rpc.trigger({ event: event({ entityId: "x".repeat(600) }) }),
        status.INVALID_ARGUMENT,
        /event.entity_id/,
      ],
      [
        () => t.rpc.trigger({ event: event({ features: { a: {} } }) }),
        status.INVALID_ARGUMENT,
        /neither number nor text/,
      ],
      [
        () => t.rpc.trigger({ event: event({ features: { "bad name": { number: 1 } } }) }),
        status.INVALID_ARGUMENT,
        /feature name/,
      ],
      [
        () => t.rpc.trigger({ event: event({ features: { a: { number: Number.NaN } } }) }),
        status.INVALID_ARGUMENT,
        /finite/,
      ],
      [() => t.rpc.triggerMany({ events: [] }), status.INVALID_ARGUMENT, /events is empty/],
      [
        () => t.rpc.triggerMany({ events: [event(), event({ tenant: "" })] }),
        status.INVALID_ARGUMENT,
        /events\[1\]/,
      ],
      [
        () => t.rpc.triggerMany({ events: Array.from({ length: 1001 }, () => event()) }),
        status.RESOURCE_EXHAUSTED,
        /limit is 1000/,
      ],
      [
        () => t.rpc.warm({ tenant: "", entityIds: ["a"], taskTypes: ["ctr_prediction"], priority: 0 }),
        status.INVALID_ARGUMENT,
        /tenant/,
      ],
      [
        () => t.rpc.warm({ tenant: "acme", entityIds: [], taskTypes: ["ctr_prediction"], priority: 0 }),
        status.INVALID_ARGUMENT,
        /entity_ids is empty/,
      ],
      [
        () => t.rpc.warm({ tenant: "acme", entityIds: ["a"], taskTypes: ["nope"], priority: 0 }),
        status.INVALID_ARGUMENT,
        /task_types\[0\]: unknown task type/,
      ],
      [
        () => t.rpc.warm({ tenant: "acme", entityIds: ["a"], taskTypes: ["ctr_prediction"], priority: 11 }),
        status.INVALID_ARGUMENT,
        /priority 11/,
      ],
      [
        () => t.rpc.refresh({ taskType: "", tenant: "", entityPrefix: "" }),
        status.INVALID_ARGUMENT,
        /task_type is required/,
      ],
      [
        () => t.rpc.refresh({ taskType: "nope", tenant: "", entityPrefix: "" }),
        status.INVALID_ARGUMENT,
        /unknown task type/,
      ],
      [
        () => t.rpc.refresh({ taskType: "ctr_prediction", tenant: "a/b", entityPrefix: "" }),
        status.INVALID_ARGUMENT,
        /tenant/,
      ],
      [() => t.rpc.listRuns({ schedule: "nope", limit: 0 }), status.NOT_FOUND, /no schedule "nope"/],
      [() => t.rpc.listRuns({ schedule: "", limit: 5000 }), status.INVALID_ARGUMENT, /limit/],
      [() => t.rpc.runScheduleNow({ schedule: "" }), status.INVALID_ARGUMENT, /schedule is required/],
      [() => t.rpc.runScheduleNow({ schedule: "nope" }), status.NOT_FOUND, /configured: daily_top_n/],
    ];
    for (const [call, code, details] of bad) {
      const e = await grpcError(call());
      expect({ code: e.code, details: e.details }).toMatchObject({
        code,
        details: expect.stringMatching(details),
      });
    }
  });

  it("answers UNAVAILABLE when the executor is down, with nothing enqueued", async () => {
    executor.down = true;
    const before = executor.tasks.length;
    try {
      const e = await grpcError(t.rpc.trigger({ event: event() }));
      expect(e).toMatchObject({
        code: status.UNAVAILABLE,
        details: expect.stringMatching(/executor unavailable, nothing was enqueued/),
      });
    } finally {
      executor.down = false;
    }
    expect(executor.tasks.length).toBe(before);
  });
});
