import { ManualClock } from "@prescient/core";
import { describe, expect, it } from "vitest";
import type { Analyzer } from "./analyzer.js";
import { coreAnalyzer, query } from "./analyzer.test-util.js";
import { emptyIngestResult } from "./core/events.js";

const t0 = Date.UTC(2025, 1, 10, 9);
const sec = 1000;
const hour = 3_600_000;

/**
 * u0 created two campaigns; in each of eight sessions they open the
 * dashboard, then 10 s later the analytics of c0 (six sessions) or of c1
 * (two): a read of campaign analytics follows every dashboard, and c0's
 * is three times as likely as c1's.
 */
async function sessions(analyzer: Analyzer, clock: ManualClock, [c0, c1] = ["c0", "c1"]): Promise<void> {
  const created = emptyIngestResult();
  analyzer.recordEvents(
    [c0, c1].map((c) => ({
      time: new Date(t0),
      tenant: "acme",
      type: "campaign_created",
      entityId: c,
      userId: "u0",
    })),
    created,
  );
  expect(created.accepted).toBe(2);
  const user = { userId: "u0" };
  for (let s = 0; s < 8; s++) {
    const start = t0 + (s + 1) * hour;
    clock.set(start + 10 * sec);
    const result = emptyIngestResult();
    await analyzer.recordQueries(
      [
        query(start, "acme", "dashboard_data", "u0", user),
        query(start + 10 * sec, "acme", "campaign_analytics", s % 4 === 3 ? c1 : c0, user),
      ],
      result,
    );
    expect(result.rejections).toEqual([]);
    analyzer.takeReadAhead(1000); // the precomputer's readahead job takes what is queued
  }
  const next = t0 + 20 * hour;
  clock.set(next);
  await analyzer.recordQueries([query(next, "acme", "dashboard_data", "u0", user)], emptyIngestResult());
}

describe("next reads keyed by related entities", () => {
  it("offers each of the user's campaigns at its share of the target's probability", async () => {
    const clock = new ManualClock(t0);
    const analyzer = coreAnalyzer(clock);
    await sessions(analyzer, clock);
    const queued = new Map(analyzer.takeReadAhead(100).map((k) => [k.key, k.confidence]));
    const c0 = queued.get("acme/campaign_analytics/c0") ?? 0;
    const c1 = queued.get("acme/campaign_analytics/c1") ?? 0;
    // Relation weights: created (1 each) and read (6 and 2): shares of about 0.7 and 0.3.
    expect(c0 / (c0 + c1)).toBeGreaterThan(0.6);
    expect(c0 / (c0 + c1)).toBeLessThan(0.8);
    // Together, the target's probability: 8 of the 9 dashboards so far were followed by analytics.
    expect(c0 + c1).toBeGreaterThan(0.8);
    expect(c0 + c1).toBeLessThanOrEqual(8 / 9);
  });

  it("offers the keys as the cache stores them, entity ids escaped", async () => {
    const clock = new ManualClock(t0);
    const analyzer = coreAnalyzer(clock);
    await sessions(analyzer, clock, ["camp aign/0", "c1"]);
    const queued = analyzer.takeReadAhead(100).map((k) => k.key);
    expect(queued).toContain("acme/campaign_analytics/camp%20aign%2F0");
    expect(queued).toContain("acme/campaign_analytics/c1");
  });

  it("offers only the strongest ones with nextReadsRelatedLimit", async () => {
    const clock = new ManualClock(t0);
    const analyzer = coreAnalyzer(clock, { nextReadsRelatedLimit: 1 });
    await sessions(analyzer, clock);
    const queued = analyzer.takeReadAhead(100).map((k) => k.key);
    expect(queued).toEqual(["acme/campaign_analytics/c0"]);
  });

  it("offers no related key less likely to be read than a target must be to be learned (minShare)", async () => {
    const clock = new ManualClock(t0);
    const analyzer = coreAnalyzer(clock, { relations: { perSubject: 100 } });
    // Sixty more campaigns, created once each: c0 and c1 stand out, the rest are long shots.
    const created = emptyIngestResult();
    analyzer.recordEvents(
      Array.from({ length: 60 }, (_, i) => ({
        time: new Date(t0),
        tenant: "acme",
        type: "campaign_created",
        entityId: `x${i}`,
        userId: "u0",
      })),
      created,
    );
    expect(created.accepted).toBe(60);
    await sessions(analyzer, clock);
    const queued = new Map(analyzer.takeReadAhead(100).map((k) => [k.key, k.confidence]));
    // c0 weighs 7 of 70 (share 0.1), c1 3 (0.04): offered at their share of 8/9. The third strongest,
    // at 1/70 of it, is under 0.02 and is not.
    expect([...queued.keys()].sort()).toEqual(["acme/campaign_analytics/c0", "acme/campaign_analytics/c1"]);
    for (const confidence of queued.values()) expect(confidence).toBeGreaterThanOrEqual(0.02);
  });

  it("predicts a user's act repeated within the learner's minimum delay once, and again after it", async () => {
    const clock = new ManualClock(t0);
    const analyzer = coreAnalyzer(clock);
    await sessions(analyzer, clock);
    analyzer.takeReadAhead(100); // what the last dashboard offered
    const at = t0 + 30 * hour;
    const dashboardAt = async (time: number) => {
      clock.set(time);
      await analyzer.recordQueries(
        [query(time, "acme", "dashboard_data", "u0", { userId: "u0" })],
        emptyIngestResult(),
      );
      return analyzer.takeReadAhead(100).map((k) => k.key);
    };
    expect(await dashboardAt(at)).toContain("acme/campaign_analytics/c0");
    // Half a second later (the default minimum delay is 1 s): nothing new to offer.
    expect(await dashboardAt(at + 500)).toEqual([]);
    expect(await dashboardAt(at + 2 * sec)).toContain("acme/campaign_analytics/c0");
  });

  it("queues no key below the floor its taker names, until a take names another", async () => {
    const clock = new ManualClock(t0);
    const analyzer = coreAnalyzer(clock);
    await sessions(analyzer, clock);
    analyzer.takeReadAhead(100, 0.4); // the last dashboard's offers; from now on, nothing under 0.4
    const dashboardAt = async (time: number) => {
      clock.set(time);
      await analyzer.recordQueries(
        [query(time, "acme", "dashboard_data", "u0", { userId: "u0" })],
        emptyIngestResult(),
      );
      return analyzer.takeReadAhead(100).map((k) => k.key); // naming no floor keeps the last
    };
    // c0 at about 0.48, c1 at about 0.21 (the last dashboard was not followed): only c0 is queued.
    expect(await dashboardAt(t0 + 30 * hour)).toEqual(["acme/campaign_analytics/c0"]);
    // Above the target's probability itself: no key of it can reach the floor.
    analyzer.takeReadAhead(100, 0.95);
    expect(await dashboardAt(t0 + 31 * hour)).toEqual([]);
    analyzer.takeReadAhead(100, 0);
    const both = await dashboardAt(t0 + 32 * hour);
    expect(both.sort()).toEqual(["acme/campaign_analytics/c0", "acme/campaign_analytics/c1"]);
    expect(() => analyzer.takeReadAhead(100, 1.01)).toThrow(/min_confidence must be from 0 to 1/);
  });
});
