import { type Clock, errorMessage, systemClock } from "@prescient/core";
import type { PrecomputerLog } from "../core/ports.js";
import type { Precomputer } from "../core/precomputer.js";
import type { RunRecord } from "../core/run-store.js";
import { nextWakeMs } from "../core/schedule-window.js";
import { recordRun } from "./metrics.js";

/**
 * When to wake: real timers live, the evaluator's virtual clock in replay.
 * A callback may return its work, so a simulation can wait for it before
 * moving time on.
 */
export interface Timers {
  after(ms: number, fn: () => void | Promise<void>): { cancel(): void };
}

export const realTimers: Timers = {
  after(ms, fn) {
    const t = setTimeout(() => void fn(), Math.max(1, ms));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

export interface ScheduleRunnerOptions {
  /** Default real timers. */
  timers: Timers;
  /** Told of each finished run. Default: the Prometheus run metrics. */
  onRun: (record: RunRecord) => void;
}

/**
 * Wakes each schedule on time: at the end of its current window (the next
 * cron fire, interval boundary or off-peak check), plus a retry timer when a
 * run failed. Every wake only asks the core to `tick`: the run store decides
 * whether this replica runs the window, so any number of replicas may run
 * this. The evaluator runs it as is, on virtual timers.
 */
export class ScheduleRunner {
  readonly #core: Precomputer;
  readonly #log: PrecomputerLog;
  readonly #clock: Clock;
  readonly #options: ScheduleRunnerOptions;
  readonly #timers = new Set<{ cancel(): void }>();
  /** Each schedule's tick under way, or undefined (kept, not deleted: a map emptied and refilled every second reallocates each time). */
  readonly #running = new Map<string, Promise<void> | undefined>();
  #stopped = false;

  constructor(
    core: Precomputer,
    log: PrecomputerLog,
    clock: Clock = systemClock,
    options?: Partial<ScheduleRunnerOptions>,
  ) {
    this.#core = core;
    this.#log = log;
    this.#clock = clock;
    this.#options = { timers: realTimers, onRun: recordRun, ...options };
  }

  /** Starts waking every enabled schedule; resolves when the windows already open at start have run. */
  start(): Promise<void> {
    const first: Promise<void>[] = [];
    for (const [name, spec] of this.#core.config.schedules) {
      if (!spec.enabled) continue;
      this.#every(name);
      // A window already open at start (missed while no replica ran) is run now.
      first.push(this.#tick(name));
    }
    return Promise.all(first).then(() => undefined);
  }

  #every(name: string): void {
    const spec = this.#core.config.schedules.get(name);
    if (spec === undefined || this.#stopped) return;
    this.#after(nextWakeMs(spec, this.#clock.now()), () => {
      this.#every(name);
      return this.#tick(name);
    });
  }

  #after(ms: number, fn: () => void | Promise<void>): void {
    if (this.#stopped) return;
    const timer = this.#options.timers.after(Math.max(1, ms), () => {
      this.#timers.delete(timer);
      return fn();
    });
    this.#timers.add(timer);
  }

  /** One tick at a time per schedule; a wake while one runs is dropped (the run covers the window). */
  #tick(name: string): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const running = this.#running.get(name);
    if (running !== undefined) return running;
    const work = this.#run(name);
    this.#running.set(name, work);
    return work;
  }

  /** One tick of the schedule, told to onRun when it ran; a failed run or tick is woken again later. */
  async #run(name: string): Promise<void> {
    try {
      const outcome = await this.#core.tick(name);
      if (outcome === undefined || !outcome.ran) return;
      const r = outcome.record;
      this.#options.onRun(r);
      if (r.status === "succeeded") {
        // A run that found nothing to do is routine: at info, the one-second readahead alone
        // would write 60 lines a minute. Failures are logged (warn) where they are recorded.
        const fields = { schedule: name, run: r.key, items: r.items, note: r.note };
        if (r.items > 0) this.#log.info(fields, "schedule run finished");
        else this.#log.debug(fields, "schedule run finished with nothing to do");
      } else if (r.status === "failed" && r.retryAt !== undefined)
        this.#after(r.retryAt - this.#clock.now(), () => this.#tick(name));
    } catch (err) {
      this.#log.warn(
        { schedule: name, err: errorMessage(err) },
        "schedule tick failed (run store unreachable?); retrying in 30 s",
      );
      this.#after(30_000, () => this.#tick(name));
    } finally {
      this.#running.set(name, undefined);
    }
  }

  /** Stops waking schedules; waits for runs under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
    await Promise.allSettled([...this.#running.values()].filter((p) => p !== undefined));
  }
}
