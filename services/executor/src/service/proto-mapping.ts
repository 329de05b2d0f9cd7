import { executorV1 } from "@prescient/contracts";
import { reasonToProto } from "@prescient/kit";
import type { QueueStats, StateCounts, TaskRecord, TaskState } from "../queue/index.js";

const stateToProto: Record<TaskState, executorV1.TaskState> = {
  queued: executorV1.TaskState.TASK_STATE_QUEUED,
  processing: executorV1.TaskState.TASK_STATE_PROCESSING,
  completed: executorV1.TaskState.TASK_STATE_COMPLETED,
  failed: executorV1.TaskState.TASK_STATE_FAILED,
  dead: executorV1.TaskState.TASK_STATE_DEAD,
};

export function taskToProto(t: TaskRecord): executorV1.Task {
  return {
    id: t.id,
    key: t.key,
    taskType: t.taskType,
    tenant: t.tenant,
    priority: t.priority,
    reasons: t.reasons.map(reasonToProto),
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
