import { queryReporterDefaults } from "@prescient/analyzer";
import { cacheV1, type commonV1, executorV1, precomputerV1 } from "@prescient/contracts";
import { errorMessage, UnavailableError } from "@prescient/core";
import { callUnary, featuresToProto, isGrpcError, outcomeOfLookup, statusName } from "@prescient/kit";
import type { Histogram } from "hdr-histogram-js";
import type { ReplayReport } from "../sim/replay.js";
import type { TraceEvent, TraceRead, TraceSource } from "../trace/record.js";
import { checkLiveAddress } from "./address.js";
import { LiveBackendCalls, type LiveBackendCounts } from "./live-backend-calls.js";
import { connectionOf, type LiveConnection } from "./live-connection.js";
import { type PacerClock, pace } from "./pacer.js";
import { type LiveAddresses, liveAddresses, RoundRobin } from "./replicas.js";
import type { SyntheticFeatures } from "./synthetic-features.js";

/**
 * `prescient replay --live`: drives a running mesh with the trace, time
 * compressed by `speed`. Reads become cache Lookups, trigger events become
 * precomputer Triggers; each starts at its trace time divided by the speed
 * (pacer.ts), at most `concurrency` in flight. It measures the real hit rate
 * and the lookup latency, and sets them beside what the simulation of the
 * same trace predicted.
 *
 * Misses are ENQUEUEd by default: the simulation's policies (prescient
 * included) are cache-aside, a miss computed on demand and cached for later
 * reads, and ENQUEUE is that: the lookup answers the miss at once and the
 * executor computes the key for the next read. NONE leaves misses
 * uncomputed (only what the precomputer does ahead of time can hit), which
 * no simulated policy models; COMPUTE would block each miss on its compute,
 * so the latency measured would be the compute's, not the cache's.
 *
 * Entities carry the features `options.features` makes up for them
 * (synthetic-features.ts), so that onnx types compute: on every trigger (for
 * the event's entity), and on the lookups of an onnx type until one of them
 * has delivered the entity's features to the mesh: a miss the cache
 * enqueued, which stores them before the task is queued. A trigger does not
 * count: the precomputer stores an event's features only with a task keyed
 * by the event's entity, which a rule may not have (user_login's are keyed
 * by the user and the related campaigns).
 */
export type LiveOnMiss = "enqueue" | "none";

export interface LiveOptions {
  /** host:port of a mesh serving CacheService, PrecomputerService and ExecutorService. */
  addr: string;
  /**
   * A split mesh: each service's replicas, where they are not all at `addr`
   * (a service left out is at `addr`). Lookups and triggers go to the
   * replicas in turn; the mesh's counters are summed over them.
   */
  addrs?: Partial<LiveAddresses>;
  /** How to reach it. Default plaintext with the kit's channel options. */
  connection?: LiveConnection;
  /** Time compression: trace seconds per wall second. */
  speed: number;
  /** Default "enqueue" (see above). */
  onMiss?: LiveOnMiss;
  /** Calls in flight at most. Default 64. */
  concurrency?: number;
  /** Deadline of each call, ms. Default 5000. */
  timeoutMs?: number;
  /** Needed for an address outside loopback. */
  allowRemote?: boolean;
  /** The mesh's task type for a trace's (type-map.ts). Default: unchanged. */
  mapType?: (taskType: string) => string;
  /** What a trace's type mapped to, for the report. */
  typeMap?: () => Record<string, string>;
  /** Features of the entities the trace names. Default: none, so onnx types do not compute. */
  features?: SyntheticFeatures;
  /** The mesh's time scale (mesh-scale.ts), for the report. */
  meshTimeScale?: number;
  /** Appended to every tenant (`{tenant}-{tag}`), so a repeated run starts from a cold cache. */
  runTag?: string;
  signal?: AbortSignal;
  clock?: PacerClock;
  onProgress?: (p: LiveProgress) => void;
}

export interface LiveProgress {
  done: number;
  total: number;
  hitRate: number;
}

