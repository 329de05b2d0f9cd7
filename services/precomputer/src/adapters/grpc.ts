import { status } from "@grpc/grpc-js";
import { analyzerV1, cacheV1, executorV1 } from "@prescient/contracts";
import { type DomainErrorKind, errorMessage, parseKey, UnavailableError } from "@prescient/core";
import {
  callUnary,
  clientChannelOptions,
  domainErrorOfStatus,
  featuresToProto,
  isGrpcError,
  keyToProto,
  peerCredentials,
  reasonToProto,
} from "@prescient/kit";
import type { PlannedTask } from "../core/types.js";
import type { AnalyzerPeer, CachePeer, ExecutorPeer } from "./peers.js";

/**
 * Peers over gRPC (`prescient serve precomputer`, addresses from
 * PRESCIENT_EXECUTOR_ADDR, PRESCIENT_CACHE_ADDR, PRESCIENT_ANALYZER_ADDR).
 * A peer's status becomes the matching domain error, so a bad request stays
 * INVALID_ARGUMENT and anything else reads as the peer being unavailable.
 */
export interface GrpcPeerTimeouts {
  executorMs: number;
  cacheMs: number;
  analyzerMs: number;
}

export const grpcPeerTimeouts: GrpcPeerTimeouts = { executorMs: 10_000, cacheMs: 2_000, analyzerMs: 10_000 };

/** Statuses that say the request was wrong, not the peer: they keep their kind. */
const requestFaults: ReadonlySet<DomainErrorKind> = new Set([
  "invalid_argument",
  "resource_exhausted",
  "not_found",
]);

export function fromPeerError(peer: string, e: unknown): Error {
  if (!isGrpcError(e)) return new UnavailableError(`${peer}: ${errorMessage(e)}`);
  const mapped = domainErrorOfStatus(e, `${peer}: `);
  return requestFaults.has(mapped.kind) ? mapped : new UnavailableError(mapped.message);
}

async function call<T>(peer: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw fromPeerError(peer, e);
  }
}

export function taskSpecOf(t: PlannedTask): executorV1.TaskSpec {
  return {
    key: keyToProto(t),
    priority: t.priority,
    reason: reasonToProto(t.reason),
    ...(t.notBefore !== undefined ? { notBefore: new Date(t.notBefore) } : {}),
    features: t.features ? featuresToProto(t.features) : {},
  };
}

/** The executor's FeaturesStored limit per call. */
const featuresStoredBatch = 1000;

export function grpcExecutor(address: string, timeoutMs = grpcPeerTimeouts.executorMs): ExecutorPeer {
  const client = new executorV1.ExecutorServiceClient(address, peerCredentials(), clientChannelOptions());
  return {
    sink: {
      enqueueMany: (tasks) =>
        call("executor", async () => {
          const r = await callUnary(
            client.enqueueMany.bind(client),
            { tasks: tasks.map(taskSpecOf) },
            { timeoutMs },
          );
          return r.results.map((x) => ({ taskId: x.taskId, deduplicated: x.deduplicated }));
        }),
    },
    featuresStored: (entities) =>
      call("executor", async () => {
        const stored: boolean[] = [];
        for (let i = 0; i < entities.length; i += featuresStoredBatch) {
          const batch = entities.slice(i, i + featuresStoredBatch);
          try {
            const r = await callUnary(
              client.featuresStored.bind(client),
              { entities: batch.map((e) => ({ tenant: e.tenant, entityId: e.entityId })) },
              { timeoutMs },
            );
            stored.push(...r.stored);
          } catch (e) {
            // An executor from before FeaturesStored: plan as it would have, every key.
            if (isGrpcError(e) && e.code === status.UNIMPLEMENTED) return entities.map(() => true);
            throw e;
          }
        }
        return stored;
      }),
    queueDepth: () =>
      call("executor", async () => {
        const s = await callUnary(client.queueStats.bind(client), {}, { timeoutMs });
        return Number((s.total?.queued ?? 0n) + (s.total?.delayed ?? 0n));
      }),
    close: () => client.close(),
  };
}

export function grpcCache(address: string, timeoutMs = grpcPeerTimeouts.cacheMs): CachePeer {
  const client = new cacheV1.CacheServiceClient(address, peerCredentials(), clientChannelOptions());
  return {
    expiries: (keys) =>
      call("cache", async () => {
        // A peek: freshness checks must not count as demand, or checked keys would stay hot forever.
        // Expiries only: a present key's whole result would cross the wire for one timestamp.
        const r = await callUnary(
          client.lookupMany.bind(client),
          {
            keys: keys.map((k) => keyToProto(parseKey(k))),
            entityIds: [],
            onMiss: cacheV1.OnMiss.ON_MISS_NONE,
            userId: "precomputer",
            rejectStale: false,
            peek: true,
            expiriesOnly: true,
          },
          { timeoutMs },
        );
        if (r.expiresAtMs.length !== keys.length)
          throw new Error(`the cache answered ${r.expiresAtMs.length} expiries for ${keys.length} keys`);
        return r.expiresAtMs.map((ms) => (ms === 0n ? undefined : Number(ms)));
      }),
    takeRefreshDue: (limit) =>
      call(
        "cache",
        async () => (await callUnary(client.takeRefreshDue.bind(client), { limit }, { timeoutMs })).keys,
      ),
    counters: () =>
      call("cache", async () => {
        const s = await callUnary(client.stats.bind(client), { tenant: "", taskType: "" }, { timeoutMs });
        const t = s.total;
        return { lookups: Number((t?.hits ?? 0n) + (t?.misses ?? 0n)), hits: Number(t?.hits ?? 0n) };
      }),
    close: () => client.close(),
  };
}

