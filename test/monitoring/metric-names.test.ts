import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MeshUp, startMeshUp } from "./mesh-up.js";
import { alertingRules, dashboardQueries } from "./monitoring-files.js";
import { exportedSeriesNames, metricNames } from "./promql-names.js";

/**
 * Every metric the alerts and the dashboard query is one the services
 * export: a renamed or removed family would otherwise leave an alert that
 * can never fire and an empty panel. `prescient up` registers every
 * service's families in one process, so one scrape sees them all.
 */
let mesh: MeshUp;
let exported: Set<string>;

beforeAll(async () => {
  mesh = await startMeshUp();
  exported = exportedSeriesNames(await mesh.scrape());
}, 90_000);
afterAll(async () => {
  await mesh?.stop();
});

describe("metrics the monitoring component queries", () => {
  it("the scrape is the mesh's", () => {
    expect(exported.has("prescient_process_process_cpu_user_seconds_total")).toBe(true);
    expect(exported.has("prescient_cache_lookups_total")).toBe(true);
  });

  it.each(alertingRules().map((r) => [r.alert, r.expr]))("alert %s", (_alert, expr) => {
    const names = metricNames(expr);
    expect(names).not.toEqual([]);
    expect(names.filter((n) => !exported.has(n))).toEqual([]);
  });

  it.each(dashboardQueries().map((q) => [q.where, q.expr]))("dashboard %s", (_where, expr) => {
    const names = metricNames(expr);
    expect(names).not.toEqual([]);
    expect(names.filter((n) => !exported.has(n))).toEqual([]);
  });
});
