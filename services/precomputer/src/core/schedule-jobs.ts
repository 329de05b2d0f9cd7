import { type Clock, errorMessage } from "@prescient/core";
import { callAnalyzer } from "./analyzer-call.js";
import type { Budget } from "./budget.js";
import type { PrecomputerConfig, ScheduleSpec } from "./config.js";
import type { PrecomputerCounters } from "./counters.js";
import type { FeatureGate } from "./feature-gate.js";
import type { FreshnessLookup } from "./freshness-lookup.js";
import { planLaunchWarming } from "./launch-warming.js";
import type { PrecomputerDeps } from "./precomputer-deps.js";
import { planReadAhead } from "./predicted.js";
import type { RareWarnings } from "./rare-warnings.js";
import { refreshHorizonMs } from "./refresh-ahead.js";
import type { RefreshAheadJob } from "./refresh-ahead-job.js";
import type { RuleBook } from "./rule-book.js";
import type { JobContext, JobResult } from "./schedule-coordinator.js";
import type { TaskEnqueuer } from "./task-enqueuer.js";
import { selectTopN } from "./top-n.js";
import { addCount, type Counts, type PlannedTask, skipReasons } from "./types.js";

/** Jobs that run every few seconds and mostly find nothing: traced only when they send work. */
export const pollingJobs: ReadonlySet<ScheduleSpec["job"]> = new Set(["readahead", "refresh_ahead"]);

/**
 * What each kind of schedule does once its run is claimed: top-N, launch
 * warming, refresh-ahead (planned by RefreshAheadJob), readahead, the
 * analyzer's retraining and its clean-up. A job answers how many items it
 * handled and a note for the run record; planned model tasks whose entity has
 * no features are skipped, and the rest go out through the budget.
 */
export class ScheduleJobs {
  constructor(
    private readonly deps: Pick<PrecomputerDeps, "analyzer" | "taskTypes" | "traceRun">,
    private readonly config: PrecomputerConfig,
    private readonly clock: Clock,
    private readonly isTaskType: (name: string) => boolean,
    private readonly budget: Budget,
    private readonly freshness: FreshnessLookup,
    private readonly refreshAhead: RefreshAheadJob,
    private readonly enqueuer: TaskEnqueuer,
    private readonly counters: PrecomputerCounters,
    private readonly gate: FeatureGate,
    private readonly warnings: RareWarnings,
    private readonly ruleBook: RuleBook,
  ) {}

  /** Runs the schedule's job; each kind has a method of its own (a one-second schedule runs one often). */
  run(spec: ScheduleSpec, ctx: JobContext): Promise<JobResult> {
    switch (spec.job) {
      case "top_n":
        return this.#topN(spec, ctx);
      case "launch_warming":
        return this.#launchWarming(spec, ctx);
      case "refresh_ahead":
        return this.#refreshAhead(spec, ctx);
      case "readahead":
        return this.#readAhead(spec, ctx);
      case "analysis":
        return this.#analysis(spec);
      case "cleanup":
        return this.#cleanup();
    }
  }

