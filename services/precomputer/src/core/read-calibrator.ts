import { type Clock, errorMessage } from "@prescient/core";
import type { PrecomputerDeps } from "./precomputer-deps.js";
import type { RareWarnings } from "./rare-warnings.js";
import {
  type PredictionKind,
  ReadCalibration,
  type ReadCalibrationOptions,
  type ReadPrediction,
} from "./read-calibration.js";
import type { PlannedTask } from "./types.js";

/**
 * Applies a ReadCalibration to the tasks on their way to the budget, with
 * the analyzer's read marks (in process, or its ReadMarks RPC; an analyzer
 * port without them leaves the sources' probabilities unchanged). Each call first judges the predictions
 * whose window has closed, then calibrates every task that carries a
 * probability and records it as a prediction, in one analyzer call. A
 * failing analyzer leaves the probabilities as they were.
 */
export class ReadCalibrator {
  readonly calibration: ReadCalibration;

  constructor(
    private readonly deps: Pick<PrecomputerDeps, "analyzer" | "taskTypes">,
    private readonly clock: Clock,
    private readonly warnings: RareWarnings,
    options?: Partial<ReadCalibrationOptions>,
  ) {
    this.calibration = new ReadCalibration(options);
  }

  /**
   * These tasks were planned now, enqueued or found fresh: the pending
   * predictions of other sources about their keys are covered
   * (ReadCalibration.cover).
   */
  cover(tasks: readonly PlannedTask[]): void {
    if (this.calibration.pendingCount === 0) return;
    const { taskTypes } = this.deps;
    const now = this.clock.now();
    for (const t of tasks)
      if (taskTypes.has(t.taskType))
        this.calibration.cover(t.key, taskTypes.get(t.taskType).ttlMs, t.reason, now);
  }

  /** Replaces each task's probability by its calibrated one (in place). */
  async apply(tasks: readonly PlannedTask[]): Promise<void> {
    const { analyzer, taskTypes } = this.deps;
    const marksOf = analyzer.readMarks?.bind(analyzer);
    if (marksOf === undefined) return;
    const cal = this.calibration;
    const now = this.clock.now();
    const due = cal.due(now);
    const subject = tasks.filter((t) => t.probability !== undefined && taskTypes.has(t.taskType));
    if (due.length === 0 && subject.length === 0) return;
    // Only a key not pending once the due ones are judged becomes a prediction, and only its mark
    // is needed: sources such as readahead propose the same keys over and over while pending.
    const judged = due.length > 0 ? new Set(due) : undefined;
    const made: ReadPrediction[] = [];
    const kinds: PredictionKind[] = [];
    for (const t of subject) {
      const kind = {
        tenant: t.tenant,
        taskType: t.taskType,
        source: t.reason,
        probability: t.probability ?? 1,
      };
      kinds.push(kind);
      const ttlMs = taskTypes.get(t.taskType).ttlMs;
      if (ttlMs > 0 && (!cal.isPending(t.key, ttlMs) || judged?.has(t.key) === true))
        made.push({ ...kind, key: t.key, from: Math.max(now, t.notBefore ?? now), ttlMs });
    }
    let marks: (number | undefined)[] = [];
    if (due.length > 0 || made.length > 0) {
      try {
        marks = await marksOf(made.length === 0 ? due : [...due, ...made.map((p) => p.key)]);
      } catch (e) {
        this.warnings.warn(
          "read-marks",
          { err: errorMessage(e) },
          "analyzer unavailable: read probabilities uncalibrated this time",
        );
        return;
      }
    }
    if (due.length > 0) cal.judge(due, marks.slice(0, due.length), now);
    subject.forEach((t, i) => {
      t.probability = cal.calibrate(kinds[i]!, now);
    });
    cal.record(made, due.length === 0 ? marks : marks.slice(due.length));
  }
}
