import { MemoryTaskQueue } from "./memory-task-queue.js";
import { taskQueueConformance } from "./queue-conformance.test-util.js";

taskQueueConformance("MemoryTaskQueue", async (options, clock) => {
  const queue = new MemoryTaskQueue(options, clock);
  return {
    queue,
    peer: async () => queue,
    elapse: async (ms) => clock.advance(ms),
    close: async () => {},
  };
});
