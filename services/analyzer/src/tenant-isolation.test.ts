import { ManualClock } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { merged, play, workload } from "./ad-platform-workload.test-util.js";
import type { Analyzer } from "./analyzer.js";
import { coreAnalyzer } from "./analyzer.test-util.js";

/**
 * Issue 11's isolation target: what the analyzer learns of one tenant (fan-out
 * rules, relations, readahead and its confidence, next keys) is the same
 * whether or not another tenant, with the same user, campaign and report ids
 * but other habits, shares the analyzer.
 */
const start = Date.UTC(2026, 10, 2, 9);

async function acmeSeenBy(analyzer: Analyzer) {
  const related: Record<string, unknown> = {};
  for (const subject of ["u0", "u1", "u5", "u9", "c3", "c7"])
    for (const taskType of [undefined, "campaign_analytics", "dashboard_data"])
      related[`${subject}/${taskType}`] = analyzer.relatedEntities("acme", subject, 10, taskType);
  const next: Record<string, unknown> = {};
  for (const key of ["acme/campaign_analytics/c3", "acme/dashboard_data/u1", "acme/report_page/r1-0003"])
    next[key] = await analyzer.predictNextKeys(key, 5);
  return {
    rules: analyzer.learnedRules("acme"),
    related,
    next,
    // Taken last: every key queued, this tenant's in the order they come.
    readAhead: analyzer.takeReadAhead(100_000).filter((k) => k.key.startsWith("acme/")),
  };
}

describe("tenant isolation of what the analyzer learns", () => {
  it("learns the same of a tenant with or without another tenant's traffic under the same ids", async () => {
    const acme = workload(5, start, ["acme"]);
    const globex = workload(6, start, ["globex"]);
    const aloneClock = new ManualClock(start);
    const alone = coreAnalyzer(aloneClock, { daysToKeep: 30 });
    await play(alone, aloneClock, acme);
    const sharedClock = new ManualClock(start);
    const shared = coreAnalyzer(sharedClock, { daysToKeep: 30 });
    await play(shared, sharedClock, merged(acme, globex));

    const want = await acmeSeenBy(alone);
    expect(want.rules.length).toBeGreaterThan(0);
    expect(want.readAhead.length).toBeGreaterThan(0);
    expect(Object.values(want.related).some((r) => (r as unknown[]).length > 0)).toBe(true);
    // The other tenant learned something of its own under the same ids.
    expect(shared.learnedRules("globex").length).toBeGreaterThan(0);
    expect(shared.relatedEntities("globex", "u1", 10)).not.toEqual(alone.relatedEntities("acme", "u1", 10));
    expect(await acmeSeenBy(shared)).toEqual(want);
  });
});
