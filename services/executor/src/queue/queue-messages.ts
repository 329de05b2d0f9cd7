import { ResourceExhaustedError } from "@prescient/core";

/** The one wording of "the queue is full", so both queues answer alike. */
export function queueFullError(
  size: number,
  adding: number,
  capacity: number,
  partition?: { index: number; of: number },
): ResourceExhaustedError {
  const which =
    partition === undefined || partition.of === 1
      ? "task queue"
      : `task queue partition ${partition.index} (of ${partition.of}, each holding its share of the capacity)`;
  return new ResourceExhaustedError(
    `${which} is full: ${size} of ${capacity} tasks are waiting or running and ${adding} more do not fit; ` +
      "retry later, or raise the queue's capacity",
  );
}

/** lastError of a task whose worker stopped renewing its lease (the Redis scripts write the same). */
export function leaseExpiredMessage(workerId: string | undefined): string {
  return `lease expired (worker ${workerId ?? "?"} stopped without acking)`;
}
