export type { RedisClient } from "@prescient/kit";
export { MemoryTaskQueue } from "./memory-task-queue.js";
export {
  type DeadLetterDropReason,
  type DurableEnqueue,
  defaultTaskQueueOptions,
  queueLimits,
  resolveTaskQueueOptions,
  type TaskQueueOptions,
} from "./options.js";
export { RedisTaskQueue } from "./redis-task-queue.js";
export { readyScore, retryDelayMs } from "./scheduling.js";
export * from "./task-queue.js";
export { isTaskId } from "./validation.js";
