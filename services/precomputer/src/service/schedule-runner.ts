import { type Clock, errorMessage, systemClock } from "@prescient/core";
import { Cron } from "croner";
import type { PrecomputerLog } from "../core/ports.js";
import type { Precomputer } from "../core/precomputer.js";
import { nextWakeMs } from "../core/schedule-window.js";
import { recordRun } from "./metrics.js";

/**
 * Wakes each schedule on time: croner for cron patterns, aligned timers for
 * intervals and off-peak checks, plus a retry timer when a run failed. Every
 * wake only asks the core to `tick`: the run store decides whether this
 * replica runs the window, so any number of replicas may run this.
 */
export class ScheduleRunner {
  readonly #core: Precomputer;
  readonly #log: PrecomputerLog;
  readonly #clock: Clock;
  readonly #crons: Cron[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #running = new Map<string, Promise<void>>();
  #stopped = false;

  constructor(core: Precomputer, log: PrecomputerLog, clock: Clock = systemClock) {
    this.#core = core;
    this.#log = log;
    this.#clock = clock;
  }

  start(): void {
    for (const [name, spec] of this.#core.config.schedules) {
      if (!spec.enabled) continue;
      if (spec.timing.kind === "cron") {
        this.#crons.push(
          new Cron(spec.timing.cron, { timezone: spec.timing.timeZone, protect: true }, () => {
            this.#tick(name);
          }),
        );
      } else this.#every(name);
      // A window already open at start (missed while no replica ran) is run now.
      this.#tick(name);
    }
  }

  #every(name: string): void {
    const spec = this.#core.config.schedules.get(name);
    if (spec === undefined || this.#stopped) return;
    this.#after(nextWakeMs(spec, this.#clock.now()), () => {
      this.#tick(name);
      this.#every(name);
    });
  }

  #after(ms: number, fn: () => void): void {
    if (this.#stopped) return;
    const t = setTimeout(
      () => {
        this.#timers.delete(t);
        fn();
      },
      Math.max(1, ms),
    );
    t.unref();
    this.#timers.add(t);
  }

  /** One tick at a time per schedule; a wake while one runs is dropped (the run covers the window). */
  #tick(name: string): void {
    if (this.#stopped || this.#running.has(name)) return;
    const work = this.#core
      .tick(name)
      .then((outcome) => {
        if (outcome === undefined || !outcome.ran) return;
        const r = outcome.record;
        recordRun(r);
        if (r.status === "succeeded")
          this.#log.info(
            { schedule: name, run: r.key, items: r.items, note: r.note },
            "schedule run finished",
          );
        else if (r.status === "failed" && r.retryAt !== undefined)
          this.#after(r.retryAt - this.#clock.now(), () => this.#tick(name));
      })
      .catch((err: unknown) => {
        this.#log.warn(
          { schedule: name, err: errorMessage(err) },
          "schedule tick failed (run store unreachable?); retrying in 30 s",
        );
        this.#after(30_000, () => this.#tick(name));
      })
      .finally(() => this.#running.delete(name));
    this.#running.set(name, work);
  }

  /** Stops waking schedules; waits for runs under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const c of this.#crons) c.stop();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await Promise.allSettled([...this.#running.values()]);
  }
}
