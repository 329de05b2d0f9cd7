import { readFileSync } from "node:fs";
import { validateEntityId } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { generate } from "./kinds.js";
import { csvLine } from "./row.js";
import { validateWorkload } from "./validate.js";

/**
 * random-adplatform: the structure is drawn from the seed (and only from it),
 * stays inside its stated ranges, and the rows hold to what was drawn.
 */
const configured = new Set(
  Object.keys(
    parse(readFileSync(new URL("../../../../config/task-types.yaml", import.meta.url), "utf8")).task_types,
  ),
);
const seeds = Array.from({ length: 12 }, (_, i) => i + 1);
const oneDay = generate("random-adplatform", 3, 1);

describe("random-adplatform: the seed draws the structure", () => {
  it("the same seed gives the same rows and structure; other seeds other structures", () => {
    const a = generate("random-adplatform", 11, 0.3);
    expect(generate("random-adplatform", 11, 0.3).rows).toEqual(a.rows);
    expect(JSON.stringify(generate("random-adplatform", 12, 0.3).structure)).not.toEqual(
      JSON.stringify(a.structure),
    );
    const shapes = new Set(
      seeds.map((seed) => {
        const s = generate("random-adplatform", seed, 0.01).structure!;
        return `${Object.keys(s.session.actions).join()}|${s.fanOut.video_uploaded.types.join()}`;
      }),
    );
    expect(shapes.size).toBeGreaterThan(seeds.length / 2);
  });

  it("the structure does not depend on the length asked for", () => {
    expect(generate("random-adplatform", 5, 0.2).structure).toEqual(
      generate("random-adplatform", 5, 1).structure,
    );
  });

  it.each(seeds)("seed %i: every drawn parameter is in its range and every type is configured", (seed) => {
    const s = generate("random-adplatform", seed, 0.01).structure!;
    const actions = Object.values(s.session.actions);
    expect(actions.length).toBeGreaterThanOrEqual(3);
    expect(actions.length).toBeLessThanOrEqual(6);
    expect(actions.slice(0, 3).map((a) => a.taskType)).toEqual([
      "dashboard_data",
      "campaign_analytics",
      "roas_prediction",
    ]);
    for (const row of Object.values(s.session.transitions)) {
      expect(row.reduce((sum, [, p]) => sum + p, 0)).toBeCloseTo(1, 9);
      expect(row.find(([to]) => to === "end")![1]).toBeGreaterThanOrEqual(0.1);
    }
    for (const x of [s.ads.exponent, s.campaignExponent]) expect(x >= 0.7 && x <= 1.3).toBe(true);
    expect(s.maxCampaigns >= 2 && s.maxCampaigns <= 5).toBe(true);
    expect(s.campaignsPerUser.every((n) => n >= 1 && n <= s.maxCampaigns)).toBe(true);
    expect(s.diurnal.amplitude >= 0.2 && s.diurnal.amplitude <= 0.8).toBe(true);
    for (const f of Object.values(s.fanOut)) {
      expect(f.types.length).toBeGreaterThanOrEqual(2);
      expect(f.readProbability >= 0.5 && f.readProbability <= 0.95).toBe(true);
      expect(f.delayMs[1]).toBeGreaterThan(f.delayMs[0]);
    }
    expect(s.fanOut.video_uploaded.types.includes("variant_generation")).toBe(false);
    const types = [
      ...actions.map((a) => a.taskType),
      ...Object.values(s.fanOut).flatMap((f) => f.types),
      ...s.launch.types,
      s.ads.taskType,
    ];
    for (const t of types) expect(configured.has(t), t).toBe(true);
  });
});

