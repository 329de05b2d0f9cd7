import { ManualClock } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { FakeAnalyzer, harness } from "./fakes.test-util.js";
import { ReadCalibration, type ReadPrediction, rose } from "./read-calibration.js";

const hour = 3_600_000;
const kind = { tenant: "acme", taskType: "dashboard_data", source: "refresh", probability: 0.9 };
const predictions = (n: number, from: number, prefix = "k"): ReadPrediction[] =>
  Array.from({ length: n }, (_, i) => ({
    ...kind,
    key: `acme/dashboard_data/${prefix}${i}`,
    from,
    ttlMs: hour,
  }));

/** A smoothed ratio: `realized` reads of `predicted` expected, with a prior of `k` expected reads at `prior`. */
const smoothed = (realized: number, predicted: number, k: number, prior: number): number =>
  (realized + k * prior) / (predicted + k);

/** Records 20 predictions at 0.9 (`kind`, from 0), each key's mark at 10. */
function recordTwenty(cal: ReadCalibration): void {
  const made = predictions(20, 0);
  cal.record(
    made,
    made.map(() => 10),
  );
}

/** Judges the predictions due one TTL on: the first `read` of them were read (their marks rose). */
function judgeFirstRead(cal: ReadCalibration, read: number): void {
  const due = cal.due(hour);
  cal.judge(
    due,
    due.map((_, i) => (i < read ? 11 : 10)),
    hour,
  );
}