/** An event a reader may carry features on (the generic CSV has no feature columns yet). */
export type LiveEvent = TraceEvent & { features?: Readonly<Record<string, number | string>> };

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export interface PredictedRow {
  policy: string;
  reads: number;
  hitRate: number;
  staleServed: number;
}

export interface LiveResult {
  addr: string;
  /** The replicas of each service the run was spread over (`addr` alone for a one-process mesh). */
  addrs: LiveAddresses;
  speed: number;
  onMiss: LiveOnMiss;
  concurrency: number;
  /** Stopped early (Ctrl-C). */
  aborted: boolean;
  wallMs: number;
  traceMs: number;
  records: number;
  lookups: {
    sent: number;
    answered: number;
    hits: number;
    stale: number;
    misses: number;
    /** Misses the cache enqueued a compute for. */
    enqueued: number;
    errors: number;
  };
  /** Fresh hits over answered lookups (the simulation's hit rate counts fresh hits too). */
  hitRate: number;
  /** Hits, stale ones included, over answered lookups (the cache's Stats hit_rate). */
  hitRateWithStale: number;
  latency: LatencySummary;
  byType: Record<string, { reads: number; hits: number; hitRate: number }>;
  triggers: {
    /** Events triggered (every one the trace has, as the simulation does: the mesh learns rules for unconfigured ones). */
    events: number;
    ok: number;
    /** Tasks the precomputer enqueued for them. */
    tasksQueued: number;
    /** Task types skipped because their result was fresh. */
    skippedFresh: number;
    errors: number;
  };
  /** The backends' actions (one per read by a user) and launch announcements, sent to the analyzer. */
  actions: LiveBackendCounts["actions"];
  launches: LiveBackendCounts["launches"];
  /** `Lookup UNAVAILABLE` and the like, with counts. */
  errors: Record<string, number>;
  errorExamples: string[];
  /** Records that started more than 10 ms after they were due, and the worst: the mesh kept up if 0. */
  late: { count: number; maxMs: number };
  typeMap: Record<string, string>;
  /** Entities whose synthetic features an enqueued miss delivered to the mesh, and features per record. */
  features: { entities: number; names: number };
  /** The time scale the mesh reported, if it did (`prescient up --time-scale`). */
  meshTimeScale: number | undefined;
  /** Deltas of the mesh's own counters over the run. */
  mesh: {
    cache: { hits: number; staleHits: number; misses: number; errors: number } | undefined;
    precomputerEnqueued: Record<string, number> | undefined;
    /** Tasks dead-lettered during the run, by task type (the executor's QueueStats). */
    deadLetters: Record<string, number> | undefined;
    /** Tasks the executor completed during the run, every reason (its QueueStats). */
    completed: number | undefined;
  };
  predicted: PredictedRow[];
  /** The simulated prescient's computes by reason and in all, to hold the mesh's against. */
  predictedComputes: { byReason: Record<string, number>; total: number } | undefined;
}

const onMissCode: Record<LiveOnMiss, cacheV1.OnMiss> = {
  enqueue: cacheV1.OnMiss.ON_MISS_ENQUEUE,
  none: cacheV1.OnMiss.ON_MISS_NONE,
};

const features = (f: LiveEvent["features"]): Record<string, commonV1.FeatureValue> =>
  featuresToProto(f ?? {});

type CacheCounters = { hits: number; staleHits: number; misses: number; errors: number };

/** The cache's lookup counters, summed over its replicas: each counts only the lookups it answered. */
async function cacheCounters(
  clients: readonly cacheV1.CacheServiceClient[],
  timeoutMs: number,
): Promise<CacheCounters> {
  const sum: CacheCounters = { hits: 0, staleHits: 0, misses: 0, errors: 0 };
  for (const s of await Promise.all(
    clients.map((c) => callUnary(c.stats.bind(c), { tenant: "", taskType: "" }, { timeoutMs })),
  )) {
    const t = s.total;
    sum.hits += Number(t?.hits ?? 0);
    sum.staleHits += Number(t?.staleHits ?? 0);
    sum.misses += Number(t?.misses ?? 0);
    sum.errors += Number(t?.errors ?? 0);
  }
  return sum;
}

