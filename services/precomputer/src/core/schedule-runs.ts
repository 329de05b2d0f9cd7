import { randomUUID } from "node:crypto";
import { type Clock, errorMessage, InvalidArgumentError, NotFoundError } from "@prescient/core";
import type { PrecomputerConfig, ScheduleSpec } from "./config.js";
import type { DemandSource } from "./ports.js";
import type { PrecomputerDeps } from "./precomputer-deps.js";
import type { RareWarnings } from "./rare-warnings.js";
import type { RunRecord } from "./run-store.js";
import type { JobContext, JobResult, RunOutcome, ScheduleCoordinator } from "./schedule-coordinator.js";
import { pollingJobs, type ScheduleJobs } from "./schedule-jobs.js";
import { manualRunKey, runKeyOf, windowFor } from "./schedule-window.js";

/**
 * Starting the configured schedules' runs: by the clock (a tick runs the
 * current window once across replicas) or by hand, and listing past runs.
 * The coordinator claims each run; ScheduleJobs does its work.
 */
export class ScheduleRuns {
  constructor(
    private readonly deps: Pick<PrecomputerDeps, "analyzer" | "runs" | "traceRun">,
    private readonly config: PrecomputerConfig,
    private readonly clock: Clock,
    private readonly coordinator: ScheduleCoordinator,
    private readonly jobs: ScheduleJobs,
    private readonly warnings: RareWarnings,
  ) {}

  names(): string[] {
    return [...this.config.schedules.keys()];
  }

  #spec(name: string): ScheduleSpec {
    const spec = this.config.schedules.get(name);
    if (spec === undefined)
      throw new NotFoundError(
        `no schedule ${JSON.stringify(name.slice(0, 80))}; configured: ${this.names().join(", ") || "(none)"}`,
      );
    return spec;
  }

  /**
   * Runs the schedule's current window if it is due and no replica has run
   * it. Answers undefined when it is not due (off-peak, outside the window,
   * or the analyzer cannot say when that is).
   */
  tick(name: string): Promise<RunOutcome | undefined> {
    let spec: ScheduleSpec;
    try {
      spec = this.#spec(name);
    } catch (e) {
      return Promise.reject(e);
    }
    if (!spec.enabled) return Promise.resolve(undefined);
    // Only an off-peak schedule waits for the analyzer first; the rest (a one-second readahead) go straight on.
    if (spec.timing.kind === "off_peak") return this.#tickOffPeak(name, spec);
    return this.#runWindow(name, spec, this.clock.now(), undefined);
  }

  async #tickOffPeak(name: string, spec: ScheduleSpec): Promise<RunOutcome | undefined> {
    if (spec.timing.kind !== "off_peak") return undefined;
    const now = this.clock.now();
    let offPeak: Awaited<ReturnType<DemandSource["offPeakWindow"]>>;
    try {
      offPeak = await this.deps.analyzer.offPeakWindow({
        durationMinutes: spec.timing.windowMinutes,
        timeZone: spec.timing.timeZone,
      });
    } catch (e) {
      this.warnings.warn(
        `offpeak:${name}`,
        { schedule: name, err: errorMessage(e) },
        "analyzer unavailable: cannot tell the off-peak window; checking again later",
      );
      return undefined;
    }
    return this.#runWindow(name, spec, now, offPeak);
  }

  /** Runs the window now falls in, if any. */
  #runWindow(
    name: string,
    spec: ScheduleSpec,
    now: number,
    offPeak: Awaited<ReturnType<DemandSource["offPeakWindow"]>> | undefined,
  ): Promise<RunOutcome | undefined> {
    try {
      const window = windowFor(spec.timing, now, offPeak);
      if (window === undefined) return Promise.resolve(undefined);
      return this.coordinator.run(spec, runKeyOf(name, window.start), window.start, (ctx) =>
        this.#job(spec, ctx),
      );
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Starts a run by hand, in a window of its own; answers the finished run. */
  async runNow(name: string): Promise<RunRecord> {
    const spec = this.#spec(name);
    const now = this.clock.now();
    const key = manualRunKey(name, now, randomUUID().slice(0, 8));
    const outcome = await this.coordinator.run({ ...spec, maxAttempts: 1 }, key, now, (ctx) =>
      this.#job(spec, ctx),
    );
    return outcome.record;
  }

  /** A claimed run's job, traced whole unless it polls (ScheduleJobs traces those when they find work). */
  #job(spec: ScheduleSpec, ctx: JobContext): Promise<JobResult> {
    const trace = this.deps.traceRun;
    if (trace === undefined || pollingJobs.has(spec.job)) return this.jobs.run(spec, ctx);
    return trace({ schedule: spec.name, job: spec.job, runKey: ctx.runKey }, () => this.jobs.run(spec, ctx));
  }

  async list(schedule: string | undefined, limit: number): Promise<RunRecord[]> {
    if (schedule !== undefined && schedule !== "") this.#spec(schedule);
    const n = limit === 0 ? 50 : limit;
    if (!Number.isInteger(n) || n < 0 || n > 1000)
      throw new InvalidArgumentError("limit must be from 0 to 1000 (0 means 50)");
    return this.deps.runs.list({ ...(schedule ? { schedule } : {}), limit: n });
  }
}
