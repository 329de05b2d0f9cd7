import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { replay } from "../sim/replay.js";
import { openTrace } from "../trace/open-trace.js";
import { generate, type WorkloadKind, workloadKinds } from "../workload/kinds.js";
import { RowsTraceSource } from "../workload/output.js";
import { validateWorkload } from "../workload/validate.js";
import { testTraces } from "./fixtures.test-util.js";

const small: Record<WorkloadKind, number> = {
  zipf: 0.5,
  cycles: 2,
  sessions: 1,
  "event-read": 1,
  launches: 2,
  web: 0.5,
  database: 0.5,
  "ml-training": 0.2,
  gaming: 0.5,
  hft: 0.05,
  adplatform: 0.5,
  "random-adplatform": 0.5,
};

function expectOracleUnbeaten(report: Awaited<ReturnType<typeof replay>>): void {
  const oracle = report.policies.find((p) => p.policy === "oracle")!;
  for (const p of report.policies) expect(p.hits, `${p.policy} vs oracle`).toBeLessThanOrEqual(oracle.hits);
}

describe("the oracle is never beaten", () => {
  it.each(["zipf", "event-read", "sessions", "ml-training", "adplatform"] as const)(
    "on %s",
    async (kind) => {
      const w = generate(kind, 7, small[kind]);
      expectOracleUnbeaten(await replay(new RowsTraceSource(kind, w.rows), { budgetShare: 0.05 }));
    },
    120_000,
  );

  it("on the real traces in test/traces", async () => {
    for (const f of ["block_traces_1.csv", "kv_traces_1.csv", "short_bigcache_traces.csv"])
      for (const ttl of [2, 10])
        expectOracleUnbeaten(
          await replay(await openTrace(join(testTraces, f)), { ttlSeconds: { default: ttl } }),
        );
  }, 120_000);
});

describe("workloads", () => {
  it.each(workloadKinds.map((k) => [k]))("%s has the statistics it was asked for", (kind) => {
    const checks = validateWorkload(generate(kind, 3, small[kind]));
    for (const c of checks) expect(c.ok, `${c.name}: ${c.actual} vs ${c.expected}`).toBe(true);
  });

  it("the same seed gives the same workload and the same report", async () => {
    const a = generate("adplatform", 11, 0.3);
    const b = generate("adplatform", 11, 0.3);
    expect(b.rows).toEqual(a.rows);
    expect(generate("adplatform", 12, 0.3).rows).not.toEqual(a.rows);
    const strip = (r: Awaited<ReturnType<typeof replay>>) => ({ ...r, elapsedMs: 0 });
    const ra = await replay(new RowsTraceSource("a", a.rows));
    const rb = await replay(new RowsTraceSource("a", b.rows));
    expect(strip(rb)).toEqual(strip(ra));
  }, 120_000);
});

describe("A/B", () => {
  it("splits deterministically and reports a significant difference where there is one", async () => {
    const w = generate("event-read", 5, 1);
    const r = await replay(new RowsTraceSource("ab", w.rows), {
      ab: { policies: ["reactive", "oracle"], split: "key" },
    });
    expect(r.ab?.arms[0].reads ?? 0).toBeGreaterThan(0);
    expect(r.ab?.difference ?? 0).toBeGreaterThan(0);
    expect(r.ab?.significant).toBe(true);
    const again = await replay(new RowsTraceSource("ab", w.rows), {
      ab: { policies: ["reactive", "oracle"], split: "key" },
    });
    expect(again.ab).toEqual(r.ab);
  }, 60_000);
});
