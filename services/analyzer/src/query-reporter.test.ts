import { describe, expect, it } from "vitest";
import type { QueryEventInput } from "./core/events.js";
import { QueryReporter } from "./query-reporter.js";

const ev = (i: number): QueryEventInput => ({
  tenant: "acme",
  taskType: "ctr_prediction",
  entityId: `ad-${i}`,
  key: "",
  userId: "",
  outcome: 1,
  computeMs: 0,
  latencyMs: 1,
});

describe("QueryReporter", () => {
  it("ships events in batches and flushes the rest", async () => {
    const batches: number[] = [];
    const reporter = new QueryReporter(async (events) => void batches.push(events.length), { batchSize: 4 });
    for (let i = 0; i < 10; i++) reporter.report(ev(i));
    await reporter.flush();
    expect(batches).toEqual([4, 4, 2]);
    expect(reporter.stats).toMatchObject({ reported: 10, sent: 10, dropped: 0, failed: 0, buffered: 0 });
  });

  it("never blocks on a stalled analyzer: drops and counts beyond the buffer", async () => {
    let release: () => void = () => undefined;
    const stalled = new Promise<void>((r) => {
      release = r;
    });
    const reporter = new QueryReporter(() => stalled, { batchSize: 2, maxBuffer: 5 });
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) reporter.report(ev(i));
    expect(performance.now() - t0).toBeLessThan(250);
    // Two went out in the stalled batch, five wait, the rest were dropped.
    expect(reporter.stats).toMatchObject({ reported: 7, dropped: 93, buffered: 5 });
    release();
    await reporter.close();
    expect(reporter.stats).toMatchObject({ sent: 7, buffered: 0 });
    reporter.report(ev(0));
    expect(reporter.stats.dropped).toBe(94);
  });

  it("counts a failed batch and keeps going", async () => {
    let calls = 0;
    const reporter = new QueryReporter(
      async () => {
        calls++;
        if (calls === 1) throw new Error("analyzer down");
      },
      { batchSize: 3 },
    );
    for (let i = 0; i < 6; i++) reporter.report(ev(i));
    await reporter.flush();
    expect(reporter.stats).toMatchObject({ sent: 3, failed: 3 });
  });
});
