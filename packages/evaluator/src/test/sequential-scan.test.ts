import { join } from "node:path";
import { defaultTaskTypesPath, loadTaskTypes, mulberry32 } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { replay } from "../sim/replay.js";
import { openTrace } from "../trace/open-trace.js";
import { scans } from "../workload/components.js";
import { RowsTraceSource } from "../workload/output.js";
import { type Row, read } from "../workload/row.js";
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

describe("an order no numbering shows", () => {
  it("prescient learns a shuffle that a training job reads in every pass, and reads ahead of it", async () => {
    // 100 shards in one fixed shuffled order (the ml-training workload's scans), a read every 2 s, a
    // pass every 15 min: each shard's result (5 min TTL) has expired by the next pass, so cache-aside
    // never hits.
    const rows: Row[] = [];
    const t0 = Date.UTC(2024, 0, 1);
    const spec = { tenant: "acme", taskType: "feature_batch", prefix: "shard", items: 100 };
    scans(
      rows,
      { ...spec, everyMs: 900_000, passMs: 200_000 },
      { start: t0, end: t0 + 4 * 3_600_000, random: mulberry32(7) },
    );
    expect(rows.length).toBe(1600);
    const report = await replay(new RowsTraceSource("shuffle", rows), {
      ttlSeconds: { default: 300 },
      latencyMs: { default: 100 },
      budgetPerSecond: 10,
      policies: ["reactive", "prescient", "oracle"],
      taskTypes: loadTaskTypes(defaultTaskTypesPath),
    });
    const policy = (name: string) => report.policies.find((p) => p.policy === name)!;
    expect(policy("reactive").hitRate).toBe(0);
    // Three passes teach each transition (the least support); the other 13 can be read ahead.
    expect(policy("prescient").hitRate).toBeGreaterThan(0.7);
    const predicted = policy("prescient").byReason.predicted;
    expect(predicted?.hits ?? 0).toBeGreaterThan(0.65 * rows.length);
    // Each key read ahead is the one read next: next to none is wasted.
    expect(predicted?.wasted ?? 1).toBeLessThanOrEqual(0.01 * (predicted?.computes ?? 0));
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
