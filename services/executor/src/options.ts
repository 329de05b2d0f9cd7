import {
  type Clock,
  defaultTaskTypesPath,
  loadTaskTypes,
  systemClock,
  type TaskTypeRegistry,
} from "@prescient/core";
import { addressSchema, ConfigError, intFromEnv, loadEnv } from "@prescient/kit";
import type { Predictor } from "./compute/oip-client.js";
import type { TaskQueueOptions } from "./queue/index.js";
import { maxDurableReplicas } from "./queue/options.js";
import { maxPartitions } from "./queue/partitions.js";
import type { ResultSink, TaskHandlers } from "./worker/ports.js";
import type { WorkerPoolOptions } from "./worker/worker-pool.js";

export interface ExecutorOptions {
  /** Default: the shipped config/task-types.yaml. */
  taskTypes: TaskTypeRegistry;
  /** Where the queue and entity features live. Default "memory". */
  store: "memory" | { redisUrl: string };
  /** The predictor: an address (OIP over gRPC) or an instance. Default 127.0.0.1:50051 (the mesh itself). */
  predictor: string | (() => string) | Predictor;
  /** Where results go: a cache address or an instance. Default 127.0.0.1:50051. */
  sink: string | ResultSink;
  /** External task handlers; default calls each type's `handler` or `handlerAddress` over gRPC. */
  handlers: TaskHandlers | undefined;
  /** TaskHandlerService address for external types without their own. Default none. */
  handlerAddress: string | undefined;
  queue: Partial<TaskQueueOptions>;
  workers: Partial<WorkerPoolOptions>;
  /** Run claim loops in this process. Default true. */
  runWorkers: boolean;
  /** Most tasks per EnqueueMany. Default 10,000. */
  maxEnqueueMany: number;
  clock: Clock;
}

export function resolveExecutorOptions(options: Partial<ExecutorOptions> = {}): ExecutorOptions {
  return {
    taskTypes: options.taskTypes ?? loadTaskTypes(defaultTaskTypesPath),
    store: options.store ?? "memory",
    predictor: options.predictor ?? "127.0.0.1:50051",
    sink: options.sink ?? "127.0.0.1:50051",
    handlers: options.handlers,
    handlerAddress: options.handlerAddress,
    queue: options.queue ?? {},
    workers: options.workers ?? {},
    runWorkers: options.runWorkers ?? true,
    maxEnqueueMany: options.maxEnqueueMany ?? 10_000,
    clock: options.clock ?? systemClock,
  };
}

/** Environment of `prescient serve executor` (and `up`). */
export const executorEnvShape = {
  /** OIP predictor address. */
  PRESCIENT_PREDICTOR_ADDR: addressSchema.optional(),
  /** Cache service address results are written to. */
  PRESCIENT_CACHE_ADDR: addressSchema.optional(),
  /** Default TaskHandlerService address for external task types. */
  PRESCIENT_HANDLER_ADDR: addressSchema.optional(),
  /** Tasks claimed per batch. */
  PRESCIENT_EXECUTOR_CLAIM_SIZE: intFromEnv(1, 5000).optional(),
  /** Most tasks of one type per ModelInfer (at most the smallest max_batch_size of the models run) or Handle. */
  PRESCIENT_EXECUTOR_ROWS_PER_CALL: intFromEnv(1, 100_000).optional(),
  /** Most results per PutMany: at most the cache's PRESCIENT_CACHE_MAX_PUT_MANY. */
  PRESCIENT_EXECUTOR_PUT_ENTRIES: intFromEnv(1, 100_000).optional(),
  /** Batches in flight per process. */
  PRESCIENT_EXECUTOR_BATCHES_IN_FLIGHT: intFromEnv(1, 64).optional(),
  /** Queue capacity. */
  PRESCIENT_QUEUE_CAPACITY: intFromEnv(1, 100_000_000).optional(),
  /** Attempts before a task is dead-lettered. */
  PRESCIENT_QUEUE_MAX_ATTEMPTS: intFromEnv(1, 100).optional(),
  /** Lease of claimed tasks, ms. */
  PRESCIENT_QUEUE_LEASE_MS: intFromEnv(100, 3_600_000).optional(),
  /** Most dead letters kept; the oldest go beyond it. */
  PRESCIENT_QUEUE_DEAD_LETTER_CAPACITY: intFromEnv(1, 100_000_000).optional(),
  /** How long a dead letter is kept, ms (at most a year). */
  PRESCIENT_QUEUE_DEAD_LETTER_RETENTION_MS: intFromEnv(1_000, 365 * 24 * 3_600_000).optional(),
  /**
   * Partitions of the Redis queue, each its own cluster slot (default 1, the
   * unpartitioned layout). Lower it only on a drained queue (queue/partitions.ts).
   */
  PRESCIENT_QUEUE_PARTITIONS: intFromEnv(1, maxPartitions).optional(),
  /**
   * Replicas that must acknowledge each enqueue (Redis WAIT) before it is
   * acknowledged; unset, enqueue replicates asynchronously (queue/options.ts,
   * durableEnqueue, says what each promises).
   */
  PRESCIENT_QUEUE_DURABLE_REPLICAS: intFromEnv(1, maxDurableReplicas).optional(),
  /** How long an enqueue waits for those replicas, ms (default 1000); only with PRESCIENT_QUEUE_DURABLE_REPLICAS. */
  PRESCIENT_QUEUE_DURABLE_TIMEOUT_MS: intFromEnv(1, 60_000).optional(),
};

