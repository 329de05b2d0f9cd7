import { defaultTaskTypesPath, loadTaskTypes, parseTaskTypes } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { parsePrecomputerConfig } from "./config.js";
import { validateCron } from "./schedule-window.js";

const shipped = loadTaskTypes(defaultTaskTypesPath);

/** The config of one external type `a` and this `precomputer:` section (indented under it), parsed when called. */
const withPrecomputer = (section: string) => {
  const r = parseTaskTypes(`
task_types:
  a: { kind: external, ttl_seconds: 60 }
precomputer:
${section}
`);
  return () => parsePrecomputerConfig(r.raw, r, validateCron);
};

describe("precomputer configuration", () => {
  it("reads the shipped rules, schedules and settings", () => {
    const c = parsePrecomputerConfig(shipped.raw, shipped, validateCron);
    expect(c.rules.get("video_uploaded")?.targets.map((t) => [t.taskType, t.priority])).toEqual([
      ["scene_detection", 8],
      ["face_detection", 8],
      ["hook_analysis", 8],
      ["ctr_prediction", 8],
      ["thumbnail_generation", 8],
      ["caption_generation", 8],
    ]);
    expect(c.rules.get("campaign_created")?.targets.map((t) => t.taskType)).toEqual([
      "variant_generation",
      "variant_scoring",
      "roas_prediction",
    ]);
    const login = c.rules.get("user_login");
    expect(login?.predictNextActions).toBe(true);
    expect(login?.targets).toEqual([
      { taskType: "dashboard_data", priority: 7, keyBy: "user" },
      { taskType: "campaign_analytics", priority: 7, keyBy: "related", relatedLimit: 3 },
      { taskType: "roas_prediction", priority: 7, keyBy: "related", relatedLimit: 3 },
    ]);
    expect(c.schedules.get("daily_top_n")).toMatchObject({
      job: "top_n",
      limit: 1000,
      timing: { kind: "off_peak" },
    });
    expect(c.schedules.get("launch_warming")).toMatchObject({
      hoursAhead: 4,
      timing: { kind: "every", everyMs: 7_200_000 },
    });
    expect(c.schedules.get("analysis")?.timing).toEqual({ kind: "cron", cron: "0 * * * *", timeZone: "UTC" });
    expect(c.schedules.get("readahead")).toMatchObject({
      job: "readahead",
      limit: 1000,
      priority: 5,
      timing: { kind: "every", everyMs: 1000 },
    });
    expect(c.refreshAhead).toMatchObject({ minDemand: 0.00002, minExpectedReads: 0.5, candidates: 10_000 });
    expect(c.predicted.minConfidence).toBe(0.2);
    expect([...c.predicted.actions]).toEqual([
      ["view_dashboard", [{ taskType: "dashboard_data", keyBy: "user", relatedLimit: 3 }]],
      ["view_campaign", [{ taskType: "campaign_analytics", keyBy: "related", relatedLimit: 3 }]],
    ]);
    expect(c.alerts).toEqual({ queueDepthAbove: 100, hitRateBelow: 0.8 });
  });

  it("takes a custom event and task type from configuration alone", () => {
    const r = parseTaskTypes(`
task_types:
  churn_score: { kind: external, ttl_seconds: 60 }
rules:
  subscription_cancelled: { priority: 10, task_types: [churn_score] }
`);
    const c = parsePrecomputerConfig(r.raw, r, validateCron);
    expect(c.rules.get("subscription_cancelled")?.targets).toEqual([
      { taskType: "churn_score", priority: 10, keyBy: "entity" },
    ]);
    expect(c.schedules.size).toBe(0);
  });

  it("runs a refresh-ahead schedule at most every half of the shortest refresh horizon it covers", () => {
    const r = parseTaskTypes(`
task_types:
  quote: { kind: external, ttl_seconds: 10 }
  report: { kind: external, ttl_seconds: 3600 }
schedules:
  refresh_all: { job: refresh_ahead, every: 2m }
  refresh_reports: { job: refresh_ahead, every: 2m, task_type: report }
  refresh_slow: { job: refresh_ahead, every: 20m, task_type: report }
`);
    const c = parsePrecomputerConfig(r.raw, r, validateCron);
    // quote: horizon min(max(10 min, 1 s), 5 s) = 5 s, so every 2.5 s.
    expect(c.schedules.get("refresh_all")?.timing).toEqual({ kind: "every", everyMs: 2500 });
    // report: horizon 10 min, so 2 min stands and 20 min becomes 5 min.
    expect(c.schedules.get("refresh_reports")?.timing).toEqual({ kind: "every", everyMs: 120_000 });
    expect(c.schedules.get("refresh_slow")?.timing).toEqual({ kind: "every", everyMs: 300_000 });
    const s = parsePrecomputerConfig(shipped.raw, shipped, validateCron);
    expect(s.schedules.get("refresh_ahead")?.timing).toEqual({ kind: "every", everyMs: 120_000 });
  });

  it("takes the budget's bar exponent from configuration, and refuses one below 1", () => {
    const parseBudget = (budget: string) => withPrecomputer(`  budget: ${budget}`);
    expect(parseBudget("{ bar_exponent: 2 }")().budget.barExponent).toBe(2);
    expect(parseBudget("{ per_minute: 50 }")().budget.barExponent).toBe(4);
    expect(parsePrecomputerConfig(shipped.raw, shipped, validateCron).budget.barExponent).toBe(4);
    expect(parseBudget("{ bar_exponent: 0.5 }")).toThrow(/budget\.bar_exponent/);
  });

  it("names every problem with its path", () => {
    const r = parseTaskTypes(`
task_types:
  a: { kind: external, ttl_seconds: 60 }
rules:
  ev: { task_types: [a, nope] }
schedules:
  s1: { job: top_n, cron: "not a cron" }
  s2: { job: cleanup, every: 5m, cron: "* * * * *" }
  s3: { job: top_n, every: "soon" }
`);
    expect(() => parsePrecomputerConfig(r.raw, r, validateCron)).toThrow(/schedules\.s2: give exactly one/);
    const r2 = parseTaskTypes(`
task_types:
  a: { kind: external, ttl_seconds: 60 }
rules:
  ev: { task_types: [a, nope] }
schedules:
  s1: { job: top_n, cron: "not a cron" }
  s3: { job: top_n, every: "soon" }
`);
    let message = "";
    try {
      parsePrecomputerConfig(r2.raw, r2, validateCron);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('rules.ev.task_types[1]: unknown task type "nope"');
    expect(message).toContain("schedules.s1.cron");
    expect(message).toContain('schedules.s3.every "soon" is not a duration');
  });

  it("keys a predicted action's types by the user or their related entities, never by an entity it has not made", () => {
    /** The config of one type `a` and one predicted action `open` mapped to `targets`. */
    const parseOpen = (targets: string) =>
      withPrecomputer(`  predicted:\n    actions:\n      open: ${targets}`);
    expect(
      parseOpen("[a, { task_type: a, key_by: related, related_limit: 7 }]")().predicted.actions.get("open"),
    ).toEqual([
      { taskType: "a", keyBy: "user", relatedLimit: 3 },
      { taskType: "a", keyBy: "related", relatedLimit: 7 },
    ]);
    expect(parseOpen("[{ task_type: a, key_by: entity }, { task_type: nope }]")).toThrow(
      /precomputer\.predicted\.actions\.open\.0\.key_by/,
    );
    expect(parseOpen("[a, { task_type: nope, key_by: related }]")).toThrow(
      'precomputer.predicted.actions.open[1]: unknown task type "nope"',
    );
  });
});
