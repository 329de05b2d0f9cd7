/** Why a task was asked for: common.v1.TaskReason, lower-cased. */
export const taskReasons = [
  "trigger",
  "schedule",
  "launch",
  "predicted",
  "refresh",
  "miss",
  "manual",
] as const;
export type TaskReason = (typeof taskReasons)[number];

const known: ReadonlySet<string> = new Set(taskReasons);

export function isTaskReason(s: string): s is TaskReason {
  return known.has(s);
}