/** Tasks enqueued by reason, summed over the precomputer's replicas; undefined when one does not answer. */
async function precomputerCounters(
  clients: readonly precomputerV1.PrecomputerServiceClient[],
  timeoutMs: number,
): Promise<Record<string, number> | undefined> {
  try {
    const sum: Record<string, number> = {};
    for (const s of await Promise.all(clients.map((c) => callUnary(c.stats.bind(c), {}, { timeoutMs }))))
      for (const r of s.enqueuedByReason) sum[r.name] = (sum[r.name] ?? 0) + Number(r.count);
    return sum;
  } catch {
    return undefined;
  }
}

/** The queue's dead letters by task type and its completed tasks; undefined when the executor does not answer. */
async function queueCounts(
  client: executorV1.ExecutorServiceClient,
  timeoutMs: number,
): Promise<{ dead: Record<string, number>; completed: number } | undefined> {
  try {
    const s = await callUnary(client.queueStats.bind(client), {}, { timeoutMs });
    return {
      dead: Object.fromEntries(s.byTaskType.map((t) => [t.taskType, Number(t.counts?.dead ?? 0)])),
      completed: Number(s.total?.completed ?? 0),
    };
  } catch {
    return undefined;
  }
}

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) !== 0) out[k] = v - (before[k] ?? 0);
  return out;
}

function summarize(h: Histogram, count: number, sumUs: number): LatencySummary {
  const at = (p: number): number => (count === 0 ? 0 : h.getValueAtPercentile(p) / 1000);
  return {
    count,
    p50Ms: at(50),
    p90Ms: at(90),
    p99Ms: at(99),
    maxMs: count === 0 ? 0 : h.maxValue / 1000,
    meanMs: count === 0 ? 0 : sumUs / count / 1000,
  };
}

/** The simulated prescient's computes, by the reason that started them. */
function predictedComputes(report: ReplayReport): LiveResult["predictedComputes"] {
  const p = report.policies.find((x) => x.policy === "prescient");
  if (p === undefined) return undefined;
  const byReason = Object.fromEntries(Object.entries(p.byReason).map(([r, v]) => [r, v.computes]));
  return { byReason, total: p.computes.total };
}

/** The simulated policies a live run is compared with, in the report's order. */
function predictedRows(report: ReplayReport): PredictedRow[] {
  return report.policies.map((p) => ({
    policy: p.policy,
    reads: p.reads,
    hitRate: p.hitRate,
    staleServed: p.staleServed,
  }));
}

