import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FaultEvent } from "./faults.js";
import type { ProcSample } from "./proc-sampler.js";
import type { RssVerdict } from "./rss-bounds.js";
import type { LedgerSummary } from "./task-ledger.js";

export interface ProcessSummary {
  pids: number[];
  startMiB: number;
  minMiB: number;
  peakMiB: number;
  /** s since the start, when the peak was read. */
  peakAtS: number;
  /** Last reading while load ran. */
  endOfLoadMiB: number;
  /** Last reading after the load stopped and the queue drained. */
  afterLoadMiB: number;
  /** afterLoadMiB / peakMiB. */
  afterVsPeak: number;
  /**
   * The largest RSS read in each third of the load phase (first, middle,
   * last); undefined when a third has no reading. A bounded process levels
   * off, so its last third stays near its middle one; a leak keeps rising.
   */
  loadThirdsMiB: [number, number, number] | undefined;
  meanCpuPct: number;
  /** Per minute of the run: the largest and last RSS read in it and the mean CPU. */
  byMinute: { minute: number; maxMiB: number; lastMiB: number; cpuPct: number }[];
}

export interface SoakReport {
  name: "soak";
  startedAt: string;
  node: string;
  cpus: number;
  config: Record<string, number | string>;
  phasesS: { load: number; drain: number };
  drained: boolean;
  load: { issued: number; skippedAtInFlightCap: number };
  tasks: LedgerSummary;
  rpcs: Record<string, { calls: number; errors: Record<string, number> }>;
  errorSamples: Record<string, string>;
  faults: FaultEvent[];
  processes: Record<string, ProcessSummary>;
  /** Each process with a deployed memory limit, against it (rss-bounds.ts). */
  rssBounds: RssVerdict[];
  /** Every reading: [s since start, pid, RSS MiB, CPU % or null]. */
  samples: Record<string, [number, number, number, number | null][]>;
}

const mib = (kib: number): number => Math.round((kib / 1024) * 10) / 10;
const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

export function summarizeProcess(
  samples: ProcSample[],
  loadEndMs: number,
  loadStartMs = 0,
): ProcessSummary | undefined {
  const first = samples[0];
  const last = samples.at(-1);
  if (first === undefined || last === undefined) return undefined;
  let peak = first;
  let min = first;
  for (const s of samples) {
    if (s.rssKiB > peak.rssKiB) peak = s;
    if (s.rssKiB < min.rssKiB) min = s;
  }
  const duringLoad = samples.filter((s) => s.t <= loadEndMs);
  const minutes = new Map<number, ProcSample[]>();
  for (const s of samples) {
    const m = Math.floor(s.t / 60_000);
    const list = minutes.get(m) ?? [];
    list.push(s);
    minutes.set(m, list);
  }
  return {
    pids: [...new Set(samples.map((s) => s.pid))],
    startMiB: mib(first.rssKiB),
    minMiB: mib(min.rssKiB),
    peakMiB: mib(peak.rssKiB),
    peakAtS: Math.round(peak.t / 1000),
    endOfLoadMiB: mib((duringLoad.at(-1) ?? last).rssKiB),
    afterLoadMiB: mib(last.rssKiB),
    afterVsPeak: Math.round((last.rssKiB / peak.rssKiB) * 100) / 100,
    loadThirdsMiB: loadThirds(samples, loadStartMs, loadEndMs),
    meanCpuPct: Math.round(mean(samples.flatMap((s) => (s.cpuPct === null ? [] : [s.cpuPct]))) * 10) / 10,
    byMinute: [...minutes].map(([minute, list]) => ({
      minute,
      maxMiB: mib(Math.max(...list.map((s) => s.rssKiB))),
      lastMiB: mib((list.at(-1) as ProcSample).rssKiB),
      cpuPct: Math.round(mean(list.flatMap((s) => (s.cpuPct === null ? [] : [s.cpuPct]))) * 10) / 10,
    })),
  };
}

