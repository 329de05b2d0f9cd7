import { duration, int, pct, textTable } from "../report/format.js";
import type { LiveResult } from "./live-replay.js";
import { scaleMatches } from "./mesh-scale.js";

const ms = (v: number): string => (v >= 100 ? `${v.toFixed(0)} ms` : `${v.toPrecision(3)} ms`);

/** Whether the mesh lived as fast as the trace was played. */
export function timeScaleLine(r: Pick<LiveResult, "meshTimeScale" | "speed">): string {
  if (scaleMatches(r.meshTimeScale, r.speed))
    return `mesh time scale ${r.meshTimeScale}x, as --speed: its TTLs, schedules, analyzer and query log run on trace time`;
  return (
    `warning: the mesh's time scale is ${r.meshTimeScale === undefined ? "unknown (its precomputer did not report a budget)" : `${r.meshTimeScale}x`}, not --speed ${r.speed}x: ` +
    "the simulation stretched the TTLs to match, but the mesh's schedules, analyzer and query log run at another pace than the trace; " +
    `start it with \`prescient up --time-scale ${r.speed}\` for a comparable run`
  );
}

/** The mesh the run drove: its address, or each service's replicas when they were given apart. */
function against(r: LiveResult): string {
  const { cache, precomputer, executor, analyzer } = r.addrs;
  const all = [...cache, ...precomputer, ...executor, ...analyzer];
  if (all.length === 4 && all.every((a) => a === r.addr)) return r.addr;
  const list = (name: string, a: string[]): string =>
    a.length === 1 ? `${name} ${a[0]}` : `${a.length} ${name}s (${a.join(", ")})`;
  return `${list("cache", cache)}, ${list("precomputer", precomputer)}, ${list("executor", executor)}, ${list("analyzer", analyzer)}`;
}

/**
 * The mesh's computes beside the simulated prescient's, by reason: what
 * the replay forecast it would spend, not only what it would hit. Live, a
 * reason's figure is what was enqueued for it (the precomputer's counters,
 * and the misses the cache enqueued; a task merged into one of its key
 * already queued is no new work and does not count); the total is what the
 * executor completed during the run.
 */
function computesTable(r: LiveResult): string[] {
  const sim = r.predictedComputes;
  const enqueued = r.mesh.precomputerEnqueued;
  if (sim === undefined || enqueued === undefined) return [];
  const live: Record<string, number> = { ...enqueued, miss: r.lookups.enqueued };
  const reasons = [...new Set([...Object.keys(live), ...Object.keys(sim.byReason)])].sort();
  const rows = reasons.map((reason) => [reason, int(live[reason] ?? 0), int(sim.byReason[reason] ?? 0)]);
  rows.push([
    "total (live: completed)",
    r.mesh.completed === undefined ? "-" : int(r.mesh.completed),
    int(sim.total),
  ]);
  return [
    "",
    "Computes by reason, live (enqueued) against simulated prescient",
    textTable(["reason", "live", "simulated"], rows),
  ];
}

/** The live run beside the simulation's prediction for the same trace, as text. */
export function renderLive(r: LiveResult): string {
  const out: string[] = [];
  const l = r.lookups;
  out.push(
    `Live replay against ${against(r)} at ${r.speed}x (on_miss ${r.onMiss.toUpperCase()}, ${r.concurrency} in flight): ` +
      `${int(r.records)} records (${int(l.sent)} lookups, ${int(r.triggers.events)} events) ` +
      `in ${duration(r.wallMs)}, ${duration(r.traceMs)} of trace` +
      (r.aborted ? "; STOPPED EARLY (interrupted): the live numbers cover only what ran" : ""),
  );
  out.push(timeScaleLine(r));
  const rows: string[][] = r.predicted.map((p) => [
    `simulated ${p.policy}`,
    int(p.reads),
    pct(p.hitRate),
    p.staleServed > 0 ? int(p.staleServed) : "0",
    "-",
    "-",
    "-",
    "-",
  ]);
  rows.push([
    "live (mesh)",
    int(l.answered),
    pct(r.hitRate),
    int(l.stale),
    int(l.errors),
    r.latency.count > 0 ? ms(r.latency.p50Ms) : "-",
    r.latency.count > 0 ? ms(r.latency.p99Ms) : "-",
    r.latency.count > 0 ? ms(r.latency.maxMs) : "-",
  ]);
  out.push(
    "",
    "Hit rate, live against simulated",
    textTable(
      ["", "reads", "hit rate", "stale served", "errors", "lookup p50", "lookup p99", "lookup max"],
      rows,
    ),
  );
  const types = Object.entries(r.byType);
  if (types.length > 1) {
    out.push(
      "",
      "Live hit rate by task type",
      textTable(
        ["task type", "reads", "hits", "hit rate"],
        types.map(([t, v]) => [t, int(v.reads), int(v.hits), pct(v.hitRate)]),
      ),
    );
  }
  const t = r.triggers;
  if (t.events > 0)
    out.push(
      "",
      `triggers: ${int(t.events)} sent, ${int(t.ok)} accepted, ${int(t.tasksQueued)} tasks queued, ${int(t.skippedFresh)} types skipped fresh, ${int(t.errors)} failed`,
    );
  const { actions: a, launches: la } = r;
  if (la.announced > 0)
    out.push(
      `launches: ${int(la.announced)} announced ahead, ${int(la.registered)} registered with the analyzer (not triggered), ${int(la.errors)} failed`,
    );
  if (a.sent > 0 || a.errors > 0)
    out.push(
      `actions: ${int(a.sent)} (one per read by a user, as the simulation's backends record them), ${int(a.accepted)} accepted, ${int(a.rejected)} rejected, ${int(a.errors)} failed`,
    );
  out.push(
    `misses: ${int(l.misses)}, ${int(l.enqueued)} of them enqueued for compute` +
      (r.mesh.cache !== undefined
        ? `; the cache counted ${int(r.mesh.cache.hits)} hits (${int(r.mesh.cache.staleHits)} stale), ${int(r.mesh.cache.misses)} misses, ${int(r.mesh.cache.errors)} errors`
        : ""),
  );
  out.push(...computesTable(r));
  const mapped = Object.entries(r.typeMap);
  if (mapped.length > 0)
    out.push(
      `task types the mesh does not know, replayed as: ${mapped.map(([a, b]) => `${a} -> ${b}`).join(", ")}`,
    );
  if (r.features.names > 0)
    out.push(
      `features: synthetic, ${int(r.features.names)} per entity from a hash of its tenant and id, sent with every trigger and with the lookups of onnx types until a miss delivered them (${int(r.features.entities)} entities)`,
    );
  const dead = Object.entries(r.mesh.deadLetters ?? {}).filter(([, n]) => n > 0);
  if (dead.length > 0)
    out.push(
      `warning: tasks dead-lettered during the run: ${dead.map(([t, n]) => `${t} ${int(n)}`).join(", ")} (see \`prescient dlq list\`)`,
    );
  if (r.late.count > 0)
    out.push(
      `${r.late.count * 100 > r.records ? "warning" : "note"}: ${int(r.late.count)} of ${int(r.records)} records started more than 10 ms late (worst ${duration(r.late.maxMs)})` +
        (r.late.count * 100 > r.records
          ? `: the mesh or --concurrency did not keep up with ${r.speed}x, so the live run is slower than the trace`
          : ""),
    );
  for (const [name, n] of Object.entries(r.errors)) out.push(`errors: ${name} x${int(n)}`);
  for (const e of r.errorExamples) out.push(`  e.g. ${e}`);
  return `${out.join("\n")}\n`;
}
