import { SpaceSaving } from "@prescient/analyzer";
import type { Policy } from "../sim/policy.js";
import { nextDailyAt } from "./time.js";

/**
 * `static-topn`: the original design's batch job. Cache-aside, plus, every
 * day at 02:00 UTC, the N keys most read since the previous run are
 * computed (Space-Saving counts, as bounded as the analyzer's).
 */
const runMinute = 120;

export function staticTopNPolicy(topN: number): Policy {
  let counts = new SpaceSaving(Math.max(topN * 2, 64));
  return {
    name: "static-topn",
    caches: true,
    lookaheadMs: 0,
    start(ctx, startMs) {
      const run = (): void => {
        for (const h of counts.top(topN)) {
          const type = h.item.split("/")[1] ?? "";
          // Fresh results that will outlive half their TTL are left alone.
          ctx.precompute(h.item, type, "schedule", ctx.now() + ctx.ttlMs(type) / 2);
        }
        counts = new SpaceSaving(counts.capacity);
        ctx.at(nextDailyAt(ctx.now() + 1, runMinute), run);
      };
      ctx.at(nextDailyAt(startMs, runMinute), run);
    },
    onRead(read) {
      counts.add(read.key, 1);
    },
  };
}