/** The largest RSS in each third of [startMs, endMs]; undefined when a third has no reading. */
function loadThirds(
  samples: ProcSample[],
  startMs: number,
  endMs: number,
): [number, number, number] | undefined {
  const span = (endMs - startMs) / 3;
  const peaks = [0, 1, 2].map((k) => {
    const inThird = samples.filter((s) => s.t >= startMs + k * span && s.t <= startMs + (k + 1) * span);
    return inThird.length === 0 ? undefined : mib(Math.max(...inThird.map((s) => s.rssKiB)));
  });
  const [a, b, c] = peaks;
  return a === undefined || b === undefined || c === undefined ? undefined : [a, b, c];
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function printSoakReport(r: SoakReport): void {
  const out: string[] = [];
  out.push(
    `\nsoak (node ${r.node}, ${r.cpus} cpus): load ${r.phasesS.load} s, drain ${r.phasesS.drain} s` +
      ` (${r.drained ? "queue drained" : "drain wait ran out"}); ${r.load.issued} calls issued,` +
      ` ${r.load.skippedAtInFlightCap} skipped at the in-flight cap`,
  );
  const t = r.tasks;
  out.push(
    "\ntasks",
    table(
      ["acknowledged", "completed", "completed (cache evidence)", "dead", "still queued", "LOST"],
      [
        [
          String(t.acknowledged),
          String(t.completed),
          String(t.completedByCacheEvidence),
          String(t.dead),
          String(t.stillQueued),
          String(t.lost),
        ],
      ],
    ),
  );
  if (t.dead > 0)
    out.push(
      `dead by reason: ${JSON.stringify(t.deadReasons)}`,
      `dead by source and task type (count, first and last death, s): ${JSON.stringify(t.deadBySourceAndType)}`,
    );
  if (t.stillQueued > 0) out.push(`still queued by state: ${JSON.stringify(t.stillQueuedByState)}`);
  if (t.lost > 0) out.push(`lost (first ${t.lostSample.length}): ${JSON.stringify(t.lostSample, null, 1)}`);

  out.push(
    "\nRSS (MiB) and CPU per process",
    table(
      [
        "process",
        "start",
        "min",
        "peak",
        "peak at",
        "end of load",
        "after load",
        "after/peak",
        "cpu %",
        "pids",
      ],
      Object.entries(r.processes).map(([role, p]) => [
        role,
        String(p.startMiB),
        String(p.minMiB),
        String(p.peakMiB),
        `${p.peakAtS} s`,
        String(p.endOfLoadMiB),
        String(p.afterLoadMiB),
        p.afterVsPeak.toFixed(2),
        String(p.meanCpuPct),
        String(p.pids.length),
      ]),
    ),
  );
  out.push(
    "\nRSS against each service's memory limit in deploy/base (its state bounds plus runtime overhead)",
    table(
      ["process", "limit", "peak", "within", "came back down", "held flat under load"],
      r.rssBounds.map((v) => [
        v.role,
        String(v.boundMiB),
        String(v.peakMiB),
        v.withinBound ? "yes" : "NO",
        v.cameDown ? "yes" : v.heldFlat ? "no" : "NO",
        v.heldFlat ? "yes" : v.cameDown ? "no" : "NO",
      ]),
    ),
  );
  const minutes = [
    ...new Set(Object.values(r.processes).flatMap((p) => p.byMinute.map((m) => m.minute))),
  ].sort((a, b) => a - b);
  out.push(
    "\nRSS by minute (MiB, largest reading in the minute)",
    table(
      ["process", ...minutes.map((m) => `m${m}`)],
      Object.entries(r.processes).map(([role, p]) => [
        role,
        ...minutes.map((m) => String(p.byMinute.find((b) => b.minute === m)?.maxMiB ?? "-")),
      ]),
    ),
  );

  out.push(
    "\ncalls and errors by gRPC status",
    table(
      ["rpc", "calls", "errors"],
      Object.entries(r.rpcs).map(([rpc, v]) => [
        rpc,
        String(v.calls),
        Object.entries(v.errors)
          .map(([code, n]) => `${code}=${n}`)
          .join(" ") || "-",
      ]),
    ),
  );

  out.push(
    "\nfaults",
    table(
      ["at", "fault", "recovery", "ok", "detail"],
      r.faults.map((f) => [
        `${Math.round(f.t / 1000)} s`,
        f.fault,
        `${f.recoveryMs} ms`,
        f.ok ? "yes" : "NO",
        f.detail,
      ]),
    ),
  );
  process.stdout.write(`${out.join("\n")}\n`);
}

export function writeSoakReport(r: SoakReport, dir = "bench-results"): string {
  mkdirSync(dir, { recursive: true });
  // A colon-free timestamp: the file name must be valid everywhere the results are copied.
  const path = join(dir, `soak-${r.startedAt.replace(/[:.]/g, "-")}.json`);
  writeFileSync(path, `${JSON.stringify(r, null, 1)}\n`);
  return path;
}
