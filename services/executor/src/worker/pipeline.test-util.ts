import { randomUUID } from "node:crypto";
import { credentials } from "@grpc/grpc-js";
import { type CacheRuntime, type CacheStoreChoice, startCache } from "@prescient/cache";
import { cacheV1, type commonV1 } from "@prescient/contracts";
import { defaultTaskTypesPath, formatKey, loadTaskTypes, type TaskTypeRegistry } from "@prescient/core";
import { callUnary, clientChannelOptions, ServiceHost } from "@prescient/kit";
import { type PredictorRuntime, startPredictor } from "@prescient/predictor";
import { Redis } from "ioredis";
import { pino } from "pino";
import { OipPredictor, type Predictor } from "../compute/oip-client.js";
import type { EntityStore, Features } from "../entities/entity-store.js";
import { MemoryEntityStore } from "../entities/memory-entity-store.js";
import { RedisEntityStore } from "../entities/redis-entity-store.js";
import { MemoryTaskQueue } from "../queue/memory-task-queue.js";
import type { TaskQueueOptions } from "../queue/options.js";
import { RedisTaskQueue } from "../queue/redis-task-queue.js";
import type { NewTask, TaskQueue, TaskRecord } from "../queue/task-queue.js";
import type { BatchDeps } from "./batch-processor.js";
import type { ResultSink, TaskHandlers } from "./ports.js";

/**
 * Test helpers for the executor's pipeline with real parts: a predictor
 * running the shipped ONNX models and a cache, both on one loopback gRPC
 * host, plus queues and entity stores on memory or on the test redis-server.
 */
export const quietLogger = pino({ level: "silent" });
export const taskTypes: TaskTypeRegistry = loadTaskTypes(defaultTaskTypesPath);

/** The 8 FP32 inputs of the shipped ctr_prediction model, varied per entity. */
export function ctrFeatures(i: number): Features {
  return {
    bid: 0.5 + (i % 7) * 0.25,
    quality_score: 1 + (i % 10),
    position: 1 + (i % 4),
    hour_of_day: i % 24,
    ad_age_days: i % 30,
    historical_ctr: 0.01 + (i % 9) * 0.005,
    relevance: (i % 11) / 10,
    device_mobile: i % 2,
  };
}

/** The 8 FP32 inputs of the shipped roas_prediction model. */
export function roasFeatures(i: number): Features {
  return {
    budget: 100 + i * 10,
    bid: 1 + (i % 5) * 0.2,
    audience_size: 10_000 + i * 100,
    historical_roas: 1.5 + (i % 3) * 0.5,
    ctr: 0.02,
    conversion_rate: 0.03,
    seasonality: 1,
    competition: 0.5,
  };
}

export function newTask(tenant: string, taskType: string, entityId: string, priority = 5): NewTask {
  return { key: formatKey({ tenant, taskType, entityId }), taskType, tenant, priority, reason: "trigger" };
}

/** Counts ModelInfer calls and their rows; an optional hook runs before each call (to slow or fail it). */
export class CountingPredictor implements Predictor {
  readonly calls: { model: string; rows: number; at: number }[] = [];
  before: ((model: string) => Promise<void> | void) | undefined;
  target: Predictor;

  constructor(target: Predictor) {
    this.target = target;
  }

  async infer(...args: Parameters<Predictor["infer"]>): ReturnType<Predictor["infer"]> {
    const [model, , inputs] = args;
    this.calls.push({ model, rows: inputs[0]?.shape[0] ?? 0, at: Date.now() });
    await this.before?.(model);
    return this.target.infer(...args);
  }

  close(): void {
    this.target.close();
  }
}

/** Counts PutMany calls on the way to the cache. */
export class CountingSink implements ResultSink {
  readonly calls: number[] = [];
  readonly #target: ResultSink;

  constructor(target: ResultSink) {
    this.#target = target;
  }

  putMany(entries: cacheV1.PutEntry[]): Promise<void> {
    this.calls.push(entries.length);
    return this.#target.putMany(entries);
  }
}

export const noHandlers: TaskHandlers = {
  handle: () => Promise.reject(new Error("no external handlers in this test")),
};

