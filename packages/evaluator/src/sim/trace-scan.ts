import type { TraceRecord, TraceSource } from "../trace/record.js";

/** A first, cheap pass over a trace: its extent, for the budget default, time bins and progress. */
export interface TraceSummary {
  name: string;
  format: string;
  records: number;
  reads: number;
  events: number;
  startMs: number;
  endMs: number;
  types: string[];
  skipped: number;
  skippedExamples: string[];
}

export async function scanTrace(source: TraceSource): Promise<TraceSummary> {
  let reads = 0;
  let events = 0;
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  const types = new Set<string>();
  const tally = (r: TraceRecord): void => {
    if (r.kind === "read") {
      reads++;
      types.add(r.taskType);
    } else events++;
    if (r.time < start) start = r.time;
    if (r.time > end) end = r.time;
  };
  if (source.recordBatches !== undefined)
    for await (const batch of source.recordBatches()) for (const r of batch) tally(r);
  else for await (const r of source.records()) tally(r);
  return {
    name: source.name,
    format: source.format,
    records: reads + events,
    reads,
    events,
    startMs: Number.isFinite(start) ? start : 0,
    endMs: Number.isFinite(end) ? end : 0,
    types: [...types].sort(),
    skipped: source.stats.skipped,
    skippedExamples: [...source.stats.skippedExamples],
  };
}
