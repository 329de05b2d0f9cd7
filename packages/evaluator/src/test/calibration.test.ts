import { describe, expect, it } from "vitest";
import { renderTable } from "../report/table.js";
import { CalibrationCollector } from "../sim/calibration.js";
import { resolveReplayOptions, TypeTable } from "../sim/options.js";
import type { Policy } from "../sim/policy.js";
import { PolicyRun } from "../sim/policy-run.js";
import { replay } from "../sim/replay.js";
import { Scheduler } from "../sim/scheduler.js";
import type { TraceRead } from "../trace/record.js";
import { RowsTraceSource } from "../workload/output.js";
import type { Row } from "../workload/row.js";

const read = (time: number, entity: string): TraceRead => ({
  kind: "read",
  time,
  tenant: "t",
  taskType: "x",
  entity,
  user: "",
  key: `t/x/${entity}`,
});

describe("calibration of the probabilities ahead computes carry", () => {
  it("bins by reason and tenth, clamps to [0, 1], and ignores what is not a number", () => {
    const c = new CalibrationCollector();
    c.resolve("refresh", 0.31, true);
    c.resolve("refresh", 0.39, false);
    c.resolve("refresh", 1, true);
    c.resolve("refresh", 1.7, false);
    c.resolve("predicted", -0.2, false);
    c.resolve("predicted", Number.NaN, true);
    expect(c.bins()).toEqual([
      { reason: "predicted", lower: 0, resolved: 1, meanProbability: 0, readShare: 0 },
      { reason: "refresh", lower: 0.3, resolved: 2, meanProbability: 0.35, readShare: 0.5 },
      { reason: "refresh", lower: 0.9, resolved: 2, meanProbability: 1, readShare: 0.5 },
    ]);
  });

  it("holds each result's probability against whether it was read while fresh; unread and fresh at the end, it counts nowhere", async () => {
    const scheduler = new Scheduler(0);
    const types = new TypeTable(
      resolveReplayOptions({ ttlSeconds: { default: 10 }, latencyMs: { default: 100 } }),
    );
    const policy: Policy = {
      name: "p",
      caches: true,
      lookaheadMs: 0,
      start(ctx) {
        // Ten results each given 0.35; four of them are read.
        for (let i = 0; i < 10; i++) ctx.precompute(`t/x/k${i}`, "x", "refresh", undefined, 0.35);
        // A certain one (no probability): not held to anything.
        ctx.precompute("t/x/sure", "x", "trigger");
        ctx.at(30_000, () => {
          // Given 0.9, and still fresh and unread when the run ends.
          ctx.precompute("t/x/late", "x", "predicted", undefined, 0.9);
        });
      },
    };
    const run = new PolicyRun(policy, scheduler, types, {
      startMs: 0,
      endMs: 31_000,
      bins: 1,
      budgetPerSecond: 100,
      burst: 100,
    });
    await run.start();
    for (const [i, r] of [
      read(1000, "k0"),
      read(2000, "k1"),
      read(2500, "k1"),
      read(3000, "k2"),
      read(9000, "k3"),
      read(5000, "sure"),
    ].entries()) {
      await scheduler.runUntil(r.time);
      await run.read(r, i === 2 ? "repeat" : "first");
    }
    // k4..k9 expire unread at 10.1 s; a read of k5 after that is too late to count.
    await scheduler.runUntil(20_000);
    await run.read(read(20_000, "k5"), "after-expiry");
    await scheduler.runUntil(31_000);
    const m = await run.finish();
    expect(m.calibration).toEqual([
      {
        reason: "refresh",
        lower: 0.3,
        resolved: 10,
        meanProbability: expect.closeTo(0.35, 9),
        readShare: 0.4,
      },
    ]);
    expect(m.byReason.refresh).toMatchObject({ computes: 10, used: 4, wasted: 6 });
  });

  it("shows in the replay's report for a policy that gives probabilities, and not for one that gives none", async () => {
    // Ten uploads each read a minute later: the learned rule's target carries its probability.
    const rows: Row[] = [];
    for (let i = 0; i < 10; i++) {
      const row = {
        time: i * 100_000,
        tenant: "t",
        user: "",
        taskType: "",
        entity: `v${i}`,
        event: "upload",
      };
      rows.push(row, { ...row, time: row.time + 60_000, taskType: "analysis", event: "" });
    }
    const r = await replay(new RowsTraceSource("uploads", rows), {
      policies: ["reactive", "prescient"],
      ttlSeconds: { default: 1000 },
      budgetPerSecond: 1,
    });
    const [reactive, prescient] = r.policies;
    expect(reactive?.calibration).toEqual([]);
    expect(prescient?.calibration.map((b) => [b.reason, b.resolved, b.readShare])).toEqual([
      ["trigger", 4, 1],
    ]);
    const text = renderTable(r);
    expect(text).toMatch(/Calibration: the chance of a read each ahead compute was given/);
    expect(text).toMatch(/prescient\s+trigger\s+0\.9-1\.0\s+4\s+1\.00\s+1\.00/);
  });
});
