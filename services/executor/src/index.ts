export { OipPredictor, type OutputRows, type Predictor } from "./compute/oip-client.js";
export { GrpcTaskHandlers } from "./compute/task-handler-client.js";
export * from "./entities/entity-store.js";
export { MemoryEntityStore } from "./entities/memory-entity-store.js";
export { RedisEntityStore } from "./entities/redis-entity-store.js";
export { buildInputs } from "./inputs/build-inputs.js";
export {
  type ExecutorOptions,
  executorEnvShape,
  executorOptionsFromEnv,
  resolveExecutorOptions,
} from "./options.js";
export * from "./queue/index.js";
export { QueueMetrics } from "./queue-metrics.js";
export { ExecutorCore, type TaskRequest } from "./service/executor-core.js";
export { executorServiceImplementation, executorServiceName } from "./service/executor-service.js";
export { type ExecutorRuntime, startExecutor } from "./start-executor.js";
export {
  type BatchOptions,
  type BatchOutcome,
  type BatchTask,
  batchDefaults,
  processBatch,
} from "./worker/batch-processor.js";
export { GrpcCacheSink } from "./worker/cache-sink.js";
export type { HandlerItem, HandlerOutcome, ResultSink, TaskHandlers } from "./worker/ports.js";
export { WorkerMetrics } from "./worker/worker-metrics.js";
export { WorkerPool, type WorkerPoolOptions } from "./worker/worker-pool.js";
