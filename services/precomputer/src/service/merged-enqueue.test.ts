import { startCache } from "@prescient/cache";
import { defaultTaskTypesPath, loadTaskTypes } from "@prescient/core";
import { startExecutor } from "@prescient/executor";
import { ServiceHost } from "@prescient/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inProcessCache, inProcessExecutor } from "../adapters/in-process.js";
import { event, startTestPrecomputer } from "./grpc.test-util.js";

/**
 * A trigger whose tasks are still waiting in the executor's queue (no
 * workers here) merges into them: the answer carries the waiting tasks'
 * ids, and the counters say no new work was enqueued, so that
 * `tasks_enqueued_total` (and `replay --live`'s computes by reason) count
 * work, not requests.
 */
const taskTypes = loadTaskTypes(defaultTaskTypesPath);
const host = new ServiceHost({ address: "127.0.0.1:0", drainTimeoutMs: 2000 });
const cache = startCache(host, { taskTypes, store: "memory" });
const executor = startExecutor(host, {
  taskTypes,
  store: "memory",
  runWorkers: false,
  predictor: "127.0.0.1:1",
  sink: { putMany: async () => {} },
});
let precomputer: Awaited<ReturnType<typeof startTestPrecomputer>>;

beforeAll(async () => {
  await host.start();
  await Promise.all([cache, executor.ready]);
  precomputer = await startTestPrecomputer({
    taskTypes,
    executor: inProcessExecutor(executor.core, executor.entities),
    cache: inProcessCache(cache.then((c) => c.core)),
  });
});

afterAll(async () => {
  await precomputer.stop();
  await host.shutdown();
});

describe("a trigger merged into tasks already queued", () => {
  it("answers the waiting tasks' ids and counts them as queued, not enqueued", async () => {
    const first = await precomputer.rpc.trigger({ event: event() });
    expect(first.queued).toHaveLength(6);
    const again = await precomputer.rpc.trigger({ event: event() });
    expect(again.queued).toEqual(first.queued);

    const stats = await precomputer.rpc.stats();
    expect(stats.enqueuedByReason).toEqual([{ name: "trigger", count: 6n }]);
    expect(stats.skippedByReason).toContainEqual({ name: "queued", count: 6n });
    expect((await executor.queue.stats()).total.queued).toBe(6);

    // Another entity's tasks are new work, counted as enqueued.
    await precomputer.rpc.trigger({ event: event({ entityId: "v2" }) });
    const after = await precomputer.rpc.stats();
    expect(after.enqueuedByReason).toEqual([{ name: "trigger", count: 12n }]);
    expect(after.skippedByReason).toContainEqual({ name: "queued", count: 6n });
  });
});
