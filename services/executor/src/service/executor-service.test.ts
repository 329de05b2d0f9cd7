import { randomUUID } from "node:crypto";
import { credentials, status } from "@grpc/grpc-js";
import { commonV1, executorV1 } from "@prescient/contracts";
import { callUnary, checkHealth, clientChannelOptions, featuresToProto, ServiceHost } from "@prescient/kit";
import { grpcError } from "@prescient/kit/testing";
import { grpcExecutor } from "@prescient/precomputer";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type ExecutorRuntime, startExecutor } from "../start-executor.js";
import {
  type Backends,
  ctrFeatures,
  gate,
  quietLogger,
  startBackends,
  taskTypes,
  waitFor,
} from "../worker/pipeline.test-util.js";

/**
 * ExecutorService over real gRPC on loopback: an executor on Redis whose
 * workers run the shipped ctr model through the predictor into the cache,
 * and a second, small in-memory one for the capacity limits.
 */
const redisUrl = inject("redisUrl");
const serviceName = "prescient.executor.v1.ExecutorService";
const run = randomUUID().slice(0, 8);
const tenant = "svc";
const keyPrefix = `test-executor-svc-${run}`;
const { TaskReason } = commonV1;
const { TaskState } = executorV1;

type Client = executorV1.ExecutorServiceClient;
interface Served {
  host: ServiceHost;
  runtime: ExecutorRuntime;
  client: Client;
}

let backends: Backends;
let main: Served;
let small: Served;

async function serve(options: Parameters<typeof startExecutor>[1]): Promise<Served> {
  const host = new ServiceHost({ address: "127.0.0.1:0", logger: quietLogger, drainTimeoutMs: 2000 });
  const runtime = startExecutor(host, options);
  await host.start();
  await runtime.ready;
  const client = new executorV1.ExecutorServiceClient(
    host.address,
    credentials.createInsecure(),
    clientChannelOptions(),
  );
  return { host, runtime, client };
}

/** Promise form of one RPC of a client. */
function rpc<M extends keyof executorV1.ExecutorServiceClient & string>(client: Client, method: M) {
  return <Req, Res>(request: Req): Promise<Res> => {
    const fn = client[method] as unknown as Parameters<typeof callUnary<Req, Res>>[0];
    return callUnary(fn.bind(client), request, { timeoutMs: 10_000 });
  };
}

const key = (entityId: string, taskType = "ctr_prediction"): commonV1.Key => ({
  tenant,
  taskType,
  entityId,
});
const spec = (entityId: string, more: Partial<executorV1.TaskSpec> = {}): executorV1.TaskSpec =>
  executorV1.TaskSpec.fromPartial({ key: key(entityId), reason: TaskReason.TASK_REASON_TRIGGER, ...more });
const unique = (name: string) => `${name}-${run}`;

beforeAll(async () => {
  backends = await startBackends();
  main = await serve({
    taskTypes,
    store: { redisUrl },
    predictor: backends.predictor,
    sink: backends.sink,
    queue: { keyPrefix, maxAttempts: 2, backoffBaseMs: 20, backoffMaxMs: 40 },
    workers: { maxIdleMs: 20, logger: quietLogger },
  });
  small = await serve({
    taskTypes,
    store: "memory",
    predictor: backends.predictor,
    sink: backends.sink,
    queue: { capacity: 3 },
    maxEnqueueMany: 5,
    runWorkers: false,
  });
}, 60_000);

afterAll(async () => {
  for (const s of [main, small]) {
    s.client.close();
    await s.host.shutdown();
  }
  await backends.close();
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`{${keyPrefix}}:*`);
  if (keys.length > 0) await redis.unlink(...keys);
  await redis.quit();
});