/** A learned target's key on the wire; an unknown value (a newer analyzer) drops the target. */
const keyByOf: Partial<Record<analyzerV1.KeyBy, "entity" | "user" | "related">> = {
  [analyzerV1.KeyBy.KEY_BY_ENTITY]: "entity",
  [analyzerV1.KeyBy.KEY_BY_USER]: "user",
  [analyzerV1.KeyBy.KEY_BY_RELATED]: "related",
};

export function grpcAnalyzer(address: string, timeoutMs = grpcPeerTimeouts.analyzerMs): AnalyzerPeer {
  const client = new analyzerV1.AnalyzerServiceClient(address, peerCredentials(), clientChannelOptions());
  const settings = { timeoutMs };
  return {
    topPatterns: (r) =>
      call("analyzer", async () =>
        (
          await callUnary(
            client.topPatterns.bind(client),
            { limit: r.limit, taskType: r.taskType ?? "", tenant: r.tenant ?? "" },
            settings,
          )
        ).patterns.map((p) => ({
          key: p.key,
          tenant: p.tenant,
          taskType: p.taskType,
          entityId: p.entityId,
          demand: p.demand,
          benefit: p.benefit,
        })),
      ),
    offPeakWindow: (r) =>
      call("analyzer", async () => {
        const w = await callUnary(
          client.offPeakWindow.bind(client),
          { durationMinutes: r.durationMinutes, timezone: r.timeZone },
          settings,
        );
        if (w.nextStart === undefined) throw new UnavailableError("analyzer answered no off-peak start");
        return { nextStart: w.nextStart.getTime(), durationMinutes: w.durationMinutes };
      }),
    upcomingLaunches: (hoursAhead) =>
      call("analyzer", async () =>
        (
          await callUnary(client.listUpcomingLaunches.bind(client), { hoursAhead, tenant: "" }, settings)
        ).launches.map((l) => ({
          id: l.id,
          tenant: l.tenant,
          campaignId: l.campaignId,
          launchAt: l.launchAt?.getTime() ?? 0,
          entityIds: l.entityIds,
          taskTypes: l.taskTypes,
          event: l.event,
        })),
      ),
    predictNextActions: (r) =>
      call(
        "analyzer",
        async () => (await callUnary(client.predictNextActions.bind(client), { ...r }, settings)).actions,
      ),
    predictNextKeys: (key, limit) =>
      call(
        "analyzer",
        async () => (await callUnary(client.predictNextKeys.bind(client), { key, limit }, settings)).keys,
      ),
    takeReadAhead: (limit, minConfidence) =>
      call(
        "analyzer",
        async () =>
          (await callUnary(client.takeReadAhead.bind(client), { limit, minConfidence }, settings)).keys,
      ),
    readMarks: (keys) =>
      call("analyzer", async () =>
        (await callUnary(client.readMarks.bind(client), { keys: [...keys] }, settings)).marks.map(
          (m) => m.mark,
        ),
      ),
    retrainNextAction: () =>
      call("analyzer", async () => {
        const r = await callUnary(
          client.retrainNextAction.bind(client),
          {},
          { timeoutMs: Math.max(timeoutMs, 120_000) },
        );
        return `${r.promoted ? `promoted version ${r.version}` : "kept the current model"}: ${r.explanation}`;
      }),
    cleanup: () =>
      call("analyzer", async () =>
        Number((await callUnary(client.cleanup.bind(client), { daysToKeep: 0 }, settings)).removed),
      ),
    recordEvents: (events) =>
      call("analyzer", async () => {
        await callUnary(
          client.recordEvents.bind(client),
          {
            events: events.map((e) => ({
              ...e,
              time: new Date(e.time),
              relatedEntityIds: [...e.relatedEntityIds],
            })),
          },
          settings,
        );
      }),
    learnedRules: () =>
      call("analyzer", async () =>
        (await callUnary(client.learnedRules.bind(client), { tenant: "" }, settings)).rules.flatMap((r) => {
          const targets = r.targets.flatMap((t) => {
            const keyBy = keyByOf[t.keyBy];
            return keyBy === undefined ? [] : [{ ...t, keyBy }];
          });
          return [{ ...r, targets }];
        }),
      ),
    relatedEntities: (r) =>
      call("analyzer", async () =>
        (await callUnary(client.relatedEntities.bind(client), r, settings)).entities.map((e) => e.entityId),
      ),
    close: () => client.close(),
  };
}
