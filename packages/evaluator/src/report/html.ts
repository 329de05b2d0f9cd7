import type { ReplayReport } from "../sim/replay.js";
import { duration, int, pct } from "./format.js";
import { glossarySections } from "./glossary.js";
import {
  byReasonTable,
  byTypeTable,
  calibrationTable,
  summaryTable,
  type Table,
  withinReachTable,
} from "./rows.js";
import { escapeHtml as esc, timeChart } from "./svg-chart.js";

/**
 * `--html`: one self-contained file: the hit-rate-over-time chart and the
 * comparison tables, each table followed by what its columns mean, so a
 * reader needs neither the docs nor `--help` to read it.
 */
function htmlTable(t: Table): string {
  // Headers without a term of their own are the by-type table's policy columns: its last term explains them.
  const meaning = (h: string): string =>
    (t.columns.find((c) => c.term === h) ?? t.columns[t.columns.length - 1])?.meaning ?? "";
  const head = t.headers.map((h) => `<th title="${esc(meaning(h))}">${esc(h)}</th>`).join("");
  const body = t.rows
    .map((r) => `<tr data-row="${esc(r[0] ?? "")}">${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`)
    .join("\n");
  const glossary = glossarySections
    .filter((s) => s.table === t.id)
    .map(
      (s) =>
        `<div class="glossary-section"><h3>${esc(s.heading)}</h3><dl>${s.terms
          .map((x) => `<dt>${esc(x.term)}</dt><dd>${esc(x.meaning)}</dd>`)
          .join("")}</dl></div>`,
    )
    .join("\n");
  return `<section data-table="${esc(t.id)}"><h2>${esc(t.title)}</h2>
<table class="results"><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table>
<div class="glossary">${glossary}</div></section>`;
}

/** Where the trace has dates (see time-axis.ts), when it starts. */
const from = (ms: number): string =>
  ms < Date.UTC(2000, 0, 1) ? "" : `, from ${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;

export function renderHtml(r: ReplayReport): string {
  const t = r.trace;
  const chart = timeChart({
    title: "Hit rate of each policy over the trace's time",
    yTitle: "hit rate (% of reads)",
    legendTitle: "policy: hit rate overall",
    series: r.policies.map((p) => ({
      name: p.policy,
      label: `${p.policy}: ${pct(p.hitRate)}`,
      points: p.series,
    })),
    startMs: r.series.startMs,
    binMs: r.series.binMs,
  });
  const within = withinReachTable(r);
  const calibration = calibrationTable(r);
  const ab =
    r.ab === undefined
      ? ""
      : `<h2>A/B</h2><p>${esc(r.ab.arms[1].policy)} − ${esc(r.ab.arms[0].policy)}: ${(r.ab.difference * 100).toFixed(2)} points, 95% CI [${(r.ab.ci95[0] * 100).toFixed(2)}, ${(r.ab.ci95[1] * 100).toFixed(2)}], p = ${r.ab.pValue.toPrecision(3)} (${r.ab.significant ? "significant" : "not significant"}), split by ${r.ab.split}.</p>`;
  const types = r.settings.types
    .map((x) => `${esc(x.type)}: TTL ${duration(x.ttlSeconds * 1000)}, compute ${duration(x.latencyMs)}`)
    .join("; ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>prescient replay: ${esc(t.name)}</title>
<style>
body{font-family:sans-serif;margin:2em;color:#222;max-width:1200px}
table{border-collapse:collapse;margin-bottom:.8em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left;white-space:nowrap}
th{background:#f3f3f3;cursor:help}p.meta{color:#555}figure{margin:0 0 1em}figcaption{color:#555;max-width:900px}
svg.chart{max-width:100%;height:auto}
.glossary{display:flex;flex-wrap:wrap;gap:0 3em;font-size:90%;color:#333;margin-bottom:2em}
.glossary h3{font-size:100%;margin:.6em 0 .3em}.glossary-section{flex:1 1 420px;max-width:720px}
.glossary dl{display:grid;grid-template-columns:max-content 1fr;gap:3px 12px;margin:0}
.glossary dt{font-weight:bold}.glossary dd{margin:0}
</style></head><body>
<h1>prescient replay</h1>
<p class="meta">${esc(t.name)} (${esc(t.format)}): ${int(t.reads)} reads, ${int(t.events)} events, ${int(t.distinctKeys)} keys over ${duration(t.endMs - t.startMs)}${from(t.startMs)}. Budget ${r.settings.budgetPerSecond.toPrecision(3)} ahead-of-time computes/s per policy (burst ${duration(r.settings.burstSeconds * 1000)}); top-N ${int(r.settings.topN)}. ${types}.</p>
<h2>Hit rate over time</h2>
<figure>${chart}
<figcaption>Each point: the share of the reads in a ${duration(r.series.binMs)} slice of the trace that found a fresh result, for each policy. Lines that coincide are drawn one over the other, the lower on top; hover over a line for its policy.</figcaption></figure>
${htmlTable(summaryTable(r))}
${within === undefined ? "" : htmlTable(within)}
${htmlTable(byTypeTable(r))}
${htmlTable(byReasonTable(r))}
${calibration === undefined ? "" : htmlTable(calibration)}
${ab}
</body></html>
`;
}
