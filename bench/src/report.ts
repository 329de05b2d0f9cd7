import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";

/** One measured figure against its same-run baseline (DESIGN.md's shared shape). */
export interface BenchResult {
  case: string;
  metric: string;
  unit: string;
  value: number;
  baseline: string;
  baseline_value: number;
  /** value / baseline_value, oriented so that higher is better. */
  ratio: number;
  /** The goal the issue sets for ratio; null when it sets none. */
  target_ratio: number | null;
}

export interface BenchReport {
  name: string;
  node: string;
  cpus: number;
  results: BenchResult[];
}

/** Builds a result; `lowerIsBetter` inverts the ratio for latencies. */
export function result(fields: Omit<BenchResult, "ratio"> & { lowerIsBetter?: boolean }): BenchResult {
  const { lowerIsBetter, ...rest } = fields;
  const ratio = lowerIsBetter ? rest.baseline_value / rest.value : rest.value / rest.baseline_value;
  return { ...rest, ratio: Number.isFinite(ratio) ? ratio : 0 };
}

export function newReport(name: string, results: BenchResult[]): BenchReport {
  return { name, node: process.version, cpus: availableParallelism(), results };
}

export function writeReport(report: BenchReport, dir = "bench-results"): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${report.name}.json`);
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}

const fmt = (n: number): string =>
  Math.abs(n) >= 1000 ? Math.round(n).toLocaleString("en-US") : n.toPrecision(3);

export function printReport(report: BenchReport): void {
  const headers = ["case", "metric", "value", "baseline", "baseline value", "ratio", "target", "met"];
  const rows = report.results.map((r) => [
    r.case,
    r.metric,
    `${fmt(r.value)} ${r.unit}`,
    r.baseline,
    `${fmt(r.baseline_value)} ${r.unit}`,
    `${r.ratio.toFixed(2)}x`,
    r.target_ratio === null ? "-" : `>=${r.target_ratio}x`,
    r.target_ratio === null ? "-" : r.ratio >= r.target_ratio ? "yes" : "NO",
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
  process.stdout.write(`\n${report.name} (node ${report.node}, ${report.cpus} cpus)\n`);
  process.stdout.write(`${line(headers)}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
}