describe("ReadCalibration", () => {
  it("starts at the raw probability and learns the realized / predicted ratio one TTL on", () => {
    const cal = new ReadCalibration({ priorWeight: 5 });
    expect(cal.calibrate(kind, 0)).toBe(0.9);
    recordTwenty(cal);
    // Not judged before the TTL has passed.
    expect(cal.due(hour - 1)).toEqual([]);
    expect(cal.due(hour)).toHaveLength(20);
    // 2 of the 20 keys were read; 18 were not.
    judgeFirstRead(cal, 2);
    expect(cal.pendingCount).toBe(0);
    // 20 predictions at 0.9 are 18 expected reads, 2 read. The tenant's refresh-ahead over its
    // types (these only) is (2 + 5) / (18 + 5), and the group's prior stands there.
    const group = smoothed(2, 18, 5, 7 / 23);
    expect(cal.ratio(kind, hour)).toBeCloseTo(group, 10);
    expect(cal.calibrate(kind, hour)).toBeCloseTo(0.9 * group, 10);
    // Other groups are untouched: another source, tenant or type starts at the raw estimate.
    expect(cal.calibrate({ ...kind, source: "trigger" }, hour)).toBe(0.9);
    expect(cal.calibrate({ ...kind, tenant: "globex" }, hour)).toBe(0.9);
  });

  it("counts a key that entered the analyzer's sketch since as read, and one that left it as not", () => {
    const cal = new ReadCalibration({ priorWeight: 1 });
    const made = predictions(2, 0);
    cal.record(made, [undefined, 5]);
    cal.judge(cal.due(hour), [3, undefined], hour);
    // One read out of 1.8 expected.
    expect(cal.ratio(kind, hour)).toBeCloseTo(smoothed(1, 1.8, 1, 2 / 2.8), 10);
  });

  it("counts no read of a key that another source's work planned within the window first", () => {
    const cal = new ReadCalibration({ priorWeight: 1 });
    const made = predictions(4, 0);
    cal.record(
      made,
      made.map(() => 1),
    );
    // k0 is then planned by a trigger; k1 by a trigger with another TTL (a different result),
    // k2 by refresh-ahead itself: neither covers.
    const at = 10 * 60_000;
    cal.cover("acme/dashboard_data/k0", hour, "trigger", at);
    cal.cover("acme/dashboard_data/k1", 2 * hour, "trigger", at);
    cal.cover("acme/dashboard_data/k2", hour, "refresh", at);
    cal.cover("acme/dashboard_data/unknown", hour, "trigger", at);
    // k0's outcome is known once covered, and judged then: not read.
    expect(cal.ratio(kind, at)).toBeCloseTo(smoothed(0, 0.9, 1, 1 / 1.9), 10);
    // Covered again by another trigger: judged once.
    const before = cal.ratio(kind, 2 * at);
    cal.cover("acme/dashboard_data/k0", hour, "trigger", 2 * at);
    expect(cal.ratio(kind, 2 * at)).toBe(before);
    // It stays pending to its window's end: refresh's new prediction of k0 is not recorded, so
    // the trigger's result, read, is credited to no one.
    cal.record(predictions(1, 2 * at), [1]);
    expect(cal.pendingCount).toBe(4);
    // All four are read: k0's read is the trigger's, the other three count.
    cal.judge(cal.due(hour), [2, 2, 2, 2], hour);
    expect(cal.pendingCount).toBe(0);
    // 3 reads of 2.7 + 0.9 × decay expected: k0's were judged 50 minutes earlier.
    const expected = 2.7 + 0.9 * 0.5 ** ((hour - at) / (24 * hour));
    expect(cal.ratio(kind, hour)).toBeCloseTo(smoothed(3, expected, 1, smoothed(3, expected, 1, 1)), 10);
  });

  it("tells a read from a store's rounding", () => {
    const mark = 330_000.123;
    expect(rose(mark, mark + 1e-10)).toBe(false);
    expect(rose(mark, mark - 1e-10)).toBe(false);
    // A read of a key with a decayed weight of a million.
    expect(rose(mark, mark + Math.log1p(1e-6))).toBe(true);
  });

  it("keeps one pending prediction per key, and overestimates are never scaled above 1", () => {
    const cal = new ReadCalibration({ priorWeight: 1 });
    cal.record(predictions(1, 0), [1]);
    cal.record(predictions(1, 10 * 60_000), [1]);
    expect(cal.pendingCount).toBe(1);
    expect(cal.isPending("acme/dashboard_data/k0", hour)).toBe(true);
    cal.judge(cal.due(hour), [2], hour);
    // Read against 0.9 expected: the ratio rises above 1, the probability stays at most 1.
    expect(cal.ratio(kind, hour)).toBeGreaterThan(1);
    expect(cal.calibrate({ ...kind, probability: 0.99 }, hour)).toBe(1);
  });

  it("forgets old evidence by its half-life, so a change in traffic is followed", () => {
    const cal = new ReadCalibration({ priorWeight: 1, halfLifeMs: hour });
    const made = predictions(50, 0);
    cal.record(
      made,
      made.map(() => 1),
    );
    cal.judge(
      cal.due(hour),
      made.map(() => 1),
      hour,
    );
    const low = cal.ratio(kind, hour);
    expect(low).toBeLessThan(0.05);
    // Ten half-lives later the evidence weighs about a thousandth: back near the prior.
    expect(cal.ratio(kind, 11 * hour)).toBeGreaterThan(0.9);
  });

  it("starts a group at its tenant's ratio for the source, never at another tenant's", () => {
    const cal = new ReadCalibration({ priorWeight: 1 });
    // acme's refresh-ahead of dashboard_data: 2 of 20 predictions at 0.9 read.
    recordTwenty(cal);
    judgeFirstRead(cal, 2);
    const tenantRatio = smoothed(2, 18, 1, 1);
    // acme's refresh-ahead of another type, with no evidence of its own, starts there.
    expect(cal.ratio({ ...kind, taskType: "campaign_analytics" }, hour)).toBeCloseTo(tenantRatio, 10);
    expect(cal.ratio(kind, hour)).toBeCloseTo(smoothed(2, 18, 1, tenantRatio), 10);
    // Another tenant's refresh-ahead, and another source of acme's, start at the raw estimate.
    expect(cal.ratio({ ...kind, tenant: "globex" }, hour)).toBe(1);
    expect(cal.ratio({ ...kind, taskType: "campaign_analytics", source: "trigger" }, hour)).toBe(1);
  });

  it("starts top-N where refresh-ahead stands in the tenant, one estimator's evidence pooled", () => {
    // No decay, so that the ratios are whole fractions.
    const cal = new ReadCalibration({ priorWeight: 5, halfLifeMs: Number.POSITIVE_INFINITY });
    recordTwenty(cal);
    judgeFirstRead(cal, 2);
    // Refresh-ahead's pooled ratio, (2 + 5) / (18 + 5), is the prior of a top-N group with no evidence.
    const topN = { ...kind, taskType: "ctr_prediction", source: "schedule" };
    expect(cal.ratio(topN, hour)).toBeCloseTo(7 / 23, 10);
    expect(cal.pooledCount).toBe(1);
    // Its outcomes join the same pooled evidence: 10 expected reads, none read.
    const made = Array.from({ length: 10 }, (_, i) => ({
      ...topN,
      probability: 1,
      key: `acme/ctr_prediction/t${i}`,
      from: hour,
      ttlMs: hour,
    }));
    cal.record(
      made,
      made.map(() => 1),
    );
    cal.judge(
      cal.due(2 * hour),
      made.map(() => 1),
      2 * hour,
    );
    expect(cal.pooledCount).toBe(1);
    const pooled = 7 / 33;
    expect(cal.ratio({ ...kind, taskType: "roas_prediction" }, 2 * hour)).toBeCloseTo(pooled, 10);
    // Without the sharing, top-N starts at its raw estimate.
    const apart = new ReadCalibration({ priorWeight: 5, sharedPriors: {} });
    recordTwenty(apart);
    judgeFirstRead(apart, 2);
    expect(apart.ratio(topN, hour)).toBe(1);
  });

  it("bounds its memory by maxPending and maxGroups", () => {
    const cal = new ReadCalibration({ maxPending: 100, maxGroups: 10 });
    for (let i = 0; i < 1000; i++) cal.record(predictions(1, i, `p${i}-`), [1]);
    expect(cal.pendingCount).toBe(100);
    // The oldest went first: what is left is the newest.
    expect(cal.isPending("acme/dashboard_data/p999-0", hour)).toBe(true);
    expect(cal.isPending("acme/dashboard_data/p0-0", hour)).toBe(false);
    for (let i = 0; i < 50; i++) {
      const made: ReadPrediction[] = [
        { ...kind, taskType: `t${i}`, key: `acme/t${i}/x`, from: 2000 + i, ttlMs: 1 },
      ];
      cal.record(made, [1]);
      cal.judge(cal.due(2001 + i), [1], 2001 + i);
    }
    expect(cal.groupCount).toBe(10);
    // So are the tenants' pooled ratios, one per tenant and source.
    for (let i = 0; i < 50; i++) {
      const made: ReadPrediction[] = [
        { ...kind, tenant: `t${i}`, key: `t${i}/dashboard_data/x`, from: 3000 + i, ttlMs: 1 },
      ];
      cal.record(made, [1]);
      cal.judge(cal.due(3001 + i), [1], 3001 + i);
    }
    expect(cal.pooledCount).toBe(10);
  });
});

