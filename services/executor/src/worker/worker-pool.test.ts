import type { commonV1 } from "@prescient/contracts";
import { freePort, metricValue } from "@prescient/kit/testing";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { OipPredictor } from "../compute/oip-client.js";
import type { Features } from "../entities/entity-store.js";
import { buildInputs } from "../inputs/build-inputs.js";
import { executorOptionsFromEnv } from "../options.js";
import { MemoryTaskQueue } from "../queue/memory-task-queue.js";
import type { TaskQueueOptions } from "../queue/options.js";
import type { TaskQueue } from "../queue/task-queue.js";
import {
  type Backends,
  batchDeps,
  ctrFeatures,
  gate,
  newTask,
  openStores,
  quietLogger,
  records,
  roasFeatures,
  type StoreKind,
  type Stores,
  startBackends,
  taskTypes,
  waitFor,
} from "./pipeline.test-util.js";
import { WorkerMetrics } from "./worker-metrics.js";
import { WorkerPool, type WorkerPoolOptions } from "./worker-pool.js";

/**
 * The worker pool end to end on both queues: real ONNX inference through the
 * predictor over gRPC, results into a real cache, tasks on memory or Redis.
 */
const redisUrl = inject("redisUrl");
const tenant = "acme";
let backends: Backends;

beforeAll(async () => {
  backends = await startBackends();
}, 60_000);
afterAll(() => backends.close());

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const tensorOf = (v: commonV1.Value | undefined, name: string) =>
  v?.tensors?.tensors.find((t) => t.name === name);