describe("ExecutorService", () => {
  it("enqueues with dedup (highest priority, every reason), reports tasks and stats, and runs them after Resume", async () => {
    const c = main.client;
    await rpc(c, "pause")({});
    const ad = unique("ad-1");
    const first = await rpc(
      c,
      "enqueue",
    )<executorV1.EnqueueRequest, executorV1.EnqueueResponse>({
      task: spec(ad, { priority: 3, features: featuresToProto(ctrFeatures(1)) }),
    });
    expect(first.deduplicated).toBe(false);
    const again = await rpc(
      c,
      "enqueue",
    )<executorV1.EnqueueRequest, executorV1.EnqueueResponse>({
      task: spec(ad, { priority: 8, reason: TaskReason.TASK_REASON_REFRESH }),
    });
    expect(again).toEqual({ taskId: first.taskId, deduplicated: true });
    const many = await rpc(
      c,
      "enqueueMany",
    )<executorV1.EnqueueManyRequest, executorV1.EnqueueManyResponse>({
      tasks: [spec(ad, { priority: 2 }), spec(unique("ad-2"), { features: featuresToProto(ctrFeatures(2)) })],
    });
    expect(many.results[0]).toEqual({ taskId: first.taskId, deduplicated: true });
    expect(many.results[1]?.deduplicated).toBe(false);

    const byId = await rpc(
      c,
      "getTask",
    )<executorV1.GetTaskRequest, executorV1.GetTaskResponse>({
      id: first.taskId,
    });
    expect(byId.task).toMatchObject({
      id: first.taskId,
      key: `${tenant}/ctr_prediction/${ad}`,
      tenant,
      taskType: "ctr_prediction",
      priority: 8,
      state: TaskState.TASK_STATE_QUEUED,
      attempts: 0,
    });
    expect(byId.task?.reasons.sort()).toEqual(
      [TaskReason.TASK_REASON_TRIGGER, TaskReason.TASK_REASON_REFRESH].sort(),
    );
    const byKey = await rpc(
      c,
      "getTask",
    )<executorV1.GetTaskRequest, executorV1.GetTaskResponse>({
      key: `${tenant}/ctr_prediction/${ad}`,
    });
    expect(byKey.task?.id).toBe(first.taskId);
    // The second task took the type's default priority, 5.
    const stats = await rpc(c, "queueStats")<object, executorV1.QueueStatsResponse>({});
    expect(stats).toMatchObject({ paused: true, total: { queued: 2n, processing: 0n } });
    expect(stats.byPriority).toEqual([
      { priority: 8, queued: 1n },
      { priority: 5, queued: 1n },
    ]);
    expect(stats.byTaskType).toEqual([
      { taskType: "ctr_prediction", counts: expect.objectContaining({ queued: 2n }) },
    ]);

    await rpc(c, "resume")({});
    await waitFor("both tasks to complete", async () => {
      const r = await rpc(
        c,
        "getTask",
      )<executorV1.GetTaskRequest, executorV1.GetTaskResponse>({
        id: many.results[1]?.taskId ?? "",
      });
      const s = await rpc(
        c,
        "getTask",
      )<executorV1.GetTaskRequest, executorV1.GetTaskResponse>({
        id: first.taskId,
      });
      return (
        r.task?.state === TaskState.TASK_STATE_COMPLETED && s.task?.state === TaskState.TASK_STATE_COMPLETED
      );
    });
    const after = await rpc(c, "queueStats")<object, executorV1.QueueStatsResponse>({});
    expect(after.paused).toBe(false);
    const hit = await backends.lookup(key(ad));
    expect(hit.result).toMatchObject({ modelName: "ctr_prediction", modelVersion: "1" });
  });

  it("computes now, coalescing two concurrent Computes of one key into one predictor call", async () => {
    const entity = unique("hot-ad");
    const held = gate();
    backends.predictor.calls.length = 0;
    backends.predictor.before = () => held.promise;
    try {
      const request: executorV1.ComputeRequest = {
        key: key(entity),
        features: featuresToProto(ctrFeatures(3)),
      };
      const compute = rpc(main.client, "compute")<executorV1.ComputeRequest, executorV1.ComputeResponse>;
      const both = Promise.all([compute(request), compute(request)]);
      await waitFor("the first compute to reach the predictor", () => backends.predictor.calls.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 150)); // the second call lands meanwhile
      held.open();
      const [a, b] = await both;
      expect(backends.predictor.calls).toHaveLength(1);
      expect([a.coalesced, b.coalesced].sort()).toEqual([false, true]);
      expect(a.key).toBe(`${tenant}/ctr_prediction/${entity}`);
      expect(a.result).toEqual(b.result);
      const p = a.result?.value?.tensors?.tensors[0]?.data[0] ?? -1;
      expect(p).toBeGreaterThan(0);
      expect(p).toBeLessThan(1);
      // Compute stores what it computed.
      expect((await backends.lookup(key(entity))).hit).toBe(true);
    } finally {
      backends.predictor.before = undefined;
      held.open();
    }
  });

  it("lists, requeues and purges dead letters", async () => {
    const c = main.client;
    const list = () =>
      rpc(
        c,
        "listDeadLetters",
      )<executorV1.ListDeadLettersRequest, executorV1.ListDeadLettersResponse>({
        pageSize: 0,
        pageToken: "",
      });
    // No features anywhere: a permanent failure, dead on the first attempt.
    const entities = [unique("orphan-1"), unique("orphan-2"), unique("orphan-3")];
    const enqueued = await rpc(
      c,
      "enqueueMany",
    )<executorV1.EnqueueManyRequest, executorV1.EnqueueManyResponse>({ tasks: entities.map((e) => spec(e)) });
    const ids = enqueued.results.map((r) => r.taskId);
    await waitFor("three dead letters", async () => (await list()).tasks.length === 3);
    const dead = await list();
    expect(dead.tasks.map((t) => t.id).sort()).toEqual([...ids].sort());
    expect(dead.tasks[0]).toMatchObject({ state: TaskState.TASK_STATE_DEAD, attempts: 1 });
    expect(dead.tasks[0]?.lastError).toMatch(/no features stored for this entity/);

    // Fix one entity's features, then requeue just that one: it completes.
    await main.runtime.entities.upsertMany([
      { tenant, entityId: entities[0] ?? "", features: ctrFeatures(9) },
    ]);
    const requeued = await rpc(
      c,
      "requeueDeadLetters",
    )<executorV1.RequeueDeadLettersRequest, executorV1.RequeueDeadLettersResponse>({
      ids: [ids[0] ?? ""],
      all: false,
    });
    expect(requeued.requeued).toBe(1n);
    await waitFor("the requeued task to complete", async () => {
      const t = await rpc(
        c,
        "getTask",
      )<executorV1.GetTaskRequest, executorV1.GetTaskResponse>({ id: ids[0] });
      return t.task?.state === TaskState.TASK_STATE_COMPLETED;
    });
    expect((await list()).tasks.map((t) => t.id).sort()).toEqual(ids.slice(1).sort());

    const purged = await rpc(
      c,
      "purgeDeadLetters",
    )<executorV1.PurgeDeadLettersRequest, executorV1.PurgeDeadLettersResponse>({ ids: [], all: true });
    expect(purged.purged).toBe(2n);
    expect((await list()).tasks).toEqual([]);
  });

  it("answers bad input on every RPC with INVALID_ARGUMENT or NOT_FOUND and a message, and stays SERVING", async () => {
    const c = main.client;
    const INVALID = status.INVALID_ARGUMENT;
    const enqueue = rpc(c, "enqueue")<executorV1.EnqueueRequest, unknown>;
    const enqueueMany = rpc(c, "enqueueMany")<executorV1.EnqueueManyRequest, unknown>;
    const compute = rpc(c, "compute")<executorV1.ComputeRequest, unknown>;
    const getTask = rpc(c, "getTask")<executorV1.GetTaskRequest, unknown>;
    const listDead = rpc(c, "listDeadLetters")<executorV1.ListDeadLettersRequest, unknown>;
    const requeue = rpc(c, "requeueDeadLetters")<executorV1.RequeueDeadLettersRequest, unknown>;
    const purge = rpc(c, "purgeDeadLetters")<executorV1.PurgeDeadLettersRequest, unknown>;
    const cases: [string, () => Promise<unknown>, status, RegExp][] = [
      ["Enqueue without a task", () => enqueue({}), INVALID, /^task is required/],
      [
        "Enqueue without a key",
        () => enqueue({ task: spec("x", { key: undefined }) }),
        INVALID,
        /^task\.key: is required/,
      ],
      [
        "Enqueue with a bad tenant",
        () =>
          enqueue({ task: spec("x", { key: { tenant: "a/b", taskType: "ctr_prediction", entityId: "x" } }) }),
        INVALID,
        /^task\.key: .*tenant/,
      ],
      [
        "Enqueue of an unknown type",
        () => enqueue({ task: spec("x", { key: { tenant, taskType: "no_such_type", entityId: "x" } }) }),
        INVALID,
        /^task\.key: unknown task type/,
      ],
      [
        "Enqueue with two subjects",
        () =>
          enqueue({
            task: spec("x", {
              key: { tenant, taskType: "ctr_prediction", entityId: "x", inputDigest: "ab" },
            }),
          }),
        INVALID,
        /needs exactly one of entity_id, input_digest or inputs/,
      ],
      [
        "Enqueue at priority 11",
        () => enqueue({ task: spec("x", { priority: 11 }) }),
        INVALID,
        /priority 11 is outside 1\.\.10/,
      ],
      [
        "Enqueue for reason 99",
        () => enqueue({ task: spec("x", { reason: 99 as commonV1.TaskReason }) }),
        INVALID,
        /task\.reason: unknown task reason 99/,
      ],
      [
        "Enqueue with an empty feature value",
        () => enqueue({ task: spec("x", { features: { bid: {} } }) }),
        INVALID,
        /task\.features\.bid has neither number nor text/,
      ],
      [
        "Enqueue with a bad feature name",
        () => enqueue({ task: spec("x", { features: { "no spaces": { number: 1 } } }) }),
        INVALID,
        /feature name "no spaces" must match/,
      ],
      [
        "Enqueue of an input-addressed key with a bad feature name",
        () =>
          enqueue({
            task: spec("x", {
              key: { tenant, taskType: "ctr_prediction", inputDigest: "a".repeat(64) },
              features: { "no spaces": { number: 1 } },
            }),
          }),
        INVALID,
        /feature name "no spaces" must match/,
      ],
      [
        "Compute of an input-addressed key with a non-finite feature",
        () =>
          compute({
            key: { tenant, taskType: "ctr_prediction", inputDigest: "b".repeat(64) },
            features: { bid: { number: Number.POSITIVE_INFINITY } },
          }),
        INVALID,
        /features: feature bid is not a finite number/,
      ],
      ["EnqueueMany of nothing", () => enqueueMany({ tasks: [] }), INVALID, /^tasks is empty/],
      [
        "EnqueueMany with one bad task",
        () => enqueueMany({ tasks: [spec("x"), spec("y", { priority: 42 })] }),
        INVALID,
        /^tasks\[1\]\.priority 42/,
      ],
      ["Compute without a key", () => compute({ features: {} }), INVALID, /^key: is required/],
      [
        "Compute of an unknown type",
        () => compute({ key: { tenant, taskType: "nope", entityId: "x" }, features: {} }),
        INVALID,
        /^key: unknown task type/,
      ],
      [
        "Compute with no features anywhere",
        () => compute({ key: key(unique("featureless")), features: {} }),
        INVALID,
        /cannot compute .*no features stored/,
      ],
      [
        "Compute with a non-numeric feature",
        () =>
          compute({
            key: key(unique("textual")),
            features: featuresToProto({ ...ctrFeatures(1), bid: "high" }),
          }),
        INVALID,
        /feature bid is "high", not a number/,
      ],
      ["GetTask with neither id nor key", () => getTask({}), INVALID, /give id or key/],
      [
        "GetTask with a malformed id",
        () => getTask({ id: "12abc" }),
        INVALID,
        /id\[0\] "12abc" is not a task id/,
      ],
      ["GetTask with an escaping key", () => getTask({ key: "svc/../other/x" }), INVALID, /./],
      ["GetTask of an unknown type", () => getTask({ key: "svc/nope/x" }), INVALID, /unknown task type/],
      [
        "GetTask of an unknown id",
        () => getTask({ id: `987654321-${"a".repeat(24)}` }),
        status.NOT_FOUND,
        /no task 987654321-a/,
      ],
      [
        "GetTask of an unknown key",
        () => getTask({ key: "svc/ctr_prediction/never" }),
        status.NOT_FOUND,
        /no task/,
      ],
      [
        "ListDeadLetters with a forged token",
        () => listDead({ pageSize: 10, pageToken: "abc" }),
        INVALID,
        /pageToken/,
      ],
      [
        "ListDeadLetters with an over-long token",
        () => listDead({ pageSize: 10, pageToken: "9".repeat(40) }),
        INVALID,
        /pageToken is not one this queue issued/,
      ],
      [
        "RequeueDeadLetters with neither",
        () => requeue({ ids: [], all: false }),
        INVALID,
        /either ids or all=true/,
      ],
      ["RequeueDeadLetters with both", () => requeue({ ids: ["1"], all: true }), INVALID, /not both/],
      [
        "RequeueDeadLetters with a bad id",
        () => requeue({ ids: [`1-${"a".repeat(24)}`, "x"], all: false }),
        INVALID,
        /ids\[1\] "x" is not a task id/,
      ],
      [
        "PurgeDeadLetters with neither",
        () => purge({ ids: [], all: false }),
        INVALID,
        /either ids or all=true/,
      ],
      ["PurgeDeadLetters with both", () => purge({ ids: ["1"], all: true }), INVALID, /not both/],
      [
        "PurgeDeadLetters with a bad id",
        () => purge({ ids: ["-5"], all: false }),
        INVALID,
        /is not a task id/,
      ],
    ];
    for (const [what, call, code, message] of cases) {
      const err = await grpcError(call());
      expect({ what, code: status[err.code] }).toEqual({ what, code: status[code] });
      expect(err.details, what).toMatch(message);
    }
    expect(await checkHealth(main.host.address, serviceName)).toBe("SERVING");
  });

  it("answers RESOURCE_EXHAUSTED for an over-long EnqueueMany and a full queue, and stays SERVING", async () => {
    const enqueueMany = rpc(small.client, "enqueueMany")<
      executorV1.EnqueueManyRequest,
      executorV1.EnqueueManyResponse
    >;
    const tooMany = await grpcError(
      enqueueMany({ tasks: Array.from({ length: 6 }, (_, i) => spec(`many-${i}`)) }),
    );
    expect(tooMany).toEqual({
      code: status.RESOURCE_EXHAUSTED,
      details: "6 tasks in one EnqueueMany; the limit is 5",
    });
    const filled = await enqueueMany({ tasks: [spec("full-1"), spec("full-2"), spec("full-3")] });
    expect(filled.results).toHaveLength(3);
    // A duplicate of a waiting key takes no room.
    await expect(enqueueMany({ tasks: [spec("full-1")] })).resolves.toBeDefined();
    const full = await grpcError(rpc(small.client, "enqueue")({ task: spec("full-4") }));
    expect(full.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(full.details).toMatch(/task queue is full: 3 of 3 tasks/);
    // All or nothing: a batch that does not fit adds none of itself.
    const partial = await grpcError(enqueueMany({ tasks: [spec("full-1"), spec("full-5")] }));
    expect(partial.code).toBe(status.RESOURCE_EXHAUSTED);
    const stats = await rpc(small.client, "queueStats")<object, executorV1.QueueStatsResponse>({});
    expect(stats).toMatchObject({ capacity: 3n, total: { queued: 3n } });
    expect(await checkHealth(small.host.address, serviceName)).toBe("SERVING");
  });

  it("says which entities have features, over its own RPC and the precomputer's peer, within its limit", async () => {
    await rpc(
      main.client,
      "enqueue",
    )({ task: spec(unique("with-features"), { features: featuresToProto(ctrFeatures(4)) }) });
    const refs = [
      { tenant, entityId: unique("with-features") },
      { tenant, entityId: "never-seen" },
    ];
    const featuresStored = rpc(main.client, "featuresStored")<
      executorV1.FeaturesStoredRequest,
      executorV1.FeaturesStoredResponse
    >;
    expect((await featuresStored({ entities: refs })).stored).toEqual([true, false]);
    expect((await featuresStored({ entities: [] })).stored).toEqual([]);
    const tooMany = await grpcError(featuresStored({ entities: Array(1001).fill(refs[1]) }));
    expect(tooMany).toEqual({
      code: status.RESOURCE_EXHAUSTED,
      details: "1001 entities in one FeaturesStored; the limit is 1000",
    });
    const bad = await grpcError(featuresStored({ entities: [{ tenant: "a/b", entityId: "x" }] }));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.details).toMatch(/^entities\[0\]: /);
    // The precomputer's gRPC peer splits a long list into calls the executor accepts.
    const peer = grpcExecutor(main.host.address);
    const many = [...Array(2400).fill(refs[1]), refs[0]];
    const stored = await peer.featuresStored?.(many);
    peer.close();
    expect(stored).toHaveLength(2401);
    expect(stored?.filter(Boolean)).toHaveLength(1);
    expect(stored?.[2400]).toBe(true);
  });
});
