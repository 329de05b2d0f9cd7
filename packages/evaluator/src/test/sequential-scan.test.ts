import { join } from "node:path";
import { defaultTaskTypesPath, loadTaskTypes } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { replay } from "../sim/replay.js";
import { openTrace } from "../trace/open-trace.js";
import { RowsTraceSource } from "../workload/output.js";
import { read } from "../workload/row.js";
import { testTraces } from "./fixtures.test-util.js";

/**
 * Access with sequential structure: files read page by page, each page once,
 * a few files at a time. No page is read twice, so cache-aside never hits;
 * prescient's readahead (the analyzer's sequential streams, taken by the
 * precomputer's readahead schedule) reads the pages past each run.
 */
describe("sequential structure", () => {
  it("prescient reads ahead of scans that reactive can only miss", async () => {
    const rows = [];
    const t0 = Date.UTC(2024, 0, 1);
    for (let f = 0; f < 60; f++)
      for (let p = 0; p < 20; p++)
        rows.push(read(t0 + f * 7_000 + p * 2_000, "acme", "page", `file${f}.${p}`));
    rows.sort((a, b) => a.time - b.time);
    const report = await replay(new RowsTraceSource("scans", rows), {
      ttlSeconds: { default: 600 },
      latencyMs: { default: 100 },
      budgetPerSecond: 10,
      policies: ["reactive", "prescient", "oracle"],
      // The shipped configuration: its readahead schedule takes the analyzer's readahead keys.
      taskTypes: loadTaskTypes(defaultTaskTypesPath),
    });
    const rate = (name: string) => report.policies.find((p) => p.policy === name)!.hitRate;
    expect(rate("reactive")).toBe(0);
    // Every page but the first two or three of each file can be read ahead.
    expect(rate("prescient")).toBeGreaterThan(0.7);
    expect(rate("prescient")).toBeLessThanOrEqual(rate("oracle"));
    const prescient = report.policies.find((p) => p.policy === "prescient")!;
    expect(prescient.byReason.predicted?.hits ?? 0).toBeGreaterThan(0.6 * rows.length);
  }, 60_000);
});

describe("where expiry matters, on the real traces in test/traces", () => {
  it.each([
    ["kv_traces_1.csv", 2],
    ["short_bigcache_traces.csv", 30],
    ["block_traces_1.csv", 5],
  ] as const)(
    "prescient beats reactive on %s at a %i s TTL",
    async (file, ttl) => {
      const report = await replay(await openTrace(join(testTraces, file)), {
        ttlSeconds: { default: ttl },
        policies: ["reactive", "prescient"],
        // The shipped configuration, whose refresh-ahead schedule the replay runs.
        taskTypes: loadTaskTypes(defaultTaskTypesPath),
      });
      const [reactive, prescient] = report.policies;
      expect(prescient!.hitRate).toBeGreaterThan(reactive!.hitRate);
    },
    60_000,
  );
});
