import type { EntityKey } from "./candidates.js";
import type { RefreshAheadSettings } from "./config.js";
import { addCount, type Counts, type PlannedTask, skipReasons } from "./types.js";

/**
 * Refresh-ahead: a cached result is recomputed before it expires when it is
 * near expiry AND still in demand, so hot keys never go cold while cold keys
 * are left to expire. In demand: at least `min_demand` requests/s, and at
 * least `min_expected_reads` reads expected while the next result lives
 * (demand × TTL), which scales the bar to short TTLs. Keys the cache's
 * XFetch flagged on a hit are refreshed too (a hit proves demand; XFetch
 * already judged the timing).
 *
 * Near expiry: expires_at − now ≤ max(horizon, horizon_fraction × TTL), but
 * at most half the TTL: a result is never due in the first half of its life,
 * or results of TTLs shorter than the horizon would be recomputed on every
 * run. The horizon must exceed the refresh schedule's period plus the
 * queue's delay, or a key may expire between two runs; the fraction scales
 * it for long TTLs, and `refreshPeriodMs` shortens the period for short ones.
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
  return Math.min(Math.max(s.horizonMs, s.horizonFraction * ttlMs), ttlMs / 2);
}

/** The shortest period a refresh-ahead schedule runs at (its runs are whole jobs). */
export const minRefreshPeriodMs = 1000;

/**
 * The period a refresh-ahead schedule configured `every: everyMs` runs at:
 * at most half the shortest refresh horizon of the task types it covers, so
 * that every result it keeps is seen at least twice within its horizon (once
 * it is due, and once more in case that run was late or over budget).
 */
export function refreshPeriodMs(
  everyMs: number,
  ttlsMs: Iterable<number>,
  s: Pick<RefreshAheadSettings, "horizonMs" | "horizonFraction">,
): number {
  let period = everyMs;
  for (const ttl of ttlsMs) if (ttl > 0) period = Math.min(period, refreshHorizonMs(ttl, s) / 2);
  return Math.max(minRefreshPeriodMs, Math.round(period));
}

/**
 * The chance a result is read at least once in its life, for reads arriving
 * at `demand` per second (Poisson): 1 − e^(−demand × TTL).
 */
export function readProbability(demand: number, ttlMs: number): number {
  return -Math.expm1(-Math.max(0, demand) * (ttlMs / 1000));
}

/** Whether one key is due for refresh now, or why not. */
export function refreshDecision(
  c: Pick<RefreshCandidate, "demand" | "expiresAt" | "ttlMs">,
  now: number,
  s: RefreshAheadSettings,
): "refresh" | typeof skipReasons.cold | typeof skipReasons.notNearExpiry {
  if (!(c.demand >= s.minDemand) || !((c.demand * c.ttlMs) / 1000 >= s.minExpectedReads))
    return skipReasons.cold;
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
  const push = (k: EntityKey, probability?: number): void => {
    if (seen.has(k.key)) return;
    seen.add(k.key);
    tasks.push({
      key: k.key,
      tenant: k.tenant,
      taskType: k.taskType,
      entityId: k.entityId,
      priority: s.priority,
      reason: "refresh",
      ...(probability !== undefined ? { probability } : {}),
    });
  };
  // A flagged key was just hit: its read is as good as certain.
  for (const k of flagged) push(k);
  for (const c of candidates) {
    if (seen.has(c.key)) continue;
    const decision = refreshDecision(c, now, s);
    if (decision === "refresh") push(c, readProbability(c.demand, c.ttlMs));
    else addCount(skipped, decision);
  }
  return tasks;
}