/** Runs refresh-ahead once: the refresh tasks it enqueued, by tenant. */
async function refreshedByTenant(h: ReturnType<typeof harness>): Promise<Map<string, number>> {
  const before = h.executor.tasks.length;
  const outcome = await h.core.tick("refresh_ahead");
  expect(outcome?.ran).toBe(true);
  const byTenant = new Map<string, number>();
  for (const t of h.executor.tasks.slice(before))
    if (t.reason === "refresh") byTenant.set(t.tenant, (byTenant.get(t.tenant) ?? 0) + 1);
  return byTenant;
}

/** 30 ctr keys of the tenant, each read ~36 times per TTL by its decayed demand (refresh-ahead's estimate is ~1). */
function hotCtrKeys(analyzer: FakeAnalyzer, tenant: string): void {
  for (let i = 0; i < 30; i++)
    analyzer.patterns.push({
      key: `${tenant}/ctr_prediction/ad-${i}`,
      tenant,
      taskType: "ctr_prediction",
      entityId: `ad-${i}`,
      demand: 0.00167,
      benefit: 1,
    });
}

/** An analyzer whose read marks the test moves: a key's mark rises when it is read. */
class MarkingAnalyzer extends FakeAnalyzer {
  readonly marks = new Map<string, number>();
  /** Every key whose mark was asked for, in order. */
  readonly asked: string[] = [];
  read(key: string): void {
    this.marks.set(key, (this.marks.get(key) ?? 0) + 1);
  }
  async readMarks(keys: readonly string[]) {
    this.asked.push(...keys);
    return keys.map((k) => this.marks.get(k) ?? 0);
  }
}

