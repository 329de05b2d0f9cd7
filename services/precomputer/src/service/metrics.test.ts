import { metricValue } from "@prescient/kit/testing";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { PrecomputerCounters } from "../core/counters.js";
import { PrecomputerMetrics } from "./metrics.js";

describe("PrecomputerMetrics", () => {
  it("mirrors the core's counters: enqueued, skipped by reason, and keys enqueued without a freshness lookup apart from both", async () => {
    const registry = new Registry();
    const metrics = PrecomputerMetrics.for(registry);
    const counters = new PrecomputerCounters();
    metrics.mirrorCounters(counters);
    counters.enqueued("trigger", "ctr_prediction", 3);
    counters.skipped("fresh", 2);
    counters.unlooked(5);
    counters.unlooked(0);
    const scrape = await registry.metrics();
    expect(metricValue(scrape, "prescient_precomputer_tasks_enqueued_total", { reason: "trigger" })).toBe(3);
    expect(metricValue(scrape, "prescient_precomputer_tasks_skipped_total", { reason: "fresh" })).toBe(2);
    expect(metricValue(scrape, "prescient_precomputer_freshness_lookups_sampled_out_total")).toBe(5);
    expect(counters.snapshot().skippedByReason).toEqual([{ name: "fresh", count: 2 }]);
  });
});
