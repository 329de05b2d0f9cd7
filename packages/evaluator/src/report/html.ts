import type { ReplayReport } from "../sim/replay.js";
import { duration, int, pct } from "./format.js";
import { byReasonTable, byTypeTable, summaryTable, type Table } from "./rows.js";
import { escapeHtml as esc, hitRateChart } from "./svg-chart.js";

/** `--html`: one self-contained file: the hit-rate-over-time chart and the comparison tables. */
function htmlTable(t: Table): string {
  const head = t.headers.map((h) => `<th>${esc(h)}</th>`).join("");
  const body = t.rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("\n");
  return `<h2>${esc(t.title)}</h2>\n<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(".000Z", "Z");

export function renderHtml(r: ReplayReport): string {
  const t = r.trace;
  const end = r.series.startMs + r.series.binMs * (r.policies[0]?.series.length ?? 0);
  const chart = hitRateChart(
    r.policies.map((p) => ({ name: `${p.policy} (${pct(p.hitRate)})`, points: p.series })),
    [iso(r.series.startMs), iso(end)],
  );
  const ab =
    r.ab === undefined
      ? ""
      : `<h2>A/B</h2><p>${esc(r.ab.arms[1].policy)} − ${esc(r.ab.arms[0].policy)}: ${(r.ab.difference * 100).toFixed(2)} points, 95% CI [${(r.ab.ci95[0] * 100).toFixed(2)}, ${(r.ab.ci95[1] * 100).toFixed(2)}], p = ${r.ab.pValue.toPrecision(3)} (${r.ab.significant ? "significant" : "not significant"}), split by ${r.ab.split}.</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>prescient replay: ${esc(t.name)}</title>
<style>
body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin-bottom:1.5em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
th{background:#f3f3f3}p.meta{color:#555}
</style></head><body>
<h1>prescient replay</h1>
<p class="meta">${esc(t.name)} (${esc(t.format)}): ${int(t.reads)} reads, ${int(t.events)} events, ${int(t.distinctKeys)} keys over ${duration(t.endMs - t.startMs)}. Budget ${r.settings.budgetPerSecond.toPrecision(3)} tasks/s; top-N ${int(r.settings.topN)}.</p>
<h2>Hit rate over time</h2>
${chart}
${htmlTable(summaryTable(r))}
${htmlTable(byTypeTable(r))}
${htmlTable(byReasonTable(r))}
${ab}
</body></html>
`;
}
