import { metricValue } from "@prescient/kit/testing";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { harness } from "../core/fakes.test-util.js";
import { silentLog } from "../core/ports.js";
import { runKeyOf } from "../core/schedule-window.js";
import { PrecomputerMetrics } from "./metrics.js";
import { ScheduleRunner, type Timers } from "./schedule-runner.js";

/** Timers on the harness's manual clock: `advanceTo` fires what falls due, in time order, awaiting each. */
function manualTimers(clock: { now(): number; set(ms: number): void }) {
  const pending = new Set<{ at: number; fn: () => void | Promise<void> }>();
  const timers: Timers = {
    after(ms, fn) {
      const t = { at: clock.now() + ms, fn };
      pending.add(t);
      return { cancel: () => pending.delete(t) };
    },
  };
  const advanceTo = async (time: number): Promise<void> => {
    for (;;) {
      const due = [...pending].filter((t) => t.at <= time).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      pending.delete(due);
      clock.set(Math.max(clock.now(), due.at));
      await due.fn();
      await new Promise((resolve) => setImmediate(resolve));
    }
    clock.set(time);
  };
  return { timers, advanceTo };
}

describe("schedule window metrics", () => {
  it("counts a window that ended without a successful run, and when the last success was", async () => {
    // 12:00 UTC: the hourly analysis window and the two-hourly launch_warming window open now.
    const start = Date.parse("2024-05-01T12:00:00Z");
    const h = harness({ start });
    const registry = new Registry();
    const metrics = PrecomputerMetrics.for(registry);
    const { timers, advanceTo } = manualTimers(h.clock);
    const runner = new ScheduleRunner(h.core, silentLog, h.clock, {
      timers,
      onRun: metrics.recordRun,
      onWindowClosed: metrics.windowClosed,
    });
    await runner.start();
    const scrape = async (name: string, schedule: string) =>
      metricValue(await registry.metrics(), name, { schedule });
    const lastSuccess = "prescient_precomputer_schedule_last_success_timestamp_seconds";
    const missed = "prescient_precomputer_schedule_windows_missed_total";
    expect(await scrape(lastSuccess, "analysis")).toBe(start / 1000);

    // The 12:00 analysis ran; from 13:00 the analyzer is down, so the 13:00 window never succeeds.
    await advanceTo(start + 3_600_000 - 1);
    h.analyzer.down = true;
    await advanceTo(start + 2 * 3_600_000 + 1);
    await runner.stop();

    expect(await scrape(missed, "analysis")).toBe(1);
    expect(await scrape(lastSuccess, "analysis")).toBe(start / 1000);
    expect(await h.runs.get(runKeyOf("analysis", start + 3_600_000))).toMatchObject({ status: "failed" });
    // launch_warming's 12:00-14:00 window succeeded at 12:00; readahead's one-second windows ran throughout.
    expect(await scrape(missed, "launch_warming")).toBeUndefined();
    expect(await scrape(lastSuccess, "launch_warming")).toBe(start / 1000);
  });

  it("takes another replica's success from the shared run store", async () => {
    const start = Date.parse("2024-05-01T12:00:00Z");
    const h = harness({ start });
    const registry = new Registry();
    const metrics = PrecomputerMetrics.for(registry);
    const { timers, advanceTo } = manualTimers(h.clock);
    const runner = new ScheduleRunner(h.core, silentLog, h.clock, {
      timers,
      onRun: metrics.recordRun,
      onWindowClosed: metrics.windowClosed,
    });
    await runner.start();
    // Another replica claimed and finished the 13:00 analysis window first: this one finds it succeeded.
    const w13 = start + 3_600_000;
    const key = runKeyOf("analysis", w13);
    await h.runs.claim({
      key,
      schedule: "analysis",
      windowStart: w13,
      owner: "other",
      now: w13,
      leaseMs: 60_000,
      maxAttempts: 3,
    });
    await h.runs.finish(key, "other", {
      status: "succeeded",
      finishedAt: w13 + 5_000,
      items: 0,
      error: "",
      note: "",
    });
    // Down from here, so the newest success stays the other replica's.
    h.analyzer.down = true;
    await advanceTo(start + 2 * 3_600_000 + 1);
    await runner.stop();
    const text = await registry.metrics();
    expect(
      metricValue(text, "prescient_precomputer_schedule_windows_missed_total", { schedule: "analysis" }),
    ).toBeUndefined();
    expect(
      metricValue(text, "prescient_precomputer_schedule_last_success_timestamp_seconds", {
        schedule: "analysis",
      }),
    ).toBe((w13 + 5_000) / 1000);
    // This replica ran no 13:00 analysis itself: only the 12:00 one succeeded here.
    expect(
      metricValue(text, "prescient_precomputer_schedule_runs_total", {
        schedule: "analysis",
        status: "succeeded",
      }),
    ).toBe(1);
  });

  it("reports an off-peak window once a tick learned it from the analyzer", async () => {
    // The fake analyzer's off-peak window is 02:00-03:00 UTC daily; the executor is down, so top_n fails.
    const start = Date.parse("2024-05-02T02:00:00Z");
    const h = harness({ start });
    h.analyzer.patterns = [
      {
        key: "acme/ctr_prediction/hot",
        tenant: "acme",
        taskType: "ctr_prediction",
        entityId: "hot",
        demand: 2,
        benefit: 10,
      },
    ];
    h.executor.down = true;
    const registry = new Registry();
    const metrics = PrecomputerMetrics.for(registry);
    metrics.trackSchedules(["daily_top_n"]);
    const { timers, advanceTo } = manualTimers(h.clock);
    const runner = new ScheduleRunner(h.core, silentLog, h.clock, {
      timers,
      onRun: metrics.recordRun,
      onWindowClosed: metrics.windowClosed,
    });
    await runner.start();
    const missed = async () =>
      metricValue(await registry.metrics(), "prescient_precomputer_schedule_windows_missed_total", {
        schedule: "daily_top_n",
      });
    expect(await missed()).toBe(0);
    await advanceTo(start + 3_600_000 - 1);
    expect(await missed()).toBe(0);
    await advanceTo(start + 3_600_000 + 1);
    await runner.stop();
    expect(await missed()).toBe(1);
  });
});