describe.each<StoreKind>(["memory", "redis"])("WorkerPool on the %s queue", (kind) => {
  let stores: Stores;
  let pool: WorkerPool | undefined;
  const open = async (queue: Partial<TaskQueueOptions> = {}) => {
    stores = await openStores(kind, redisUrl, queue);
    backends.predictor.calls.length = 0;
    backends.predictor.before = undefined;
    backends.sink.calls.length = 0;
    return stores;
  };
  const startPool = (options: Partial<WorkerPoolOptions> = {}, queue: TaskQueue = stores.queue) => {
    pool = new WorkerPool(queue, batchDeps(stores, backends), {
      claimSize: 64,
      batchesInFlight: 1,
      maxIdleMs: 20,
      logger: quietLogger,
      ...options,
    });
    pool.start();
    return pool;
  };
  /** Upserts features and enqueues one task per entity. */
  const enqueue = async (taskType: string, entities: [string, Features | undefined][]) => {
    const withFeatures = entities.filter((e): e is [string, Features] => e[1] !== undefined);
    await stores.entities.upsertMany(
      withFeatures.map(([entityId, features]) => ({ tenant, entityId, features })),
    );
    const results = await stores.queue.enqueueMany(entities.map(([id]) => newTask(tenant, taskType, id)));
    return results.map((r) => r.taskId);
  };
  const completed = async () => (await stores.queue.stats()).total.completed;

  afterEach(async () => {
    await pool?.stop();
    pool = undefined;
    await stores.close();
  });

  it("runs a mixed batch as one ModelInfer per task type and one PutMany, readable in the cache", async () => {
    await open();
    const ctr = await enqueue(
      "ctr_prediction",
      Array.from({ length: 6 }, (_, i) => [`ad-${kind}-${i}`, ctrFeatures(i)]),
    );
    const roas = await enqueue(
      "roas_prediction",
      Array.from({ length: 4 }, (_, i) => [`campaign-${kind}-${i}`, roasFeatures(i)]),
    );
    startPool();
    await waitFor("10 completed tasks", async () => (await completed()) === 10);

    const byModel = backends.predictor.calls.map((c) => [c.model, c.rows]).sort();
    expect(byModel).toEqual([
      ["ctr_prediction", 6],
      ["roas_prediction", 4],
    ]);
    expect(backends.sink.calls).toEqual([10]);
    expect(pool?.counters).toMatchObject({ batches: 1, completed: 10, failed: 0 });
    for (const r of await records(stores.queue, [...ctr, ...roas])) expect(r.state).toBe("completed");

    const probabilities = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const hit = await backends.lookup({ tenant, taskType: "ctr_prediction", entityId: `ad-${kind}-${i}` });
      expect(hit).toMatchObject({ hit: true, result: { modelName: "ctr_prediction", modelVersion: "1" } });
      const p = tensorOf(hit.result?.value, "probability")?.data[0] ?? -1;
      expect(p).toBeGreaterThan(0);
      expect(p).toBeLessThan(1);
      probabilities.add(p);
    }
    // Rows were not mixed up or broadcast: different inputs, different outputs.
    expect(probabilities.size).toBeGreaterThan(1);
    const roasHit = await backends.lookup({
      tenant,
      taskType: "roas_prediction",
      entityId: `campaign-${kind}-0`,
    });
    expect(roasHit.result).toMatchObject({ modelName: "roas_prediction", modelVersion: "1" });
    expect(tensorOf(roasHit.result?.value, "roas")?.data).toHaveLength(1);
  });

  it("cuts a claim bigger than a model batch and a PutMany into ModelInfers of rowsPerCall and PutManys of putEntries", async () => {
    await open();
    // The predictor refuses more rows than the model's max_batch_size (256): the claim must be cut.
    await enqueue(
      "ctr_prediction",
      Array.from({ length: 600 }, (_, i) => [`big-${kind}-${i}`, ctrFeatures(i)]),
    );
    startPool({ claimSize: 600, putEntries: 250 });
    await waitFor("600 completed tasks", async () => pool?.counters.completed === 600);
    expect(backends.predictor.calls.map((c) => c.rows).sort((a, b) => a - b)).toEqual([88, 256, 256]);
    expect([...backends.sink.calls].sort((a, b) => a - b)).toEqual([100, 250, 250]);
    expect(pool?.counters).toMatchObject({ batches: 1, completed: 600, failed: 0 });
    // Rows were not mixed up between the calls: each key holds its own features' prediction.
    const ctr = taskTypes.get("ctr_prediction");
    for (const i of [0, 255, 256, 300, 511, 512, 599]) {
      const built = buildInputs(ctr, [ctrFeatures(i)]);
      const direct = await backends.predictor.target.infer(
        ctr.model,
        ctr.modelVersion,
        built.tensors,
        ctr.outputs,
      );
      const want = direct.outputs.find((o) => o.name === "probability")?.rows[0]?.[0] ?? Number.NaN;
      const hit = await backends.lookup({ tenant, taskType: "ctr_prediction", entityId: `big-${kind}-${i}` });
      expect(tensorOf(hit.result?.value, "probability")?.data[0]).toBeCloseTo(want, 5);
    }
  });

  it("dead-letters a poisoned task alone, with its reason, while the rest of its batch completes", async () => {
    await open();
    const good = await enqueue(
      "ctr_prediction",
      Array.from({ length: 3 }, (_, i) => [`good-${i}`, ctrFeatures(i)]),
    );
    const { bid: _bid, ...missingBid } = ctrFeatures(7);
    const [noRecord, missing, notNumeric] = await enqueue("ctr_prediction", [
      ["never-seen", undefined],
      ["missing-bid", missingBid],
      ["text-bid", { ...ctrFeatures(8), bid: "high" }],
    ]);
    const logged: { level: number; msg: string; dead?: number; tasks?: { key: string; error: string }[] }[] =
      [];
    startPool({
      logger: pino({ level: "info" }, { write: (line: string) => void logged.push(JSON.parse(line)) }),
    });
    await waitFor("the batch to settle", async () => {
      const s = (await stores.queue.stats()).total;
      return s.completed === 3 && s.dead === 3;
    });
    // Dead letters are work that will not happen: logged at warn, one line per batch, naming them.
    const deadLines = logged.filter((l) => l.msg.startsWith("tasks dead-lettered"));
    expect(deadLines).toHaveLength(1);
    expect(deadLines[0]).toMatchObject({ level: 40, dead: 3 });
    expect(deadLines[0]?.tasks?.map((t) => t.key).sort()).toEqual(
      ["missing-bid", "never-seen", "text-bid"].map((e) => `${tenant}/ctr_prediction/${e}`),
    );

    // One inference, of the three good rows only.
    expect(backends.predictor.calls).toEqual([expect.objectContaining({ rows: 3 })]);
    for (const r of await records(stores.queue, good)) expect(r.state).toBe("completed");
    const [a, b, c] = await records(stores.queue, [noRecord ?? "", missing ?? "", notNumeric ?? ""]);
    // Bad inputs never get better by retrying: dead on the first attempt.
    expect(a).toMatchObject({ state: "dead", attempts: 1 });
    expect(a?.lastError).toMatch(/no features stored for this entity/);
    expect(b).toMatchObject({ state: "dead", attempts: 1 });
    expect(b?.lastError).toMatch(/feature bid is missing for input features/);
    expect(c?.lastError).toMatch(/feature bid is "high", not a number/);
    const dead = await stores.queue.listDeadLetters();
    expect(dead.tasks.map((t) => t.id).sort()).toEqual([noRecord, missing, notNumeric].sort());
  });

  it("retries with backoff while the predictor is down, dead-letters after maxAttempts, and requeued letters complete", async () => {
    await open({ maxAttempts: 3, backoffBaseMs: 100, backoffMaxMs: 1_000 });
    const live = backends.predictor.target;
    // A real OIP client to a port nothing listens on: every call fails UNAVAILABLE.
    const down = new OipPredictor(`127.0.0.1:${await freePort()}`);
    backends.predictor.target = down;
    try {
      const ids = await enqueue(
        "ctr_prediction",
        Array.from({ length: 4 }, (_, i) => [`down-${i}`, ctrFeatures(i)]),
      );
      startPool();
      // After the first failure the tasks wait for a retry, not lost and not dead.
      await waitFor("a retry to be scheduled", async () => {
        const [r] = await records(stores.queue, ids.slice(0, 1));
        return r?.state === "failed" || (r?.attempts ?? 0) > 1;
      });
      const [waiting] = await records(stores.queue, ids.slice(0, 1));
      if (waiting?.state === "failed") {
        expect(waiting.lastError).toMatch(/^predictor failed: .*(UNAVAILABLE|No connection)/i);
        expect((waiting.notBefore ?? 0) - waiting.updatedAt).toBeGreaterThanOrEqual(50);
      }
      await waitFor("every task to be dead", async () => (await stores.queue.stats()).total.dead === 4);
      for (const r of await records(stores.queue, ids)) {
        expect(r).toMatchObject({ state: "dead", attempts: 3 });
        expect(r.lastError).toMatch(/^predictor failed/);
      }
      // Three attempts per task, each row sent once per attempt; the waits between grow.
      const calls = backends.predictor.calls;
      expect(calls.reduce((n, c) => n + c.rows, 0)).toBe(12);
      const span = (calls.at(-1)?.at ?? 0) - (calls[0]?.at ?? 0);
      expect(span).toBeGreaterThanOrEqual(140); // at least 50 ms + 100 ms of jittered backoff

      backends.predictor.target = live;
      expect(await stores.queue.requeueDeadLetters({ all: true })).toBe(4);
      await waitFor("the requeued tasks to complete", async () => (await completed()) === 4);
      const hit = await backends.lookup({ tenant, taskType: "ctr_prediction", entityId: "down-2" });
      expect(hit.hit).toBe(true);
    } finally {
      backends.predictor.target = live;
      down.close();
    }
  });

  it("on stop() finishes the batch in flight, hands back a claim it has not started, and leaves nothing processing", async () => {
    await open();
    await enqueue(
      "ctr_prediction",
      Array.from({ length: 10 }, (_, i) => [`stop-${i}`, ctrFeatures(i)]),
    );
    const inference = gate();
    backends.predictor.before = () => inference.promise;
    // Loop 2's claim is held until stop() has begun, as when SIGTERM lands mid-claim.
    const secondClaim = gate();
    let claims = 0;
    const queue = new Proxy(stores.queue, {
      get(target, name) {
        const value = Reflect.get(target, name, target);
        if (name !== "claim" || typeof value !== "function")
          return typeof value === "function" ? value.bind(target) : value;
        return async (...args: Parameters<TaskQueue["claim"]>) => {
          const claimed = await target.claim(...args);
          if (++claims === 2) await secondClaim.promise;
          return claimed;
        };
      },
    });
    const p = startPool({ claimSize: 4, batchesInFlight: 2 }, queue);
    await waitFor(
      "a batch in flight and a second claim",
      () => backends.predictor.calls.length === 1 && claims >= 2,
    );

    let stopped = false;
    const stopping = p.stop().then(() => {
      stopped = true;
    });
    secondClaim.open();
    await sleep(100);
    expect(stopped).toBe(false); // the batch in flight holds stop() open
    inference.open();
    await stopping;

    const stats = (await stores.queue.stats()).total;
    expect(stats).toMatchObject({ completed: 4, processing: 0, queued: 6, dead: 0, failed: 0 });
    // The released claim did not count as an attempt.
    const page = await Promise.all(
      Array.from({ length: 10 }, (_, i) => stores.queue.getByKey(`acme/ctr_prediction/stop-${i}`)),
    );
    expect(page.filter((r) => r?.state === "queued").every((r) => r?.attempts === 0)).toBe(true);
    expect(backends.sink.calls).toEqual([4]);
  });

  it("extends the lease of a batch that runs longer than it, so no second worker takes the tasks", async () => {
    await open({ leaseMs: 300 });
    const ids = await enqueue(
      "ctr_prediction",
      Array.from({ length: 3 }, (_, i) => [`slow-${i}`, ctrFeatures(i)]),
    );
    backends.predictor.before = () => sleep(900);
    startPool({ leaseMs: 300 });
    await waitFor("the batch to start", () => backends.predictor.calls.length === 1);
    const rival = stores.peerQueue();
    await sleep(500);
    expect(await rival.claim(10, { workerId: "rival", leaseMs: 300 })).toEqual([]);
    await waitFor("the slow batch to complete", async () => (await completed()) === 3);
    for (const r of await records(stores.queue, ids))
      expect(r).toMatchObject({ state: "completed", attempts: 1 });
  });

  /**
   * A batch whose predictor call blocks, and whose lease extensions are held back (as if its process
   * had stalled) until a rival has claimed its two tasks; then the call ends as `ends` says.
   */
  const stalledBatch = async (ends: "failing" | "computing", metrics?: WorkerMetrics) => {
    await open({ leaseMs: 300, maxAttempts: 5 });
    const ids = await enqueue(
      "ctr_prediction",
      Array.from({ length: 2 }, (_, i) => [`lost-${ends}-${i}`, ctrFeatures(i)]),
    );
    const inference = gate();
    backends.predictor.before = async () => {
      await inference.promise;
      if (ends === "failing") throw new Error("predictor stalled");
    };
    const rivalClaimed = gate();
    const queue = new Proxy(stores.queue, {
      get(target, name) {
        const value = Reflect.get(target, name, target);
        if (typeof value !== "function") return value;
        if (name !== "extendLease") return value.bind(target);
        return async (...args: Parameters<TaskQueue["extendLease"]>) => {
          await rivalClaimed.promise;
          return target.extendLease(...args);
        };
      },
    });
    const p = startPool({ leaseMs: 300, ...(metrics !== undefined ? { metrics } : {}) }, queue);
    await waitFor("the batch to start", () => backends.predictor.calls.length === 1);
    await sleep(400);
    const rival = stores.peerQueue();
    const taken = await rival.claim(10, { workerId: "rival", leaseMs: 60_000 });
    expect(taken.map((t) => t.id).sort()).toEqual([...ids].sort());
    rivalClaimed.open();
    inference.open();
    await waitFor("the stalled batch to settle", () => p.counters.batches === 1);
    return { ids, rival, pool: p };
  };

  it("settles nothing a rival claimed after the batch's lease ran out", async () => {
    const { ids, rival } = await stalledBatch("failing");
    // Its failures and lease extensions named it, so they left the rival's claims alone.
    for (const r of await records(stores.queue, ids)) {
      expect(r).toMatchObject({ state: "processing", attempts: 2, workerId: "rival" });
      // Still the rival's minute, not cut back to the stalled batch's 300 ms.
      expect(r.leaseExpiresAt).toBeGreaterThan(Date.now() + 30_000);
    }
    expect(await rival.ack(ids, { workerId: "rival" })).toEqual({ completed: 2, refused: [] });
  });

  it("acks nothing a rival claimed after the batch's lease ran out, though it writes its results", async () => {
    const registry = new Registry();
    const { ids, rival, pool } = await stalledBatch("computing", WorkerMetrics.for(registry));
    expect(backends.sink.calls).toEqual([2]);
    // Its ack named it, so the rival's claims are still the rival's to complete, and to count.
    for (const r of await records(stores.queue, ids))
      expect(r).toMatchObject({ state: "processing", attempts: 2, workerId: "rival" });
    expect(pool.counters).toMatchObject({ batches: 1, completed: 0, failed: 0 });
    const scrape = await registry.metrics();
    const ctr = { task_type: "ctr_prediction" };
    expect(metricValue(scrape, "prescient_executor_tasks_lease_lost_total", ctr)).toBe(2);
    // Nor are they counted completed here: the rival's worker will.
    const completedHere = metricValue(scrape, "prescient_executor_task_duration_seconds_count", {
      ...ctr,
      outcome: "completed",
    });
    expect(completedHere ?? 0).toBe(0);
    expect(await rival.ack(ids, { workerId: "rival" })).toEqual({ completed: 2, refused: [] });
  });
});

