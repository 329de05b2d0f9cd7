import { errorMessage, isDomainError, ResourceExhaustedError, UnavailableError } from "@prescient/core";
import type { Budget } from "./budget.js";
import type { PrecomputerCounters } from "./counters.js";
import type { LoadSampler } from "./load-sampler.js";
import type { TaskSink } from "./ports.js";
import type { FeatureUpsert, PrecomputerDeps, PrecomputerOptions } from "./precomputer-deps.js";
import type { ReadCalibrator } from "./read-calibrator.js";
import { type PlannedTask, skipReasons } from "./types.js";

/** The task ids one call enqueued, grouped by task type (the RPCs' answer shape). */
export interface QueuedByType {
  taskType: string;
  taskIds: string[];
}

/**
 * The one way work leaves the precomputer: the budget first, then one
 * all-or-nothing enqueue. Triggers, warm and refresh calls and schedule jobs
 * all go through here, so counting, refunds and errors agree. The sources'
 * read probabilities are calibrated by what became of earlier ones
 * (ReadCalibrator) before the budget spends by them.
 */
export class TaskEnqueuer {
  constructor(
    private readonly deps: Pick<PrecomputerDeps, "executor" | "upsertFeatures">,
    private readonly options: Pick<PrecomputerOptions, "maxTasksPerCall">,
    private readonly budget: Budget,
    private readonly load: LoadSampler,
    private readonly counters: PrecomputerCounters,
    private readonly calibrator?: ReadCalibrator,
  ) {}

  /**
   * Work a trigger planned, enqueued now or already fresh: it serves the
   * reads that follow, so other sources' read predictions about the same
   * keys stop counting them (ReadCalibration.cover).
   */
  covers(tasks: readonly PlannedTask[]): void {
    this.calibrator?.cover(tasks);
  }

  /**
   * Answers the task id of each enqueued task; tasks the budget deferred are
   * counted and get none. A failing executor answers UNAVAILABLE, and the
   * budget is refunded. A call by hand passes `bypassBudget`.
   */
  async enqueue(
    tasks: PlannedTask[],
    upserts: FeatureUpsert[],
    options?: { bypassBudget?: boolean },
  ): Promise<Map<PlannedTask, string>> {
    const ids = new Map<PlannedTask, string>();
    const bypassBudget = options?.bypassBudget === true;
    let admitted = tasks;
    if (
      !bypassBudget &&
      (this.budget.options.chargeForeground || tasks.some((t) => this.budget.isBackground(t)))
    ) {
      await this.calibrator?.apply(tasks);
      const admission = this.budget.admit(tasks, await this.load.sample());
      admitted = admission.admitted;
      this.counters.skippedAll(admission.deferred);
      if (admitted.length < tasks.length) keepFeatures(tasks, admitted);
    }
    if (admitted.length === 0 && upserts.length === 0) return ids;
    if (admitted.length > this.options.maxTasksPerCall)
      throw new ResourceExhaustedError(
        `${admitted.length} tasks in one call; the limit is ${this.options.maxTasksPerCall}`,
      );
    let results: Awaited<ReturnType<TaskSink["enqueueMany"]>> = [];
    try {
      if (upserts.length > 0 && this.deps.upsertFeatures) await this.deps.upsertFeatures(upserts);
      if (admitted.length > 0) results = await this.deps.executor.enqueueMany(admitted);
    } catch (e) {
      if (!bypassBudget) this.budget.refund(admitted);
      if (isDomainError(e) && e.kind !== "unavailable") throw e;
      throw new UnavailableError(`executor unavailable, nothing was enqueued: ${errorMessage(e)}`);
    }
    // Counted once per reason and type, not per task: each count is a labelled metric update.
    // By reason, then type: a joined string key per task cost more than the enqueue's own bookkeeping.
    const counted = new Map<PlannedTask["reason"], Map<string, number>>();
    let merged = 0;
    admitted.forEach((t, i) => {
      const r = results[i];
      if (r === undefined) return;
      ids.set(t, r.taskId);
      if (r.deduplicated) {
        merged++;
        return;
      }
      let byType = counted.get(t.reason);
      if (byType === undefined) {
        byType = new Map();
        counted.set(t.reason, byType);
      }
      byType.set(t.taskType, (byType.get(t.taskType) ?? 0) + 1);
    });
    for (const [reason, byType] of counted)
      for (const [taskType, n] of byType) this.counters.enqueued(reason, taskType, n);
    this.counters.skipped(skipReasons.queued, merged);
    return ids;
  }
}

/**
 * An entity's features ride on one of its tasks (see PlannedTask.features).
 * When the budget defers that task but admits another of the same entity, the
 * features move to the admitted one: without them its model task could only
 * be dead-lettered ("no features stored for this entity").
 */
function keepFeatures(tasks: readonly PlannedTask[], admitted: readonly PlannedTask[]): void {
  const kept = new Set(admitted);
  for (const deferred of tasks) {
    if (kept.has(deferred) || deferred.features === undefined) continue;
    const carrier = admitted.find(
      (t) => t.tenant === deferred.tenant && t.entityId === deferred.entityId && t.features === undefined,
    );
    if (carrier !== undefined) carrier.features = deferred.features;
  }
}

/** The ids of the tasks that were enqueued, by task type in first-seen order; deferred tasks have none. */
export function groupIds(
  tasks: readonly PlannedTask[],
  ids: ReadonlyMap<PlannedTask, string>,
): QueuedByType[] {
  const byType = new Map<string, string[]>();
  for (const t of tasks) {
    const id = ids.get(t);
    if (id === undefined) continue;
    const list = byType.get(t.taskType) ?? [];
    list.push(id);
    byType.set(t.taskType, list);
  }
  return [...byType].map(([taskType, taskIds]) => ({ taskType, taskIds }));
}
