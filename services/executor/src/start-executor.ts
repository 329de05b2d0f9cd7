import { executorV1 } from "@prescient/contracts";
import { errorMessage } from "@prescient/core";
import {
  connectRedis,
  countFailures,
  createLogger,
  type ServiceHost,
  watchRedisErrors,
  watchRedisHealth,
} from "@prescient/kit";
import { OipPredictor, type Predictor } from "./compute/oip-client.js";
import { GrpcTaskHandlers } from "./compute/task-handler-client.js";
import type { EntityStore } from "./entities/entity-store.js";
import { MemoryEntityStore } from "./entities/memory-entity-store.js";
import { RedisEntityStore } from "./entities/redis-entity-store.js";
import { type ExecutorOptions, resolveExecutorOptions } from "./options.js";
import { MemoryTaskQueue, RedisTaskQueue, type TaskQueue, type TaskQueueOptions } from "./queue/index.js";
import { QueueMetrics } from "./queue-metrics.js";
import { ExecutorCore } from "./service/executor-core.js";
import { executorServiceImplementation, executorServiceName } from "./service/executor-service.js";
import { GrpcCacheSink } from "./worker/cache-sink.js";
import type { ResultSink } from "./worker/ports.js";
import { WorkerMetrics } from "./worker/worker-metrics.js";
import { WorkerPool } from "./worker/worker-pool.js";

export interface ExecutorRuntime {
  core: ExecutorCore;
  queue: TaskQueue;
  entities: EntityStore;
  pool: WorkerPool;
  /** Resolves once the stores are reachable and the service is SERVING. */
  ready: Promise<void>;
  /** Stops the workers (batches in flight finish), then closes clients and stores. Idempotent. */
  close(): Promise<void>;
}

const log = createLogger("executor");

/**
 * Mounts prescient.executor.v1.ExecutorService on the host and starts the
 * worker pool once the stores answer. NOT_SERVING until then.
 */
export function startExecutor(host: ServiceHost, options?: Partial<ExecutorOptions>): ExecutorRuntime {
  const o = resolveExecutorOptions(options);
  const redis =
    o.store === "memory"
      ? undefined
      : connectRedis(o.store.redisUrl, { connectionName: "prescient-executor" });
  if (redis !== undefined) watchRedisErrors(redis, "executor");
  const metrics = QueueMetrics.for();
  const own = o.queue.onDeadLettersDropped;
  const queueOptions: Partial<TaskQueueOptions> = {
    ...o.queue,
    onDeadLettersDropped: (reason, count) => {
      metrics.onDeadLettersDropped(reason, count);
      own?.(reason, count);
    },
  };
  // Store failures are counted where every caller passes: the stores' own boundary.
  const queue: TaskQueue = countFailures(
    redis ? new RedisTaskQueue(redis, queueOptions, o.clock) : new MemoryTaskQueue(queueOptions, o.clock),
    metrics.onStoreError,
  );
  metrics.queue = queue;
  const entities: EntityStore = countFailures(
    redis ? new RedisEntityStore(redis) : new MemoryEntityStore(),
    (operation) => metrics.onStoreError(`entities_${operation}`),
  );
  const predictor: Predictor = isPredictor(o.predictor) ? o.predictor : new OipPredictor(o.predictor);
  const sink: ResultSink = typeof o.sink === "string" ? new GrpcCacheSink(o.sink) : o.sink;
  const handlers = o.handlers ?? new GrpcTaskHandlers(o.handlerAddress);
  const deps = { taskTypes: o.taskTypes, entities, predictor, handlers, sink, clock: o.clock };
  const pool = new WorkerPool(queue, deps, { metrics: WorkerMetrics.for(), ...o.workers });
  const core = new ExecutorCore(queue, deps, () => pool.nudge());

  host.addService(
    executorServiceName,
    executorV1.ExecutorServiceService,
    executorServiceImplementation(core, o.taskTypes, { maxEnqueueMany: o.maxEnqueueMany }),
  );
  if (redis) watchRedisHealth(host, [executorServiceName], redis, { logger: log });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      host.setServing(executorServiceName, false);
      await pool.stop();
      if (predictor instanceof OipPredictor) predictor.close();
      if (sink instanceof GrpcCacheSink) sink.close();
      if (handlers instanceof GrpcTaskHandlers) handlers.close();
      await entities.close();
      if (metrics.queue === queue) metrics.queue = undefined;
      redis?.disconnect();
    })();
    return closing;
  };
  host.onShutdown(close);

  const ready = (async () => {
    await redis?.connect();
    await entities.ready();
    if (o.runWorkers) pool.start();
    host.setServing(executorServiceName, true);
    log.info(
      { store: redis ? "redis" : "memory", workers: o.runWorkers ? pool.options.batchesInFlight : 0 },
      "executor serving",
    );
  })();
  ready.catch((err: unknown) => log.error({ err: errorMessage(err) }, "executor failed to start"));
  return { core, queue, entities, pool, ready, close };
}

function isPredictor(p: ExecutorOptions["predictor"]): p is Predictor {
  return typeof p === "object";
}