export interface Backends {
  host: ServiceHost;
  predictorRuntime: PredictorRuntime;
  cache: CacheRuntime;
  /** A counting OIP client to the predictor. */
  predictor: CountingPredictor;
  /** A counting PutMany into the cache, in process. */
  sink: CountingSink;
  lookup(key: commonV1.Key): Promise<cacheV1.LookupResponse>;
  close(): Promise<void>;
}

/** A predictor (shipped ctr and roas models) and a cache on one loopback host. */
export async function startBackends(store: CacheStoreChoice = "memory"): Promise<Backends> {
  const host = new ServiceHost({ address: "127.0.0.1:0", logger: quietLogger, drainTimeoutMs: 2000 });
  const predictorRuntime = startPredictor(host, {
    logger: quietLogger,
    pollIntervalMs: 0,
    models: ["ctr_prediction", "roas_prediction"],
  });
  const [cache] = await Promise.all([
    startCache(host, { taskTypes, store, logger: undefined, registry: undefined }),
    host.start(),
  ]);
  await predictorRuntime.ready;
  const oip = new OipPredictor(host.address);
  const predictor = new CountingPredictor(oip);
  const sink = new CountingSink({ putMany: async (entries) => void (await cache.core.putMany({ entries })) });
  const client = new cacheV1.CacheServiceClient(
    host.address,
    credentials.createInsecure(),
    clientChannelOptions(),
  );
  return {
    host,
    predictorRuntime,
    cache,
    predictor,
    sink,
    lookup: (key) =>
      callUnary(
        client.lookup.bind(client),
        { key, onMiss: cacheV1.OnMiss.ON_MISS_NONE, features: {}, userId: "", rejectStale: false },
        { timeoutMs: 5000 },
      ),
    close: async () => {
      client.close();
      oip.close();
      await host.shutdown();
    },
  };
}

export type StoreKind = "memory" | "redis";

export interface Stores {
  queue: TaskQueue;
  entities: EntityStore;
  /** Another handle on the same queue, on its own connection where there is one. */
  peerQueue(options?: Partial<TaskQueueOptions>): TaskQueue;
  keyPrefix: string;
  close(): Promise<void>;
}

/** A queue and an entity store, in memory or on Redis under a fresh key prefix (deleted on close). */
export async function openStores(
  kind: StoreKind,
  redisUrl: string,
  options: Partial<TaskQueueOptions> = {},
): Promise<Stores> {
  const keyPrefix = `test-executor-${randomUUID().slice(0, 12)}`;
  if (kind === "memory") {
    const queue = new MemoryTaskQueue(options);
    return {
      queue,
      entities: new MemoryEntityStore(),
      peerQueue: () => queue,
      keyPrefix,
      close: async () => {},
    };
  }
  const connections: Redis[] = [];
  const connect = (): Redis => {
    const redis = new Redis(redisUrl);
    connections.push(redis);
    return redis;
  };
  const redis = connect();
  const entities = new RedisEntityStore(redis, { keyPrefix: `${keyPrefix}:e:` });
  await entities.ready();
  return {
    queue: new RedisTaskQueue(redis, { ...options, keyPrefix }),
    entities,
    peerQueue: (more) => new RedisTaskQueue(connect(), { ...options, ...more, keyPrefix }),
    keyPrefix,
    close: async () => {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `*${keyPrefix}*`, "COUNT", 1000);
        if (keys.length > 0) await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== "0");
      await Promise.all(connections.map((c) => c.quit()));
    },
  };
}

export function batchDeps(
  stores: Stores,
  backends: { predictor: Predictor; sink: ResultSink },
  more: Partial<BatchDeps> = {},
): BatchDeps {
  return {
    taskTypes,
    entities: stores.entities,
    predictor: backends.predictor,
    handlers: noHandlers,
    sink: backends.sink,
    ...more,
  };
}

/** Polls `probe` until it returns true, failing after `timeoutMs`. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every record of `ids`, in order; throws on one that is gone. */
export async function records(queue: TaskQueue, ids: readonly string[]): Promise<TaskRecord[]> {
  return Promise.all(
    ids.map(async (id) => {
      const r = await queue.get(id);
      if (r === undefined) throw new Error(`task ${id} has no record`);
      return r;
    }),
  );
}

/** A promise with its resolve exposed, for gating a step until the test says so. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