/** WAIT's timeout when PRESCIENT_QUEUE_DURABLE_REPLICAS is set alone: long enough for a loaded replica. */
const defaultDurableTimeoutMs = 1_000;

export function executorOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<ExecutorOptions> {
  const e = loadEnv(executorEnvShape, env);
  // A timeout alone would silently do nothing: say so rather than run without the durability asked for.
  if (e.PRESCIENT_QUEUE_DURABLE_TIMEOUT_MS !== undefined && e.PRESCIENT_QUEUE_DURABLE_REPLICAS === undefined)
    throw new ConfigError(
      "invalid configuration: PRESCIENT_QUEUE_DURABLE_TIMEOUT_MS needs PRESCIENT_QUEUE_DURABLE_REPLICAS",
    );
  const queue: Partial<TaskQueueOptions> = {
    ...(e.PRESCIENT_QUEUE_CAPACITY !== undefined ? { capacity: e.PRESCIENT_QUEUE_CAPACITY } : {}),
    ...(e.PRESCIENT_QUEUE_MAX_ATTEMPTS !== undefined ? { maxAttempts: e.PRESCIENT_QUEUE_MAX_ATTEMPTS } : {}),
    ...(e.PRESCIENT_QUEUE_LEASE_MS !== undefined ? { leaseMs: e.PRESCIENT_QUEUE_LEASE_MS } : {}),
    ...(e.PRESCIENT_QUEUE_DEAD_LETTER_CAPACITY !== undefined
      ? { deadLetterCapacity: e.PRESCIENT_QUEUE_DEAD_LETTER_CAPACITY }
      : {}),
    ...(e.PRESCIENT_QUEUE_DEAD_LETTER_RETENTION_MS !== undefined
      ? { deadLetterRetentionMs: e.PRESCIENT_QUEUE_DEAD_LETTER_RETENTION_MS }
      : {}),
    ...(e.PRESCIENT_QUEUE_PARTITIONS !== undefined ? { partitions: e.PRESCIENT_QUEUE_PARTITIONS } : {}),
    ...(e.PRESCIENT_QUEUE_DURABLE_REPLICAS !== undefined
      ? {
          durableEnqueue: {
            replicas: e.PRESCIENT_QUEUE_DURABLE_REPLICAS,
            timeoutMs: e.PRESCIENT_QUEUE_DURABLE_TIMEOUT_MS ?? defaultDurableTimeoutMs,
          },
        }
      : {}),
  };
  const workers: Partial<WorkerPoolOptions> = {
    ...(e.PRESCIENT_EXECUTOR_CLAIM_SIZE !== undefined ? { claimSize: e.PRESCIENT_EXECUTOR_CLAIM_SIZE } : {}),
    ...(e.PRESCIENT_EXECUTOR_BATCHES_IN_FLIGHT !== undefined
      ? { batchesInFlight: e.PRESCIENT_EXECUTOR_BATCHES_IN_FLIGHT }
      : {}),
    ...(e.PRESCIENT_EXECUTOR_ROWS_PER_CALL !== undefined
      ? { rowsPerCall: e.PRESCIENT_EXECUTOR_ROWS_PER_CALL }
      : {}),
    ...(e.PRESCIENT_EXECUTOR_PUT_ENTRIES !== undefined
      ? { putEntries: e.PRESCIENT_EXECUTOR_PUT_ENTRIES }
      : {}),
    ...(e.PRESCIENT_QUEUE_LEASE_MS !== undefined ? { leaseMs: e.PRESCIENT_QUEUE_LEASE_MS } : {}),
  };
  return {
    ...(e.PRESCIENT_PREDICTOR_ADDR !== undefined ? { predictor: e.PRESCIENT_PREDICTOR_ADDR } : {}),
    ...(e.PRESCIENT_CACHE_ADDR !== undefined ? { sink: e.PRESCIENT_CACHE_ADDR } : {}),
    ...(e.PRESCIENT_HANDLER_ADDR !== undefined ? { handlerAddress: e.PRESCIENT_HANDLER_ADDR } : {}),
    queue,
    workers,
  };
}