describe("random-adplatform: the rows hold to the drawn structure", () => {
  it.each([1, 2, 3, 4])(
    "seed %i, 3 days: every check of validate.ts passes, and all of them ran",
    (seed) => {
      const w = generate("random-adplatform", seed, 3);
      const reads = w.rows.filter((r) => r.event === "").length;
      expect(reads).toBeGreaterThan(50_000);
      expect(reads).toBeLessThan(150_000);
      const checks = validateWorkload(w);
      for (const c of checks) expect(c.ok, `${c.name}: ${c.actual} vs ${c.expected}`).toBe(true);
      const names = checks.map((c) => c.name);
      for (const n of [
        "ctr_prediction: fitted Zipf exponent",
        "ctr_prediction: daily amplitude",
        "video_uploaded: share of announced results read",
        "campaign_created: share of announced results read",
        "session reads of the user's own campaigns",
      ])
        expect(names).toContain(n);
      expect(names.filter((n) => n.startsWith("session dashboard →")).length).toBeGreaterThan(0);
    },
    60_000,
  );

  it("every campaign read in a session is of a campaign its user created earlier", () => {
    const owner = new Map<string, string>();
    let reads = 0;
    for (const r of oneDay.rows) {
      if (r.event === "campaign_created") {
        expect(owner.has(r.entity)).toBe(false);
        owner.set(r.entity, r.user);
      }
      if (r.event === "" && r.user !== "" && r.taskType === "campaign_analytics") {
        reads++;
        expect(owner.get(r.entity), r.entity).toBe(r.user);
      }
    }
    expect(reads).toBeGreaterThan(500);
    const created = new Map<string, number>();
    for (const u of owner.values()) created.set(u, (created.get(u) ?? 0) + 1);
    const s = oneDay.structure!;
    for (const [u, n] of created) expect(n).toBeLessThanOrEqual(s.campaignsPerUser[Number(u.slice(4))]!);
  });

  it("the ownership check fails when a read names another user's campaign", () => {
    const rows = oneDay.rows.map((r) => ({ ...r }));
    const i = rows.findIndex((r) => r.event === "" && r.user !== "" && r.taskType === "campaign_analytics");
    rows[i]!.user = "user999999";
    const c = validateWorkload({ ...oneDay, rows }).find((x) => x.name.startsWith("session reads of"))!;
    expect(c.ok).toBe(false);
  });

  it("the follow-rate check fails when the drawn probability is not the generated one", () => {
    const f = oneDay.eventReads.campaign_created!;
    const off = f.probability > 0.7 ? f.probability - 0.2 : f.probability + 0.2;
    const w = { ...oneDay, eventReads: { campaign_created: { ...f, probability: off } } };
    expect(validateWorkload(w).find((c) => c.name.startsWith("campaign_created"))!.ok).toBe(false);
  });

  it("logins name only the user; launches are of the user's own, earlier campaigns", () => {
    const owner = new Map<string, string>();
    const counts = new Map<string, number>();
    for (const r of oneDay.rows) {
      counts.set(r.event, (counts.get(r.event) ?? 0) + 1);
      validateEntityId(r.entity);
      expect(() => csvLine(r)).not.toThrow();
      if (r.event === "user_login") expect(r.entity).toBe(r.user);
      if (r.event === "campaign_created" || r.event === "video_uploaded") expect(r.user).toMatch(/^user\d+$/);
      if (r.event === "campaign_created") owner.set(r.entity, r.user);
      if (r.event === "campaign_launch_scheduled") {
        expect(owner.get(r.entity)).toBe(r.user);
        expect(r.launchAt!).toBeGreaterThan(r.time);
      }
    }
    for (const e of ["user_login", "campaign_created", "video_uploaded", "campaign_launch_scheduled"])
      expect(counts.get(e) ?? 0, e).toBeGreaterThan(10);
  });

  it.each([1, 2, 3, 4, 5, 6])("seed %i: the head share of ad reads is the drawn exponent's", (seed) => {
    const w = seed === 3 ? oneDay : generate("random-adplatform", seed, 1);
    const { ads } = w.structure!;
    const first = w.rows[0]!.time;
    const counts = new Map<string, number>();
    // Within the first drift window, where ranks have not yet swapped.
    for (const r of w.rows)
      if (
        r.event === "" &&
        r.taskType === "ctr_prediction" &&
        r.entity.startsWith("ad") &&
        r.time < first + ads.driftEveryMs
      )
        counts.set(r.entity, (counts.get(r.entity) ?? 0) + 1);
    const sorted = [...counts.values()].sort((a, b) => b - a);
    const total = sorted.reduce((a, b) => a + b, 0);
    const head = sorted.slice(0, 10).reduce((a, b) => a + b, 0) / total;
    const weight = (s: number, n: number) =>
      Array.from({ length: n }, (_, r) => (r + 1) ** -s).reduce((a, b) => a + b);
    expect(head).toBeCloseTo(weight(ads.exponent, 10) / weight(ads.exponent, ads.keys), 1);
    // ±0.2 in the exponent would be told apart.
    for (const d of [-0.2, 0.2])
      expect(
        Math.abs(head - weight(ads.exponent + d, 10) / weight(ads.exponent + d, ads.keys)),
      ).toBeGreaterThan(0.03);
  });
});
