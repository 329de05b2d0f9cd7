/**
 * The metric names a PromQL expression selects, found without a PromQL
 * parser: strings, label matchers, ranges and grouping label lists are cut
 * out; what is left is functions and aggregations (followed by a parenthesis),
 * keywords, numbers, Grafana variables and metric names. Selecting by
 * `__name__` alone would hide a name from this, so it throws on that.
 */
const keywords = new Set([
  "and",
  "or",
  "unless",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "offset",
  "bool",
  "inf",
  "nan",
  "atan2",
]);

export function metricNames(expr: string): string[] {
  if (expr.includes("__name__"))
    throw new Error(`selects by __name__, so its metrics cannot be checked: ${expr}`);
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, " ");
  const names = new Set<string>();
  // Numbers (durations and exponents included) and $variables first, so `5m` or `1e3` is no name.
  for (const m of stripped.matchAll(/\d[\w.]*|\$\w+|([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    const [, word, call] = m;
    if (word === undefined || call !== undefined || keywords.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return [...names];
}

/**
 * The series names a scrape offers, from its `# TYPE` lines, so that a family
 * with labels but no child yet (nothing counted) still counts. Histograms
 * and summaries are queried through their suffixed series.
 */
export function exportedSeriesNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\w+)$/gm)) {
    const [, name, type] = m;
    if (name === undefined) continue;
    if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(`${name}${s}`);
    else if (type === "summary") for (const s of ["", "_sum", "_count"]) names.add(`${name}${s}`);
    else names.add(name);
  }
  return names;
}
