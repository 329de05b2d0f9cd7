import type { Policy } from "../sim/policy.js";

/**
 * `oracle`: knows every future read and computes each key just in time,
 * from the same budget: a compute that lands exactly when a read arrives
 * that would otherwise not find a fresh result. Each compute it spends
 * yields a hit, and none is spent early, so (with the budget's burst of a
 * TTL, see token-bucket.ts) no policy gets more hits from the same budget.
 */
export function oraclePolicy(maxLatencyMs: number): Policy {
  return {
    name: "oracle",
    caches: true,
    lookaheadMs: maxLatencyMs + 1,
    onFuture(read, ctx) {
      const start = read.time - ctx.latencyMs(read.taskType);
      ctx.at(start, () => {
        ctx.precompute(read.key, read.taskType, "oracle", read.time);
      });
    },
  };
}