describe("WorkerPool options", () => {
  it("refuses rowsPerCall, putEntries or claimSize below one", () => {
    const queue = new MemoryTaskQueue();
    expect(() => new WorkerPool(queue, {} as never, { rowsPerCall: 0 })).toThrow(/rowsPerCall/);
    expect(() => new WorkerPool(queue, {} as never, { putEntries: 1.5 })).toThrow(/putEntries/);
    expect(() => new WorkerPool(queue, {} as never, { claimSize: -1 })).toThrow(/claimSize/);
  });

  it("reads rowsPerCall and putEntries from the environment, validated", () => {
    const o = executorOptionsFromEnv({
      PRESCIENT_EXECUTOR_ROWS_PER_CALL: "64",
      PRESCIENT_EXECUTOR_PUT_ENTRIES: "500",
    });
    expect(o.workers).toMatchObject({ rowsPerCall: 64, putEntries: 500 });
    expect(() => executorOptionsFromEnv({ PRESCIENT_EXECUTOR_ROWS_PER_CALL: "0" })).toThrow(
      /PRESCIENT_EXECUTOR_ROWS_PER_CALL/,
    );
    expect(() => executorOptionsFromEnv({ PRESCIENT_EXECUTOR_PUT_ENTRIES: "many" })).toThrow(
      /PRESCIENT_EXECUTOR_PUT_ENTRIES/,
    );
  });
});
