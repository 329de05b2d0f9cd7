import { generate, RowsTraceSource, replay } from "@prescient/evaluator";
import { type BenchReport, newReport, result } from "./report.js";

/**
 * Issue 7's evaluator benchmark: simulated reads per minute of the
 * `prescient` policy alone (analyzer, fan-out, schedules, refresh-ahead,
 * predictions) on the adplatform workload, on one core (the replay is
 * single-threaded), against `reactive` (the simulator's own cost) replayed
 * in the same run. The issue's target is 1,000,000 reads/min.
 */
const DAYS = Number(process.env.BENCH_EVALUATOR_DAYS ?? "2");
const target = 1_000_000;

async function readsPerMinute(
  policy: "prescient" | "reactive",
  source: RowsTraceSource,
  reads: number,
): Promise<number> {
  const began = performance.now();
  await replay(source, { policies: [policy] });
  return (reads / (performance.now() - began)) * 60_000;
}

export async function run(): Promise<BenchReport> {
  const w = generate("adplatform", 1, DAYS);
  const reads = w.rows.filter((r) => r.event === "").length;
  const source = new RowsTraceSource("adplatform", w.rows);
  // One warm-up pass of each, so that neither pays for JIT compilation.
  await readsPerMinute("reactive", new RowsTraceSource("warm", w.rows.slice(0, 20_000)), 20_000);
  await readsPerMinute("prescient", new RowsTraceSource("warm", w.rows.slice(0, 20_000)), 20_000);
  const reactive = await readsPerMinute("reactive", source, reads);
  const prescient = await readsPerMinute("prescient", source, reads);
  const c = `adplatform ${DAYS} d, ${reads.toLocaleString("en-US")} reads`;
  return newReport("evaluator", [
    result({
      case: c,
      metric: "prescient replay",
      unit: "reads/min",
      value: prescient,
      baseline: "reactive replay",
      baseline_value: reactive,
      target_ratio: null,
    }),
    result({
      case: c,
      metric: "prescient replay",
      unit: "reads/min",
      value: prescient,
      baseline: "issue target",
      baseline_value: target,
      target_ratio: 1,
    }),
  ]);
}
