/** One sample of a Prometheus text exposition: its name, labels and value. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample of a scrape, comments skipped. */
export function parseMetricsText(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = sampleLine.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(labelPair)) labels[k as string] = v as string;
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

/**
 * The value of the sample named `name` whose labels include `labels`
 * (summed when several match); undefined when none does.
 */
export function metricValue(
  text: string | MetricSample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const samples = typeof text === "string" ? parseMetricsText(text) : text;
  let sum: number | undefined;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(labels).some(([k, v]) => s.labels[k] !== v)) continue;
    sum = (sum ?? 0) + s.value;
  }
  return sum;
}

/** The metric families a scrape declares (its `# TYPE` lines). */
export function metricFamilies(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("# TYPE "))
    .map((l) => l.split(" ")[2] as string);
}
