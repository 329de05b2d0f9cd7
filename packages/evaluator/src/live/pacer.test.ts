import { describe, expect, it } from "vitest";
import { type PacerClock, pace } from "./pacer.js";

/** Virtual time: sleeps resolve only when the test advances the clock past them. */
class VirtualClock implements PacerClock {
  t = 0;
  readonly #timers: Array<{ at: number; resolve: () => void }> = [];

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      this.#timers.push({ at: this.t + ms, resolve });
      signal?.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  /** Runs until `done` settles: lets pending work run, then jumps to the next timer. */
  async run(done: Promise<unknown>): Promise<void> {
    let settled = false;
    void done.finally(() => {
      settled = true;
    });
    for (let i = 0; i < 100_000 && !settled; i++) {
      await new Promise((r) => setImmediate(r));
      if (settled) break;
      this.#timers.sort((a, b) => a.at - b.at);
      const next = this.#timers.shift();
      if (next === undefined) continue;
      this.t = Math.max(this.t, next.at);
      next.resolve();
    }
  }
}

interface Rec {
  id: string;
  time: number;
}

const recs = (...times: number[]): Rec[] => times.map((time, i) => ({ id: `r${i}`, time }));

describe("live mode's time-compression scheduler", () => {
  it("starts each record at its trace offset divided by the speed", async () => {
    const clock = new VirtualClock();
    clock.t = 1_000; // wall time does not start at 0
    const started: Array<[string, number, number]> = [];
    const run = pace(
      recs(50_000, 51_000, 51_000, 55_000, 110_000),
      (r) => r.time,
      async (r, at) => {
        started.push([r.id, clock.now() - 1_000, at.dueMs]);
      },
      { speed: 10, concurrency: 4, clock },
    );
    await clock.run(run);
    const stats = await run;
    expect(started).toEqual([
      ["r0", 0, 0],
      ["r1", 100, 100],
      ["r2", 100, 100],
      ["r3", 500, 500],
      ["r4", 6_000, 6_000],
    ]);
    expect(stats).toMatchObject({ dispatched: 5, aborted: false, traceMs: 60_000, wallMs: 6_000, late: 0 });
  });

  it("keeps at most `concurrency` dispatches in flight and measures how late the rest start", async () => {
    const clock = new VirtualClock();
    let inFlight = 0;
    let most = 0;
    const starts: number[] = [];
    const lates: number[] = [];
    // Five records due together; each call takes 40 ms of (virtual) wall time.
    const run = pace(
      recs(0, 0, 0, 0, 0),
      (r) => r.time,
      async (_r, at) => {
        starts.push(clock.now());
        lates.push(at.lateMs);
        most = Math.max(most, ++inFlight);
        await clock.sleep(40);
        inFlight--;
      },
      { speed: 1, concurrency: 2, clock },
    );
    await clock.run(run);
    const stats = await run;
    expect(most).toBe(2);
    expect(starts).toEqual([0, 0, 40, 40, 80]);
    expect(lates).toEqual([0, 0, 40, 40, 80]);
    expect(stats).toMatchObject({ dispatched: 5, late: 3, maxLateMs: 80, wallMs: 120 });
  });

  it("dispatches a record out of time order at once, not before the trace began", async () => {
    const clock = new VirtualClock();
    const starts: number[] = [];
    const run = pace(
      recs(10_000, 12_000, 9_000),
      (r) => r.time,
      async () => {
        starts.push(clock.now());
      },
      { speed: 2, concurrency: 8, clock },
    );
    await clock.run(run);
    expect(starts).toEqual([0, 1_000, 1_000]);
  });

  it("stops dispatching when aborted, and lets what is in flight finish", async () => {
    const clock = new VirtualClock();
    const stop = new AbortController();
    const done: string[] = [];
    const run = pace(
      recs(0, 1_000, 2_000, 3_000),
      (r) => r.time,
      async (r) => {
        if (r.id === "r1") stop.abort();
        await clock.sleep(5);
        done.push(r.id);
      },
      { speed: 1, concurrency: 4, clock, signal: stop.signal },
    );
    await clock.run(run);
    const stats = await run;
    expect(done).toEqual(["r0", "r1"]);
    expect(stats).toMatchObject({ dispatched: 2, aborted: true });
  });

  it("a failing dispatch does not stop the run", async () => {
    const clock = new VirtualClock();
    const run = pace(
      recs(0, 1, 2),
      (r) => r.time,
      async (r) => {
        if (r.id === "r1") throw new Error("boom");
      },
      { speed: 1000, concurrency: 1, clock },
    );
    await clock.run(run);
    expect((await run).dispatched).toBe(3);
  });

  it("refuses a speed or concurrency that is not positive", async () => {
    await expect(
      pace(
        [],
        () => 0,
        async () => {},
        { speed: 0, concurrency: 1 },
      ),
    ).rejects.toThrow(/speed/);
    await expect(
      pace(
        [],
        () => 0,
        async () => {},
        { speed: 1, concurrency: 0 },
      ),
    ).rejects.toThrow(/concurrency/);
  });

  it("paces on the wall clock by default", async () => {
    const began = performance.now();
    const stats = await pace(
      recs(0, 100, 200),
      (r) => r.time,
      async () => {},
      {
        speed: 4,
        concurrency: 2,
      },
    );
    expect(performance.now() - began).toBeGreaterThanOrEqual(45);
    expect(stats).toMatchObject({ dispatched: 3, traceMs: 200 });
  });
});
