import { type Clock, errorMessage, UnavailableError } from "@prescient/core";
import { callAnalyzer } from "./analyzer-call.js";
import { usableKeys } from "./candidates.js";
import type { PrecomputerConfig, ScheduleSpec } from "./config.js";
import type { FreshnessLookup } from "./freshness-lookup.js";
import type { PrecomputerDeps } from "./precomputer-deps.js";
import type { RareWarnings } from "./rare-warnings.js";
import { planRefreshAhead, type RefreshCandidate } from "./refresh-ahead.js";
import type { Counts, PlannedTask } from "./types.js";

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
    const patterns = await callAnalyzer(() =>
      this.deps.analyzer.topPatterns({
        limit: s.candidates,
        ...(spec.taskType !== undefined ? { taskType: spec.taskType } : {}),
        ...(spec.tenant !== undefined ? { tenant: spec.tenant } : {}),
      }),
    );
    const hot = usableKeys(patterns, this.isTaskType, skipped);
    const expiries = await this.freshness.expiries(hot.map((p) => p.key));
    if (expiries === undefined)
      throw new UnavailableError("cache unavailable: cannot tell which hot keys are near expiry");
    const candidates: RefreshCandidate[] = hot.map((p, i) => ({
      key: p.key,
      tenant: p.tenant,
      taskType: p.taskType,
      entityId: p.entityId,
      demand: p.demand,
      expiresAt: expiries[i],
      ttlMs: this.deps.taskTypes.get(p.taskType).ttlMs,
    }));
    return planRefreshAhead(candidates, flagged, this.clock.now(), s, skipped);
  }
}
