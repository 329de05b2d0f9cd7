import { armOf, splitUnit } from "../ab/split.js";
import { type AbResult, ArmAccumulator, compareArms } from "../ab/stats.js";
import { createPolicy } from "../policies/registry.js";
import type { TraceRecord, TraceSource } from "../trace/record.js";
import type { HitCount, PolicyMetrics } from "./metrics.js";
import { type ReplayOptions, resolveReplayOptions, TypeTable } from "./options.js";
import { PolicyRun } from "./policy-run.js";
import { ReadClassifier } from "./read-classifier.js";
import { Scheduler } from "./scheduler.js";
import { scanTrace, type TraceSummary } from "./trace-scan.js";

/**
 * `prescient replay`: streams a trace once through every policy under one
 * virtual clock. Each policy has its own cache, compute and budget; reads
 * are classified once (first, after expiry, repeat) for all. The oracle sees
 * reads `lookaheadMs` early through a bounded look-ahead buffer, so even a
 * million-line trace is never held whole.
 */
export interface ReplayReport {
  trace: TraceSummary & { distinctKeys: number; reordered: number };
  settings: {
    budgetPerSecond: number;
    burstSeconds: number;
    topN: number;
    types: Array<{ type: string; ttlSeconds: number; staleGraceSeconds: number; latencyMs: number }>;
  };
  /** Start and width of the series' time bins, ms. */
  series: { startMs: number; binMs: number };
  policies: PolicyMetrics[];
  ab: AbResult | undefined;
  elapsedMs: number;
}

const progressEvery = 8192;

