import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemTool } from "@prescient/kit/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { alertingRules, promtool, ruleFileName, unitTestsPath, writeRuleFile } from "./monitoring-files.js";
import { metricNames } from "./promql-names.js";

/**
 * The monitoring component's PrometheusRule, checked by promtool: its
 * syntax (`check rules`) and its behaviour (`test rules` on
 * tests/alerts.test.yaml), where every alert must have a case in which it
 * fires and one in which it must not.
 */
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "prescient-rules-"));
  writeRuleFile(dir);
  copyFileSync(unitTestsPath, join(dir, "alerts.test.yaml"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface UnitTests {
  rule_files: string[];
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

const promtoolTool = systemTool("promtool", "apt-get install prometheus");

describe.runIf(promtoolTool.runTests)("monitoring rules, through promtool", () => {
  it("pass promtool check rules", () => {
    const r = promtool(["check", "rules", join(dir, ruleFileName)]);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status, r.output).toBe(0);
  });

  it("pass their promtool unit tests", () => {
    const r = promtool(["test", "rules", join(dir, "alerts.test.yaml")]);
    expect(r.status, r.output).toBe(0);
  });
});

describe("monitoring rules", () => {
  it("have a unit test where each alert fires and one where it does not", () => {
    const units = parse(readFileSync(unitTestsPath, "utf8")) as UnitTests;
    expect(units.rule_files).toEqual([ruleFileName]);
    const cases = units.tests.flatMap((t) => t.alert_rule_test ?? []);
    const alerts = alertingRules().map((r) => r.alert);
    expect(alerts.length).toBeGreaterThan(0);
    expect(new Set(alerts).size, "alert names are unique").toBe(alerts.length);
    for (const alert of alerts) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${alert} has a case in tests/alerts.test.yaml where it fires`,
      ).toBe(true);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${alert} has a case in tests/alerts.test.yaml where it does not fire`,
      ).toBe(true);
    }
    // promtool passes a case of an alert that does not exist (nothing fires): a renamed alert would leave one.
    for (const c of cases)
      expect(alerts, `tests/alerts.test.yaml tests ${c.alertname}`).toContain(c.alertname);
  });

  it("each select at least one metric, and by name", () => {
    for (const rule of alertingRules()) expect(metricNames(rule.expr), rule.alert).not.toEqual([]);
  });
});

describe("metricNames", () => {
  it("finds the selected metrics, not functions, labels, keywords, durations or variables", () => {
    const expr = `histogram_quantile(0.99, sum by (model, le) (rate(a_bucket{x="y{z}", w=~"$ns"}[$__rate_interval])))
      / on (model) group_left(version) b offset 5m > bool 1e3 and ignoring(pod) c_total unless sum(d) without (e)`;
    expect(metricNames(expr).sort()).toEqual(["a_bucket", "b", "c_total", "d"]);
    expect(() => metricNames('{__name__=~"prescient_.+"}')).toThrow(/__name__/);
  });
});
