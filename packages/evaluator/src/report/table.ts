import type { ReplayReport } from "../sim/replay.js";
import { duration, int, pct, textTable } from "./format.js";
import { byReasonTable, byTypeTable, calibrationTable, summaryTable, withinReachTable } from "./rows.js";

/** The text report `prescient replay` prints on stdout. */
export function renderTable(r: ReplayReport): string {
  const t = r.trace;
  const out: string[] = [];
  out.push(
    `trace ${t.name} (${t.format}): ${int(t.reads)} reads, ${int(t.events)} events, ${int(t.distinctKeys)} keys over ${duration(t.endMs - t.startMs)}` +
      (t.skipped > 0 ? `; ${int(t.skipped)} bad lines skipped` : ""),
  );
  out.push(
    `budget ${r.settings.budgetPerSecond.toPrecision(3)} tasks/s (burst ${duration(r.settings.burstSeconds * 1000)}), top-N ${int(r.settings.topN)}; ` +
      r.settings.types
        .map((x) => `${x.type} ttl ${duration(x.ttlSeconds * 1000)} latency ${x.latencyMs} ms`)
        .join(", "),
  );
  for (const table of [
    summaryTable(r),
    withinReachTable(r),
    byTypeTable(r),
    byReasonTable(r),
    calibrationTable(r),
  ]) {
    if (table === undefined) continue;
    out.push("", table.title, textTable(table.headers, table.rows));
  }
  if (r.ab !== undefined) {
    const [a, b] = r.ab.arms;
    out.push(
      "",
      `A/B (split by ${r.ab.split}): ${a.policy} ${pct(a.hitRate)} on ${int(a.reads)} reads (${int(a.units)} units) vs ${b.policy} ${pct(b.hitRate)} on ${int(b.reads)} reads (${int(b.units)} units)`,
      `difference ${b.policy} - ${a.policy}: ${(r.ab.difference * 100).toFixed(2)} points, 95% CI [${(r.ab.ci95[0] * 100).toFixed(2)}, ${(r.ab.ci95[1] * 100).toFixed(2)}], z ${r.ab.z.toFixed(2)}, p ${r.ab.pValue.toPrecision(3)}: ${r.ab.significant ? "significant" : "not significant"} at 5%`,
    );
  }
  out.push("", `replayed in ${duration(r.elapsedMs)}`);
  return `${out.join("\n")}\n`;
}
