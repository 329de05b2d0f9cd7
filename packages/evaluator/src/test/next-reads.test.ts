import { defaultTaskTypesPath, loadTaskTypes } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { replay } from "../sim/replay.js";
import { generate } from "../workload/kinds.js";
import { RowsTraceSource } from "../workload/output.js";

/**
 * Issue 11's "next actions" on a workload whose reads alone drive reads: a
 * random ad platform (a seed none of the settings were chosen on) with its
 * events taken out, so that no trigger warms a session and what a user reads
 * next can only be predicted from what they read before. Predicted work is
 * weighed by the budget like every other source, so next reads are what a
 * session's later reads are warmed by.
 */
describe("next reads on a workload of reads alone", () => {
  it("supply at least 5% of prescient's hits, and prescient beats reactive", async () => {
    const w = generate("random-adplatform", 13, 1);
    const reads = w.rows.filter((r) => r.event === "");
    const report = await replay(new RowsTraceSource("reads-only", reads), {
      taskTypes: loadTaskTypes(defaultTaskTypesPath),
      policies: ["reactive", "prescient"],
    });
    const [reactive, prescient] = report.policies;
    const predicted = prescient!.byReason.predicted?.hits ?? 0;
    expect(predicted / prescient!.hits).toBeGreaterThanOrEqual(0.05);
    expect(prescient!.hitRate).toBeGreaterThan(reactive!.hitRate + 0.02);
  }, 120_000);
});
