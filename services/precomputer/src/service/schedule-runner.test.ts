import { describe, expect, it } from "vitest";
import { harness } from "../core/fakes.test-util.js";
import type { PrecomputerLog } from "../core/ports.js";
import { ScheduleRunner, type Timers } from "./schedule-runner.js";

type Level = keyof PrecomputerLog;

function recordingLog(): { log: PrecomputerLog; lines: { level: Level; obj: object; msg: string }[] } {
  const lines: { level: Level; obj: object; msg: string }[] = [];
  const at =
    (level: Level) =>
    (obj: object, msg: string): void =>
      void lines.push({ level, obj, msg });
  return { log: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }, lines };
}

/** Timers that never fire: only the runs of the windows open at start happen. */
const never: Timers = { after: () => ({ cancel: () => {} }) };

describe("ScheduleRunner logging", () => {
  it("logs runs that did nothing at debug, and runs that enqueued at info", async () => {
    const h = harness();
    const now = h.clock.now();
    // One launch within launch_warming's horizon: that run enqueues; every other schedule finds nothing.
    h.analyzer.launches = [
      {
        id: "l1",
        tenant: "acme",
        campaignId: "c1",
        launchAt: now + 30 * 60_000,
        entityIds: ["ad1"],
        taskTypes: [],
        event: "",
      },
    ];
    const { log, lines } = recordingLog();
    const runner = new ScheduleRunner(h.core, log, h.clock, { timers: never, onRun: () => {} });
    await runner.start();
    await runner.stop();

    const finished = lines.filter((l) => l.msg.startsWith("schedule run finished"));
    const byName = new Map(finished.map((l) => [(l.obj as { schedule: string }).schedule, l]));
    expect(byName.get("launch_warming")?.level).toBe("info");
    expect(byName.get("readahead")).toMatchObject({ level: "debug", obj: { items: 0 } });
    for (const l of finished) expect(l.level).toBe((l.obj as { items: number }).items > 0 ? "info" : "debug");
  });

  it("logs a failed run at warn", async () => {
    const { log, lines } = recordingLog();
    // Failures are logged where they are recorded, by the core's coordinator.
    const h = harness({ deps: { log } });
    h.analyzer.down = true;
    const runner = new ScheduleRunner(h.core, log, h.clock, { timers: never, onRun: () => {} });
    await runner.start();
    await runner.stop();
    expect(lines.some((l) => l.level === "warn" && l.msg.startsWith("schedule run failed"))).toBe(true);
    expect(lines.filter((l) => l.level === "info")).toEqual([]);
  });
});

/** Timers the test fires itself: each `after` is recorded with when it is due. */
function armedTimers(now: () => number): {
  armed: { at: number; fn: () => void | Promise<void> }[];
  timers: Timers;
} {
  const armed: { at: number; fn: () => void | Promise<void> }[] = [];
  const timers: Timers = {
    after: (ms, fn) => {
      armed.push({ at: now() + ms, fn });
      return { cancel: () => {} };
    },
  };
  return { armed, timers };
}

describe("ScheduleRunner wakes", () => {
  it("waits out a wake that fires early instead of ticking the window just run, so the next window is not skipped", async () => {
    const h = harness();
    const { armed, timers } = armedTimers(() => h.clock.now());
    const windows: string[] = [];
    const runner = new ScheduleRunner(h.core, recordingLog().log, h.clock, {
      timers,
      onRun: (r) => {
        if (r.schedule === "readahead") windows.push(r.key);
      },
    });
    await runner.start();
    const first = windows.length;
    // The readahead schedule's next wake; fire it a millisecond early, as Node's timers may.
    const wake = armed.filter((t) => t.at > h.clock.now()).sort((a, b) => a.at - b.at)[0];
    expect(wake).toBeDefined();
    armed.length = 0;
    h.clock.set((wake?.at ?? 0) - 1);
    // Not awaited: whatever the early wake started is still under way when the next wake comes.
    const early = wake?.fn();
    const rest = armed.find((t) => t.at === wake?.at);
    expect(rest).toBeDefined();
    h.clock.set(rest?.at ?? 0);
    await rest?.fn();
    await early;
    await runner.stop();
    // The new window ran once, and the early wake ran nothing.
    expect(windows.slice(first)).toHaveLength(1);
  });

  it("runs the window that opened while the last tick still worked, after it, rather than skipping it", async () => {
    const h = harness();
    const { armed, timers } = armedTimers(() => h.clock.now());
    const windows: string[] = [];
    const runner = new ScheduleRunner(h.core, recordingLog().log, h.clock, {
      timers,
      onRun: (r) => {
        if (r.schedule === "readahead") windows.push(r.key);
      },
    });
    await runner.start();
    const first = windows.length;
    const next = () => {
      const wake = armed.filter((t) => t.at > h.clock.now()).sort((a, b) => a.at - b.at)[0];
      expect(wake).toBeDefined();
      armed.splice(armed.indexOf(wake!), 1);
      h.clock.set(wake!.at);
      return wake!;
    };
    // The first wake's tick is still under way (not awaited) when the next window's wake comes.
    const slow = next().fn();
    const during = next().fn();
    await slow;
    await during;
    await runner.stop();
    const ran = windows.slice(first);
    expect(ran).toHaveLength(2);
    expect(new Set(ran).size).toBe(2);
  });
});