export async function replay(source: TraceSource, options?: Partial<ReplayOptions>): Promise<ReplayReport> {
  const began = performance.now();
  const o = resolveReplayOptions(options);
  const summary = await scanTrace(source);
  const types = new TypeTable(o);
  for (const t of summary.types) types.of(t);
  const durationS = Math.max(1, (summary.endMs - summary.startMs) / 1000);
  const budgetPerSecond = o.budgetPerSecond ?? Math.max(0.001, (o.budgetShare * summary.reads) / durationS);
  const maxTtlS = Math.max(1, ...summary.types.map((t) => types.of(t).ttlMs / 1000));
  const burstSeconds = o.burstSeconds ?? maxTtlS;
  // What the budget buys in a 4-hour off-peak window, bounded to what the analyzer tracks.
  const topN = o.topN ?? Math.max(10, Math.min(10_000, Math.round(budgetPerSecond * 4 * 3600)));
  const scheduler = new Scheduler(summary.startMs);
  const names = o.ab !== undefined ? o.ab.policies : o.policies;
  // In A/B mode each arm serves about half the traffic, so gets half the budget.
  const share = o.ab !== undefined ? 0.5 : 1;
  const runs = names.map((name, arm) => {
    const policy = createPolicy(name, {
      types,
      topN: Math.round(topN * share),
      taskTypes: o.taskTypes,
      startMs: summary.startMs,
      prescient: o.prescient,
    });
    return new PolicyRun(policy, scheduler, types, {
      startMs: summary.startMs,
      endMs: summary.endMs,
      bins: o.bins,
      budgetPerSecond: budgetPerSecond * share,
      burst: budgetPerSecond * share * burstSeconds,
      // With a key split, an arm's precomputes of the other arm's keys could never be read.
      ...(o.ab?.split === "key" ? { accepts: (key: string) => armOf(`k:${key}`) === arm } : {}),
    });
  });
  for (const run of runs) await run.start();
  const arms = o.ab !== undefined ? [new ArmAccumulator(), new ArmAccumulator()] : undefined;
  const classifier = new ReadClassifier();
  const lookahead = Math.max(0, ...runs.map((r) => r.policy.lookaheadMs));
  const seers = runs.filter((r) => r.policy.onFuture !== undefined);

  // Records are taken a batch at a time where the source offers batches, and one by one from them.
  const batches = source.recordBatches?.()[Symbol.asyncIterator]();
  const iterator = batches === undefined ? source.records()[Symbol.asyncIterator]() : undefined;
  let batch: readonly TraceRecord[] = [];
  let at = 0;
  const buffer: TraceRecord[] = [];
  let head = 0;
  let exhausted = false;
  const take = (r: TraceRecord): void => {
    buffer.push(r);
    if (r.kind === "read") for (const s of seers) s.future(r);
  };
  /** Buffers records until one is later than `until` (or one at all); waits only to read the next batch. */
  const pull = (until: number): Promise<void> | undefined => {
    while (!exhausted && (buffer.length === head || buffer[buffer.length - 1]!.time <= until)) {
      if (at < batch.length) {
        take(batch[at++]!);
        continue;
      }
      return (batches !== undefined ? nextBatch(batches) : nextRecord(iterator!)).then(() => pull(until));
    }
    return undefined;
  };
  const nextBatch = async (from: AsyncIterator<readonly TraceRecord[]>): Promise<void> => {
    const next = await from.next();
    if (next.done) exhausted = true;
    else {
      batch = next.value;
      at = 0;
    }
  };
  const nextRecord = async (from: AsyncIterator<TraceRecord>): Promise<void> => {
    const next = await from.next();
    if (next.done) exhausted = true;
    else take(next.value);
  };

  let done = 0;
  for (;;) {
    if (head === buffer.length) {
      const p = pull(Number.NEGATIVE_INFINITY);
      if (p !== undefined) await p;
    }
    if (head === buffer.length) break;
    const t = buffer[head]!.time;
    if (lookahead > 0) {
      const p = pull(t + lookahead);
      if (p !== undefined) await p;
    }
    const r = buffer[head++]!;
    if (head > 4096 && head * 2 > buffer.length) {
      buffer.splice(0, head);
      head = 0;
    }
    await scheduler.runUntil(r.time);
    if (r.kind === "read") {
      const type = types.of(r.taskType);
      const cls = classifier.classify(r.key, r.time, type.ttlMs);
      const unreachable = classifier.outOfReach(r, cls, type.latencyMs);
      const unnamed = classifier.unnamed(r, cls);
      if (arms !== undefined && o.ab !== undefined) {
        const unit = splitUnit(r, o.ab.split);
        const arm = armOf(unit);
        const run = runs[arm]!;
        const before = run.metrics.hits;
        const p = run.read(r, cls);
        if (p !== undefined) await p;
        arms[arm]!.add(unit, run.metrics.hits > before);
        if (unreachable) count(run.metrics.outOfReach, run, before);
        if (unnamed) count(run.metrics.unnamed, run, before);
      } else {
        for (const run of runs) {
          const before = run.metrics.hits;
          const p = run.read(r, cls);
          if (p !== undefined) await p;
          if (unreachable) count(run.metrics.outOfReach, run, before);
          if (unnamed) count(run.metrics.unnamed, run, before);
        }
      }
    } else {
      classifier.announce(r);
      for (const run of runs) {
        const p = run.event(r);
        if (p !== undefined) await p;
      }
    }
    if (++done % progressEvery === 0) o.onProgress?.(done, summary.records);
  }
  await scheduler.runUntil(summary.endMs);
  o.onProgress?.(summary.records, summary.records);
  const policies: PolicyMetrics[] = [];
  for (const run of runs) policies.push(await run.finish());
  const ab =
    arms !== undefined && o.ab !== undefined
      ? compareArms(o.ab.split, arms[0]!.stats(o.ab.policies[0]), arms[1]!.stats(o.ab.policies[1]))
      : undefined;
  return {
    trace: {
      ...summary,
      distinctKeys: classifier.keys,
      reordered: source.reordered ?? 0,
    },
    settings: {
      budgetPerSecond,
      burstSeconds,
      topN,
      types: summary.types.map((t) => {
        const x = types.of(t);
        return {
          type: t,
          ttlSeconds: x.ttlMs / 1000,
          staleGraceSeconds: x.graceMs / 1000,
          latencyMs: x.latencyMs,
        };
      }),
    },
    series: { startMs: summary.startMs, binMs: Math.max(1, (summary.endMs - summary.startMs + 1) / o.bins) },
    policies,
    ab,
    elapsedMs: performance.now() - began,
  };
}

/** A read of a class counted apart (`into`) was just replayed on `run`, which had `hitsBefore` hits before it. */
function count(into: HitCount, run: PolicyRun, hitsBefore: number): void {
  into.reads++;
  if (run.metrics.hits > hitsBefore) into.hits++;
}
