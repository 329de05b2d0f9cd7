import { type Clock, errorMessage, UnavailableError } from "@prescient/core";
import { callAnalyzer } from "./analyzer-call.js";
import { usableKeys, usablePatterns } from "./candidates.js";
import type { PrecomputerConfig, ScheduleSpec } from "./config.js";
import type { FeatureGate } from "./feature-gate.js";
import type { FreshnessLookup } from "./freshness-lookup.js";
import type { PrecomputerDeps } from "./precomputer-deps.js";
import type { RareWarnings } from "./rare-warnings.js";
import { planRefreshAhead, type RefreshCandidate, refreshHorizonMs } from "./refresh-ahead.js";
import { addCount, type Counts, type PlannedTask, skipReasons } from "./types.js";

/**
 * The refresh-ahead schedule job's plan: the keys the cache's XFetch flagged
 * on hits, plus the analyzer's hot keys that are near expiry. The flagged
 * keys are a bonus (a failing cache costs only them); the hot keys' expiries
 * are the job itself, so without them the run fails and is retried.
 */
export class RefreshAheadJob {
  constructor(
    private readonly deps: Pick<PrecomputerDeps, "cache" | "analyzer" | "taskTypes">,
    private readonly config: PrecomputerConfig,
    private readonly clock: Clock,
    private readonly isTaskType: (name: string) => boolean,
    private readonly freshness: FreshnessLookup,
    private readonly warnings: RareWarnings,
    private readonly gate: FeatureGate,
  ) {}

  async plan(spec: ScheduleSpec, skipped: Counts): Promise<PlannedTask[]> {
    const s = this.config.refreshAhead;
    const flaggedKeys =
      s.refreshDueLimit > 0
        ? await this.deps.cache.takeRefreshDue(s.refreshDueLimit).catch((e: unknown) => {
            this.warnings.warn(
              "refresh-due",
              { err: errorMessage(e) },
              "cache unavailable: no XFetch-flagged keys this run",
            );
            return [] as string[];
          })
        : [];
    const flagged = usableKeys(
      flaggedKeys.map((key) => ({ key })),
      this.isTaskType,
      skipped,
    );
    const candidates = await this.#candidates(spec, skipped);
    const due = planRefreshAhead(candidates, flagged, this.clock.now(), s, skipped);
    return this.#computable(due, skipped);
  }

  /**
   * The due tasks the executor can compute (FeatureGate). Refresh-ahead
   * recomputes results the mesh made; it has no features of its own to give,
   * so an onnx key whose entity has none stored is left alone. That is the
   * case of a result a client put (`prescient put`) and then invalidated or
   * let expire while it was still read: the client is its source, and the
   * mesh should leave it to the client rather than turn its demand into dead
   * letters. A failing executor fails the run, which is retried.
   */
  async #computable(tasks: PlannedTask[], skipped: Counts): Promise<PlannedTask[]> {
    const missing = await this.gate.lacking(tasks);
    if (missing.size === 0) return tasks;
    addCount(skipped, skipReasons.noFeatures, missing.size);
    return tasks.filter((t) => !missing.has(t));
  }

  /**
   * Hot keys with their expiry. Where the cache indexes expiries and the
   * analyzer answers demand per key (in process), only the results near
   * expiry are looked at; otherwise the analyzer ranks its keys and the cache
   * is asked for each one's expiry. The two agree whenever `candidates`
   * covers the analyzer's key sketch (a test holds them to it).
   */
  async #candidates(spec: ScheduleSpec, skipped: Counts): Promise<RefreshCandidate[]> {
    const s = this.config.refreshAhead;
    const { cache, analyzer, taskTypes } = this.deps;
    const demandOf = analyzer.demandOf?.bind(analyzer);
    const near =
      cache.nearExpiry !== undefined && demandOf !== undefined
        ? await cache.nearExpiry(
            this.clock.now(),
            (t) => (taskTypes.has(t) ? refreshHorizonMs(taskTypes.get(t).ttlMs, s) : 0),
            { taskType: spec.taskType, tenant: spec.tenant },
          )
        : undefined;
    if (near !== undefined && demandOf !== undefined) {
      const usable = usablePatterns(near, this.isTaskType, skipped);
      const demand = await callAnalyzer(() => demandOf(usable.map((c) => c.key)));
      const out: RefreshCandidate[] = [];
      for (let i = 0; i < usable.length; i++) {
        const c = usable[i]!;
        const d = demand[i];
        // Built field by field: a spread with fields added costs V8 a slow clone per candidate.
        if (d !== undefined)
          out.push({
            key: c.key,
            tenant: c.tenant,
            taskType: c.taskType,
            entityId: c.entityId,
            expiresAt: c.expiresAt,
            demand: d,
            ttlMs: taskTypes.get(c.taskType).ttlMs,
          });
      }
      return out.sort((a, b) => b.demand - a.demand).slice(0, s.candidates);
    }
    const patterns = await callAnalyzer(() =>
      this.deps.analyzer.topPatterns({
        limit: s.candidates,
        ...(spec.taskType !== undefined ? { taskType: spec.taskType } : {}),
        ...(spec.tenant !== undefined ? { tenant: spec.tenant } : {}),
      }),
    );
    const hot = usablePatterns(patterns, this.isTaskType, skipped);
    const expiries = await this.freshness.expiries(hot.map((p) => p.key));
    if (expiries === undefined)
      throw new UnavailableError("cache unavailable: cannot tell which hot keys are near expiry");
    return hot.map((p, i) => ({
      key: p.key,
      tenant: p.tenant,
      taskType: p.taskType,
      entityId: p.entityId,
      demand: p.demand,
      expiresAt: expiries[i],
      ttlMs: this.deps.taskTypes.get(p.taskType).ttlMs,
    }));
  }
}
