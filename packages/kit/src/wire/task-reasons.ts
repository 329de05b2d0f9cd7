import { commonV1 } from "@prescient/contracts";
import { InvalidArgumentError, type TaskReason } from "@prescient/core";

const protoOfReason: Record<TaskReason, commonV1.TaskReason> = {
  trigger: commonV1.TaskReason.TASK_REASON_TRIGGER,
  schedule: commonV1.TaskReason.TASK_REASON_SCHEDULE,
  launch: commonV1.TaskReason.TASK_REASON_LAUNCH,
  predicted: commonV1.TaskReason.TASK_REASON_PREDICTED,
  refresh: commonV1.TaskReason.TASK_REASON_REFRESH,
  miss: commonV1.TaskReason.TASK_REASON_MISS,
  manual: commonV1.TaskReason.TASK_REASON_MANUAL,
};

const reasonOfProto = new Map<number, TaskReason>(
  Object.entries(protoOfReason).map(([reason, code]) => [code, reason as TaskReason]),
);

export function reasonToProto(reason: TaskReason): commonV1.TaskReason {
  return protoOfReason[reason];
}

/** An unset reason reads as manual: a task someone asked for by hand. Errors name `field`. */
export function reasonFromProto(reason: commonV1.TaskReason, field: string): TaskReason {
  if (reason === commonV1.TaskReason.TASK_REASON_UNSPECIFIED) return "manual";
  const r = reasonOfProto.get(reason);
  if (r === undefined) throw new InvalidArgumentError(`${field}: unknown task reason ${reason}`);
  return r;
}

/** For display: the reason's name, or the number when this build does not know it. */
export function reasonLabel(reason: number): string {
  return reason === commonV1.TaskReason.TASK_REASON_UNSPECIFIED
    ? "unspecified"
    : (reasonOfProto.get(reason) ?? String(reason));
}
