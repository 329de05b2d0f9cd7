import { commonV1, executorV1 } from "@prescient/contracts";
import { InvalidArgumentError } from "@prescient/core";
import type { Features } from "../entities/entity-store.js";
import type { QueueStats, StateCounts, TaskReason, TaskRecord, TaskState } from "../queue/index.js";

const reasonByProto: Record<number, TaskReason> = {
  [commonV1.TaskReason.TASK_REASON_UNSPECIFIED]: "manual",
  [commonV1.TaskReason.TASK_REASON_TRIGGER]: "trigger",
  [commonV1.TaskReason.TASK_REASON_SCHEDULE]: "schedule",
  [commonV1.TaskReason.TASK_REASON_LAUNCH]: "launch",
  [commonV1.TaskReason.TASK_REASON_PREDICTED]: "predicted",
  [commonV1.TaskReason.TASK_REASON_REFRESH]: "refresh",
  [commonV1.TaskReason.TASK_REASON_MISS]: "miss",
  [commonV1.TaskReason.TASK_REASON_MANUAL]: "manual",
};

const protoByReason = Object.fromEntries(
  Object.entries(reasonByProto)
    .filter(([k]) => Number(k) !== commonV1.TaskReason.TASK_REASON_UNSPECIFIED)
    .map(([k, v]) => [v, Number(k) as commonV1.TaskReason]),
) as Record<TaskReason, commonV1.TaskReason>;

export function reasonFromProto(reason: commonV1.TaskReason, field: string): TaskReason {
  const r = reasonByProto[reason];
  if (r === undefined) throw new InvalidArgumentError(`${field}: unknown task reason ${reason}`);
  return r;
}

const stateToProto: Record<TaskState, executorV1.TaskState> = {
  queued: executorV1.TaskState.TASK_STATE_QUEUED,
  processing: executorV1.TaskState.TASK_STATE_PROCESSING,
  completed: executorV1.TaskState.TASK_STATE_COMPLETED,
  failed: executorV1.TaskState.TASK_STATE_FAILED,
  dead: executorV1.TaskState.TASK_STATE_DEAD,
};

/** Feature values from the wire: exactly one of number or text each. */
export function featuresFromProto(map: Record<string, commonV1.FeatureValue>, field: string): Features {
  const features: Features = {};
  for (const [name, value] of Object.entries(map)) {
    if (value.number !== undefined) features[name] = value.number;
    else if (value.text !== undefined) features[name] = value.text;
    else throw new InvalidArgumentError(`${field}.${name} has neither number nor text`);
  }
  return features;
}

export function featuresToProto(features: Features): Record<string, commonV1.FeatureValue> {
  return Object.fromEntries(
    Object.entries(features).map(([k, v]) => [k, typeof v === "number" ? { number: v } : { text: v }]),
  );
}

export function taskToProto(t: TaskRecord): executorV1.Task {
  return {
    id: t.id,
    key: t.key,
    taskType: t.taskType,
    tenant: t.tenant,
    priority: t.priority,
    reasons: t.reasons.map((r) => protoByReason[r]),
    state: stateToProto[t.state],
    attempts: t.attempts,
    createdAt: new Date(t.createdAt),
    updatedAt: new Date(t.updatedAt),
    ...(t.notBefore !== undefined ? { notBefore: new Date(t.notBefore) } : {}),
    lastError: t.lastError ?? "",
    traceparent: t.traceparent ?? "",
  };
}

function countsToProto(c: StateCounts): executorV1.StateCounts {
  return {
    queued: BigInt(c.queued),
    delayed: BigInt(c.delayed),
    processing: BigInt(c.processing),
    completed: BigInt(c.completed),
    failed: BigInt(c.failed),
    dead: BigInt(c.dead),
  };
}

export function statsToProto(s: QueueStats): executorV1.QueueStatsResponse {
  return {
    total: countsToProto(s.total),
    byTaskType: s.byTaskType.map((t) => ({ taskType: t.taskType, counts: countsToProto(t.counts) })),
    byPriority: s.byPriority.map((p) => ({ priority: p.priority, queued: BigInt(p.queued) })),
    capacity: BigInt(s.capacity),
    paused: s.paused,
  };
}
