import type { Analyzer } from "@prescient/analyzer";
import type { RefreshAheadSettings, RefreshCandidate, ScheduleSpec } from "@prescient/precomputer";
import type { PolicyContext } from "../../sim/policy.js";
import type { RefreshSource } from "./refresh-source.js";

/**
 * The refresh-ahead job's candidates, as the live RefreshAheadJob finds
 * them: the analyzer's hot keys (TopPatterns, up to `candidates`) with
 * their demand, and when each one's stored result expires.
 */
export async function refreshCandidates(
  a: Analyzer,
  refresh: RefreshSource,
  ctx: PolicyContext,
  spec: ScheduleSpec,
  st: RefreshAheadSettings,
): Promise<RefreshCandidate[]> {
  if (st.candidates >= a.settings.keyCapacity) {
    // TopPatterns would list every key the analyzer's sketch holds: asking only about the
    // results near expiry finds the same candidates without ranking the sketch every run.
    const near = refresh.nearExpiry(ctx.now(), spec);
    const demand = await a.demandOf(near.map((c) => c.key));
    const candidates = near.flatMap((c, i) => (demand[i] === undefined ? [] : [{ ...c, demand: demand[i] }]));
    return candidates.sort((x, y) => y.demand - x.demand);
  }
  const patterns = await a.topPatterns({
    limit: st.candidates,
    ...(spec.taskType !== undefined ? { taskType: spec.taskType } : {}),
    ...(spec.tenant !== undefined ? { tenant: spec.tenant } : {}),
  });
  return patterns.map((p) => ({
    key: p.key,
    tenant: p.tenant,
    taskType: p.taskType,
    entityId: p.entityId,
    demand: p.demand,
    expiresAt: ctx.cache.freshUntil(p.key),
    ttlMs: ctx.ttlMs(p.taskType),
  }));
}