export async function liveReplay(
  source: TraceSource,
  report: ReplayReport,
  options: LiveOptions,
): Promise<LiveResult> {
  checkLiveAddress(options.addr, options.allowRemote === true);
  const addrs = liveAddresses(options.addr, options.addrs);
  for (const a of [...addrs.cache, ...addrs.precomputer, ...addrs.executor, ...addrs.analyzer])
    checkLiveAddress(a, options.allowRemote === true);
  const onMiss = options.onMiss ?? "enqueue";
  const concurrency = options.concurrency ?? 64;
  const timeoutMs = options.timeoutMs ?? 5000;
  const mapType = options.mapType ?? ((t: string) => t);
  const tenantOf = (t: string): string => (options.runTag ? `${t}-${options.runTag}` : t);
  // Loaded here, not at module load: only live mode measures latency.
  const hdr = await import("hdr-histogram-js");
  const { credentials: creds, channel } = connectionOf(options.connection);
  const caches = addrs.cache.map((a) => new cacheV1.CacheServiceClient(a, creds, channel));
  const precomputers = addrs.precomputer.map(
    (a) => new precomputerV1.PrecomputerServiceClient(a, creds, channel),
  );
  // The queue is the executors' shared store: any replica's QueueStats is the whole queue's.
  const executors = addrs.executor.map((a) => new executorV1.ExecutorServiceClient(a, creds, channel));
  const executor = executors[0] as executorV1.ExecutorServiceClient;
  const nextCache = new RoundRobin(caches);
  const nextPrecomputer = new RoundRobin(precomputers);
  const synthetic = options.features;
  /** Entities (tagged tenant, entity) whose features the mesh has stored. */
  const delivered = new Set<string>();
  const entityOf = (tenant: string, entity: string): string => `${tenantOf(tenant)}\u0000${entity}`;
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  let backend: LiveBackendCalls | undefined;
  try {
    let before: CacheCounters;
    try {
      before = await cacheCounters(caches, timeoutMs);
    } catch (e) {
      throw new UnavailableError(
        `cannot reach the mesh's CacheService at ${addrs.cache.join(", ")} (is \`prescient up\` running?): ${isGrpcError(e) ? e.details : errorMessage(e)}`,
      );
    }
    const precomputerBefore = await precomputerCounters(precomputers, timeoutMs);
    const queueBefore = await queueCounts(executor, timeoutMs);

    const lookups = { sent: 0, answered: 0, hits: 0, stale: 0, misses: 0, enqueued: 0, errors: 0 };
    const triggers = { events: 0, ok: 0, tasksQueued: 0, skippedFresh: 0, errors: 0 };
    const byType = new Map<string, { reads: number; hits: number }>();
    const errors = new Map<string, number>();
    const errorExamples: string[] = [];
    let sumUs = 0;
    let done = 0;
    const total = report.trace.records;
    let lastProgress = 0;
    const progress = (): void => {
      done++;
      const now = Date.now();
      if (options.onProgress !== undefined && (now - lastProgress >= 100 || done === total)) {
        lastProgress = now;
        options.onProgress({
          done,
          total,
          hitRate: lookups.answered === 0 ? 0 : lookups.hits / lookups.answered,
        });
      }
    };
    const failed = (what: string, e: unknown): void => {
      const name = `${what} ${isGrpcError(e) ? statusName(e.code) : "error"}`;
      errors.set(name, (errors.get(name) ?? 0) + 1);
      if (errorExamples.length < 5)
        errorExamples.push(`${name}: ${isGrpcError(e) ? e.details : errorMessage(e)}`.slice(0, 300));
    };
    // No AbortSignal per call: kit's callUnary leaves one listener per call on the signal. A call
    // in flight when the run is stopped ends within its deadline.
    const settings = { timeoutMs };
    backend = new LiveBackendCalls({
      addrs: addrs.analyzer,
      credentials: creds,
      channel,
      speed: options.speed,
      tenantOf,
      // The simulation's analyzer hears of actions as its reporter sends queries: the live reporter's defaults.
      flushTraceMs: queryReporterDefaults.flushIntervalMs,
      batchSize: queryReporterDefaults.batchSize,
      maxInFlight: 4,
      timeoutMs,
      failed,
    });
    const calls = backend;

    const lookup = async (r: TraceRead): Promise<void> => {
      const taskType = mapType(r.taskType);
      lookups.sent++;
      const slot = calls.read(r);
      if (slot !== undefined) await slot;
      const t = byType.get(taskType) ?? { reads: 0, hits: 0 };
      byType.set(taskType, t);
      const entity = entityOf(r.tenant, r.entity);
      const withFeatures = synthetic?.uses(taskType) === true && !delivered.has(entity);
      const began = performance.now();
      const cache = nextCache.next();
      try {
        const res = await callUnary(
          cache.lookup.bind(cache),
          {
            key: { tenant: tenantOf(r.tenant), taskType, entityId: r.entity },
            onMiss: onMissCode[onMiss],
            features: withFeatures ? features(synthetic.of(r.tenant, r.entity)) : {},
            userId: r.user,
            rejectStale: false,
          },
          settings,
        );
        const us = (performance.now() - began) * 1000;
        histogram.recordValue(Math.max(1, Math.round(us)));
        sumUs += us;
        lookups.answered++;
        t.reads++;
        const outcome = outcomeOfLookup(res);
        if (outcome === "hit") {
          lookups.hits++;
          t.hits++;
        } else if (outcome === "stale") lookups.stale++;
        else {
          lookups.misses++;
          if (res.taskId !== "") {
            lookups.enqueued++;
            if (withFeatures) delivered.add(entity);
          }
        }
      } catch (e) {
        lookups.errors++;
        failed("Lookup", e);
      }
    };
    const trigger = async (e: LiveEvent): Promise<void> => {
      // A launch announced ahead is registered, as the simulation does, not triggered.
      if (await calls.announced(e)) return;
      triggers.events++;
      const carried =
        synthetic !== undefined && e.entity !== ""
          ? { ...synthetic.of(e.tenant, e.entity), ...e.features }
          : e.features;
      const precomputer = nextPrecomputer.next();
      try {
        const res = await callUnary(
          precomputer.trigger.bind(precomputer),
          {
            event: {
              type: e.event,
              relatedEntityIds: [],
              tenant: tenantOf(e.tenant),
              entityId: e.entity,
              userId: e.user,
              features: features(carried),
              attributes: {},
            },
          },
          settings,
        );
        triggers.ok++;
        triggers.tasksQueued += res.queued.reduce((n, q) => n + q.taskIds.length, 0);
        triggers.skippedFresh += res.skippedFresh.length;
      } catch (err) {
        triggers.errors++;
        failed("Trigger", err);
      }
    };

    const paced = await pace(
      source.records(),
      (r) => r.time,
      async (r) => {
        try {
          await (r.kind === "read" ? lookup(r) : trigger(r));
        } finally {
          progress();
        }
      },
      {
        speed: options.speed,
        concurrency,
        ...(options.clock !== undefined ? { clock: options.clock } : {}),
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      },
    );

    await calls.flush();
    let after: CacheCounters | undefined;
    try {
      after = await cacheCounters(caches, timeoutMs);
    } catch {
      after = undefined;
    }
    const precomputerAfter = await precomputerCounters(precomputers, timeoutMs);
    const queueAfter = await queueCounts(executor, timeoutMs);
    const rate = (n: number): number => (lookups.answered === 0 ? 0 : n / lookups.answered);
    return {
      addr: options.addr,
      addrs,
      speed: options.speed,
      onMiss,
      concurrency,
      aborted: paced.aborted,
      wallMs: paced.wallMs,
      traceMs: paced.traceMs,
      records: paced.dispatched,
      lookups,
      hitRate: rate(lookups.hits),
      hitRateWithStale: rate(lookups.hits + lookups.stale),
      latency: summarize(histogram, lookups.answered, sumUs),
      byType: Object.fromEntries(
        [...byType]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => [k, { ...v, hitRate: v.reads === 0 ? 0 : v.hits / v.reads }]),
      ),
      triggers,
      actions: calls.counts.actions,
      launches: calls.counts.launches,
      errors: Object.fromEntries(errors),
      errorExamples,
      late: { count: paced.late, maxMs: paced.maxLateMs },
      typeMap: options.typeMap?.() ?? {},
      features: { entities: delivered.size, names: synthetic?.names.length ?? 0 },
      meshTimeScale: options.meshTimeScale,
      mesh: {
        cache:
          after === undefined
            ? undefined
            : {
                hits: after.hits - before.hits,
                staleHits: after.staleHits - before.staleHits,
                misses: after.misses - before.misses,
                errors: after.errors - before.errors,
              },
        precomputerEnqueued:
          precomputerBefore !== undefined && precomputerAfter !== undefined
            ? delta(precomputerAfter, precomputerBefore)
            : undefined,
        deadLetters:
          queueBefore !== undefined && queueAfter !== undefined
            ? delta(queueAfter.dead, queueBefore.dead)
            : undefined,
        completed:
          queueBefore !== undefined && queueAfter !== undefined
            ? queueAfter.completed - queueBefore.completed
            : undefined,
      },
      predicted: predictedRows(report),
      predictedComputes: predictedComputes(report),
    };
  } finally {
    histogram.destroy();
    backend?.close();
    for (const c of [...caches, ...precomputers, ...executors]) c.close();
  }
}
