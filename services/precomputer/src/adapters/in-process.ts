import { type Analyzer, emptyIngestResult } from "@prescient/analyzer";
import type { CacheCore } from "@prescient/cache";
import type { EntityStore, ExecutorCore } from "@prescient/executor";
import type { PlannedTask } from "../core/types.js";
import type { AnalyzerPeer, CachePeer, ExecutorPeer } from "./peers.js";

/**
 * Peers in this process (`prescient up`): the executor, cache and analyzer
 * cores called directly. Freshness checks read the cache's expiries
 * (peekExpiries), not its lookup path, so they neither count as hits nor
 * reach the analyzer as demand (which would keep every checked key hot
 * forever), and large results' TTLs rather than their values.
 */
export function inProcessExecutor(core: ExecutorCore, entities?: EntityStore): ExecutorPeer {
  return {
    sink: {
      enqueueMany: (tasks: readonly PlannedTask[]) =>
        core.enqueueMany(
          tasks.map((t) => ({
            parts: { tenant: t.tenant, taskType: t.taskType, entityId: t.entityId },
            priority: t.priority,
            reason: t.reason,
            ...(t.notBefore !== undefined ? { notBefore: t.notBefore } : {}),
            features: t.features ?? {},
          })),
        ),
    },
    queueDepth: async () => {
      const s = await core.queue.stats();
      return s.total.queued + s.total.delayed;
    },
    ...(entities !== undefined
      ? {
          upsertFeatures: (records) => entities.upsertMany(records),
          featuresStored: async (refs) => (await entities.getMany(refs)).map((f) => f !== undefined),
        }
      : {}),
    close: () => {},
  };
}

export function inProcessCache(core: CacheCore | Promise<CacheCore>): CachePeer {
  const ready = Promise.resolve(core);
  return {
    async expiries(keys) {
      return (await ready).peekExpiries(keys);
    },
    async takeRefreshDue(limit) {
      return (await ready).takeRefreshDue({ limit }).keys;
    },
    async nearExpiry(now, horizonOf, filter) {
      return (await ready).store.nearExpiry?.(now, horizonOf, filter);
    },
    async counters() {
      const s = await (await ready).stats({ tenant: "", taskType: "" });
      const t = s.total;
      return { lookups: Number((t?.hits ?? 0n) + (t?.misses ?? 0n)), hits: Number(t?.hits ?? 0n) };
    },
    close: () => {},
  };
}

export function inProcessAnalyzer(analyzer: Analyzer | Promise<Analyzer>): AnalyzerPeer {
  const ready = Promise.resolve(analyzer);
  return {
    async topPatterns(request) {
      return (await ready).topPatterns(request);
    },
    async offPeakWindow(request) {
      const w = await (await ready).offPeakWindow(request);
      return { nextStart: w.nextStart, durationMinutes: w.durationMinutes };
    },
    async upcomingLaunches(hoursAhead) {
      return (await ready).upcomingLaunches(hoursAhead, "");
    },
    async predictNextActions(request) {
      return (await (await ready).predictNextActions(request)).actions;
    },
    async predictNextKeys(key, limit) {
      return (await ready).predictNextKeys(key, limit);
    },
    async demandOf(keys) {
      return (await ready).demandOf(keys);
    },
    async readMarks(keys) {
      return (await ready).readMarks(keys);
    },
    async takeReadAhead(limit, minConfidence) {
      return (await ready).takeReadAhead(limit, minConfidence);
    },
    async retrainNextAction() {
      const r = await (await ready).retrainNextAction();
      return `${r.promoted ? `promoted version ${r.version}` : "kept the current model"}: ${r.explanation}`;
    },
    async cleanup() {
      return (await ready).cleanup();
    },
    async recordEvents(events) {
      (await ready).recordEvents(
        events.map((e) => ({ ...e, time: new Date(e.time) })),
        emptyIngestResult(),
      );
    },
    async learnedRules() {
      return (await ready).learnedRules();
    },
    async relatedEntities(r) {
      return (await ready).relatedEntities(r.tenant, r.subject, r.limit, r.taskType).map((x) => x.entityId);
    },
    close: () => {},
  };
}
