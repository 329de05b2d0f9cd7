import { usablePatterns } from "./candidates.js";
import type { DemandPattern } from "./ports.js";
import { readProbability } from "./refresh-ahead.js";
import type { Counts, PlannedTask } from "./types.js";

/**
 * Daily top-N: the N keys the analyzer ranks highest by expected benefit
 * (demand × compute cost × chance of not being fresh), reason `schedule`.
 * Input-addressed keys and keys of undeclared types are skipped and counted.
 * Tenant weights reorder the ranking, so that a premium tenant's keys fill
 * the list first when it is cut at N.
 */
export interface TopNOptions {
  limit: number;
  priority: number;
  tenantWeight: (tenant: string) => number;
  /** A type's TTL, for the chance its result is read before it expires. Default: none (certain). */
  ttlMsOf?: (taskType: string) => number;
}

export function selectTopN(
  patterns: readonly DemandPattern[],
  options: TopNOptions,
  isTaskType: (name: string) => boolean,
  skipped: Counts,
): PlannedTask[] {
  const usable = usablePatterns(patterns, isTaskType, skipped);
  return usable
    .map((p, i) => ({ p, i, score: p.benefit * options.tenantWeight(p.tenant) }))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .slice(0, options.limit)
    .map(({ p }) => ({
      key: p.key,
      tenant: p.tenant,
      taskType: p.taskType,
      entityId: p.entityId,
      priority: options.priority,
      reason: "schedule" as const,
      ...(options.ttlMsOf !== undefined
        ? { probability: readProbability(p.demand, options.ttlMsOf(p.taskType)) }
        : {}),
    }));
}
