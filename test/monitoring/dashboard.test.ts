import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dashboardQueries, monitoringDir } from "./monitoring-files.js";
import { metricNames } from "./promql-names.js";

/**
 * What Grafana would only show once loaded: the dashboard's layout and
 * variables. Its queries' metrics are checked against the mesh in
 * metric-names.test.ts.
 */
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { datasource?: { uid: string }; expr: string }[];
}
const dashboard = JSON.parse(readFileSync(join(monitoringDir, "dashboards/prescient.json"), "utf8")) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string }[] };
};
// Grafana's own variables the queries may use.
const builtins = new Set(["__rate_interval", "__interval", "__range"]);
/** Grafana's reference to the `datasource` variable (a plain string: not a template literal). */
const datasourceVariable = ["$", "{datasource}"].join("");

describe("the Grafana dashboard", () => {
  it("has unique panel ids and a layout inside Grafana's 24 columns", () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
  });

  it("queries through its data source variable, so it works whatever the Prometheus is called", () => {
    for (const p of dashboard.panels.filter((p) => p.type !== "row")) {
      expect(p.datasource?.uid, p.title).toBe(datasourceVariable);
      for (const t of p.targets ?? []) expect(t.datasource?.uid, p.title).toBe(datasourceVariable);
    }
  });

  it("uses only variables it defines, and filters every query by namespace", () => {
    const defined = new Set(dashboard.templating.list.map((v) => v.name));
    for (const { where, expr } of dashboardQueries()) {
      for (const [, name] of expr.matchAll(/\$\{?(\w+)/g))
        expect(defined.has(name ?? "") || builtins.has(name ?? ""), `${where}: $${name}`).toBe(true);
      // Two meshes in one Prometheus must not add up on one panel.
      if (where.startsWith("panel"))
        for (const name of metricNames(expr)) expect(expr, where).toContain(`${name}{namespace="$namespace"`);
    }
  });
});
