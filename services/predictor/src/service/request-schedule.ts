import type { inference } from "@prescient/contracts";
import { InvalidArgumentError } from "@prescient/core";
import type { Cancellation, SubmitOptions } from "../batching/dynamic-batcher.js";
import type { ModelConfig } from "../repository/model-config.js";

/**
 * A request's place in the queue, from its parameters (named as in Triton,
 * so Triton clients work unchanged) and its gRPC call:
 * - `priority` (int64/uint64): 1 is the highest of the model's
 *   priority_levels; 0 or absent means default_priority_level.
 * - `timeout` (int64, microseconds, as Triton): longest wait in the queue;
 *   absent means the model's default_queue_timeout_ms (0 = none).
 * The gRPC deadline, when earlier, wins.
 */
export function scheduleOf(
  request: inference.ModelInferRequest,
  config: ModelConfig,
  call: { deadlineMs: number | undefined } & Cancellation,
  now: number,
): SubmitOptions {
  const priority = integerParameter(request, "priority");
  let level = config.defaultPriorityLevel;
  if (priority !== undefined && priority !== 0) {
    if (priority < 0 || priority > config.priorityLevels)
      throw new InvalidArgumentError(
        `parameter priority ${priority} is outside 1..${config.priorityLevels} (the model's priority_levels; 1 is highest)`,
      );
    level = priority;
  }
  const timeoutUs = integerParameter(request, "timeout");
  if (timeoutUs !== undefined && timeoutUs <= 0)
    throw new InvalidArgumentError(
      `parameter timeout ${timeoutUs} must be a positive number of microseconds`,
    );
  const timeoutMs = timeoutUs !== undefined ? timeoutUs / 1000 : config.defaultQueueTimeoutMs;
  const own = timeoutMs > 0 ? now + timeoutMs : undefined;
  const deadlineMs =
    call.deadlineMs === undefined
      ? own
      : own === undefined
        ? call.deadlineMs
        : Math.min(own, call.deadlineMs);
  return { level: level - 1, deadlineMs, cancellation: call };
}

function integerParameter(request: inference.ModelInferRequest, name: string): number | undefined {
  const p = request.parameters[name];
  if (p === undefined) return undefined;
  const value = p.int64Param ?? p.uint64Param ?? p.doubleParam;
  if (value === undefined || (typeof value === "number" && !Number.isInteger(value)))
    throw new InvalidArgumentError(`parameter ${name} must be an integer (int64_param)`);
  return Number(value);
}
