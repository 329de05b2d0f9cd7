import { randomUUID } from "node:crypto";
import { type Clock, systemClock } from "@prescient/core";
import { type Alert, evaluateAlerts } from "./alerts.js";
import { Budget, type BudgetUsage } from "./budget.js";
import type { PrecomputerConfig } from "./config.js";
import { type CountersSnapshot, PrecomputerCounters } from "./counters.js";
import { FeatureGate } from "./feature-gate.js";
import { FreshPeekGate } from "./fresh-peek-gate.js";
import { FreshnessLookup } from "./freshness-lookup.js";
import { LoadSampler } from "./load-sampler.js";
import { ManualRequests, type RefreshRequest, type WarmRequest } from "./manual-requests.js";
import { type LoadSample, silentLog } from "./ports.js";
import { type PrecomputerDeps, type PrecomputerOptions, precomputerDefaults } from "./precomputer-deps.js";
import { RareWarnings } from "./rare-warnings.js";
import { ReadCalibrator } from "./read-calibrator.js";
import { RefreshAheadJob } from "./refresh-ahead-job.js";
import { RelatedTargets } from "./related-targets.js";
import { RuleBook } from "./rule-book.js";
import type { RunRecord, RunStore } from "./run-store.js";
import { type RunOutcome, ScheduleCoordinator } from "./schedule-coordinator.js";
import { ScheduleJobs } from "./schedule-jobs.js";
import { ScheduleRuns } from "./schedule-runs.js";
import { type QueuedByType, TaskEnqueuer } from "./task-enqueuer.js";
import { TriggerHandler, type TriggerOutcome } from "./trigger-handling.js";
import { TriggerPredictions } from "./trigger-predictions.js";
import type { TriggerEvent } from "./types.js";

export interface PrecomputerStats extends CountersSnapshot {
  budget: BudgetUsage;
  load: LoadSample;
  alerts: Alert[];
}

/**
 * The precomputer's core: triggers, warm and refresh calls, and the jobs of
 * its schedules, over ports to the executor, the cache and the analyzer, an
 * injected clock and a run store (see PrecomputerDeps). It wires its parts
 * together over one budget, one set of counters and one load sample, and
 * hands each call to the part that handles it.
 */
export class Precomputer {
  readonly options: PrecomputerOptions;
  readonly config: PrecomputerConfig;
  readonly counters = new PrecomputerCounters();
  readonly budget: Budget;
  readonly coordinator: ScheduleCoordinator;
  /** The configured rules joined by the learned ones. */
  readonly ruleBook: RuleBook;
  readonly #d: PrecomputerDeps;
  readonly #load: LoadSampler;
  readonly #triggers: TriggerHandler;
  readonly #manual: ManualRequests;
  readonly #schedules: ScheduleRuns;

  constructor(deps: PrecomputerDeps, options?: Partial<PrecomputerOptions>) {
    this.options = { ...precomputerDefaults, ...options };
    this.#d = deps;
    this.config = deps.config;
    const clock: Clock = deps.clock ?? systemClock;
    const log = deps.log ?? silentLog;
    this.budget = new Budget(clock, deps.config.budget);
    this.coordinator = new ScheduleCoordinator(
      deps.runs,
      clock,
      deps.owner ?? `precomputer-${randomUUID().slice(0, 8)}`,
      log,
    );
    const isTaskType = (name: string) => deps.taskTypes.has(name);
    const warnings = new RareWarnings(clock, log);
    this.#load = new LoadSampler(deps, this.options, clock, warnings);
    const freshness = new FreshnessLookup(deps, this.options, clock, this.counters, warnings);
    const calibrator = new ReadCalibrator(deps, clock, warnings, this.options.readCalibration);
    const enqueuer = new TaskEnqueuer(deps, this.options, this.budget, this.#load, this.counters, calibrator);
    const gate = new FeatureGate(deps);
    const predictions = new TriggerPredictions(
      deps,
      this.config,
      this.options,
      isTaskType,
      this.counters,
      warnings,
    );
    this.ruleBook = new RuleBook(deps, this.config, clock, this.options, isTaskType, warnings);
    this.#triggers = new TriggerHandler(
      { ...deps, clock },
      this.ruleBook,
      new RelatedTargets(deps, this.options, this.counters, warnings),
      warnings,
      this.options,
      predictions,
      freshness,
      new FreshPeekGate(this.options.freshPeeks),
      enqueuer,
      this.counters,
      gate,
    );
    this.#manual = new ManualRequests(deps, this.config, this.options, isTaskType, enqueuer, this.counters);
    const refreshAhead = new RefreshAheadJob(deps, this.config, clock, isTaskType, freshness, warnings, gate);
    const jobs = new ScheduleJobs(
      deps,
      this.config,
      clock,
      isTaskType,
      this.budget,
      freshness,
      refreshAhead,
      enqueuer,
      this.counters,
      gate,
      warnings,
      this.ruleBook,
    );
    this.#schedules = new ScheduleRuns(deps, this.config, clock, this.coordinator, jobs, warnings);
  }

  get runs(): RunStore {
    return this.#d.runs;
  }

  trigger(event: TriggerEvent): Promise<TriggerOutcome> {
    return this.#triggers.trigger(event);
  }

  triggerMany(events: readonly TriggerEvent[]): Promise<TriggerOutcome[]> {
    return this.#triggers.triggerMany(events);
  }

  /** Enqueues the given entities × task types now (reason `manual`), fresh or not. */
  warm(request: WarmRequest): Promise<QueuedByType[]> {
    return this.#manual.warm(request);
  }

  /** Re-enqueues the known entities of a task type (reason `refresh`), outside the budget. */
  refresh(request: RefreshRequest): Promise<number> {
    return this.#manual.refresh(request);
  }

  scheduleNames(): string[] {
    return this.#schedules.names();
  }

  /** Runs the schedule's current window if it is due and unclaimed; undefined when not due. */
  tick(name: string): Promise<RunOutcome | undefined> {
    return this.#schedules.tick(name);
  }

  /** Starts a run by hand, in a window of its own; answers the finished run. */
  runScheduleNow(name: string): Promise<RunRecord> {
    return this.#schedules.runNow(name);
  }

  listRuns(schedule: string | undefined, limit: number): Promise<RunRecord[]> {
    return this.#schedules.list(schedule, limit);
  }

  /** The live load, sampled at most once per `loadMaxAgeMs`; a failing probe reads as no signal. */
  sampleLoad(): Promise<LoadSample> {
    return this.#load.sample();
  }

  async stats(): Promise<PrecomputerStats> {
    const load = await this.sampleLoad();
    return {
      ...this.counters.snapshot(),
      budget: this.budget.usage(),
      load,
      alerts: evaluateAlerts(load, this.config.alerts),
    };
  }
}
