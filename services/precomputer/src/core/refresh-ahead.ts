import type { EntityKey } from "./candidates.js";
import type { RefreshAheadSettings } from "./config.js";
import { addCount, type Counts, type PlannedTask, skipReasons } from "./types.js";

/**
 * Refresh-ahead: a cached result is recomputed before it expires when it is
 * near expiry AND still in demand, so hot keys never go cold while cold keys
 * are left to expire. Keys the cache's XFetch flagged on a hit are refreshed
 * too (a hit proves demand; XFetch already judged the timing).
 *
 * Near expiry: expires_at − now ≤ max(horizon, horizon_fraction × TTL). The
 * horizon must exceed the refresh schedule's period plus the queue's delay,
 * or a key may expire between two runs; the fraction scales it for long TTLs.
 * A hot key with no stored result (expired and evicted, or invalidated) is
 * due at once.
 */
export interface RefreshCandidate extends EntityKey {
  /** Decayed requests per second. */
  demand: number;
  /** expires_at of the stored result; undefined when none is stored. */
  expiresAt: number | undefined;
  ttlMs: number;
}

/** The refresh horizon of a task type. */
export function refreshHorizonMs(
  ttlMs: number,
  s: Pick<RefreshAheadSettings, "horizonMs" | "horizonFraction">,
): number {
  return Math.max(s.horizonMs, s.horizonFraction * ttlMs);
}

/** Whether one key is due for refresh now, or why not. */
export function refreshDecision(
  c: Pick<RefreshCandidate, "demand" | "expiresAt" | "ttlMs">,
  now: number,
  s: RefreshAheadSettings,
): "refresh" | typeof skipReasons.cold | typeof skipReasons.notNearExpiry {
  if (!(c.demand >= s.minDemand)) return skipReasons.cold;
  if (c.expiresAt !== undefined && c.expiresAt - now > refreshHorizonMs(c.ttlMs, s))
    return skipReasons.notNearExpiry;
  return "refresh";
}

export function planRefreshAhead(
  candidates: readonly RefreshCandidate[],
  flagged: readonly EntityKey[],
  now: number,
  s: RefreshAheadSettings,
  skipped: Counts,
): PlannedTask[] {
  const tasks: PlannedTask[] = [];
  const seen = new Set<string>();
  const push = (k: EntityKey): void => {
    if (seen.has(k.key)) return;
    seen.add(k.key);
    tasks.push({
      key: k.key,
      tenant: k.tenant,
      taskType: k.taskType,
      entityId: k.entityId,
      priority: s.priority,
      reason: "refresh",
    });
  };
  for (const k of flagged) push(k);
  for (const c of candidates) {
    if (seen.has(c.key)) continue;
    const decision = refreshDecision(c, now, s);
    if (decision === "refresh") push(c);
    else addCount(skipped, decision);
  }
  return tasks;
}