describe("read calibration in the precomputer", () => {
  it("stops refreshing hot keys that are never read, and keeps refreshing those that are", async () => {
    const analyzer = new MarkingAnalyzer();
    const clock = new ManualClock(Date.parse("2024-05-01T12:00:00Z"));
    const h = harness({ deps: { analyzer, clock } });
    const ttl = 6 * hour; // ctr_prediction
    // Decayed demand says each key is read ~36 times per TTL: refresh-ahead's Poisson estimate is ~1.
    for (const tenant of ["acme", "globex"]) hotCtrKeys(analyzer, tenant);
    // Nothing is stored, so every hot key is due at once: all 60 are refreshed.
    expect(await refreshedByTenant(h)).toEqual(
      new Map([
        ["acme", 30],
        ["globex", 30],
      ]),
    );
    // Over the next TTL, globex's keys are read and acme's are not.
    for (let i = 0; i < 30; i++) analyzer.read(`globex/ctr_prediction/ad-${i}`);
    clock.set(clock.now() + ttl);
    // Judged: none of acme's 30 predictions read, nor any other of its refresh-ahead's, so they scale
    // to (0 + 5 × 5/35) / (30 + 5) of the raw estimate, under the 0.2 floor.
    const after = await refreshedByTenant(h);
    expect(after.get("acme") ?? 0).toBe(0);
    expect(after.get("globex")).toBe(30);
    expect(h.core.counters.skippedCount("low_value")).toBeGreaterThanOrEqual(30);
  });

  it("stops refreshing keys whose reads a trigger's fan-out serves first, and keeps those it does not", async () => {
    const analyzer = new MarkingAnalyzer();
    const clock = new ManualClock(Date.parse("2024-05-01T12:00:00Z"));
    const h = harness({ deps: { analyzer, clock } });
    const ttl = 6 * hour; // ctr_prediction
    for (const tenant of ["acme", "globex"]) hotCtrKeys(analyzer, tenant);
    expect(await refreshedByTenant(h)).toEqual(
      new Map([
        ["acme", 30],
        ["globex", 30],
      ]),
    );
    // Every key of both tenants is read; each of acme's reads follows a video_uploaded of its
    // entity, whose configured fan-out computes ctr_prediction for it, or finds it fresh (half of
    // them, fresh for two more minutes): either way the trigger serves the read.
    clock.set(clock.now() + 60_000);
    for (let i = 0; i < 15; i++) h.cache.expiresAt.set(`acme/ctr_prediction/ad-${i}`, clock.now() + 120_000);
    await h.core.triggerMany(
      Array.from({ length: 30 }, (_, i) => ({
        type: "video_uploaded",
        tenant: "acme",
        entityId: `ad-${i}`,
        userId: "",
        features: { duration_s: 30 },
        attributes: {},
      })),
    );
    for (const tenant of ["acme", "globex"])
      for (let i = 0; i < 30; i++) analyzer.read(`${tenant}/ctr_prediction/ad-${i}`);
    clock.set(clock.now() + ttl);
    // acme's refreshes served no read the trigger did not, judged so when the trigger covered them:
    // (0 + 5 × 5/35) / (30 + 5) of the raw estimate.
    const after = await refreshedByTenant(h);
    expect(after.get("acme") ?? 0).toBe(0);
    expect(after.get("globex")).toBe(30);
  });

  it("asks for the marks of new and due predictions only, not of keys proposed again while pending", async () => {
    const analyzer = new MarkingAnalyzer();
    const h = harness({ deps: { analyzer } });
    hotCtrKeys(analyzer, "acme");
    await h.core.tick("refresh_ahead");
    expect(analyzer.asked).toHaveLength(30);
    // Nothing was stored, so the same keys are proposed again within their window: no new marks.
    h.clock.set(h.clock.now() + hour);
    const before = h.executor.tasks.length;
    await h.core.tick("refresh_ahead");
    expect(h.executor.tasks.length - before).toBe(30);
    expect(analyzer.asked).toHaveLength(30);
    // One TTL on, the 30 are due: judged and predicted afresh, with their marks asked once each.
    h.clock.set(h.clock.now() + 5 * hour);
    await h.core.tick("refresh_ahead");
    expect(analyzer.asked).toHaveLength(90);
  });

  it("enqueues uncalibrated when the read marks fail, and never fails the run for them", async () => {
    const analyzer = new MarkingAnalyzer();
    analyzer.readMarks = async () => {
      throw new Error("analyzer gone");
    };
    const h = harness({ deps: { analyzer } });
    analyzer.patterns.push({
      key: "acme/ctr_prediction/ad-1",
      tenant: "acme",
      taskType: "ctr_prediction",
      entityId: "ad-1",
      demand: 0.00167,
      benefit: 1,
    });
    const outcome = await h.core.tick("refresh_ahead");
    expect(outcome?.ran).toBe(true);
    expect(h.executor.tasks.map((t) => t.key)).toEqual(["acme/ctr_prediction/ad-1"]);
    expect(h.executor.tasks[0]!.probability).toBeGreaterThan(0.99);
  });

  it("leaves the probabilities as they are where the analyzer answers no read marks", async () => {
    const h = harness();
    hotCtrKeys(h.analyzer, "acme");
    await h.core.tick("refresh_ahead");
    h.clock.set(h.clock.now() + 6 * hour);
    const before = h.executor.tasks.length;
    await h.core.tick("refresh_ahead");
    expect(h.executor.tasks.length - before).toBe(30);
  });
});
