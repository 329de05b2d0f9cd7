import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";

/**
 * The monitoring component's files as the tests need them: the
 * PrometheusRule's groups as a plain Prometheus rule file, its alerts, the
 * dashboard's queries, and promtool.
 */
export const monitoringDir = fileURLToPath(new URL("../../deploy/components/monitoring/", import.meta.url));
export const unitTestsPath = join(monitoringDir, "tests/alerts.test.yaml");
/** The name tests/alerts.test.yaml gives its rule file in `rule_files`. */
export const ruleFileName = "prescient-rules.yaml";

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RecordingRule {
  record: string;
  expr: string;
}
export type Rule = AlertingRule | RecordingRule;
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

/** spec.groups of prometheus-rule.yaml. */
export function ruleGroups(): RuleGroup[] {
  const manifest = parse(readFileSync(join(monitoringDir, "prometheus-rule.yaml"), "utf8")) as {
    kind: string;
    spec: { groups: RuleGroup[] };
  };
  if (manifest.kind !== "PrometheusRule") throw new Error(`prometheus-rule.yaml holds a ${manifest.kind}`);
  return manifest.spec.groups;
}

export const isAlert = (rule: Rule): rule is AlertingRule => "alert" in rule;
export const alertingRules = (): AlertingRule[] => ruleGroups().flatMap((g) => g.rules.filter(isAlert));

/** Writes the groups, as prometheus-operator hands them to Prometheus, to `dir`/prescient-rules.yaml. */
export function writeRuleFile(dir: string, groups: RuleGroup[] = ruleGroups()): string {
  const path = join(dir, ruleFileName);
  writeFileSync(path, stringify({ groups }));
  return path;
}

/** Every PromQL query of the dashboard: panel targets and `label_values(metric, label)` variables. */
export function dashboardQueries(): { where: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(join(monitoringDir, "dashboards/prescient.json"), "utf8")) as {
    panels: { title: string; targets?: { refId: string; expr?: string }[]; panels?: unknown[] }[];
    templating: { list: { name: string; type: string; definition?: string }[] };
  };
  const queries: { where: string; expr: string }[] = [];
  for (const panel of dashboard.panels) {
    // Collapsed rows nest their panels; none here, and a check below would miss them.
    if ((panel.panels ?? []).length > 0) throw new Error(`row ${panel.title}: nested panels are not checked`);
    for (const t of panel.targets ?? []) {
      if (t.expr === undefined) throw new Error(`${panel.title} ${t.refId}: no expr`);
      queries.push({ where: `panel "${panel.title}" ${t.refId}`, expr: t.expr });
    }
  }
  for (const v of dashboard.templating.list.filter((v) => v.type === "query")) {
    const m = /^label_values\((.+),\s*\w+\)$/.exec(v.definition ?? "");
    if (m?.[1] === undefined) throw new Error(`variable ${v.name}: not a label_values(metric, label) query`);
    queries.push({ where: `variable ${v.name}`, expr: m[1] });
  }
  return queries;
}

/** Runs promtool, which CI installs from Debian's `prometheus` package. */
export function promtool(args: string[]): { status: number | null; output: string } {
  const r = spawnSync("promtool", args, { encoding: "utf8", timeout: 60_000 });
  if (r.error) throw new Error(`cannot run promtool (apt-get install -y prometheus): ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
