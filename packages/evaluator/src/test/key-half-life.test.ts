import { defaultTaskTypesPath, loadTaskTypes } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { replay } from "../sim/replay.js";
import { RowsTraceSource } from "../workload/output.js";
import { read } from "../workload/row.js";

/**
 * The replay runs the analyzer with the key-demand half-life a live mesh
 * would take from PRESCIENT_ANALYZER_KEY_HALF_LIFE_S. A key read every 7
 * hours, with a 6-hour TTL: at a 1-hour half-life its demand has all but
 * vanished when its result is due for refresh, so every read finds it
 * expired; at a 1-day half-life refresh-ahead keeps it warm.
 */
describe("prescient replay: the analyzer's key half-life", () => {
  it("is the one a live mesh would run with, and decides whether a slow, steady key is refreshed", async () => {
    const t0 = Date.UTC(2024, 0, 1);
    const rows = Array.from({ length: 16 }, (_, i) => read(t0 + i * 7 * 3_600_000, "acme", "report", "r1"));
    const hitRate = async (keyHalfLifeMs?: number): Promise<number> => {
      const report = await replay(new RowsTraceSource("steady", rows), {
        ttlSeconds: { default: 6 * 3600 },
        latencyMs: { default: 100 },
        budgetPerSecond: 1,
        policies: ["prescient"],
        taskTypes: loadTaskTypes(defaultTaskTypesPath),
        ...(keyHalfLifeMs !== undefined ? { prescient: { analyzer: { keyHalfLifeMs } } } : {}),
      });
      return report.policies[0]!.hitRate;
    };
    const shipped = await hitRate();
    expect(await hitRate(3_600_000)).toBe(shipped);
    expect(shipped).toBe(0);
    expect(await hitRate(86_400_000)).toBeGreaterThan(0.8);
  }, 60_000);
});
