/**
 * Freshness policy of a stored result: fresh until it expires, then stale
 * (still servable, flagged) for the type's grace window, then gone.
 */
export type Freshness = "fresh" | "stale" | "expired";

export function classifyFreshness(nowMs: number, expiresAtMs: number, staleGraceMs: number): Freshness {
  if (nowMs < expiresAtMs) return "fresh";
  if (nowMs < expiresAtMs + staleGraceMs) return "stale";
  return "expired";
}

/**
 * XFetch (Vattani, Chierichetti, Lowenstein: "Optimal Probabilistic Cache
 * Stampede Prevention", PVLDB 2015): a hit is due for early refresh when
 * `now - delta * beta * ln(U) >= expiry`, with delta the recompute time and
 * U uniform on (0, 1]. The chance grows as expiry nears, and costly results
 * start earlier, so one refresh lands before expiry without a stampede.
 */
export function xfetchRefreshDue(
  nowMs: number,
  expiresAtMs: number,
  computeMs: number,
  beta: number,
  random: () => number = Math.random,
): boolean {
  if (beta <= 0 || computeMs <= 0) return nowMs >= expiresAtMs;
  const u = 1 - random(); // (0, 1]: ln(0) would be -Infinity
  return nowMs - computeMs * beta * Math.log(u) >= expiresAtMs;
}