  /**
   * The planned tasks the executor can compute: an onnx task whose entity
   * has no features stored would only be dead-lettered (FeatureGate), so it
   * is skipped as `no_features`. A job has no features of its own to give.
   * When the executor cannot answer, every task goes, as before it could be
   * asked: the run is not failed for a question.
   */
  async #computable(tasks: PlannedTask[], skipped: Counts): Promise<PlannedTask[]> {
    let lacking: Set<PlannedTask>;
    try {
      lacking = await this.gate.lacking(tasks);
    } catch (e) {
      this.warnings.warn(
        "features-stored-job",
        { err: errorMessage(e) },
        "executor cannot tell which entities have features: schedule jobs enqueue their model tasks unchecked",
      );
      return tasks;
    }
    if (lacking.size === 0) return tasks;
    addCount(skipped, skipReasons.noFeatures, lacking.size);
    return tasks.filter((t) => !lacking.has(t));
  }

  /** Planned tasks go out through the budget; the note says what was enqueued, deferred and skipped. */
  async #done(
    spec: ScheduleSpec,
    tasks: PlannedTask[],
    note: string,
    skipped: Counts,
    ctx: JobContext,
  ): Promise<JobResult> {
    this.counters.skippedAll(skipped);
    if (ctx.leaseLost) throw new Error("lease lost before enqueueing");
    const enqueue = () => this.enqueuer.enqueue(tasks, []);
    const trace = this.deps.traceRun;
    // A polling job's trace starts here, with work to send; the rest are traced whole (ScheduleRuns).
    const ids =
      trace !== undefined && pollingJobs.has(spec.job) && tasks.length > 0
        ? await trace({ schedule: spec.name, job: spec.job, runKey: ctx.runKey }, enqueue)
        : await enqueue();
    const deferred = tasks.length - ids.size;
    return {
      items: ids.size,
      note: `${note}; ${ids.size} enqueued${deferred > 0 ? `, ${deferred} deferred by the budget` : ""}${describe(skipped)}`,
    };
  }

  async #topN(spec: ScheduleSpec, ctx: JobContext): Promise<JobResult> {
    const skipped: Counts = new Map();
    const patterns = await callAnalyzer(() =>
      this.deps.analyzer.topPatterns({
        limit: spec.limit,
        ...(spec.taskType !== undefined ? { taskType: spec.taskType } : {}),
        ...(spec.tenant !== undefined ? { tenant: spec.tenant } : {}),
      }),
    );
    const top = selectTopN(
      patterns,
      {
        limit: spec.limit,
        priority: spec.priority,
        tenantWeight: (t) => this.budget.weightOf(t),
        ttlMsOf: (t) => this.deps.taskTypes.get(t).ttlMs,
      },
      this.isTaskType,
      skipped,
    );
    // Keys fresh beyond their refresh horizon need nothing now.
    const now = this.clock.now();
    const due = await this.#unwarmed(top, () => now, skipped);
    return this.#done(
      spec,
      await this.#computable(due, skipped),
      `top ${top.length} of ${patterns.length} ranked keys`,
      skipped,
      ctx,
    );
  }

  async #launchWarming(spec: ScheduleSpec, ctx: JobContext): Promise<JobResult> {
    const skipped: Counts = new Map();
    const launches = await callAnalyzer(() => this.deps.analyzer.upcomingLaunches(spec.hoursAhead));
    const defaults =
      spec.taskTypes.length > 0
        ? spec.taskTypes
        : ((
            this.config.rules.get("campaign_launch_scheduled") ?? this.config.rules.get("campaign_created")
          )?.targets.map((t) => t.taskType) ?? []);
    // Launches naming no task types warm their event's rule, learned targets as of now.
    if (launches.some((l) => l.taskTypes.length === 0 && l.event !== "")) await this.ruleBook.refresh();
    const { tasks, launchAt } = planLaunchWarming(
      launches,
      {
        now: this.clock.now(),
        hoursAhead: spec.hoursAhead,
        leadMs: spec.leadMs,
        horizonOf: (taskType) => this.#horizonOf(taskType),
        priority: spec.priority,
        defaultTaskTypes: defaults,
        ruleTaskTypes: (tenant, event) =>
          this.ruleBook.ruleFor(tenant, event)?.targets.map((t) => t.taskType),
      },
      this.deps.taskTypes,
      skipped,
    );
    // Every run within hours_ahead plans a launch again: a key the run before warmed is not computed twice.
    const due = await this.#unwarmed(tasks, (t) => launchAt.get(t.key) ?? this.clock.now(), skipped);
    // A launch skipped for want of features is planned again by a later run once they are stored.
    return this.#done(
      spec,
      await this.#computable(due, skipped),
      `${launches.length} launches within ${spec.hoursAhead} h`,
      skipped,
      ctx,
    );
  }

  /**
   * The tasks still to compute: a key whose stored result outlives
   * `from(task)` (now, or the launch it is warmed for) by its type's refresh
   * horizon is skipped as fresh; past the horizon, refresh-ahead keeps it by
   * its demand. A cache that cannot say what is stored skips nothing
   * (FreshnessLookup warns).
   */
  async #unwarmed(
    tasks: PlannedTask[],
    from: (task: PlannedTask) => number,
    skipped: Counts,
  ): Promise<PlannedTask[]> {
    const expiries = await this.freshness.expiries(tasks.map((t) => t.key));
    return tasks.filter((t, i) => {
      const exp = expiries?.[i];
      const warm = exp !== undefined && exp - from(t) > this.#horizonOf(t.taskType);
      if (warm) addCount(skipped, skipReasons.fresh);
      return !warm;
    });
  }

  /** A task type's refresh horizon: how long before a result is needed the precomputer counts on to compute it. */
  #horizonOf(taskType: string): number {
    return refreshHorizonMs(this.deps.taskTypes.get(taskType).ttlMs, this.config.refreshAhead);
  }

  async #refreshAhead(spec: ScheduleSpec, ctx: JobContext): Promise<JobResult> {
    const skipped: Counts = new Map();
    return this.#done(spec, await this.refreshAhead.plan(spec, skipped), "refresh-ahead", skipped, ctx);
  }

  async #analysis(spec: ScheduleSpec): Promise<JobResult> {
    const summary = spec.retrain
      ? await callAnalyzer(() => this.deps.analyzer.retrainNextAction())
      : "retraining off";
    return { items: 0, note: summary };
  }

  async #cleanup(): Promise<JobResult> {
    const removed = await callAnalyzer(() => this.deps.analyzer.cleanup());
    return { items: removed, note: `${removed} old records removed` };
  }

  async #readAhead(spec: ScheduleSpec, ctx: JobContext): Promise<JobResult> {
    const skipped: Counts = new Map();
    // The floor lets the analyzer queue only keys this job would compute (planReadAhead's threshold).
    const keys = await callAnalyzer(() =>
      this.deps.analyzer.takeReadAhead(spec.limit, this.config.predicted.minConfidence),
    );
    const tasks = planReadAhead(
      keys,
      { ...this.config.predicted, priority: spec.priority },
      this.isTaskType,
      skipped,
    );
    // Pages already fresh (read again, or read ahead before) need nothing.
    const fresh = await this.freshness.freshKeys(
      tasks.map((t) => t.key),
      0,
    );
    const due = tasks.filter((t) => {
      if (fresh.has(t.key)) addCount(skipped, skipReasons.fresh);
      return !fresh.has(t.key);
    });
    return this.#done(
      spec,
      await this.#computable(due, skipped),
      `${keys.length} readahead keys`,
      skipped,
      ctx,
    );
  }
}

/** The skip counts of a run, for its note. */
function describe(skipped: Counts): string {
  if (skipped.size === 0) return "";
  return `; skipped ${[...skipped].map(([r, n]) => `${n} ${r}`).join(", ")}`;
}
