import { type Clock, errorMessage, systemClock } from "@prescient/core";
import { runQuietly } from "@prescient/tracing";
import type { PrecomputerLog } from "../core/ports.js";
import type { Precomputer } from "../core/precomputer.js";
import type { RunRecord } from "../core/run-store.js";
import { nextWakeMs, runKeyOf, type ScheduleWindow, windowFor } from "../core/schedule-window.js";

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
  /** Told of each run this replica finished. Default: nothing. */
  onRun: (record: RunRecord) => void;
  /**
   * Told when a window ends, with its run as the run store has it (any
   * replica's; undefined when none claimed it). A run still going at the end
   * is waited for. Interval and cron windows are known from the clock; an
   * off-peak window only once a tick learned it from the analyzer, so one
   * that passes while the analyzer cannot be asked goes unreported.
   * Undefined (the default) checks nothing.
   */
  onWindowClosed: ((schedule: string, record: RunRecord | undefined) => void) | undefined;
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
  /** Schedules woken while a tick ran: one more tick follows it. */
  readonly #again = new Set<string>();
  /** Each schedule's newest run seen succeeded, so a window's end needs no store read when this replica saw it. */
  readonly #succeeded = new Map<string, RunRecord>();
  /** Each off-peak schedule's window whose end is awaited, by start. */
  readonly #offPeakWatched = new Map<string, number>();
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
    this.#options = { timers: realTimers, onRun: () => {}, onWindowClosed: undefined, ...options };
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
    const now = this.#clock.now();
    // The wake is at the end of the window open now; off-peak windows come from the analyzer, so are not checked.
    const closing =
      this.#options.onWindowClosed !== undefined && spec.timing.kind !== "off_peak"
        ? windowFor(spec.timing, now)
        : undefined;
    const wakeAt = now + nextWakeMs(spec, now);
    this.#after(wakeAt - now, () => this.#woken(name, wakeAt, closing));
  }

  #woken(name: string, wakeAt: number, closing: ScheduleWindow | undefined): void | Promise<void> {
    // Timers may fire a millisecond early against the clock. Ticking then would tick the window just run,
    // and the wake set for the new window would come while that tick is under way and be dropped: the
    // window would be skipped. So an early wake waits out the rest.
    const early = wakeAt - this.#clock.now();
    if (early > 0) {
      this.#after(early, () => this.#woken(name, wakeAt, closing));
      return;
    }
    this.#every(name);
    if (closing !== undefined) void this.#closed(name, closing);
    return this.#tick(name);
  }

  /** Awaits the end of an off-peak window a tick found (once per window). */
  #watchOffPeak(name: string, windowStart: number): void {
    const spec = this.#core.config.schedules.get(name);
    if (this.#options.onWindowClosed === undefined || spec?.timing.kind !== "off_peak") return;
    if (this.#offPeakWatched.get(name) === windowStart) return;
    this.#offPeakWatched.set(name, windowStart);
    const window = { start: windowStart, end: windowStart + spec.timing.windowMinutes * 60_000 };
    this.#after(window.end - this.#clock.now(), () => this.#closed(name, window));
  }

  /** Reports how the window ended, from the shared run store; a run still going is looked at again later. */
  async #closed(name: string, window: ScheduleWindow): Promise<void> {
    const report = this.#options.onWindowClosed;
    const spec = this.#core.config.schedules.get(name);
    if (report === undefined || spec === undefined || this.#stopped) return;
    const seen = this.#succeeded.get(name);
    if (seen?.windowStart === window.start) return report(name, seen);
    let record: RunRecord | undefined;
    try {
      record = await this.#core.runs.get(runKeyOf(name, window.start));
    } catch (err) {
      this.#log.warn(
        { schedule: name, err: errorMessage(err) },
        "could not read how a schedule window ended",
      );
      this.#after(30_000, () => this.#closed(name, window));
      return;
    }
    if (record?.status === "running") {
      // Its owner renews the lease while it works, or stops and loses it: either way a lease from now it is settled.
      this.#after(spec.leaseMs, () => this.#closed(name, window));
      return;
    }
    report(name, record);
  }

  #after(ms: number, fn: () => void | Promise<void>): void {
    if (this.#stopped) return;
    const timer = this.#options.timers.after(Math.max(1, ms), () => {
      this.#timers.delete(timer);
      return fn();
    });
    this.#timers.add(timer);
  }

  /**
   * One tick at a time per schedule. A wake while one runs is for a window
   * that opened since the run claimed its own, so one more tick follows the
   * run (late rather than never: a short polling window, readahead's at a
   * compressed time scale, can open while the last one still works).
   */
  #tick(name: string): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const running = this.#running.get(name);
    if (running !== undefined) {
      this.#again.add(name);
      return running;
    }
    const work = this.#run(name).then(() => {
      if (this.#again.delete(name)) return this.#tick(name);
      return undefined;
    });
    this.#running.set(name, work);
    return work;
  }

  /** One tick of the schedule, told to onRun when it ran; a failed run or tick is woken again later. */
  async #run(name: string): Promise<void> {
    try {
      // Ticks poll (claims, the analyzer's off-peak window and readahead queue) far more often than they find
      // work: they run untraced, and the run's work opens its own trace (PrecomputerDeps.traceRun).
      const outcome = await runQuietly(() => this.#core.tick(name));
      if (outcome?.record.status === "succeeded") this.#succeeded.set(name, outcome.record);
      if (outcome !== undefined) this.#watchOffPeak(name, outcome.record.windowStart);
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
